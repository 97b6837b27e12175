/*
 * local_files.h — the files verbs on a local directory, following file_policy.h and never following a symbolic link.
 *
 * Every path is walked from `root_fd` (an open directory: the workspace's files root) one component at a time with
 * openat(O_NOFOLLOW | O_DIRECTORY), and the last component is observed with fstatat(AT_SYMLINK_NOFOLLOW); what the
 * operation then does, it does relative to the directory descriptor it walked to. A link swapped in mid-walk makes
 * openat fail (ELOOP/ENOTDIR) instead of being followed.
 *
 * The stub backend uses these. Keep them if your workspaces' files live in a directory this process can reach (a
 * local disk, an NFS or FUSE mount); replace them if your backend serves files some other way (an API, SSH) — but
 * keep asking fp_check, so the answers stay those of every other provider.
 *
 * Ownership: `root_fd` is borrowed; answers are released with the be_*_free functions.
 * Threading: no shared state; concurrent calls on one tree are as safe as the file system makes them (a write is a
 * rename of a complete temporary file, so a reader never sees half of it).
 */
#ifndef PROVIDER_LOCAL_FILES_H
#define PROVIDER_LOCAL_FILES_H

#include "backend.h"
#include "file_policy.h"

/** read_file: a regular file of at most `max_size` bytes (bigger is INVALID_ARGUMENT: the answer would not fit). */
bool lf_read(int root_fd, const fp_path *path, size_t max_size, const be_call *call, be_file_content *out,
             be_error *err);

/** write_file: creates missing parents (0755), then atomically replaces the file with `data`, mode `mode`. */
bool lf_write(int root_fd, const fp_path *path, const uint8_t *data, size_t len, uint32_t mode, const be_call *call,
              be_error *err);

/** delete_file: a file (answers its size) or a whole directory tree (answers 0); links inside are removed. */
bool lf_delete(int root_fd, const fp_path *path, const be_call *call, int64_t *size, be_error *err);

/** list_files: entries under `path` down to `depth` levels, sorted by path; more than `max_entries` is refused. */
bool lf_list(int root_fd, const fp_path *path, int depth, size_t max_entries, const be_call *call, be_file_list *out,
             be_error *err);

/** Removes `name` in `dir_fd` and, when it is a directory, everything under it, without following links. */
bool lf_remove_tree(int dir_fd, const char *name, const be_call *call, be_error *err);

#endif
