/*
 * provider.c — the ABI plumbing of the __PROVIDER__ provider for Molecule Host (C11, no external libraries).
 *
 * Where things are:
 *   provider.c       (this file) negotiation, the manifest, the vtable, configuration, request validation, JSON
 *                    responses, error results. Normally you only edit the manifest (summary, version) and, if your
 *                    backend needs more configuration, provider_create.
 *   stub_backend.c   THE PART TO REPLACE: the stub_backend_* functions that do the work (a local directory stub).
 *   backend.h        the plain-C interface between the two (answers and be_error).
 *   file_policy.c    path validation and the shared file policy (keep).
 *   local_files.c    the files verbs on a local directory without following links (keep if your files are local).
 *   json.c           request parser, JSON writer, base64 (keep).
 *
 * The ABI is Sources/ProviderABI/include/molecule_provider.h (copied to include/); request and response JSON per
 * verb are in docs/provider-abi.md. Every verb here follows the same steps:
 *   1. verb_begin: refuse a call whose deadline already passed (DEADLINE_EXCEEDED), parse the request (a JSON object,
 *      else INVALID_ARGUMENT);
 *   2. validate every field (workspace id rule, paths, types and ranges) -> INVALID_ARGUMENT before any backend work;
 *   3. call one stub_backend_* function;
 *   4. write its answer as JSON into `out->body`, or its be_error into `out->status` / `out->message`.
 *
 * Memory ownership: `out->message` and `out->body` are malloc'd here and released by the Host through
 * provider_free_result, exactly once. Requests and the configuration are borrowed for the call only.
 *
 * Threading: every verb may run concurrently with every other verb on the same instance. An instance is immutable
 * after provider_create; the only process-wide state is the Host services pointer (set by negotiation, atomic). All
 * shared state lives in the backend, which does its own locking (stub_backend.c: flock on a lock file).
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE

#include "molecule_provider.h"

#include "backend.h"
#include "file_policy.h"
#include "json.h"
#include "stub_backend.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ------------------------------------------------------------------------------------------------------------------ */
/* Manifest: one literal, used both for the ELF note (read before dlopen) and for negotiation.                        */
/* The claimed verbs must be exactly the non-NULL slots of provider_vtable below.                                     */
/* ------------------------------------------------------------------------------------------------------------------ */

#define PROVIDER_NAME "__PROVIDER__"
#define PROVIDER_VERSION "0.1.0"
#define PROVIDER_ABI_MIN 1u
#define PROVIDER_ABI_MAX 1u

#define PROVIDER_MANIFEST                                                                                            \
    "{\"name\":\"" PROVIDER_NAME "\",\"version\":\"" PROVIDER_VERSION "\","                                          \
    "\"summary\":\"__PROVIDER__ provider (scaffolded; stub local-directory backend)\","                              \
    "\"abi\":{\"min\":1,\"max\":1},"                                                                                 \
    "\"verbs\":{"                                                                                                    \
    "\"describe\":{\"contract\":1},\"provision\":{\"contract\":1},\"stop\":{\"contract\":1},"                        \
    "\"inspect\":{\"contract\":1},\"list_owned\":{\"contract\":1},\"remove_storage\":{\"contract\":1},"              \
    "\"list_files\":{\"contract\":1},\"read_file\":{\"contract\":1},\"write_file\":{\"contract\":1},"                \
    "\"delete_file\":{\"contract\":1},\"logs\":{\"contract\":1}},"                                                   \
    "\"unsupported\":{"                                                                                              \
    "\"pause\":\"__PROVIDER__ does not implement pause yet\","                                                       \
    "\"resume\":\"__PROVIDER__ does not implement pause yet\","                                                      \
    "\"snapshot\":\"__PROVIDER__ does not implement snapshots yet\","                                                \
    "\"restore\":\"__PROVIDER__ does not implement snapshots yet\","                                                 \
    "\"install_plugin\":\"__PROVIDER__ does not implement plugins yet\","                                            \
    "\"uninstall_plugin\":\"__PROVIDER__ does not implement plugins yet\","                                          \
    "\"list_plugins\":\"__PROVIDER__ does not implement plugins yet\","                                              \
    "\"diagnose\":\"__PROVIDER__ does not implement diagnose yet\"}}"

MP_MANIFEST_NOTE(PROVIDER_MANIFEST);

