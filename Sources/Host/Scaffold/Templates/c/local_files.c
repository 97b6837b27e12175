/*
 * local_files.c — see local_files.h.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE

#include "local_files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DIR_OPEN_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

/** Fills `err` with the policy's answer when `operation` may not act on `obs`; returns whether it may. */
static bool policy_allows(fp_operation operation, const fp_observation *obs, const fp_path *path, be_error *err) {
    char message[sizeof err->message];
    int32_t status = fp_check(operation, obs, path, message, sizeof message);
    if (status == MP_OK) return true;
    return be_fail(err, status, false, "%s", message);
}

/** Classifies `st` (from fstatat(AT_SYMLINK_NOFOLLOW)) as the kind the policy knows. */
static fp_kind kind_of(const struct stat *st) {
    if (S_ISLNK(st->st_mode)) return FP_LINK;
    if (S_ISDIR(st->st_mode)) return FP_DIRECTORY;
    if (S_ISREG(st->st_mode)) return FP_FILE;
    return FP_OTHER;
}

/**
 * Walks `path` from `root_fd`. On success fills `obs` and sets *parent_fd to the open directory that holds the last
 * component (the caller closes it), or to -1 when the walk stopped before it (absent, link, blocked) or the path is
 * the root. With `create`, missing parents are made (0755) on the way. Fails only on an unexpected system error.
 */
