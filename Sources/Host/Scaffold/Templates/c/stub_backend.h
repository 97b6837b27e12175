/*
 * stub_backend.h — the backend of the __PROVIDER__ provider.
 *
 * ####################################################################################################################
 * #                                                                                                                  #
 * #   REPLACE THESE WITH CALLS TO YOUR BACKEND.                                                                      #
 * #                                                                                                                  #
 * #   The stub keeps workspaces in a local directory so the provider passes the contract suite from day one. Keep    #
 * #   the function signatures (provider.c calls exactly these), and make each one talk to your platform instead:    #
 * #   your scheduler's API for provision/stop/inspect/list_owned/remove_storage, your storage for the files verbs,   #
 * #   your log service for logs. provider.c has already validated every argument (workspace id, path, depth, mode)  #
 * #   and turns what you answer into the JSON the Host expects; you never touch JSON or the ABI's structs.           #
 * #                                                                                                                  #
 * ####################################################################################################################
 *
 * Rules every implementation must keep (the contract suite checks them):
 *   - Thread-safe: any function may run concurrently with any other, on the same backend.
 *   - State lives in the backend, never only in this process: the Host runs each provider instance in its own
 *     process and restarts it at will; a second instance must see, stop and reap what the first created.
 *   - stub_backend_open must not contact the backend (an unreachable one is reported by the verbs, as UNAVAILABLE,
 *     retryable).
 *   - Honour the call: poll be_call_cancelled(call) in every loop and before every slow step; answer
 *     be_fail_cancelled(err, ...) when it says so.
 *   - Every failure fills `err` (be_fail) with a status from mp_status and a non-empty message.
 *   - Idempotency and error statuses as documented per function below (docs/provider-abi.md has the full table).
 *
 * Ownership: string arguments are borrowed for the call; answers are owned by the caller (be_*_free).
 */
#ifndef PROVIDER_STUB_BACKEND_H
#define PROVIDER_STUB_BACKEND_H

#include "backend.h"
#include "file_policy.h"

typedef struct stub_backend stub_backend;

/** The provider configuration, as provider.c parsed it from the JSON object given to `create`. */
typedef struct stub_backend_config {
    const char *state_dir; /* required: where the stub keeps everything */
    const char *owner;     /* the owner label recorded on, and matched against, every resource */
    bool unreachable;      /* simulate a backend that is down: every function fails UNAVAILABLE */
} stub_backend_config;

/** Creates the backend handle (copies what it keeps of `config`). No I/O here. NULL with `err` on failure. */
stub_backend *stub_backend_open(const stub_backend_config *config, be_error *err);
/** Releases the handle. Called once, after every other call on it returned. */
void stub_backend_close(stub_backend *backend);

/** describe: a one-line description of what this instance talks to (*description malloc'd). */
bool stub_backend_describe(stub_backend *backend, const be_call *call, char **description, be_error *err);

/**
 * provision: creates and starts the workspace, or converges on it: a running workspace answers the same
 * instance_ref; a stopped one starts again with its storage. A workspace of another owner is ALREADY_EXISTS.
 * Answers state BE_RUNNING and the instance_ref.
 */
bool stub_backend_provision(stub_backend *backend, const be_call *call, const be_provision_request *request,
                            be_instance *out, be_error *err);

/** stop: stops a running workspace and keeps its storage; *stopped is false when it was unknown or stopped. */
bool stub_backend_stop(stub_backend *backend, const be_call *call, const char *workspace_id, bool *stopped,
                       be_error *err);

/** inspect: BE_RUNNING (with instance_ref), BE_STOPPED, or BE_ABSENT for an unknown workspace. */
bool stub_backend_inspect(stub_backend *backend, const be_call *call, const char *workspace_id, be_instance *out,
                          be_error *err);

/**
 * list_owned: every resource of `owner` (NULL: the configured owner), never another owner's: an "instance" per
 * running workspace, a "storage" per workspace that has storage. created_at_ms is the same in every call.
 */
bool stub_backend_list_owned(stub_backend *backend, const be_call *call, const char *owner, be_resource_list *out,
                             be_error *err);

/** remove_storage: deletes a stopped workspace entirely (*removed true); unknown: *removed false; running: CONFLICT. */
bool stub_backend_remove_storage(stub_backend *backend, const be_call *call, const char *workspace_id, bool *removed,
                                 be_error *err);

/*
 * The files verbs act on the workspace's files root; an unknown workspace is NOT_FOUND. `path` is validated and
 * normalised (file_policy.h); apply fp_check to what you observe so the answers match every other provider's.
 */
bool stub_backend_list_files(stub_backend *backend, const be_call *call, const char *workspace_id, const fp_path *path,
                             int depth, be_file_list *out, be_error *err);
bool stub_backend_read_file(stub_backend *backend, const be_call *call, const char *workspace_id, const fp_path *path,
                            be_file_content *out, be_error *err);
bool stub_backend_write_file(stub_backend *backend, const be_call *call, const char *workspace_id, const fp_path *path,
                             const uint8_t *data, size_t len, uint32_t mode, be_error *err);
/** *size: the removed file's size, 0 for a directory. */
bool stub_backend_delete_file(stub_backend *backend, const be_call *call, const char *workspace_id, const fp_path *path,
                              int64_t *size, be_error *err);

/**
 * logs: the workspace's console log. Without a cursor (NULL): the last `tail_lines` lines (0: all). With one: what
 * was written after it (possibly nothing). Always answers the cursor of the new end. A cursor this backend did not
 * issue is INVALID_ARGUMENT; an unknown workspace NOT_FOUND.
 */
bool stub_backend_logs(stub_backend *backend, const be_call *call, const char *workspace_id, int64_t tail_lines,
                       const char *cursor, be_logs *out, be_error *err);

#endif
