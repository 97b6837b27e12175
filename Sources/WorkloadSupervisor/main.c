/*
 * molecule-workload-supervisor: the per-workspace supervisor the Process provider starts every workload under.
 *
 *   molecule-workload-supervisor --pid-file PATH --exit-file PATH --log PATH --cwd DIR
 *                                [--cgroup PROCS_FILE]... -- ARGV...
 *
 * Protocol (argument errors: a message on stderr, exit 64):
 *
 *  1. The provider posix_spawns this program (the "launcher"). It forks once; the child is the supervisor. The
 *     launcher waits on a pipe for one report line and exits: 0 on "ok"; otherwise it prints the report text on
 *     stderr and exits 1, or 127 when the workload's exec failed. A pipe closed without a report prints "supervisor
 *     died during start" (exit 1). The provider thus learns start errors synchronously and never keeps a long-lived
 *     child: the supervisor is re-parented to init (or to the nearest subreaper) when the launcher exits.
 *     On the pipe a report is "ok\n" or "CODE TEXT\n" (CODE being the launcher's exit status).
 *  2. The supervisor calls setsid(): its pid is the workspace's session id and process-group id. It joins every
 *     --cgroup (a v1 or v2 cgroup.procs file) before forking, so every descendant is born inside them.
 *  3. It becomes a child subreaper: orphaned descendants (double forks, setsid) re-parent to it, not to init.
 *  4. It forks the workload: default signal mask and dispositions, cwd DIR, stdin /dev/null, stdout and stderr
 *     appended to the log (created 0600), no other fds, execvp(ARGV[0]). The workload stays in the supervisor's
 *     process group. Exec errors come back on a CLOEXEC pipe (EOF = exec succeeded).
 *  5. It writes the pid file atomically (PATH.tmp + rename): "SUPERVISOR_PID WORKLOAD_PID\n", then reports "ok".
 *  6. It forwards SIGTERM, SIGINT, SIGHUP and SIGQUIT to the workload (never dying of them) and reaps every child.
 *     When the workload exits it writes the exit file atomically: "exit N\n" or "signal N[ core]\n". Then, like a
 *     container whose PID 1 exited, it SIGKILLs every remaining descendant (found by walking /proc ppid chains) and
 *     reaps until no child is left, for at most 5 seconds, and exits 0. It removes no file.
 *
 * Cheap by design: no threads, no heap allocation beyond opendir's buffer, small fixed-size stack buffers.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define EX_USAGE 64
#define TEARDOWN_SECONDS 5
#define MAX_CHAIN_DEPTH 128 /* deeper descendants are found on a later pass, once their ancestors died */

static const char *pid_file, *exit_file, *log_path, *cwd_dir;
static char **argv_all;       /* the full command line, re-scanned for --cgroup */
static char **workload_argv;  /* ARGV... after "--" */
static int report_fd = -1;    /* write end of the launcher's report pipe (supervisor only) */
static pid_t self_pid;

static void usage(const char *why) {
    fprintf(stderr, "molecule-workload-supervisor: %s\nusage: molecule-workload-supervisor --pid-file PATH "
                    "--exit-file PATH --log PATH --cwd DIR [--cgroup PROCS_FILE]... -- ARGV...\n", why);
    exit(EX_USAGE);
}

