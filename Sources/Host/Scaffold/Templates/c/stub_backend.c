/*
 * stub_backend.c — REPLACE THESE WITH CALLS TO YOUR BACKEND (see stub_backend.h for the rules they must keep).
 *
 * The stub is a local directory backend: it keeps no real processes, only state on disk, so that two provider
 * processes (the Host runs each instance in its own) see the same workspaces.
 *
 *   <state_dir>/lock                               flock(2)ed: shared by readers, exclusive around every change
 *   <state_dir>/workspaces/<id>/workspace.json     {"owner":..,"state":"running"|"stopped","created_at_ms":..}
 *   <state_dir>/workspaces/<id>/files/             the workspace's files root (the files verbs)
 *   <state_dir>/workspaces/<id>/console.log        the console log (the logs verb); provision appends a line
 *   <state_dir>/workspaces/.new-<id>/              a workspace being created, renamed into place when complete
 *   <state_dir>/workspaces/.trash-<id>-.../        a workspace being removed (renamed away first, then deleted)
 *
 * Workspace ids never start with '.', so the dot-names can never collide with a workspace. Creation and removal are
 * single renames, and workspace.json is replaced by rename: a crash leaves either the old or the new state, never
 * half of one (leftover .new-/.trash- directories are cleaned up by the next provision / ignored by everything else).
 *
 * Locking: flock locks belong to an open file description, so every call opens the lock file anew; that excludes
 * other threads of this process as well as other processes. (On NFS, Linux emulates flock with fcntl locks, which do
 * NOT exclude threads of one process: put the state dir on a local file system.) Waiting for the lock polls, so a
 * call whose deadline passes while it waits answers DEADLINE_EXCEEDED instead of blocking.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE

#include "stub_backend.h"

#include "local_files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/** read_file answers at most this much: its base64 must fit in the Host's 64 MiB body limit. */
#define MAX_READ_BYTES (32u << 20)
/** One logs answer carries at most this much (a cursor pages through more). */
#define MAX_LOG_CHUNK (8u << 20)
/** list_files answers at most this many entries. */
#define MAX_LIST_ENTRIES 100000u

#define META_FILE "workspace.json"
#define META_TEMP "workspace.json.tmp"
#define FILES_DIR "files"
#define CONSOLE_LOG "console.log"

struct stub_backend {
    /* All immutable after stub_backend_open, so threads share them without a lock. */
    char *state_dir;
    char *workspaces_dir; /* <state_dir>/workspaces */
    char *lock_path;      /* <state_dir>/lock */
    char *owner;
    bool unreachable;
};

static char *join(const char *a, const char *b) {
    size_t n = strlen(a) + 1 + strlen(b) + 1;
    char *s = malloc(n);
    if (s != NULL) snprintf(s, n, "%s/%s", a, b);
    return s;
}

static int64_t now_ms(void) {
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0) return 1;
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/** Every function starts here: the simulated outage of `"unreachable": true`. */
static bool reachable(const stub_backend *b, be_error *err) {
    if (!b->unreachable) return true;
    return be_fail(err, MP_UNAVAILABLE, true, "__PROVIDER__ backend unreachable (configured with \"unreachable\": true)");
}

static char *instance_ref_of(const char *workspace_id) {
    char *ref = malloc(strlen(workspace_id) + sizeof "stub-");
    if (ref != NULL) {
        strcpy(ref, "stub-");
        strcat(ref, workspace_id);
    }
    return ref;
}

/* ------------------------------------------------------------------------------------------------------------------ */
/* Open / close                                                                                                       */
/* ------------------------------------------------------------------------------------------------------------------ */

stub_backend *stub_backend_open(const stub_backend_config *config, be_error *err) {
    stub_backend *b = calloc(1, sizeof *b);
    if (b == NULL) {
        be_fail(err, MP_INTERNAL, false, "out of memory");
        return NULL;
    }
    b->state_dir = strdup(config->state_dir);
    b->owner = strdup(config->owner);
    b->workspaces_dir = join(config->state_dir, "workspaces");
    b->lock_path = join(config->state_dir, "lock");
    b->unreachable = config->unreachable;
    if (b->state_dir == NULL || b->owner == NULL || b->workspaces_dir == NULL || b->lock_path == NULL) {
        stub_backend_close(b);
        be_fail(err, MP_INTERNAL, false, "out of memory");
        return NULL;
    }
    return b; /* the directories are made on first use: open must not touch the backend */
}

