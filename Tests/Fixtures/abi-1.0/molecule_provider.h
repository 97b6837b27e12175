/*
 * molecule_provider.h — the Molecule Host provider ABI, version 1.
 *
 * A provider is a shared object that exports exactly one symbol, `molecule_provider_negotiate`. The Host loads it
 * with dlopen(RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE) and never unloads it. Everything that crosses this boundary is a
 * C type declared below; requests and responses are UTF-8 JSON documents passed as {pointer, length}.
 *
 * Compatibility rules
 *   - Every struct starts with `struct_size`, set by whoever allocates it. A reader accepts a larger struct from a
 *     newer peer when every byte it does not know is zero, and refuses it loudly otherwise. A smaller struct from an
 *     older peer is read up to its size; missing fields read as zero (a missing verb slot = unsupported).
 *   - New fields and verbs are only ever appended. Changing this file requires bumping MP_ABI_VERSION (a test pins
 *     the header's sha256 next to the version).
 *
 * Memory ownership
 *   - Inputs (`mp_bytes`, `mp_call`, strings passed to the provider) are borrowed for the duration of the call.
 *   - Outputs written into an `mp_result` (message, body) are allocated by the provider and released by the Host
 *     through the provider's `free_result` slot, exactly once.
 *
 * Threading
 *   - The Host calls verbs from its own dedicated worker threads, never from an async runtime's cooperative pool.
 *     Every verb of one instance may be called concurrently from several threads: providers must be thread-safe.
 *   - Verbs may block (network, disk); they should return by the call's deadline. A call that overruns is answered
 *     DEADLINE_EXCEEDED by the Host; the provider's late result is then released and discarded.
 */
#ifndef MOLECULE_PROVIDER_H
#define MOLECULE_PROVIDER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The ABI version this header describes. Host and provider each support a range; negotiation picks one. */
#define MP_ABI_VERSION 1u

/** Name of the one symbol every provider exports (see `molecule_provider_negotiate`). */
#define MP_ENTRY_SYMBOL "molecule_provider_negotiate"

/** A borrowed, immutable byte range. `ptr` may be NULL only when `len` is 0. Not NUL-terminated. */
typedef struct mp_bytes {
    const uint8_t *ptr;
    size_t len;
} mp_bytes;

/**
 * Canonical error taxonomy. Every verb answers exactly one of these in `mp_result.status`.
 * Any other value is a contract violation that the Host reports as INTERNAL.
 */
typedef enum mp_status {
    MP_OK = 0,                /**< Success; `body` holds the response JSON. */
    MP_NOT_FOUND = 1,         /**< The named workspace, file, plugin or snapshot does not exist. */
    MP_ALREADY_EXISTS = 2,    /**< The resource exists and the verb does not converge on it. */
    MP_UNSUPPORTED = 3,       /**< The verb is not implemented (a NULL slot maps here in the Host). */
    MP_INVALID_ARGUMENT = 4,  /**< The request is malformed or refers outside the allowed space (path traversal). */
    MP_CONFLICT = 5,          /**< The resource is in a state that forbids the verb (e.g. remove_storage while running). */
    MP_UNAVAILABLE = 6,       /**< The backend cannot be reached now; retryable. */
    MP_DEADLINE_EXCEEDED = 7, /**< The call's deadline passed before it completed. */
    MP_UNAUTHENTICATED = 8,   /**< The backend refused the provider's credentials. */
    MP_QUOTA_EXCEEDED = 9,    /**< The backend refused for lack of capacity or quota. */
    MP_INTERNAL = 10          /**< Anything else; a bug or an unexpected backend answer. */
} mp_status;

/** Log levels for `mp_host_services.log`. */
typedef enum mp_log_level {
    MP_LOG_TRACE = 0,
    MP_LOG_DEBUG = 1,
    MP_LOG_INFO = 2,
    MP_LOG_WARNING = 3,
    MP_LOG_ERROR = 4
} mp_log_level;

/**
 * Per-call context, allocated by the Host, borrowed by the provider for the duration of one verb call.
 */
