#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "process_support.h"

int molecule_image_path(const void *address, char *buffer, size_t size) {
    Dl_info info;
    if (dladdr(address, &info) == 0 || info.dli_fname == NULL) return -1;
    size_t length = strlen(info.dli_fname);
    if (length + 1 > size) return -1;
    memcpy(buffer, info.dli_fname, length + 1);
    return 0;
}

extern char **environ;

/* Writes `error` to the report pipe and exits; the parent reads it as the reason the command did not start. */
static void child_fail(int report, int error) {
    ssize_t ignored = write(report, &error, sizeof error);
    (void)ignored;
    _exit(127);
}

/* Decimal digits of `value` into `buffer` (async-signal-safe); answers the length. */
static size_t format_pid(pid_t value, char *buffer) {
    char digits[24];
    size_t count = 0;
    do {
        digits[count++] = (char)('0' + value % 10);
        value /= 10;
    } while (value > 0 && count < sizeof digits);
    for (size_t i = 0; i < count; i++) buffer[i] = digits[count - 1 - i];
    buffer[count] = '\n';
    return count + 1;
}

pid_t molecule_spawn(const molecule_spawn_spec *spec) {
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) return -errno;
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    pid_t pid = fork();
    if (pid == 0) {
        /* The child: only async-signal-safe calls until exec. */
        close(report[0]);
        struct sigaction fallback;
        memset(&fallback, 0, sizeof fallback);
        fallback.sa_handler = SIG_DFL;
        for (int sig = 1; sig < NSIG; sig++) sigaction(sig, &fallback, NULL);
        sigset_t none;
        sigemptyset(&none);
        pthread_sigmask(SIG_SETMASK, &none, NULL);
        if (setsid() < 0) child_fail(report[1], errno);
        if (spec->controlling_tty && ioctl(spec->stdin_fd, TIOCSCTTY, 0) != 0) child_fail(report[1], errno);
        if (dup2(spec->stdin_fd, 0) < 0 || dup2(spec->stdout_fd, 1) < 0 || dup2(spec->stderr_fd, 2) < 0) child_fail(report[1], errno);
        for (const char *const *procs = spec->cgroup_procs; procs != NULL && *procs != NULL; procs++) {
            int fd = open(*procs, O_WRONLY | O_CLOEXEC);
            if (fd < 0) child_fail(report[1], errno);
            char text[32];
            size_t length = format_pid(getpid(), text);
            if (write(fd, text, length) != (ssize_t)length) child_fail(report[1], errno);
            close(fd);
        }
        if (chdir(spec->cwd) != 0) child_fail(report[1], errno);
        /* Nothing of the provider's (or the Host's) open files: only 0, 1, 2 and the report pipe (close-on-exec). */
        if (report[1] > 3) close_range(3, (unsigned)report[1] - 1, 0);
        close_range((unsigned)report[1] + 1, ~0U, 0);
        environ = (char **)spec->envp;
        execvp(spec->argv[0], (char *const *)spec->argv);
        child_fail(report[1], errno);
    }
    int fork_error = errno;
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    close(report[1]);
    if (pid < 0) {
        close(report[0]);
        return -fork_error;
    }
    int error = 0;
    ssize_t got;
    do {
        got = read(report[0], &error, sizeof error);
    } while (got < 0 && errno == EINTR);
    close(report[0]);
    if (got == (ssize_t)sizeof error) {
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
        return -(error == 0 ? EIO : error);
    }
    return pid;
}

int molecule_open_pty(int *master, int *slave, unsigned short cols, unsigned short rows) {
    int fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) return -errno;
    char name[128];
    if (grantpt(fd) != 0 || unlockpt(fd) != 0 || ptsname_r(fd, name, sizeof name) != 0) {
        int error = errno;
        close(fd);
        return -error;
    }
    int other = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (other < 0) {
        int error = errno;
        close(fd);
        return -error;
    }
    struct winsize size = {.ws_row = rows, .ws_col = cols};
    ioctl(fd, TIOCSWINSZ, &size);
    *master = fd;
    *slave = other;
    return 0;
}

int molecule_pty_resize(int master, unsigned short cols, unsigned short rows) {
    struct winsize size = {.ws_row = rows, .ws_col = cols};
    return ioctl(master, TIOCSWINSZ, &size) == 0 ? 0 : -errno;
}

int molecule_has_exited(pid_t pid) {
    siginfo_t info;
    memset(&info, 0, sizeof info);
    if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) != 0) return errno == ECHILD ? 1 : 0;
    return info.si_pid == pid ? 1 : 0;
}

int molecule_pipe(int fds[2]) { return pipe2(fds, O_CLOEXEC) == 0 ? 0 : -errno; }