/* Writes all of buf; -1 on error (signals that matter are blocked, EINTR is retried anyway). */
static int write_all(int fd, const char *buf, size_t len) {
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Reports a start failure ("CODE TEXT\n") to the launcher and exits the supervisor. */
static void __attribute__((noreturn, format(printf, 2, 3))) fail(int code, const char *fmt, ...) {
    char line[1024];
    int n = snprintf(line, sizeof line, "%d ", code);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    strcat(line, "\n");
    write_all(report_fd, line, strlen(line));
    _exit(1);
}

/* Writes text to PATH.tmp and renames it onto PATH; 0 or -1 with errno set. */
static int write_atomic(const char *path, const char *text) {
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s.tmp", path); /* length checked at argument parsing */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return -1;
    int rc = write_all(fd, text, strlen(text));
    int saved = errno;
    if (close(fd) != 0 && rc == 0) { rc = -1; saved = errno; }
    if (rc == 0 && rename(tmp, path) != 0) { rc = -1; saved = errno; }
    if (rc != 0) unlink(tmp);
    errno = saved;
    return rc;
}

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The ppid of pid from /proc/<pid>/stat ("pid (comm) state ppid ..."), or -1 if gone. comm may hold spaces and
 * parentheses, so parsing starts after the LAST ')'; the fields after it are numbers, so a truncated read still
 * holds the right one. */
static pid_t read_ppid(pid_t pid) {
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return -1;
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    char state;
    int ppid;
    if (p == NULL || sscanf(p + 1, " %c %d", &state, &ppid) != 2) return -1;
    return ppid;
}

/* Whether pid's parent chain reaches the supervisor (bounded depth). */
static int is_descendant(pid_t pid) {
    for (int depth = 0; depth < MAX_CHAIN_DEPTH && pid > 1; depth++) {
        pid = read_ppid(pid);
        if (pid == self_pid) return 1;
    }
    return 0;
}

/* One /proc pass: SIGKILL every descendant. Returns how many were signalled. */
static int kill_descendants(void) {
    DIR *dir = opendir("/proc");
    if (dir == NULL) return 0;
    int killed = 0;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) { /* bounded by the number of processes */
        char *end;
        long pid = strtol(entry->d_name, &end, 10);
        if (*end != '\0' || pid <= 1 || pid == self_pid) continue;
        if (is_descendant((pid_t)pid) && kill((pid_t)pid, SIGKILL) == 0) killed++;
    }
    closedir(dir);
    return killed;
}

/* Reaps every exited child without blocking. Returns the workload's status through *status when it was reaped
 * (and sets *workload to 0); returns -1 once there are no children at all (ECHILD), else 0. */
static int reap(pid_t *workload, int *status) {
    for (int i = 0; i < 100000; i++) { /* bounded: each iteration reaps a zombie */
        int st;
        pid_t pid = waitpid(-1, &st, WNOHANG);
        if (pid == 0) return 0;
        if (pid < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        if (pid == *workload) { *status = st; *workload = 0; }
    }
    return 0;
}

/* The end of the workspace: SIGKILL and reap descendants until none is left, or the deadline passes. */
static void teardown(void) {
    long long deadline = now_ms() + TEARDOWN_SECONDS * 1000;
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    pid_t none = 0;
    int unused;
    for (;;) {
        kill_descendants();
        if (reap(&none, &unused) < 0) return; /* ECHILD: no child, hence no descendant */
        long long left = deadline - now_ms();
        if (left <= 0) return;
        if (left > 50) left = 50; /* wake on SIGCHLD, or re-scan after 50 ms */
        struct timespec ts = { 0, (long)left * 1000000L };
        sigtimedwait(&chld, NULL, &ts);
    }
}

/* Closes every fd from lowfd up. */
static void close_from(int lowfd) {
    if (syscall(SYS_close_range, (unsigned)lowfd, ~0U, 0U) == 0) return;
    struct rlimit rl; /* kernels before 5.9: one by one, bounded by the fd limit (capped) */
    long max = (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 65536) ? (long)rl.rlim_cur : 65536;
    for (long fd = lowfd; fd < max; fd++) close((int)fd);
}

/* In the forked workload: reset signals, set up cwd and stdio, exec. Failures go to err_fd as {stage, errno}. */
static void __attribute__((noreturn)) exec_workload(int err_fd, int log_fd, int null_fd) {
    int report[2] = { 0, 0 };
    sigset_t empty;
    sigemptyset(&empty);
    sigprocmask(SIG_SETMASK, &empty, NULL);
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; sig++) sigaction(sig, &dfl, NULL); /* EINVAL for KILL, STOP, glibc's: fine */
    if (chdir(cwd_dir) != 0) goto failed;
    report[0] = 1;
    if (dup2(null_fd, 0) < 0 || dup2(log_fd, 1) < 0 || dup2(log_fd, 2) < 0) goto failed;
    /* Keep only err_fd, moved to fd 3 (CLOEXEC: exec closes it, which tells the supervisor exec succeeded). */
    if (err_fd != 3) {
        if (dup3(err_fd, 3, O_CLOEXEC) < 0) goto failed;
        err_fd = 3;
    }
    close_from(4);
    report[0] = 2;
    execvp(workload_argv[0], workload_argv);
failed:
    report[1] = errno;
    write_all(err_fd, (const char *)report, sizeof report);
    _exit(127);
}