typedef struct mp_call {
    uint32_t struct_size;
    uint32_t verb;                /**< The `mp_verb` being called, for logging. */
    uint64_t call_id;             /**< Unique per Host process; pass to `mp_host_services.is_cancelled`. */
    uint64_t deadline_mono_ns;    /**< CLOCK_MONOTONIC nanoseconds after which the Host gives up; 0 = none. */
    void *host_call_ctx;          /**< Opaque to the provider. */
} mp_call;

/**
 * What a verb answers. Allocated and zeroed by the Host, which sets `struct_size`; filled by the provider.
 * `message` and `body` are allocated by the provider and released by the Host through `free_result`.
 */
typedef struct mp_result {
    uint32_t struct_size;
    int32_t status;        /**< An `mp_status`. */
    int32_t retryable;     /**< Non-zero when retrying the same call later may succeed. */
    int32_t native_code;   /**< The backend's own code (HTTP status, errno, ...), or 0. */
    char *message;         /**< NUL-terminated UTF-8 for humans, or NULL. Required when status != MP_OK. */
    uint8_t *body;         /**< UTF-8 JSON response when status == MP_OK (may be NULL for "{}"). */
    size_t body_len;
} mp_result;

/**
 * Services the Host offers to a provider. Allocated by the Host; valid for the lifetime of the process.
 * Every function may be called from any thread, at any time after negotiation.
 */
typedef struct mp_host_services {
    uint32_t struct_size;
    void *host_ctx;   /**< Pass back as the first argument of every function below. */
    /** Writes one log line into the Host's structured log. `message` is borrowed, NUL-terminated UTF-8. */
    void (*log)(void *host_ctx, int32_t level, const char *message);
    /** Records a lifecycle event (JSON object: {"type": ..., "workspace_id": ..., ...}). `event_json` is borrowed. */
    void (*emit_event)(void *host_ctx, mp_bytes event_json);
    /** Non-zero once the Host has abandoned `call` (deadline passed or caller cancelled). Cheap; poll it in loops. */
    int32_t (*is_cancelled)(void *host_ctx, const mp_call *call);
} mp_host_services;

/** Opaque provider state, one per configured backend. Created by `create`, released by `destroy`. */
typedef struct mp_instance mp_instance;

/**
 * Every verb has this shape: borrowed instance, call context and request JSON; the provider fills `out`.
 * The verb must set `out->status`; on MP_OK it may set `out->body`, otherwise it must set `out->message`.
 * Thread-safety: may run concurrently with any other verb on the same instance.
 */
typedef void (*mp_verb_fn)(mp_instance *instance, const mp_call *call, mp_bytes request_json, mp_result *out);

/**
 * Verb identifiers, in slot order of `mp_vtable`. Request and response JSON for each is specified in
 * docs/provider-abi.md; `MP_VERB_COUNT` grows only by appending.
 */
typedef enum mp_verb {
    MP_VERB_DESCRIBE = 0,         /**< {} -> {"name","version","healthy","detail"}; health of the backend. */
    MP_VERB_PROVISION = 1,        /**< Create and start a workspace instance. Idempotent per workspace_id. */
    MP_VERB_STOP = 2,             /**< Stop and remove the instance, keep storage. Unknown instance = success. */
    MP_VERB_INSPECT = 3,          /**< {"state": running|paused|starting|stopped|absent, "address"}. */
    MP_VERB_PAUSE = 4,            /**< Suspend; pausing a paused instance succeeds. */
    MP_VERB_RESUME = 5,           /**< Undo pause; resuming a running instance succeeds. */
    MP_VERB_SNAPSHOT = 6,         /**< Capture the workspace's storage; answers {"snapshot_id"}. */
    MP_VERB_RESTORE = 7,          /**< Provision a workspace from a snapshot. */
    MP_VERB_LIST_FILES = 8,
    MP_VERB_READ_FILE = 9,
    MP_VERB_WRITE_FILE = 10,
    MP_VERB_DELETE_FILE = 11,
    MP_VERB_INSTALL_PLUGIN = 12,
    MP_VERB_UNINSTALL_PLUGIN = 13,
    MP_VERB_LIST_PLUGINS = 14,
    MP_VERB_LOGS = 15,            /**< Boot/console log: tail + cursor. */
    MP_VERB_LIST_OWNED = 16,      /**< Every resource this provider created for an owner id (for reconciliation). */
    MP_VERB_DIAGNOSE = 17,        /**< Per-stage probe: [{"name","ok","duration_ms","error","detail"}]. */
    MP_VERB_REMOVE_STORAGE = 18,  /**< Delete the workspace's storage. Unknown = success. */
    MP_VERB_COUNT = 19
} mp_verb;

