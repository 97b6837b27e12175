/*
 * process_support.h — what the Process provider needs from libc that Swift cannot call well: dladdr (a GNU
 * extension), a fork/exec that does only async-signal-safe work in the child (setsid, a controlling tty, joining a
 * cgroup), and the pty ioctls (variadic).
 */
#ifndef MOLECULE_PROCESS_SUPPORT_H
#define MOLECULE_PROCESS_SUPPORT_H

#include <stddef.h>
#include <sys/types.h>

/** How to start one command (see `molecule_spawn`). Every pointer is borrowed for the call. */
typedef struct molecule_spawn_spec {
    const char *const *argv;         /**< NULL-terminated; argv[0] is looked up in envp's PATH. */
    const char *const *envp;         /**< NULL-terminated; the command's whole environment. */
    const char *cwd;                 /**< Its working directory. */
    int stdin_fd, stdout_fd, stderr_fd; /**< Become fds 0, 1 and 2 (each >= 3 in the caller). */
    int controlling_tty;             /**< Non-zero: stdin_fd is a pty slave, made the controlling terminal. */
    const char *const *cgroup_procs; /**< NULL-terminated `cgroup.procs` files the child joins before it execs. */
} molecule_spawn_spec;

/**
 * Forks and execs `spec->argv` in a new session (the child leads its own process group), with default signal
 * dispositions, an empty signal mask and no fd but 0, 1 and 2. Returns the pid, or -errno when the child could not
 * join its cgroup, enter its directory or exec (it is reaped then). Thread-safe; blocks only until the exec.
 */
pid_t molecule_spawn(const molecule_spawn_spec *spec);

/**
 * Opens a pseudo-terminal pair: `*master` (O_CLOEXEC) and `*slave` (O_CLOEXEC, O_NOCTTY), sized `cols` x `rows`.
 * Returns 0, or -errno.
 */
int molecule_open_pty(int *master, int *slave, unsigned short cols, unsigned short rows);

/** pipe2(fds, O_CLOEXEC) (not imported into Swift). 0 or -errno. */
int molecule_pipe(int fds[2]);

/** 1 when child `pid` has exited (it is left a zombie, not reaped: its pid cannot be reused yet), else 0. */
int molecule_has_exited(pid_t pid);

/** Sets a pty's window size (TIOCSWINSZ on its master); the session's foreground group gets SIGWINCH. 0 or -errno. */
int molecule_pty_resize(int master, unsigned short cols, unsigned short rows);

/**
 * Writes the path of the shared object (or executable) that contains `address` into `buffer` (NUL-terminated,
 * at most `size` bytes). Returns 0 on success, -1 when no loaded image contains it or the path does not fit.
 * Thread-safe; reads the dynamic linker's own list of images.
 */
int molecule_image_path(const void *address, char *buffer, size_t size);

#endif