/* The launcher: wait for the supervisor's report line and turn it into an exit status. */
static int launcher(int fd) {
    char line[1100];
    size_t len = 0;
    while (len < sizeof line - 1) { /* bounded by the buffer */
        ssize_t n = read(fd, line + len, sizeof line - 1 - len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        len += (size_t)n;
        if (memchr(line, '\n', len) != NULL) break;
    }
    line[len] = '\0';
    char *nl = strchr(line, '\n');
    if (nl == NULL) {
        fputs("supervisor died during start\n", stderr);
        return 1;
    }
    *nl = '\0';
    if (strcmp(line, "ok") == 0) return 0;
    char *text;
    long code = strtol(line, &text, 10);
    fprintf(stderr, "%s\n", *text == ' ' ? text + 1 : line);
    return code == 127 ? 127 : 1;
}

static void parse_args(int argc, char **argv) {
    int i;
    for (i = 1; i < argc; i++) {
        const char *opt = argv[i];
        if (strcmp(opt, "--") == 0) break;
        if (i + 1 >= argc) usage("missing value");
        const char *value = argv[++i];
        if (strcmp(opt, "--pid-file") == 0) pid_file = value;
        else if (strcmp(opt, "--exit-file") == 0) exit_file = value;
        else if (strcmp(opt, "--log") == 0) log_path = value;
        else if (strcmp(opt, "--cwd") == 0) cwd_dir = value;
        else if (strcmp(opt, "--cgroup") != 0) usage("unknown option");
        if (*value == '\0') usage("empty value");
    }
    if (!pid_file || !exit_file || !log_path || !cwd_dir) usage("--pid-file, --exit-file, --log and --cwd are required");
    if (i >= argc - 1) usage("no command after --");
    if (strlen(pid_file) + 5 > PATH_MAX || strlen(exit_file) + 5 > PATH_MAX) usage("path too long");
    argv_all = argv;
    workload_argv = argv + i + 1;
}

int main(int argc, char **argv) {
    parse_args(argc, argv);
    /* fds 0-2 must be open, so that no pipe or log lands on them. */
    int fd = open("/dev/null", O_RDWR);
    while (fd >= 0 && fd <= 2) fd = open("/dev/null", O_RDWR); /* at most three turns */
    if (fd > 2) close(fd);
    close_from(3); /* the provider closes them already; a stray inherited fd would live as long as the workspace */
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) != 0) { perror("pipe"); return 1; }
    pid_t child = fork();
    if (child < 0) { perror("fork"); return 1; }
    if (child > 0) {
        close(pipefd[1]);
        return launcher(pipefd[0]);
    }

    /* The supervisor. */
    close(pipefd[0]);
    report_fd = pipefd[1];
    setsid();
    self_pid = getpid();
    signal(SIGPIPE, SIG_IGN);
    signal(SIGCHLD, SIG_DFL); /* an inherited SIG_IGN would auto-reap: waitpid would never see the workload */
    /* Block the signals the main loop waits for now, so none is lost (a SIGCHLD before the loop stays pending). */
    sigset_t set;
    sigemptyset(&set);
    int waited[] = { SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGQUIT };
    for (size_t k = 0; k < sizeof waited / sizeof *waited; k++) sigaddset(&set, waited[k]);
    sigprocmask(SIG_BLOCK, &set, NULL);

    for (char **a = argv_all + 1; *a != NULL && strcmp(*a, "--") != 0; a += 2) {
        if (strcmp(a[0], "--cgroup") != 0) continue;
        char pid_text[32];
        int n = snprintf(pid_text, sizeof pid_text, "%d", (int)self_pid);
        int cg_fd = open(a[1], O_WRONLY | O_CLOEXEC);
        int rc = cg_fd < 0 ? -1 : write_all(cg_fd, pid_text, (size_t)n);
        int saved = errno;
        if (cg_fd >= 0 && close(cg_fd) != 0 && rc == 0) { rc = -1; saved = errno; }
        if (rc != 0) fail(1, "cannot join cgroup %s: %s", a[1], strerror(saved));
    }
    if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) fail(1, "cannot become a child subreaper: %s", strerror(errno));
    int log_fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (log_fd < 0) fail(1, "cannot open log %s: %s", log_path, strerror(errno));
    int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null_fd < 0) fail(1, "cannot open /dev/null: %s", strerror(errno));

    int errpipe[2];
    if (pipe2(errpipe, O_CLOEXEC) != 0) fail(1, "cannot create a pipe: %s", strerror(errno));
    pid_t workload = fork();
    if (workload < 0) fail(1, "cannot fork: %s", strerror(errno));
    if (workload == 0) exec_workload(errpipe[1], log_fd, null_fd);
    close(errpipe[1]);
    close(log_fd);
    close(null_fd);
    int report[2];
    ssize_t got;
    while ((got = read(errpipe[0], report, sizeof report)) < 0 && errno == EINTR) {}
    close(errpipe[0]);
    if (got > 0) { /* the workload never ran: reap it, report the stage that failed */
        while (waitpid(workload, NULL, 0) < 0 && errno == EINTR) {}
        if (got != (ssize_t)sizeof report) fail(1, "cannot execute %s: short error report", workload_argv[0]);
        if (report[0] == 0) fail(1, "cannot change directory to %s: %s", cwd_dir, strerror(report[1]));
        if (report[0] == 1) fail(1, "cannot set up the standard streams: %s", strerror(report[1]));
        fail(127, "cannot execute %s: %s", workload_argv[0], strerror(report[1]));
    }

    char line[64];
    snprintf(line, sizeof line, "%d %d\n", (int)self_pid, (int)workload);
    if (write_atomic(pid_file, line) != 0) {
        int saved = errno;
        teardown();
        fail(1, "cannot write pid file %s: %s", pid_file, strerror(saved));
    }
    write_all(report_fd, "ok\n", 3);
    close(report_fd);

    /* Main loop: forward termination signals, reap children, until the workload is reaped. */
    int status = 0;
    while (workload > 0) { /* ends with the workload; each turn waits for a signal */
        siginfo_t info;
        int sig = sigwaitinfo(&set, &info);
        if (sig < 0) continue; /* EINTR (e.g. after SIGSTOP/SIGCONT) */
        if (sig != SIGCHLD) {
            kill(workload, sig);
            continue;
        }
        reap(&workload, &status);
    }
    if (WIFSIGNALED(status))
        snprintf(line, sizeof line, "signal %d%s\n", WTERMSIG(status), WCOREDUMP(status) ? " core" : "");
    else
        snprintf(line, sizeof line, "exit %d\n", WEXITSTATUS(status));
    if (write_atomic(exit_file, line) != 0)
        fprintf(stderr, "molecule-workload-supervisor: cannot write exit file %s: %s\n", exit_file, strerror(errno));
    teardown();
    return 0;
}