void stub_backend_close(stub_backend *b) {
    if (b == NULL) return;
    free(b->state_dir);
    free(b->workspaces_dir);
    free(b->lock_path);
    free(b->owner);
    free(b);
}

/* ------------------------------------------------------------------------------------------------------------------ */
/* The state lock                                                                                                     */
/* ------------------------------------------------------------------------------------------------------------------ */

/** mkdir -p `dir` (0700). */
static bool make_directories(const char *dir, be_error *err) {
    char *copy = strdup(dir);
    if (copy == NULL) return be_fail(err, MP_INTERNAL, false, "out of memory");
    for (char *p = copy + 1;; p++) {
        if (*p != '/' && *p != '\0') continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(copy, 0700) != 0 && errno != EEXIST) {
            int error = errno;
            bool ok = be_fail_errno(err, error, "create the state directory", copy);
            free(copy);
            return ok;
        }
        *p = saved;
        if (saved == '\0') break;
    }
    free(copy);
    return true;
}

/** A held lock and the workspaces directory, open for the duration of one call. */
typedef struct session {
    int lock_fd;
    int workspaces_fd;
} session;

static void session_end(session *s) {
    if (s->workspaces_fd >= 0) close(s->workspaces_fd);
    if (s->lock_fd >= 0) close(s->lock_fd); /* releases the flock */
    s->workspaces_fd = s->lock_fd = -1;
}