/**
 * The provider's function table. Static in the provider; valid for the lifetime of the process.
 * A NULL verb slot means the verb is unsupported; the Host answers MP_UNSUPPORTED without calling the provider.
 */
typedef struct mp_vtable {
    uint32_t struct_size;
    uint32_t reserved;
    /**
     * Creates an instance from the provider configuration (a JSON object chosen by the operator).
     * Returns NULL on failure and fills `err` (status + message) — e.g. MP_INVALID_ARGUMENT for a bad config.
     * It must not contact the backend: an unreachable backend is reported by verbs as MP_UNAVAILABLE.
     * Thread-safety: may be called concurrently; each call creates an independent instance.
     */
    mp_instance *(*create)(mp_bytes config_json, mp_result *err);
    /** Releases an instance. Called at most once, after every verb call on it has returned. */
    void (*destroy)(mp_instance *instance);
    /** Releases what the provider put into `result` (message, body) and sets those fields to NULL. Required. */
    void (*free_result)(mp_result *result);
    /** Verb slots, indexed by `mp_verb`. */
    mp_verb_fn verbs[MP_VERB_COUNT];
} mp_vtable;

/** What the Host offers during negotiation. Allocated by the Host; borrowed for the call. */
typedef struct mp_host_offer {
    uint32_t struct_size;
    uint32_t abi_min;                  /**< Lowest ABI version the Host accepts. */
    uint32_t abi_max;                  /**< Highest ABI version the Host accepts. */
    uint32_t reserved;
    const mp_host_services *services;  /**< Valid for the lifetime of the process; the provider may keep it. */
} mp_host_offer;

/**
 * What the provider answers. Allocated and zeroed by the Host (which sets `struct_size`); filled by the provider.
 * Pointers written here must stay valid for the lifetime of the process (static storage).
 */
typedef struct mp_provider_answer {
    uint32_t struct_size;
    uint32_t abi_chosen;            /**< The version the provider will speak, within both ranges. */
    uint32_t abi_min;               /**< The provider's own range, reported even when negotiation fails. */
    uint32_t abi_max;
    const char *manifest_json;      /**< The manifest (see docs/provider-abi.md), static NUL-terminated UTF-8. */
    const mp_vtable *vtable;        /**< The function table for `abi_chosen`. */
} mp_provider_answer;

/**
 * The provider entry point — the only symbol a provider exports.
 * Returns MP_OK and fills `answer` when the ranges overlap; otherwise returns MP_UNSUPPORTED and still fills
 * `answer->abi_min/abi_max` so the Host can say why. Must not block, must not contact any backend, must be
 * idempotent: the Host may call it more than once.
 */
int32_t molecule_provider_negotiate(const mp_host_offer *offer, mp_provider_answer *answer);

/** Type of `molecule_provider_negotiate`, for dlsym. */
typedef int32_t (*mp_negotiate_fn)(const mp_host_offer *offer, mp_provider_answer *answer);

/*
 * Optional: the manifest as an ELF note, readable before dlopen (`readelf -n`, `molecule-host providers inspect`).
 * Section ".note.molecule.provider", note name "Molecule", type MP_NOTE_TYPE_MANIFEST, descriptor = the same JSON as
 * `manifest_json`, NUL-terminated. A provider in C declares it with MP_MANIFEST_NOTE("{...}") at file scope.
 */
#define MP_NOTE_TYPE_MANIFEST 1u
#define MP_MANIFEST_NOTE(json_literal)                                                              \
    __attribute__((section(".note.molecule.provider"), used, aligned(4)))                           \
    static const struct {                                                                           \
        uint32_t namesz, descsz, type;                                                              \
        char name[12];                                                                              \
        char desc[sizeof(json_literal)];                                                            \
    } mp_manifest_note_ = {9, sizeof(json_literal), MP_NOTE_TYPE_MANIFEST, "Molecule", json_literal}

#ifdef __cplusplus
}
#endif

#endif /* MOLECULE_PROVIDER_H */