static const char provider_manifest[] = PROVIDER_MANIFEST;

/** True when a peer-allocated struct of declared size `declared` contains the whole `field`. */
#define FITS(type, field, declared) (offsetof(type, field) + sizeof(((type *)0)->field) <= (size_t)(declared))

/* ------------------------------------------------------------------------------------------------------------------ */
/* Host services and calls                                                                                            */
/* ------------------------------------------------------------------------------------------------------------------ */

/** Offered at negotiation and valid for the life of the process. Atomic: negotiation may run again on any thread. */
static _Atomic(const mp_host_services *) host_services;

/** Writes a line to the Host's log (nothing before negotiation or if the Host offers no log). */
__attribute__((format(printf, 2, 3))) static void host_log(int32_t level, const char *format, ...) {
    const mp_host_services *services = atomic_load(&host_services);
    if (services == NULL || !FITS(mp_host_services, log, services->struct_size) || services->log == NULL) return;
    char line[1024];
    va_list args;
    va_start(args, format);
    vsnprintf(line, sizeof line, format, args);
    va_end(args);
    services->log(services->host_ctx, level, line);
}

/** What the backend gets for a call (backend.h): just enough to ask whether the Host gave up on it. */
struct be_call {
    const mp_call *call; /* borrowed for the verb call */
};