/** Takes the state lock (exclusive or shared) and opens the workspaces directory, making both on first use. */
static bool session_begin(const stub_backend *b, const be_call *call, bool exclusive, session *s, be_error *err) {
    s->lock_fd = s->workspaces_fd = -1;
    s->lock_fd = open(b->lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (s->lock_fd < 0 && errno == ENOENT) { /* first use: make <state_dir>/workspaces */
        if (!make_directories(b->workspaces_dir, err)) return false;
        s->lock_fd = open(b->lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    }
    if (s->lock_fd < 0) return be_fail_errno(err, errno, "open the lock file", b->lock_path);
    struct timespec pause = {0, 1000000}; /* 1 ms, doubling to 16 ms */
    while (flock(s->lock_fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) != 0) {
        int error = errno;
        if (error != EWOULDBLOCK && error != EINTR) {
            session_end(s);
            return be_fail_errno(err, error, "lock", b->lock_path);
        }
        if (be_call_cancelled(call)) {
            session_end(s);
            return be_fail_cancelled(err, "waiting for the state lock");
        }
        nanosleep(&pause, NULL);
        if (pause.tv_nsec < 16000000) pause.tv_nsec *= 2;
    }
    s->workspaces_fd = open(b->workspaces_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (s->workspaces_fd < 0 && errno == ENOENT) {
        if (!make_directories(b->workspaces_dir, err)) {
            session_end(s);
            return false;
        }
        s->workspaces_fd = open(b->workspaces_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    }
    if (s->workspaces_fd < 0) {
        int error = errno;
        session_end(s);
        return be_fail_errno(err, error, "open", b->workspaces_dir);
    }
    return true;
}

/* ------------------------------------------------------------------------------------------------------------------ */
/* Workspace metadata                                                                                                 */
/* ------------------------------------------------------------------------------------------------------------------ */

typedef struct meta {
    char *owner; /* malloc'd */
    bool running;
    int64_t created_at_ms;
} meta;

/** Reads all of `fd` (at most `max` bytes) into a strbuf. */
static bool read_all(int fd, size_t max, strbuf *sb) {
    char chunk[8192];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return false;
        if (n == 0) return true;
        sb_putn(sb, chunk, (size_t)n);
        if (sb->oom || sb->len > max) {
            errno = EFBIG;
            return false;
        }
    }
}

static bool write_all(int fd, const char *data, size_t len) {
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return false;
        data += n;
        len -= (size_t)n;
    }
    return true;
}

/** Reads <ws_fd>/workspace.json of workspace `id`. Fails INTERNAL when it is corrupt. */
static bool meta_read(int ws_fd, const char *id, meta *m, be_error *err) {
    memset(m, 0, sizeof *m);
    int fd = openat(ws_fd, META_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return be_fail_errno(err, errno, "open the metadata of workspace", id);
    strbuf text = {0};
    bool ok = read_all(fd, 1u << 20, &text);
    int error = errno;
    close(fd);
    if (!ok) {
        sb_free(&text);
        return be_fail_errno(err, error, "read the metadata of workspace", id);
    }
    const char *why = NULL;
    json_value *doc = json_parse((const uint8_t *)text.data, text.len, &why);
    sb_free(&text);
    const char *owner = NULL, *state = NULL;
    size_t owner_len = 0;
    int64_t created = 0;
    if (doc == NULL || doc->type != JSON_OBJECT || json_get_string(doc, "owner", &owner, &owner_len) != JSON_FOUND ||
        json_get_string(doc, "state", &state, NULL) != JSON_FOUND ||
        json_get_int(doc, "created_at_ms", &created) != JSON_FOUND ||
        (strcmp(state, "running") != 0 && strcmp(state, "stopped") != 0) || created <= 0) {
        json_free(doc);
        return be_fail(err, MP_INTERNAL, false, "the metadata of workspace %s (%s) is corrupt%s%s", id, META_FILE,
                       why ? ": " : "", why ? why : "");
    }
    m->owner = strndup(owner, owner_len);
    m->running = strcmp(state, "running") == 0;
    m->created_at_ms = created;
    json_free(doc);
    if (m->owner == NULL) return be_fail(err, MP_INTERNAL, false, "out of memory");
    return true;
}

/** Replaces <ws_fd>/workspace.json atomically (call with the exclusive lock held: the temporary name is fixed). */
static bool meta_write(int ws_fd, const char *id, const meta *m, be_error *err) {
    strbuf sb = {0};
    sb_puts(&sb, "{\"owner\":");
    sb_put_json_string(&sb, m->owner);
    sb_puts(&sb, m->running ? ",\"state\":\"running\"" : ",\"state\":\"stopped\"");
    sb_puts(&sb, ",\"created_at_ms\":");
    sb_put_i64(&sb, m->created_at_ms);
    sb_puts(&sb, "}\n");
    size_t len;
    char *text = sb_take(&sb, &len);
    if (text == NULL) return be_fail(err, MP_INTERNAL, false, "out of memory");
    int fd = openat(ws_fd, META_TEMP, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    bool ok = fd >= 0 && write_all(fd, text, len);
    int error = errno;
    if (fd >= 0 && close(fd) != 0 && ok) ok = false, error = errno;
    free(text);
    if (ok && renameat(ws_fd, META_TEMP, ws_fd, META_FILE) != 0) ok = false, error = errno;
    if (!ok) {
        unlinkat(ws_fd, META_TEMP, 0);
        return be_fail_errno(err, error, "write the metadata of workspace", id);
    }
    return true;
}

/**
 * Opens workspace `id`'s directory: true with *ws_fd >= 0 when it exists, true with *ws_fd == -1 when it does not.
 */
static bool workspace_open(const session *s, const char *id, int *ws_fd, be_error *err) {
    *ws_fd = openat(s->workspaces_fd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (*ws_fd >= 0 || errno == ENOENT) return true;
    if (errno == ENOTDIR || errno == ELOOP) { /* something else under that name is no workspace */
        *ws_fd = -1;
        return true;
    }
    return be_fail_errno(err, errno, "open workspace", id);
}

/** workspace_open + meta_read; *found says whether the workspace exists (then *ws_fd is open, the caller closes). */
static bool workspace_load(const session *s, const char *id, int *ws_fd, meta *m, bool *found, be_error *err) {
    memset(m, 0, sizeof *m);
    *found = false;
    if (!workspace_open(s, id, ws_fd, err)) return false;
    if (*ws_fd < 0) return true;
    if (!meta_read(*ws_fd, id, m, err)) {
        close(*ws_fd);
        *ws_fd = -1;
        return false;
    }
    *found = true;
    return true;
}

static bool console_append(int ws_fd, const char *id, const char *line, be_error *err) {
    int fd = openat(ws_fd, CONSOLE_LOG, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0644);
    bool ok = fd >= 0 && write_all(fd, line, strlen(line));
    int error = errno;
    if (fd >= 0) close(fd);
    return ok || be_fail_errno(err, error, "append to the console log of workspace", id);
}

/**
 * What the stub's "workload" prints each time a workspace starts. A real backend's console log is what the instance
 * prints (boot messages, the agent's output); the stub runs nothing, so it writes these lines itself.
 */
static bool console_started(int ws_fd, const char *id, be_error *err) {
    char line[400];
    snprintf(line, sizeof line, "workspace %s started\nworkspace %s ready\n", id, id);
    return console_append(ws_fd, id, line, err);
}

/* ------------------------------------------------------------------------------------------------------------------ */
/* Lifecycle verbs                                                                                                    */
/* ------------------------------------------------------------------------------------------------------------------ */

bool stub_backend_describe(stub_backend *b, const be_call *call, char **description, be_error *err) {
    (void)call;
    if (!reachable(b, err)) return false;
    static const char prefix[] = "local directory ";
    *description = malloc(sizeof prefix + strlen(b->state_dir));
    if (*description == NULL) return be_fail(err, MP_INTERNAL, false, "out of memory");
    strcpy(*description, prefix);
    strcat(*description, b->state_dir);
    return true;
}

/** Creates workspace `id` complete under .new-<id>, then renames it into place (exclusive lock held). */
static bool workspace_create(const session *s, const be_call *call, const char *id, const char *owner,
                             be_error *err) {
    char staging[160];
    snprintf(staging, sizeof staging, ".new-%s", id);
    if (!lf_remove_tree(s->workspaces_fd, staging, call, err)) return false; /* a leftover of a crash */
    if (mkdirat(s->workspaces_fd, staging, 0700) != 0) return be_fail_errno(err, errno, "create workspace", id);
    int ws_fd = openat(s->workspaces_fd, staging, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    bool ok = ws_fd >= 0 || be_fail_errno(err, errno, "open the new workspace", id);
    if (ok && mkdirat(ws_fd, FILES_DIR, 0755) != 0) ok = be_fail_errno(err, errno, "create the files root of", id);
    meta m = {(char *)owner, true, now_ms()};
    if (ok) ok = meta_write(ws_fd, id, &m, err);
    if (ok) ok = console_started(ws_fd, id, err);
    if (ws_fd >= 0) close(ws_fd);
    if (ok && be_call_cancelled(call)) ok = be_fail_cancelled(err, "provision");
    if (ok && renameat(s->workspaces_fd, staging, s->workspaces_fd, id) != 0) {
        ok = be_fail_errno(err, errno, "commit the new workspace", id);
    }
    if (!ok) {
        be_error ignored;
        lf_remove_tree(s->workspaces_fd, staging, NULL, &ignored);
    }
    return ok;
}

bool stub_backend_provision(stub_backend *b, const be_call *call, const be_provision_request *request,
                            be_instance *out, be_error *err) {
    if (!reachable(b, err)) return false;
    const char *id = request->workspace_id;
    /* A real backend would start request->image / the request's "command" here. The stub only records the state. */
    session s;
    if (!session_begin(b, call, true, &s, err)) return false;
    int ws_fd;
    meta m;
    bool found;
    bool ok = workspace_load(&s, id, &ws_fd, &m, &found, err);
    if (ok && !found) {
        ok = workspace_create(&s, call, id, b->owner, err);
    } else if (ok && strcmp(m.owner, b->owner) != 0) {
        ok = be_fail(err, MP_ALREADY_EXISTS, false, "workspace %s exists and belongs to owner \"%s\"", id, m.owner);
    } else if (ok && !m.running) { /* start it again, with its storage and its creation time */
        m.running = true;
        ok = meta_write(ws_fd, id, &m, err);
        if (ok) ok = console_started(ws_fd, id, err);
    } /* else: already running, converge on it */
    if (ws_fd >= 0) close(ws_fd);
    free(m.owner);
    session_end(&s);
    if (!ok) return false;
    out->state = BE_RUNNING;
    out->instance_ref = instance_ref_of(id);
    return out->instance_ref != NULL || be_fail(err, MP_INTERNAL, false, "out of memory");
}

bool stub_backend_stop(stub_backend *b, const be_call *call, const char *workspace_id, bool *stopped, be_error *err) {
    if (!reachable(b, err)) return false;
    session s;
    if (!session_begin(b, call, true, &s, err)) return false;
    int ws_fd;
    meta m;
    bool found;
    bool ok = workspace_load(&s, workspace_id, &ws_fd, &m, &found, err);
    *stopped = false;
    if (ok && found && m.running) {
        m.running = false; /* storage (files, console log) is kept */
        ok = meta_write(ws_fd, workspace_id, &m, err);
        *stopped = ok;
    }
    if (ws_fd >= 0) close(ws_fd);
    free(m.owner);
    session_end(&s);
    return ok;
}

bool stub_backend_inspect(stub_backend *b, const be_call *call, const char *workspace_id, be_instance *out,
                          be_error *err) {
    if (!reachable(b, err)) return false;
    session s;
    if (!session_begin(b, call, false, &s, err)) return false;
    int ws_fd;
    meta m;
    bool found;
    bool ok = workspace_load(&s, workspace_id, &ws_fd, &m, &found, err);
    if (ws_fd >= 0) close(ws_fd);
    session_end(&s);
    free(m.owner);
    if (!ok) return false;
    out->state = !found ? BE_ABSENT : m.running ? BE_RUNNING : BE_STOPPED;
    out->instance_ref = NULL;
    if (out->state == BE_RUNNING) {
        out->instance_ref = instance_ref_of(workspace_id);
        if (out->instance_ref == NULL) return be_fail(err, MP_INTERNAL, false, "out of memory");
    }
    return true;
}

static bool add_resource(be_resource_list *list, const char *id, bool is_instance, const char *ref, const meta *m,
                         be_error *err) {
    if (list->count == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 16;
        be_resource *items = realloc(list->items, cap * sizeof *items);
        if (items == NULL) return be_fail(err, MP_INTERNAL, false, "out of memory");
        list->items = items;
        list->cap = cap;
    }
    be_resource r = {strdup(id), is_instance, strdup(ref), strdup(m->owner), is_instance ? BE_RUNNING : BE_ABSENT,
                     m->created_at_ms};
    if (r.workspace_id == NULL || r.ref == NULL || r.owner == NULL) {
        free(r.workspace_id);
        free(r.ref);
        free(r.owner);
        return be_fail(err, MP_INTERNAL, false, "out of memory");
    }
    list->items[list->count++] = r;
    return true;
}

bool stub_backend_list_owned(stub_backend *b, const be_call *call, const char *owner, be_resource_list *out,
                             be_error *err) {
    if (!reachable(b, err)) return false;
    if (owner == NULL) owner = b->owner;
    session s;
    if (!session_begin(b, call, false, &s, err)) return false;
    int fd = openat(s.workspaces_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
    if (dir == NULL) {
        int error = errno;
        if (fd >= 0) close(fd);
        session_end(&s);
        return be_fail_errno(err, error, "read", b->workspaces_dir);
    }
    bool ok = true;
    for (;;) {
        errno = 0;
        struct dirent *entry = readdir(dir);
        if (entry == NULL) {
            if (errno != 0) ok = be_fail_errno(err, errno, "read", b->workspaces_dir);
            break;
        }
        if (entry->d_name[0] == '.') continue; /* ".", "..", and workspaces being created or removed */
        if (be_call_cancelled(call)) {
            ok = be_fail_cancelled(err, "list_owned");
            break;
        }
        const char *id = entry->d_name;
        int ws_fd;
        meta m;
        bool found;
        if (!workspace_load(&s, id, &ws_fd, &m, &found, err)) {
            ok = false;
            break;
        }
        if (ws_fd >= 0) close(ws_fd);
        if (found && strcmp(m.owner, owner) == 0) {
            char *ref = instance_ref_of(id);
            char *storage = join(b->workspaces_dir, id);
            ok = ref != NULL && storage != NULL;
            if (!ok) be_fail(err, MP_INTERNAL, false, "out of memory");
            /* A running workspace is an instance and its storage; a stopped one is only storage. */
            if (ok && m.running) ok = add_resource(out, id, true, ref, &m, err);
            if (ok) ok = add_resource(out, id, false, storage, &m, err);
            free(ref);
            free(storage);
        }
        free(m.owner);
        if (!ok) break;
    }
    closedir(dir);
    session_end(&s);
    if (!ok) be_resource_list_free(out);
    return ok;
}

bool stub_backend_remove_storage(stub_backend *b, const be_call *call, const char *workspace_id, bool *removed,
                                 be_error *err) {
    if (!reachable(b, err)) return false;
    session s;
    if (!session_begin(b, call, true, &s, err)) return false;
    int ws_fd;
    meta m;
    bool found;
    bool ok = workspace_load(&s, workspace_id, &ws_fd, &m, &found, err);
    if (ws_fd >= 0) close(ws_fd);
    *removed = false;
    char trash[200];
    if (ok && found && m.running) {
        ok = be_fail(err, MP_CONFLICT, false, "workspace %s is running; stop it before removing its storage",
                     workspace_id);
    } else if (ok && found) {
        /* The rename is the removal: from here on no call sees the workspace. The tree is deleted after unlocking. */
        static atomic_uint counter;
        snprintf(trash, sizeof trash, ".trash-%s-%ld-%u", workspace_id, (long)getpid(), atomic_fetch_add(&counter, 1u));
        if (renameat(s.workspaces_fd, workspace_id, s.workspaces_fd, trash) != 0) {
            ok = be_fail_errno(err, errno, "remove workspace", workspace_id);
        } else {
            *removed = true;
        }
    }
    free(m.owner);
    if (*removed) {
        /* Best effort, without the lock: nobody else knows the trash name. A cancelled or failed deletion leaves the
           rest of the tree under .trash-*, invisible to every verb; the workspace is gone either way. */
        int workspaces_fd = fcntl(s.workspaces_fd, F_DUPFD_CLOEXEC, 0);
        session_end(&s);
        if (workspaces_fd >= 0) {
            be_error ignored;
            lf_remove_tree(workspaces_fd, trash, call, &ignored);
            close(workspaces_fd);
        }
        return true;
    }
    session_end(&s);
    return ok;
}

/* ------------------------------------------------------------------------------------------------------------------ */
/* Files verbs                                                                                                        */
/* ------------------------------------------------------------------------------------------------------------------ */

/**
 * Begins a files verb: a shared lock (so the workspace cannot be removed meanwhile) and the files root of an existing
 * workspace in *root_fd. Unknown workspace: NOT_FOUND.
 */
static bool files_begin(const stub_backend *b, const be_call *call, const char *id, session *s, int *root_fd,
                        be_error *err) {
    *root_fd = -1;
    if (!reachable(b, err)) return false;
    if (!session_begin(b, call, false, s, err)) return false;
    int ws_fd;
    if (!workspace_open(s, id, &ws_fd, err)) {
        session_end(s);
        return false;
    }
    if (ws_fd < 0) {
        session_end(s);
        return be_fail(err, MP_NOT_FOUND, false, "workspace %s does not exist", id);
    }
    *root_fd = openat(ws_fd, FILES_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int error = errno;
    close(ws_fd);
    if (*root_fd < 0) {
        session_end(s);
        return be_fail_errno(err, error, "open the files root of workspace", id);
    }
    return true;
}

static void files_end(session *s, int root_fd) {
    if (root_fd >= 0) close(root_fd);
    session_end(s);
}

bool stub_backend_list_files(stub_backend *b, const be_call *call, const char *workspace_id, const fp_path *path,
                             int depth, be_file_list *out, be_error *err) {
    session s;
    int root;
    if (!files_begin(b, call, workspace_id, &s, &root, err)) return false;
    bool ok = lf_list(root, path, depth, MAX_LIST_ENTRIES, call, out, err);
    files_end(&s, root);
    return ok;
}

bool stub_backend_read_file(stub_backend *b, const be_call *call, const char *workspace_id, const fp_path *path,
                            be_file_content *out, be_error *err) {
    session s;
    int root;
    if (!files_begin(b, call, workspace_id, &s, &root, err)) return false;
    bool ok = lf_read(root, path, MAX_READ_BYTES, call, out, err);
    files_end(&s, root);
    return ok;
}

bool stub_backend_write_file(stub_backend *b, const be_call *call, const char *workspace_id, const fp_path *path,
                             const uint8_t *data, size_t len, uint32_t mode, be_error *err) {
    session s;
    int root;
    if (!files_begin(b, call, workspace_id, &s, &root, err)) return false;
    bool ok = lf_write(root, path, data, len, mode, call, err);
    files_end(&s, root);
    return ok;
}

bool stub_backend_delete_file(stub_backend *b, const be_call *call, const char *workspace_id, const fp_path *path,
                              int64_t *size, be_error *err) {
    session s;
    int root;
    if (!files_begin(b, call, workspace_id, &s, &root, err)) return false;
    bool ok = lf_delete(root, path, call, size, err);
    files_end(&s, root);
    return ok;
}

/* ------------------------------------------------------------------------------------------------------------------ */
/* logs                                                                                                               */
/* ------------------------------------------------------------------------------------------------------------------ */

/** The cursor is the byte offset in console.log, in decimal: only digits, and never beyond the end. */
static bool parse_cursor(const char *cursor, uint64_t end, uint64_t *offset) {
    size_t n = strlen(cursor);
    if (n == 0 || n > 19) return false;
    uint64_t v = 0;
    for (size_t k = 0; k < n; k++) {
        if (cursor[k] < '0' || cursor[k] > '9') return false;
        v = v * 10 + (uint64_t)(cursor[k] - '0');
    }
    if (v > end) return false;
    *offset = v;
    return true;
}

/** Reads [offset, offset+len) of `fd` into a malloc'd buffer. */
static bool read_range(int fd, uint64_t offset, size_t len, char **out, int *error) {
    char *buf = malloc(len + 1);
    if (buf == NULL) {
        *error = ENOMEM;
        return false;
    }
    size_t used = 0;
    while (used < len) {
        ssize_t n = pread(fd, buf + used, len - used, (off_t)(offset + used));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            *error = errno;
            free(buf);
            return false;
        }
        if (n == 0) break; /* cannot happen under the lock; be safe anyway */
        used += (size_t)n;
    }
    buf[used] = '\0';
    *out = buf;
    return true;
}

bool stub_backend_logs(stub_backend *b, const be_call *call, const char *workspace_id, int64_t tail_lines,
                       const char *cursor, be_logs *out, be_error *err) {
    if (!reachable(b, err)) return false;
    session s;
    if (!session_begin(b, call, false, &s, err)) return false; /* appends take the exclusive lock: sizes are stable */
    int ws_fd;
    if (!workspace_open(&s, workspace_id, &ws_fd, err)) {
        session_end(&s);
        return false;
    }
    if (ws_fd < 0) {
        session_end(&s);
        return be_fail(err, MP_NOT_FOUND, false, "workspace %s does not exist", workspace_id);
    }
    int fd = openat(ws_fd, CONSOLE_LOG, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    int error = errno;
    close(ws_fd);
    uint64_t end = 0;
    struct stat st;
    if (fd >= 0 && fstat(fd, &st) == 0) end = (uint64_t)st.st_size;
    if (fd < 0 && error != ENOENT) { /* a missing log is an empty one */
        session_end(&s);
        return be_fail_errno(err, error, "open the console log of workspace", workspace_id);
    }

    uint64_t start, stop;
    if (cursor != NULL) {
        if (!parse_cursor(cursor, end, &start)) {
            if (fd >= 0) close(fd);
            session_end(&s);
            return be_fail(err, MP_INVALID_ARGUMENT, false,
                           "logs cursor \"%.40s\" was not issued by this provider for workspace %s", cursor,
                           workspace_id);
        }
        stop = end - start > MAX_LOG_CHUNK ? start + MAX_LOG_CHUNK : end; /* page through a big backlog */
    } else {
        start = end > MAX_LOG_CHUNK ? end - MAX_LOG_CHUNK : 0;
        stop = end;
    }
    char *content = NULL;
    bool ok = true;
    if (fd >= 0) {
        ok = read_range(fd, start, (size_t)(stop - start), &content, &error);
        close(fd);
    } else {
        content = calloc(1, 1);
        ok = content != NULL;
        error = ENOMEM;
    }
    session_end(&s);
    if (!ok) return be_fail_errno(err, error, "read the console log of workspace", workspace_id);

    size_t from = 0, len = (size_t)(stop - start);
    if (cursor == NULL && tail_lines > 0) {
        /* The last `tail_lines` lines: count newlines back from the end, not counting the one ending the last line. */
        size_t i = len > 0 && content[len - 1] == '\n' ? len - 1 : len;
        int64_t lines = 0;
        while (i > 0) {
            if (content[i - 1] == '\n' && ++lines == tail_lines) break;
            i--;
        }
        from = i;
    }
    if (from > 0) memmove(content, content + from, len - from + 1);
    out->content = content;
    out->content_len = len - from;
    char number[24];
    snprintf(number, sizeof number, "%llu", (unsigned long long)stop);
    out->cursor = strdup(number);
    if (out->cursor == NULL) {
        be_logs_free(out);
        return be_fail(err, MP_INTERNAL, false, "out of memory");
    }
    return true;
}
