/*
 * backend.h — the interface between the ABI plumbing (provider.c) and the backend (stub_backend.c).
 *
 * provider.c parses and validates every request, calls one stub_backend_* function with plain C arguments, and turns
 * what it answers into JSON. A backend never sees JSON or an mp_result: it answers with the structs below, or fails
 * with a be_error. That is the seam to replace: write your own stub_backend_* (see stub_backend.h) and keep the rest.
 *
 * Ownership: strings and arrays a backend puts into the answer structs are malloc'd and owned by the caller, which
 * releases them with the matching be_*_free function. be_error holds its message inline (no allocation).
 * Threading: every backend function may be called concurrently from several threads, on the same backend.
 */
#ifndef PROVIDER_BACKEND_H
#define PROVIDER_BACKEND_H

#include "json.h"
#include "molecule_provider.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------------------------------------------------------------ */
/* Errors and calls                                                                                                   */
/* ------------------------------------------------------------------------------------------------------------------ */

/** Why a backend call failed: an mp_status (never MP_OK), whether a retry may succeed, and a message for humans. */
typedef struct be_error {
    int32_t status;
    bool retryable;
    int32_t native_code; /* errno, HTTP status, ... or 0 */
    char message[1024];
} be_error;

/** Fills `err` (printf-style message); returns false so a backend can write `return be_fail(err, ...);`. */
__attribute__((format(printf, 4, 5))) bool be_fail(be_error *err, int32_t status, bool retryable, const char *format,
                                                   ...);

/**
 * Fills `err` for a failed system call `what` on `path` with errno `error`: a full disk is QUOTA_EXCEEDED, a
 * momentary shortage (descriptors, memory, I/O) UNAVAILABLE, both retryable; anything else INTERNAL. Returns false.
 */
bool be_fail_errno(be_error *err, int error, const char *what, const char *path);

/** One verb call as the backend sees it: opaque, only good for asking whether the Host gave up on it. */
typedef struct be_call be_call;

/** True once the call's deadline has passed or the Host cancelled it. Cheap: poll it in every loop. */
bool be_call_cancelled(const be_call *call);

/** Fills `err` with DEADLINE_EXCEEDED (retryable) for `what`; returns false. */
static inline bool be_fail_cancelled(be_error *err, const char *what) {
    return be_fail(err, MP_DEADLINE_EXCEEDED, true, "%s: the call's deadline passed or it was cancelled", what);
}

/* ------------------------------------------------------------------------------------------------------------------ */
/* Answers                                                                                                            */
/* ------------------------------------------------------------------------------------------------------------------ */

typedef enum be_state { BE_ABSENT = 0, BE_RUNNING, BE_STOPPED } be_state;

/**
 * provision: what to start. provider.c has validated `workspace_id`; the other fields are optional (NULL when the
 * request has none). `request` is the whole request (borrowed), for the fields a real backend needs and this struct
 * does not spell out: "command", "env", "token", "platform_url", "options", "seed_archive" (docs/provider-abi.md).
 */
typedef struct be_provision_request {
    const char *workspace_id;
    const char *name;
    const char *image;
    const char *runtime;
    const char *tier;
    const json_value *request;
} be_provision_request;

/** inspect / provision: the workspace's state and, when it runs, the instance's reference. */
typedef struct be_instance {
    be_state state;
    char *instance_ref; /* malloc'd; NULL unless running */
} be_instance;

/** One resource of list_owned. */
typedef struct be_resource {
    char *workspace_id;    /* malloc'd */
    bool is_instance;      /* true: "instance", false: "storage" */
    char *ref;             /* malloc'd */
    char *owner;           /* malloc'd */
    be_state state;        /* BE_ABSENT: not reported */
    int64_t created_at_ms; /* > 0 and stable: the reaper's grace period counts from it */
} be_resource;

typedef struct be_resource_list {
    be_resource *items; /* malloc'd */
    size_t count;
    size_t cap;
} be_resource_list;

/** One list_files entry: `path` relative to the files root. */
typedef struct be_file_entry {
    char *path; /* malloc'd */
    int64_t size;
    bool dir;
} be_file_entry;

typedef struct be_file_list {
    be_file_entry *items; /* malloc'd */
    size_t count;
    size_t cap;
} be_file_list;

/** read_file: the bytes of a regular file and its permission bits. */
typedef struct be_file_content {
    uint8_t *data; /* malloc'd (non-NULL even when empty) */
    size_t size;
    uint32_t mode;
} be_file_content;

/** logs: new content and the cursor that continues after it. */
typedef struct be_logs {
    char *content; /* malloc'd, `content_len` bytes, any bytes (the writer replaces invalid UTF-8) */
    size_t content_len;
    char *cursor;  /* malloc'd, non-empty */
} be_logs;

void be_instance_free(be_instance *instance);
void be_resource_list_free(be_resource_list *list);
void be_file_list_free(be_file_list *list);
void be_file_content_free(be_file_content *content);
void be_logs_free(be_logs *logs);

#endif