bool be_call_cancelled(const be_call *c) {
    if (c == NULL || c->call == NULL) return false;
    const mp_call *call = c->call;
    if (FITS(mp_call, deadline_mono_ns, call->struct_size) && call->deadline_mono_ns != 0) {
        struct timespec ts;
        if (clock_gettime(CLOCK_MONOTONIC, &ts) == 0 &&
            (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec >= call->deadline_mono_ns) {
            return true;
        }
    }
    const mp_host_services *services = atomic_load(&host_services);
    if (services != NULL && FITS(mp_host_services, is_cancelled, services->struct_size) &&
        services->is_cancelled != NULL) {
        return services->is_cancelled(services->host_ctx, call) != 0;
    }
    return false;
}

/* ------------------------------------------------------------------------------------------------------------------ */
/* Results                                                                                                            */
/* ------------------------------------------------------------------------------------------------------------------ */

/** Fails `out` with `status` and a message (never empty, as the ABI requires). */
__attribute__((format(printf, 4, 5))) static void result_error(mp_result *out, int32_t status, bool retryable,
                                                               const char *format, ...) {
    char message[1024];
    va_list args;
    va_start(args, format);
    vsnprintf(message, sizeof message, format, args);
    va_end(args);
    out->status = status;
    out->retryable = retryable ? 1 : 0;
    out->native_code = 0;
    out->message = strdup(message[0] != '\0' ? message : PROVIDER_NAME " error (no detail)");
    /* strdup fails only when out of memory; the Host then reports a missing message itself. */
}

static void result_backend_error(mp_result *out, const be_error *err) {
    int32_t status = err->status == MP_OK ? MP_INTERNAL : err->status; /* a failure is never OK */
    result_error(out, status, err->retryable, "%s", err->message);
    out->native_code = err->native_code;
}

/** Hands a finished JSON document to `out` as the body, or fails INTERNAL if building it ran out of memory. */
static void result_json(mp_result *out, strbuf *sb) {
    size_t len;
    char *body = sb_take(sb, &len);
    if (body == NULL) {
        result_error(out, MP_INTERNAL, false, PROVIDER_NAME " ran out of memory building its response");
        return;
    }
    out->status = MP_OK;
    out->body = (uint8_t *)body;
    out->body_len = len;
}

static void provider_free_result(mp_result *result) {
    if (result == NULL) return;
    free(result->message);
    free(result->body);
    result->message = NULL;
    result->body = NULL;
    result->body_len = 0;
}

/* ------------------------------------------------------------------------------------------------------------------ */
/* create / destroy                                                                                                   */
/* ------------------------------------------------------------------------------------------------------------------ */

struct mp_instance {
    stub_backend *backend; /* immutable after create; thread-safe itself */
};

/**
 * Configuration (the JSON object the operator gives `create`):
 *   "state_dir"   string, required: where the stub backend keeps its workspaces.
 *   "owner"       string, default "default": the owner label recorded on every resource; list_owned matches it.
 *   "unreachable" bool, default false: simulate a backend that is down (every verb answers UNAVAILABLE).
 * Add your backend's settings here (endpoint, credentials file, region...) and pass them in stub_backend_config.
 * `create` must not contact the backend.
 */
static mp_instance *provider_create(mp_bytes config_json, mp_result *err) {
    if (err == NULL) return NULL;
    const char *why = NULL;
    json_value *config = json_parse(config_json.ptr, config_json.len, &why);
    if (config == NULL || config->type != JSON_OBJECT) {
        json_free(config);
        result_error(err, MP_INVALID_ARGUMENT, false, PROVIDER_NAME " configuration must be a JSON object%s%s",
                     why ? ": " : "", why ? why : "");
        return NULL;
    }
    stub_backend_config settings = {NULL, "default", false};
    size_t len = 0;
    json_lookup r = json_get_string(config, "state_dir", &settings.state_dir, &len);
    if (r != JSON_FOUND || len == 0 || strlen(settings.state_dir) != len) {
        json_free(config);
        result_error(err, MP_INVALID_ARGUMENT, false,
                     PROVIDER_NAME " configuration needs \"state_dir\": a non-empty string (a directory path)");
        return NULL;
    }
    r = json_get_string(config, "owner", &settings.owner, &len);
    if (r == JSON_WRONG_TYPE || (r == JSON_FOUND && (len == 0 || strlen(settings.owner) != len))) {
        json_free(config);
        result_error(err, MP_INVALID_ARGUMENT, false,
                     PROVIDER_NAME " configuration is invalid: \"owner\" must be a non-empty string");
        return NULL;
    }
    if (json_get_bool(config, "unreachable", &settings.unreachable) == JSON_WRONG_TYPE) {
        json_free(config);
        result_error(err, MP_INVALID_ARGUMENT, false,
                     PROVIDER_NAME " configuration is invalid: \"unreachable\" must be a boolean");
        return NULL;
    }
    mp_instance *instance = calloc(1, sizeof *instance);
    be_error backend_err = {0};
    if (instance != NULL) instance->backend = stub_backend_open(&settings, &backend_err);
    if (instance == NULL || instance->backend == NULL) {
        if (instance == NULL) be_fail(&backend_err, MP_INTERNAL, false, "out of memory");
        free(instance);
        json_free(config);
        result_backend_error(err, &backend_err);
        return NULL;
    }
    host_log(MP_LOG_INFO, PROVIDER_NAME ": instance created (state_dir %s, owner %s)", settings.state_dir,
             settings.owner);
    json_free(config); /* after the log line: settings point into it */
    return instance;
}

static void provider_destroy(mp_instance *instance) {
    if (instance == NULL) return;
    stub_backend_close(instance->backend);
    free(instance);
}

/* ------------------------------------------------------------------------------------------------------------------ */
/* Request helpers                                                                                                    */
/* ------------------------------------------------------------------------------------------------------------------ */

/**
 * The start of every verb. Returns the parsed request (an object; the caller json_free's it) or NULL when `out`
 * has been filled: DEADLINE_EXCEEDED for a call the Host already gave up on, INVALID_ARGUMENT for a request that is
 * not a JSON object. An empty request reads as {}.
 */
static json_value *verb_begin(mp_instance *instance, const be_call *call, const char *verb, mp_bytes request,
                              mp_result *out) {
    if (out == NULL) return NULL; /* nowhere to answer; the Host never does this */
    if (instance == NULL) {
        result_error(out, MP_INVALID_ARGUMENT, false, "%s called with a NULL instance", verb);
        return NULL;
    }
    if (be_call_cancelled(call)) {
        result_error(out, MP_DEADLINE_EXCEEDED, true, "%s: the call's deadline passed before it started", verb);
        return NULL;
    }
    if (request.ptr == NULL && request.len != 0) {
        result_error(out, MP_INVALID_ARGUMENT, false, "%s request has a NULL pointer and a non-zero length", verb);
        return NULL;
    }
    size_t i = 0;
    while (i < request.len && (request.ptr[i] == ' ' || request.ptr[i] == '\t' || request.ptr[i] == '\n' ||
                               request.ptr[i] == '\r')) {
        i++;
    }
    const char *why = NULL;
    json_value *doc = i == request.len ? json_parse((const uint8_t *)"{}", 2, &why)
                                       : json_parse(request.ptr, request.len, &why);
    if (doc == NULL || doc->type != JSON_OBJECT) {
        json_free(doc);
        result_error(out, MP_INVALID_ARGUMENT, false, "malformed %s request: %s", verb,
                     why ? why : "expected a JSON object");
        return NULL;
    }
    return doc;
}

/**
 * The workspace-id rule every provider shares (ProviderWire's Identifier; the suite's validation.workspace-id):
 * 1 to 128 ASCII letters, digits, '-', '_' and '.', not starting with '.' and without "..".
 */
static bool valid_workspace_id(const char *id, size_t len) {
    if (len == 0 || len > 128 || id[0] == '.' || strstr(id, "..") != NULL || strlen(id) != len) return false;
    for (size_t i = 0; i < len; i++) {
        char c = id[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                  c == '_' || c == '.';
        if (!ok) return false;
    }
    return true;
}

/** The request's "workspace_id" (borrowed from `doc`), or NULL with INVALID_ARGUMENT in `out`. */
static const char *require_workspace_id(const char *verb, const json_value *doc, mp_result *out) {
    const char *id = NULL;
    size_t len = 0;
    json_lookup r = json_get_string(doc, "workspace_id", &id, &len);
    if (r == JSON_FOUND && valid_workspace_id(id, len)) return id;
    if (r == JSON_ABSENT) {
        result_error(out, MP_INVALID_ARGUMENT, false, "%s request needs a \"workspace_id\"", verb);
    } else if (r == JSON_WRONG_TYPE) {
        result_error(out, MP_INVALID_ARGUMENT, false, "%s request's \"workspace_id\" must be a string", verb);
    } else {
        result_error(out, MP_INVALID_ARGUMENT, false,
                     "%s request's \"workspace_id\" is invalid: use 1-128 ASCII letters, digits, '-', '_' or '.', not "
                     "starting with '.' and without '..'",
                     verb);
    }
    return NULL;
}

/** An optional string member: true with *value (borrowed, NULL when absent); false with INVALID_ARGUMENT in `out`. */
static bool optional_string(const char *verb, const json_value *doc, const char *key, const char **value,
                            mp_result *out) {
    *value = NULL;
    if (json_get_string(doc, key, value, NULL) != JSON_WRONG_TYPE) return true;
    result_error(out, MP_INVALID_ARGUMENT, false, "%s request's \"%s\" must be a string", verb, key);
    return false;
}

/** An optional integer member in [min, max]: true with *value (`fallback` when absent), else INVALID_ARGUMENT. */
static bool optional_int(const char *verb, const json_value *doc, const char *key, int64_t min, int64_t max,
                         int64_t fallback, int64_t *value, mp_result *out) {
    *value = fallback;
    json_lookup r = json_get_int(doc, key, value);
    if (r == JSON_ABSENT) {
        *value = fallback;
        return true;
    }
    if (r == JSON_FOUND && *value >= min && *value <= max) return true;
    result_error(out, MP_INVALID_ARGUMENT, false, "%s request's \"%s\" must be an integer from %lld to %lld", verb,
                 key, (long long)min, (long long)max);
    return false;
}

/** The request's path, validated and normalised (file_policy.h); false with INVALID_ARGUMENT in `out`. */
static bool require_path(const char *verb, const json_value *doc, bool allow_root, fp_path *path, mp_result *out) {
    const char *raw = "";
    size_t len = 0;
    json_lookup r = json_get_string(doc, "path", &raw, &len);
    if (r == JSON_WRONG_TYPE || (r == JSON_ABSENT && !allow_root)) {
        result_error(out, MP_INVALID_ARGUMENT, false, "%s request needs a \"path\" (a string)", verb);
        return false;
    }
    if (r == JSON_ABSENT) raw = "", len = 0;
    char message[512];
    bool oom = false;
    if (fp_path_parse(raw, len, allow_root, path, message, sizeof message, &oom)) return true;
    if (oom) {
        result_error(out, MP_INTERNAL, false, "%s: out of memory", verb);
    } else {
        result_error(out, MP_INVALID_ARGUMENT, false, "%s: %s", verb, message);
    }
    return false;
}

static const char *state_name(be_state state) {
    switch (state) {
    case BE_RUNNING: return "running";
    case BE_STOPPED: return "stopped";
    case BE_ABSENT: break;
    }
    return "absent";
}

/* ------------------------------------------------------------------------------------------------------------------ */
/* Verbs. Each: verb_begin -> validate -> stub_backend_* -> JSON.                                                     */
/* ------------------------------------------------------------------------------------------------------------------ */

static void verb_describe(mp_instance *instance, const mp_call *mc, mp_bytes request, mp_result *out) {
    be_call call = {mc};
    json_value *doc = verb_begin(instance, &call, "describe", request, out);
    if (doc == NULL) return;
    json_free(doc);
    be_error err = {0};
    char *backend = NULL;
    if (!stub_backend_describe(instance->backend, &call, &backend, &err)) {
        result_backend_error(out, &err);
        return;
    }
    strbuf sb = {0};
    sb_puts(&sb, "{\"name\":\"" PROVIDER_NAME "\",\"version\":\"" PROVIDER_VERSION "\",\"backend\":");
    sb_put_json_string(&sb, backend);
    sb_puts(&sb, "}");
    free(backend);
    result_json(out, &sb);
}

static void verb_provision(mp_instance *instance, const mp_call *mc, mp_bytes request, mp_result *out) {
    be_call call = {mc};
    json_value *doc = verb_begin(instance, &call, "provision", request, out);
    if (doc == NULL) return;
    be_provision_request req = {0};
    req.request = doc;
    req.workspace_id = require_workspace_id("provision", doc, out);
    bool valid = req.workspace_id != NULL && optional_string("provision", doc, "name", &req.name, out) &&
                 optional_string("provision", doc, "image", &req.image, out) &&
                 optional_string("provision", doc, "runtime", &req.runtime, out) &&
                 optional_string("provision", doc, "tier", &req.tier, out);
    /* "seed_archive" is ignored by the stub, so the answer never says "seeded": the Host then refuses templates on
       this provider. To support them, unpack it into the files root before the workload starts; answer seeded. */
    be_error err = {0};
    be_instance answer = {0};
    if (valid && !stub_backend_provision(instance->backend, &call, &req, &answer, &err)) {
        result_backend_error(out, &err);
        valid = false;
    }
    json_free(doc);
    if (!valid) return;
    strbuf sb = {0};
    sb_puts(&sb, "{\"instance_ref\":");
    sb_put_json_string(&sb, answer.instance_ref != NULL ? answer.instance_ref : "");
    sb_puts(&sb, ",\"state\":\"running\"}");
    be_instance_free(&answer);
    result_json(out, &sb);
}

static void verb_stop(mp_instance *instance, const mp_call *mc, mp_bytes request, mp_result *out) {
    be_call call = {mc};
    json_value *doc = verb_begin(instance, &call, "stop", request, out);
    if (doc == NULL) return;
    const char *id = require_workspace_id("stop", doc, out);
    be_error err = {0};
    bool stopped = false;
    bool ok = id != NULL && stub_backend_stop(instance->backend, &call, id, &stopped, &err);
    if (id != NULL && !ok) result_backend_error(out, &err);
    json_free(doc);
    if (!ok) return;
    strbuf sb = {0};
    sb_puts(&sb, stopped ? "{\"stopped\":true}" : "{\"stopped\":false}");
    result_json(out, &sb);
}

static void verb_inspect(mp_instance *instance, const mp_call *mc, mp_bytes request, mp_result *out) {
    be_call call = {mc};
    json_value *doc = verb_begin(instance, &call, "inspect", request, out);
    if (doc == NULL) return;
    const char *id = require_workspace_id("inspect", doc, out);
    be_error err = {0};
    be_instance answer = {0};
    bool ok = id != NULL && stub_backend_inspect(instance->backend, &call, id, &answer, &err);
    if (id != NULL && !ok) result_backend_error(out, &err);
    json_free(doc);
    if (!ok) return;
    strbuf sb = {0};
    sb_puts(&sb, "{\"state\":\"");
    sb_puts(&sb, state_name(answer.state));
    sb_puts(&sb, "\"");
    if (answer.instance_ref != NULL) {
        sb_puts(&sb, ",\"instance_ref\":");
        sb_put_json_string(&sb, answer.instance_ref);
    }
    sb_puts(&sb, "}");
    be_instance_free(&answer);
    result_json(out, &sb);
}

static void verb_list_owned(mp_instance *instance, const mp_call *mc, mp_bytes request, mp_result *out) {
    be_call call = {mc};
    json_value *doc = verb_begin(instance, &call, "list_owned", request, out);
    if (doc == NULL) return;
    const char *owner = NULL;
    size_t owner_len = 0;
    json_lookup r = json_get_string(doc, "owner", &owner, &owner_len);
    if (r == JSON_WRONG_TYPE || (r == JSON_FOUND && strlen(owner) != owner_len)) {
        json_free(doc);
        result_error(out, MP_INVALID_ARGUMENT, false, "list_owned request's \"owner\" must be a string");
        return;
    }
    if (r == JSON_FOUND && owner_len == 0) owner = NULL; /* empty: the configured owner */
    be_error err = {0};
    be_resource_list list = {0};
    bool ok = stub_backend_list_owned(instance->backend, &call, owner, &list, &err);
    json_free(doc);
    if (!ok) {
        result_backend_error(out, &err);
        return;
    }
    strbuf sb = {0};
    sb_puts(&sb, "{\"resources\":[");
    for (size_t k = 0; k < list.count; k++) {
        const be_resource *res = &list.items[k];
        if (k > 0) sb_puts(&sb, ",");
        sb_puts(&sb, "{\"workspace_id\":");
        sb_put_json_string(&sb, res->workspace_id);
        sb_puts(&sb, res->is_instance ? ",\"kind\":\"instance\",\"ref\":" : ",\"kind\":\"storage\",\"ref\":");
        sb_put_json_string(&sb, res->ref);
        sb_puts(&sb, ",\"owner\":");
        sb_put_json_string(&sb, res->owner);
        if (res->state != BE_ABSENT) {
            sb_puts(&sb, ",\"state\":\"");
            sb_puts(&sb, state_name(res->state));
            sb_puts(&sb, "\"");
        }
        sb_puts(&sb, ",\"created_at_ms\":");
        sb_put_i64(&sb, res->created_at_ms);
        sb_puts(&sb, "}");
    }
    sb_puts(&sb, "]}");
    be_resource_list_free(&list);
    result_json(out, &sb);
}

static void verb_remove_storage(mp_instance *instance, const mp_call *mc, mp_bytes request, mp_result *out) {
    be_call call = {mc};
    json_value *doc = verb_begin(instance, &call, "remove_storage", request, out);
    if (doc == NULL) return;
    const char *id = require_workspace_id("remove_storage", doc, out);
    be_error err = {0};
    bool removed = false;
    bool ok = id != NULL && stub_backend_remove_storage(instance->backend, &call, id, &removed, &err);
    if (id != NULL && !ok) result_backend_error(out, &err);
    json_free(doc);
    if (!ok) return;
    strbuf sb = {0};
    sb_puts(&sb, removed ? "{\"removed\":true}" : "{\"removed\":false}");
    result_json(out, &sb);
}

static void verb_list_files(mp_instance *instance, const mp_call *mc, mp_bytes request, mp_result *out) {
    be_call call = {mc};
    json_value *doc = verb_begin(instance, &call, "list_files", request, out);
    if (doc == NULL) return;
    const char *id = require_workspace_id("list_files", doc, out);
    int64_t depth = 1;
    fp_path path = {0};
    bool valid = id != NULL && optional_int("list_files", doc, "depth", 1, 5, 1, &depth, out) &&
                 require_path("list_files", doc, true, &path, out);
    be_error err = {0};
    be_file_list list = {0};
    if (valid && !stub_backend_list_files(instance->backend, &call, id, &path, (int)depth, &list, &err)) {
        result_backend_error(out, &err);
        valid = false;
    }
    fp_path_free(&path);
    json_free(doc);
    if (!valid) return;
    strbuf sb = {0};
    sb_puts(&sb, "{\"files\":[");
    for (size_t k = 0; k < list.count; k++) {
        if (k > 0) sb_puts(&sb, ",");
        sb_puts(&sb, "{\"path\":");
        sb_put_json_string(&sb, list.items[k].path);
        sb_puts(&sb, ",\"size\":");
        sb_put_i64(&sb, list.items[k].size);
        sb_puts(&sb, list.items[k].dir ? ",\"dir\":true}" : ",\"dir\":false}");
    }
    sb_puts(&sb, "]}");
    be_file_list_free(&list);
    result_json(out, &sb);
}

static void verb_read_file(mp_instance *instance, const mp_call *mc, mp_bytes request, mp_result *out) {
    be_call call = {mc};
    json_value *doc = verb_begin(instance, &call, "read_file", request, out);
    if (doc == NULL) return;
    const char *id = require_workspace_id("read_file", doc, out);
    fp_path path = {0};
    bool valid = id != NULL && require_path("read_file", doc, false, &path, out);
    be_error err = {0};
    be_file_content content = {0};
    if (valid && !stub_backend_read_file(instance->backend, &call, id, &path, &content, &err)) {
        result_backend_error(out, &err);
        valid = false;
    }
    json_free(doc);
    if (!valid) {
        fp_path_free(&path);
        return;
    }
    strbuf sb = {0};
    sb_puts(&sb, "{\"path\":");
    sb_put_json_string(&sb, path.normalised);
    sb_puts(&sb, ",\"size\":");
    sb_put_i64(&sb, (int64_t)content.size);
    sb_puts(&sb, ",\"content_base64\":\"");
    sb_put_base64(&sb, content.data, content.size);
    sb_puts(&sb, "\",\"mode\":");
    sb_put_i64(&sb, (int64_t)content.mode);
    sb_puts(&sb, "}");
    be_file_content_free(&content);
    fp_path_free(&path);
    result_json(out, &sb);
}

static void verb_write_file(mp_instance *instance, const mp_call *mc, mp_bytes request, mp_result *out) {
    be_call call = {mc};
    json_value *doc = verb_begin(instance, &call, "write_file", request, out);
    if (doc == NULL) return;
    const char *id = require_workspace_id("write_file", doc, out);
    fp_path path = {0};
    int64_t mode = 0644;
    const char *encoded = NULL;
    size_t encoded_len = 0;
    uint8_t *data = NULL;
    size_t size = 0;
    bool valid = id != NULL && require_path("write_file", doc, false, &path, out) &&
                 optional_int("write_file", doc, "mode", 0, 0777, 0644, &mode, out);
    if (valid && json_get_string(doc, "content_base64", &encoded, &encoded_len) != JSON_FOUND) {
        result_error(out, MP_INVALID_ARGUMENT, false, "write_file request needs \"content_base64\" (a string)");
        valid = false;
    }
    bool oom = false;
    if (valid && !base64_decode(encoded, encoded_len, &data, &size, &oom)) {
        if (oom) {
            result_error(out, MP_INTERNAL, false, "write_file: out of memory decoding the content");
        } else {
            result_error(out, MP_INVALID_ARGUMENT, false, "write_file request's \"content_base64\" is not base64");
        }
        valid = false;
    }
    be_error err = {0};
    if (valid && !stub_backend_write_file(instance->backend, &call, id, &path, data, size, (uint32_t)mode, &err)) {
        result_backend_error(out, &err);
        valid = false;
    }
    free(data);
    json_free(doc);
    if (valid) {
        strbuf sb = {0};
        sb_puts(&sb, "{\"path\":");
        sb_put_json_string(&sb, path.normalised);
        sb_puts(&sb, ",\"size\":");
        sb_put_i64(&sb, (int64_t)size);
        sb_puts(&sb, "}");
        result_json(out, &sb);
    }
    fp_path_free(&path);
}

static void verb_delete_file(mp_instance *instance, const mp_call *mc, mp_bytes request, mp_result *out) {
    be_call call = {mc};
    json_value *doc = verb_begin(instance, &call, "delete_file", request, out);
    if (doc == NULL) return;
    const char *id = require_workspace_id("delete_file", doc, out);
    fp_path path = {0};
    bool valid = id != NULL && require_path("delete_file", doc, false, &path, out);
    be_error err = {0};
    int64_t size = 0;
    if (valid && !stub_backend_delete_file(instance->backend, &call, id, &path, &size, &err)) {
        result_backend_error(out, &err);
        valid = false;
    }
    json_free(doc);
    if (valid) {
        strbuf sb = {0};
        sb_puts(&sb, "{\"path\":");
        sb_put_json_string(&sb, path.normalised);
        sb_puts(&sb, ",\"size\":");
        sb_put_i64(&sb, size);
        sb_puts(&sb, "}");
        result_json(out, &sb);
    }
    fp_path_free(&path);
}

static void verb_logs(mp_instance *instance, const mp_call *mc, mp_bytes request, mp_result *out) {
    be_call call = {mc};
    json_value *doc = verb_begin(instance, &call, "logs", request, out);
    if (doc == NULL) return;
    const char *id = require_workspace_id("logs", doc, out);
    int64_t tail_lines = 0; /* 0: every line */
    const char *cursor = NULL;
    size_t cursor_len = 0;
    bool valid = id != NULL && optional_int("logs", doc, "tail_lines", 1, INT64_MAX, 0, &tail_lines, out);
    if (valid) {
        json_lookup r = json_get_string(doc, "cursor", &cursor, &cursor_len);
        if (r == JSON_WRONG_TYPE || (r == JSON_FOUND && strlen(cursor) != cursor_len)) {
            result_error(out, MP_INVALID_ARGUMENT, false, "logs request's \"cursor\" must be a string it was given");
            valid = false;
        }
    }
    be_error err = {0};
    be_logs logs = {0};
    if (valid && !stub_backend_logs(instance->backend, &call, id, tail_lines, cursor, &logs, &err)) {
        result_backend_error(out, &err);
        valid = false;
    }
    json_free(doc);
    if (!valid) return;
    strbuf sb = {0};
    sb_puts(&sb, "{\"content\":");
    sb_put_json_bytes(&sb, logs.content, logs.content_len);
    sb_puts(&sb, ",\"cursor\":");
    sb_put_json_string(&sb, logs.cursor);
    sb_puts(&sb, "}");
    be_logs_free(&logs);
    result_json(out, &sb);
}

/* ------------------------------------------------------------------------------------------------------------------ */
/* The vtable and the entry point                                                                                     */
/* ------------------------------------------------------------------------------------------------------------------ */

static const mp_vtable provider_vtable = {
    .struct_size = sizeof(mp_vtable),
    .reserved = 0,
    .create = provider_create,
    .destroy = provider_destroy,
    .free_result = provider_free_result,
    .verbs =
        {
            [MP_VERB_DESCRIBE] = verb_describe,
            [MP_VERB_PROVISION] = verb_provision,
            [MP_VERB_STOP] = verb_stop,
            [MP_VERB_INSPECT] = verb_inspect,
            [MP_VERB_LIST_FILES] = verb_list_files,
            [MP_VERB_READ_FILE] = verb_read_file,
            [MP_VERB_WRITE_FILE] = verb_write_file,
            [MP_VERB_DELETE_FILE] = verb_delete_file,
            [MP_VERB_LOGS] = verb_logs,
            [MP_VERB_LIST_OWNED] = verb_list_owned,
            [MP_VERB_REMOVE_STORAGE] = verb_remove_storage,
            /* Every other slot is NULL: unsupported, the reason is in the manifest's "unsupported". To add a verb,
               fill its slot AND claim it in the manifest's "verbs" (the Host refuses a mismatch). */
        },
};

/** The only exported symbol. Must not block or contact the backend; the Host may call it more than once. */
__attribute__((visibility("default"))) int32_t molecule_provider_negotiate(const mp_host_offer *offer,
                                                                           mp_provider_answer *answer) {
    if (answer == NULL) return MP_INVALID_ARGUMENT;
    uint32_t size = answer->struct_size;
    if (FITS(mp_provider_answer, abi_min, size)) answer->abi_min = PROVIDER_ABI_MIN;
    if (FITS(mp_provider_answer, abi_max, size)) answer->abi_max = PROVIDER_ABI_MAX;
    if (offer == NULL || !FITS(mp_host_offer, abi_max, offer->struct_size)) return MP_INVALID_ARGUMENT;
    if (offer->abi_min > PROVIDER_ABI_MAX || offer->abi_max < PROVIDER_ABI_MIN || offer->abi_min > offer->abi_max) {
        return MP_UNSUPPORTED;
    }
    if (!FITS(mp_provider_answer, vtable, size)) return MP_INVALID_ARGUMENT; /* nowhere to put the answer */
    if (FITS(mp_host_offer, services, offer->struct_size) && offer->services != NULL) {
        atomic_store(&host_services, offer->services); /* valid for the life of the process */
    }
    answer->abi_chosen = offer->abi_max < PROVIDER_ABI_MAX ? offer->abi_max : PROVIDER_ABI_MAX;
    answer->manifest_json = provider_manifest;
    answer->vtable = &provider_vtable;
    return MP_OK;
}
