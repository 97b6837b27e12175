/*
 * file_policy.h — the one file policy every Molecule provider follows (docs/provider-abi.md, "File paths and links";
 * ProviderKit's FilePolicy in the Host). Backend-independent: keep it whatever your backend is.
 *
 *   1. fp_path_parse validates a request's path before anything is touched (empty, absolute, "..", NUL, backslash,
 *      over-long: INVALID_ARGUMENT) and normalises it ("." components and repeated slashes go away).
 *   2. The backend observes the path one component at a time WITHOUT following links and describes what it saw in an
 *      fp_observation (local_files.c does it with openat/O_NOFOLLOW for a local directory).
 *   3. fp_check says whether the operation may act on what was observed, and if not, with which status and message.
 *
 * Ownership: an fp_path owns its buffers (fp_path_free). Threading: no shared state.
 */
#ifndef PROVIDER_FILE_POLICY_H
#define PROVIDER_FILE_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FP_MAX_PATH_BYTES 4096
#define FP_MAX_COMPONENT_BYTES 255

/** A validated path relative to the files root. */
typedef struct fp_path {
    char *normalised;    /* "a/b/c", "" for the root; malloc'd */
    char **components;   /* `count` NUL-terminated components, none empty, "." or ".."; malloc'd */
    size_t count;
    char *storage;       /* the buffer the components point into; malloc'd */
} fp_path;

/**
 * Validates and normalises [raw, raw+len) (which may contain NUL bytes: they are refused). `allow_root` admits the
 * empty path (list_files). Returns true and fills `out`; otherwise false with the reason in `message`, which means
 * INVALID_ARGUMENT — or, when *oom is set, that memory ran out.
 */
bool fp_path_parse(const char *raw, size_t len, bool allow_root, fp_path *out, char *message, size_t message_cap,
                   bool *oom);
void fp_path_free(fp_path *path);

/** What one walk from the files root found, without following any link. */
typedef enum fp_kind {
    FP_ABSENT,    /* the path, or one of its parents, does not exist */
    FP_BLOCKED,   /* its first `depth` components name something that is not a directory, with components after it */
    FP_LINK,      /* its first `depth` components name a symbolic link */
    FP_FILE,      /* a regular file (`size`, `mode`) */
    FP_DIRECTORY,
    FP_OTHER      /* a fifo, socket or device */
} fp_kind;

typedef struct fp_observation {
    fp_kind kind;
    size_t depth;  /* FP_BLOCKED, FP_LINK: how many components lead to the offending node */
    int64_t size;  /* FP_FILE */
    uint32_t mode; /* FP_FILE: permission bits */
} fp_observation;

typedef enum fp_operation { FP_READ, FP_WRITE, FP_DELETE, FP_LIST } fp_operation;

/**
 * The policy: 0 (MP_OK) when `operation` may act on `path` as observed; otherwise the mp_status to answer
 * (MP_INVALID_ARGUMENT or MP_NOT_FOUND) with a message naming the path in `message`.
 */
int32_t fp_check(fp_operation operation, const fp_observation *observation, const fp_path *path, char *message,
                 size_t message_cap);

#endif