static bool walk(int root_fd, const fp_path *path, bool create, fp_observation *obs, int *parent_fd, be_error *err) {
    memset(obs, 0, sizeof *obs);
    *parent_fd = -1;
    if (path->count == 0) {
        obs->kind = FP_DIRECTORY;
        return true;
    }
    int cur = fcntl(root_fd, F_DUPFD_CLOEXEC, 0);
    if (cur < 0) return be_fail_errno(err, errno, "open the files root of", path->normalised);
    for (size_t k = 0; k + 1 < path->count; k++) {
        const char *name = path->components[k];
        int next = openat(cur, name, DIR_OPEN_FLAGS);
        if (next < 0 && errno == ENOENT && create) {
            if (mkdirat(cur, name, 0755) != 0 && errno != EEXIST) {
                int error = errno;
                close(cur);
                return be_fail_errno(err, error, "create a directory for", path->normalised);
            }
            next = openat(cur, name, DIR_OPEN_FLAGS);
        }
        if (next < 0) {
            int error = errno;
            struct stat st;
            if (fstatat(cur, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
                int stat_error = errno;
                close(cur);
                if (stat_error == ENOENT) {
                    obs->kind = FP_ABSENT;
                    return true;
                }
                return be_fail_errno(err, stat_error, "inspect", path->normalised);
            }
            fp_kind kind = kind_of(&st);
            close(cur);
            if (kind == FP_DIRECTORY) return be_fail_errno(err, error, "open a directory of", path->normalised);
            obs->kind = kind == FP_LINK ? FP_LINK : FP_BLOCKED;
            obs->depth = k + 1;
            return true;
        }
        close(cur);
        cur = next;
    }
    struct stat st;
    if (fstatat(cur, path->components[path->count - 1], &st, AT_SYMLINK_NOFOLLOW) != 0) {
        int error = errno;
        if (error == ENOENT) {
            obs->kind = FP_ABSENT;
            *parent_fd = cur;
            return true;
        }
        close(cur);
        return be_fail_errno(err, error, "inspect", path->normalised);
    }
    obs->kind = kind_of(&st);
    obs->depth = path->count;
    obs->size = obs->kind == FP_FILE ? (int64_t)st.st_size : 0;
    obs->mode = (uint32_t)(st.st_mode & 0777);
    *parent_fd = cur;
    return true;
}

static const char *last_component(const fp_path *path) { return path->components[path->count - 1]; }

/* ------------------------------------------------------------------------------------------------------------------ */
/* read_file                                                                                                          */
/* ------------------------------------------------------------------------------------------------------------------ */

bool lf_read(int root_fd, const fp_path *path, size_t max_size, const be_call *call, be_file_content *out,
             be_error *err) {
    fp_observation obs;
    int parent;
    if (!walk(root_fd, path, false, &obs, &parent, err)) return false;
    if (!policy_allows(FP_READ, &obs, path, err)) {
        if (parent >= 0) close(parent);
        return false;
    }
    /* O_NONBLOCK: if a fifo was swapped in since the walk, opening it must not hang (fstat below refuses it). */
    int fd = openat(parent, last_component(path), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    int error = errno;
    close(parent);
    if (fd < 0) {
        if (error == ELOOP) return be_fail(err, MP_INVALID_ARGUMENT, false, "\"%s\" is a symbolic link", path->normalised);
        if (error == ENOENT) return be_fail(err, MP_NOT_FOUND, false, "\"%s\" does not exist", path->normalised);
        return be_fail_errno(err, error, "open", path->normalised);
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return be_fail(err, MP_INVALID_ARGUMENT, false, "\"%s\" is not a regular file", path->normalised);
    }
    if ((uint64_t)st.st_size > max_size) {
        close(fd);
        return be_fail(err, MP_INVALID_ARGUMENT, false, "\"%s\" is %lld bytes; read_file answers at most %zu",
                       path->normalised, (long long)st.st_size, max_size);
    }
    size_t cap = (size_t)st.st_size + 1; /* +1: notices a file that grew since fstat */
    uint8_t *data = malloc(cap);
    if (data == NULL) {
        close(fd);
        return be_fail(err, MP_INTERNAL, false, "out of memory reading \"%s\"", path->normalised);
    }
    size_t used = 0;
    while (used < cap) {
        if (be_call_cancelled(call)) {
            free(data);
            close(fd);
            return be_fail_cancelled(err, "read_file");
        }
        ssize_t n = read(fd, data + used, cap - used > (1u << 20) ? (1u << 20) : cap - used);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            error = errno;
            free(data);
            close(fd);
            return be_fail_errno(err, error, "read", path->normalised);
        }
        if (n == 0) break;
        used += (size_t)n;
    }
    close(fd);
    if (used == cap) {
        free(data);
        return be_fail(err, MP_UNAVAILABLE, true, "\"%s\" changed while it was read; try again", path->normalised);
    }
    out->data = data;
    out->size = used;
    out->mode = (uint32_t)(st.st_mode & 0777);
    return true;
}

/* ------------------------------------------------------------------------------------------------------------------ */
/* write_file                                                                                                         */
/* ------------------------------------------------------------------------------------------------------------------ */

static bool write_all(int fd, const uint8_t *data, size_t len, const be_call *call) {
    while (len > 0) {
        if (be_call_cancelled(call)) {
            errno = ECANCELED;
            return false;
        }
        ssize_t n = write(fd, data, len > (1u << 20) ? (1u << 20) : len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return false;
        data += n;
        len -= (size_t)n;
    }
    return true;
}

bool lf_write(int root_fd, const fp_path *path, const uint8_t *data, size_t len, uint32_t mode, const be_call *call,
              be_error *err) {
    fp_observation obs;
    int parent;
    if (!walk(root_fd, path, true, &obs, &parent, err)) return false;
    if (!policy_allows(FP_WRITE, &obs, path, err)) {
        if (parent >= 0) close(parent);
        return false;
    }
    if (parent < 0) { /* a parent vanished between creating it and opening it */
        return be_fail(err, MP_UNAVAILABLE, true, "the directories of \"%s\" changed while writing; try again",
                       path->normalised);
    }
    /* Write a temporary file beside the target, then rename it over the target: readers see the old content or the
       new one, never a mix, and the target (even if swapped for a link meanwhile) is replaced, never written through. */
    static atomic_uint counter;
    char temp[64];
    snprintf(temp, sizeof temp, ".molecule-write-%ld-%u.tmp", (long)getpid(), atomic_fetch_add(&counter, 1u));
    int fd = openat(parent, temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        int error = errno;
        close(parent);
        return be_fail_errno(err, error, "create a temporary file for", path->normalised);
    }
    bool ok = write_all(fd, data, len, call) && fchmod(fd, (mode_t)mode) == 0;
    int error = errno;
    if (close(fd) != 0 && ok) {
        ok = false;
        error = errno;
    }
    if (ok && renameat(parent, temp, parent, last_component(path)) != 0) {
        ok = false;
        error = errno;
    }
    if (!ok) {
        unlinkat(parent, temp, 0);
        close(parent);
        if (error == ECANCELED) return be_fail_cancelled(err, "write_file");
        if (error == EISDIR || error == ENOTEMPTY || error == EEXIST) {
            return be_fail(err, MP_INVALID_ARGUMENT, false, "\"%s\" is a directory", path->normalised);
        }
        return be_fail_errno(err, error, "write", path->normalised);
    }
    close(parent);
    return true;
}

/* ------------------------------------------------------------------------------------------------------------------ */
/* delete_file                                                                                                        */
/* ------------------------------------------------------------------------------------------------------------------ */

bool lf_remove_tree(int dir_fd, const char *name, const be_call *call, be_error *err) {
    if (be_call_cancelled(call)) return be_fail_cancelled(err, "removing a directory tree");
    int fd = openat(dir_fd, name, DIR_OPEN_FLAGS);
    if (fd < 0) {
        int error = errno;
        if (error == ENOENT) return true; /* gone already */
        if (error == ENOTDIR || error == ELOOP) { /* not (or no longer) a directory: remove the entry itself */
            if (unlinkat(dir_fd, name, 0) != 0 && errno != ENOENT) return be_fail_errno(err, errno, "remove", name);
            return true;
        }
        return be_fail_errno(err, error, "open the directory", name);
    }
    DIR *dir = fdopendir(fd); /* owns fd from now on */
    if (dir == NULL) {
        int error = errno;
        close(fd);
        return be_fail_errno(err, error, "read the directory", name);
    }
    /* Removing entries while reading the directory is fine: every entry that is not removed is returned once. One
       descriptor per level is open at a time, so the depth of a tree is bounded by the descriptor limit. */
    for (;;) {
        errno = 0;
        struct dirent *entry = readdir(dir);
        if (entry == NULL) {
            if (errno != 0) {
                int error = errno;
                closedir(dir);
                return be_fail_errno(err, error, "read the directory", name);
            }
            break;
        }
        if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0) continue;
        if (be_call_cancelled(call)) {
            closedir(dir);
            return be_fail_cancelled(err, "removing a directory tree");
        }
        struct stat st;
        if (fstatat(dirfd(dir), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno == ENOENT) continue;
            int error = errno;
            closedir(dir);
            return be_fail_errno(err, error, "inspect", entry->d_name);
        }
        bool removed = S_ISDIR(st.st_mode) ? lf_remove_tree(dirfd(dir), entry->d_name, call, err)
                                           : (unlinkat(dirfd(dir), entry->d_name, 0) == 0 || errno == ENOENT ||
                                              be_fail_errno(err, errno, "remove", entry->d_name));
        if (!removed) {
            closedir(dir);
            return false;
        }
    }
    closedir(dir);
    if (unlinkat(dir_fd, name, AT_REMOVEDIR) != 0 && errno != ENOENT) {
        return be_fail_errno(err, errno, "remove the directory", name);
    }
    return true;
}

bool lf_delete(int root_fd, const fp_path *path, const be_call *call, int64_t *size, be_error *err) {
    fp_observation obs;
    int parent;
    if (!walk(root_fd, path, false, &obs, &parent, err)) return false;
    if (!policy_allows(FP_DELETE, &obs, path, err)) {
        if (parent >= 0) close(parent);
        return false;
    }
    bool ok;
    if (obs.kind == FP_DIRECTORY) {
        ok = lf_remove_tree(parent, last_component(path), call, err);
        *size = 0;
    } else {
        ok = unlinkat(parent, last_component(path), 0) == 0;
        if (!ok) {
            int error = errno;
            if (error == ENOENT) {
                be_fail(err, MP_NOT_FOUND, false, "\"%s\" does not exist", path->normalised);
            } else {
                be_fail_errno(err, error, "remove", path->normalised);
            }
        }
        *size = obs.kind == FP_FILE ? obs.size : 0;
    }
    close(parent);
    return ok;
}

/* ------------------------------------------------------------------------------------------------------------------ */
/* list_files                                                                                                         */
/* ------------------------------------------------------------------------------------------------------------------ */

typedef struct lister {
    be_file_list *out;
    size_t max_entries;
    int depth;
    const be_call *call;
    be_error *err;
} lister;

static bool add_entry(lister *ls, const char *prefix, const char *name, int64_t size, bool dir) {
    be_file_list *out = ls->out;
    if (out->count >= ls->max_entries) {
        return be_fail(ls->err, MP_INVALID_ARGUMENT, false,
                       "the listing has more than %zu entries; list a subdirectory or use a smaller depth",
                       ls->max_entries);
    }
    if (out->count == out->cap) {
        size_t cap = out->cap ? out->cap * 2 : 32;
        be_file_entry *items = realloc(out->items, cap * sizeof *items);
        if (items == NULL) return be_fail(ls->err, MP_INTERNAL, false, "out of memory listing files");
        out->items = items;
        out->cap = cap;
    }
    size_t n = strlen(prefix) + 1 + strlen(name) + 1;
    char *path = malloc(n);
    if (path == NULL) return be_fail(ls->err, MP_INTERNAL, false, "out of memory listing files");
    if (prefix[0] == '\0') {
        memcpy(path, name, strlen(name) + 1);
    } else {
        snprintf(path, n, "%s/%s", prefix, name);
    }
    out->items[out->count++] = (be_file_entry){path, size, dir};
    return true;
}

/** Lists the directory `fd` (taken over: closed here) whose path is `prefix`, at `level` (1 = the listed one). */
static bool list_directory(lister *ls, int fd, const char *prefix, int level) {
    DIR *dir = fdopendir(fd);
    if (dir == NULL) {
        int error = errno;
        close(fd);
        return be_fail_errno(ls->err, error, "read the directory", prefix[0] ? prefix : "(files root)");
    }
    bool ok = true;
    for (;;) {
        errno = 0;
        struct dirent *entry = readdir(dir);
        if (entry == NULL) {
            if (errno != 0) ok = be_fail_errno(ls->err, errno, "read the directory", prefix[0] ? prefix : "(files root)");
            break;
        }
        if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0) continue;
        if (be_call_cancelled(ls->call)) {
            ok = be_fail_cancelled(ls->err, "list_files");
            break;
        }
        struct stat st;
        if (fstatat(dirfd(dir), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue; /* removed meanwhile */
        fp_kind kind = kind_of(&st);
        /* Links and other kinds are shown as non-directories of size 0, and never descended into. */
        if (!add_entry(ls, prefix, entry->d_name, kind == FP_FILE ? (int64_t)st.st_size : 0, kind == FP_DIRECTORY)) {
            ok = false;
            break;
        }
        if (kind == FP_DIRECTORY && level < ls->depth) {
            int child = openat(dirfd(dir), entry->d_name, DIR_OPEN_FLAGS);
            if (child < 0) continue; /* replaced by a link or removed meanwhile: listed, not descended */
            const char *child_path = ls->out->items[ls->out->count - 1].path;
            if (!list_directory(ls, child, child_path, level + 1)) {
                ok = false;
                break;
            }
        }
    }
    closedir(dir);
    return ok;
}

static int compare_entries(const void *a, const void *b) {
    return strcmp(((const be_file_entry *)a)->path, ((const be_file_entry *)b)->path);
}

bool lf_list(int root_fd, const fp_path *path, int depth, size_t max_entries, const be_call *call, be_file_list *out,
             be_error *err) {
    fp_observation obs;
    int parent;
    if (!walk(root_fd, path, false, &obs, &parent, err)) return false;
    if (!policy_allows(FP_LIST, &obs, path, err)) {
        if (parent >= 0) close(parent);
        return false;
    }
    /* A fresh open file description, never a dup: readdir's position must not be shared with another call. */
    int fd = path->count == 0 ? openat(root_fd, ".", DIR_OPEN_FLAGS) : openat(parent, last_component(path), DIR_OPEN_FLAGS);
    int error = errno;
    if (parent >= 0) close(parent);
    if (fd < 0) {
        if (error == ELOOP || error == ENOTDIR) {
            return be_fail(err, MP_INVALID_ARGUMENT, false, "\"%s\" is not a directory", path->normalised);
        }
        return be_fail_errno(err, error, "open the directory", path->normalised);
    }
    lister ls = {out, max_entries, depth, call, err};
    /* Entries' paths are relative to the files root: they start with the listed path. */
    if (!list_directory(&ls, fd, path->normalised, 1)) {
        be_file_list_free(out);
        return false;
    }
    if (out->count > 1) qsort(out->items, out->count, sizeof *out->items, compare_entries);
    return true;
}
