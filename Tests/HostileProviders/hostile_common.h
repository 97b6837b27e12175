/*
 * hostile_common.h — shared pieces of the hostile test providers in this directory.
 *
 * Each .c file here builds into one shared object that breaks the provider contract in exactly one way (see the
 * comment at the top of each file); everything it does not break comes from here, so a test failure points at the
 * one deliberate defect. The test suite compiles each file with:
 *
 *     cc -std=c11 -fPIC -shared -O1 -Wall -Werror -I Sources/ProviderABI/include -o X.so X.c -lpthread
 *
 * Include this header first: it sets the feature-test macro the helpers below need (strdup, sleep).
 */
#ifndef MOLECULE_HOSTILE_COMMON_H
#define MOLECULE_HOSTILE_COMMON_H

#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include "molecule_provider.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/** The ABI range every hostile provider claims, unless it is the one testing ABI negotiation. */
#define HOSTILE_ABI_MIN 1u
#define HOSTILE_ABI_MAX 1u

/** The "unsupported" object for a provider claiming describe, provision, stop, inspect and list_owned. */
#define HOSTILE_UNSUPPORTED_EXCEPT_CORE                                                                              \
    "{\"pause\":\"hostile\",\"resume\":\"hostile\",\"snapshot\":\"hostile\",\"restore\":\"hostile\","                \
    "\"list_files\":\"hostile\",\"read_file\":\"hostile\",\"write_file\":\"hostile\",\"delete_file\":\"hostile\","   \
    "\"install_plugin\":\"hostile\",\"uninstall_plugin\":\"hostile\",\"list_plugins\":\"hostile\","                  \
    "\"logs\":\"hostile\",\"diagnose\":\"hostile\",\"remove_storage\":\"hostile\"}"

/** The "verbs" object for a provider claiming describe, provision, stop, inspect and list_owned. */
#define HOSTILE_CORE_VERBS                                                                                           \
    "{\"describe\":{\"contract\":1},\"provision\":{\"contract\":1},\"stop\":{\"contract\":1},"                       \
    "\"inspect\":{\"contract\":1},\"list_owned\":{\"contract\":1}}"

/** A valid manifest for provider `name` (a string literal) at `version` claiming the five core verbs. */
#define HOSTILE_CORE_MANIFEST(name, version)                                                                         \
    "{\"name\":\"" name "\",\"version\":\"" version "\",\"summary\":\"hostile test provider\","                       \
    "\"abi\":{\"min\":1,\"max\":1},\"verbs\":" HOSTILE_CORE_VERBS ",\"unsupported\":" HOSTILE_UNSUPPORTED_EXCEPT_CORE \
    "}"

/* ---------------------------------------------------------------------------------------------------------------- */
/* Results                                                                                                          */
/* ---------------------------------------------------------------------------------------------------------------- */

/** Answers `status` with a malloc'd copy of the `len` bytes at `body` (which need not be valid JSON or UTF-8). */
static inline void h_body_bytes(mp_result *out, int32_t status, const char *body, size_t len) {
    if (out == NULL) return;
    uint8_t *copy = malloc(len > 0 ? len : 1);
    if (copy == NULL) {
        out->status = MP_INTERNAL;
        out->message = strdup("hostile provider: out of memory");
        return;
    }
    memcpy(copy, body, len);
    out->status = status;
    out->body = copy;
    out->body_len = len;
}

/** Answers MP_OK with a copy of the NUL-terminated `json`. */
static inline void h_ok(mp_result *out, const char *json) { h_body_bytes(out, MP_OK, json, strlen(json)); }

/** Answers `status` (which may be out of range on purpose) with a strdup'd `message`. */
static inline void h_error(mp_result *out, int32_t status, const char *message) {
    if (out == NULL) return;
    out->status = status;
    out->retryable = 0;
    out->message = strdup(message);
}

static inline void h_free_result(mp_result *result) {
    if (result == NULL) return;
    free(result->message);
    free(result->body);
    result->message = NULL;
    result->body = NULL;
    result->body_len = 0;
}

/* ---------------------------------------------------------------------------------------------------------------- */
/* Instances: the hostile providers keep no state, but still hand out a real allocation                             */
/* ---------------------------------------------------------------------------------------------------------------- */

struct mp_instance {
    int unused;
};

static inline mp_instance *h_create(mp_bytes config_json, mp_result *err) {
    (void)config_json;
    mp_instance *instance = calloc(1, sizeof *instance);
    if (instance == NULL) h_error(err, MP_INTERNAL, "hostile provider: out of memory");
    return instance;
}

static inline void h_destroy(mp_instance *instance) { free(instance); }

/* ---------------------------------------------------------------------------------------------------------------- */
/* Well-behaved verbs, answering like the c-example provider does for an unknown workspace                          */
/* ---------------------------------------------------------------------------------------------------------------- */

static inline void h_provision_running(mp_instance *instance, const mp_call *call, mp_bytes request, mp_result *out) {
    (void)instance, (void)call, (void)request;
    h_ok(out, "{\"instance_ref\":\"x\",\"state\":\"running\"}");
}

static inline void h_stop_false(mp_instance *instance, const mp_call *call, mp_bytes request, mp_result *out) {
    (void)instance, (void)call, (void)request;
    h_ok(out, "{\"stopped\":false}");
}

static inline void h_inspect_absent(mp_instance *instance, const mp_call *call, mp_bytes request, mp_result *out) {
    (void)instance, (void)call, (void)request;
    h_ok(out, "{\"state\":\"absent\"}");
}

static inline void h_list_owned_empty(mp_instance *instance, const mp_call *call, mp_bytes request, mp_result *out) {
    (void)instance, (void)call, (void)request;
    h_ok(out, "{\"resources\":[]}");
}

/** Defines a verb `fn_name` that answers MP_OK with the string literal `json`. */
#define HOSTILE_CONSTANT_VERB(fn_name, json)                                                                        \
    static void fn_name(mp_instance *instance, const mp_call *call, mp_bytes request, mp_result *out) {              \
        (void)instance, (void)call, (void)request;                                                                   \
        h_ok(out, json);                                                                                             \
    }

/** Initializer fields for an mp_vtable whose create/destroy/free_result are the helpers above. */
#define HOSTILE_VTABLE_BASICS .reserved = 0, .create = h_create, .destroy = h_destroy, .free_result = h_free_result

/**
 * Declares `static const mp_vtable name` with the helpers above for create/destroy/free_result, `describe_fn`,
 * `provision_fn` and `list_owned_fn` in their slots, and the well-behaved stop and inspect: the table of a provider
 * whose one defect lives in one of those three verbs (or outside the table).
 */
#define HOSTILE_CORE_VTABLE(name, describe_fn, provision_fn, list_owned_fn)                                         \
    static const mp_vtable name = {                                                                                  \
        .struct_size = sizeof(mp_vtable),                                                                            \
        HOSTILE_VTABLE_BASICS,                                                                                       \
        .verbs = {[MP_VERB_DESCRIBE] = describe_fn, [MP_VERB_PROVISION] = provision_fn, [MP_VERB_STOP] = h_stop_false, \
                  [MP_VERB_INSPECT] = h_inspect_absent, [MP_VERB_LIST_OWNED] = list_owned_fn},                        \
    }

/* ---------------------------------------------------------------------------------------------------------------- */
/* Negotiation                                                                                                      */
/* ---------------------------------------------------------------------------------------------------------------- */

/**
 * Honest negotiation for the range [abi_min, abi_max]: always reports the range; when the Host's range overlaps it,
 * writes abi_chosen, `manifest` and `vtable` exactly as given (even when NULL — that is how some hostile providers
 * misbehave) and returns MP_OK; otherwise returns MP_UNSUPPORTED.
 */
static inline int32_t h_negotiate(const mp_host_offer *offer, mp_provider_answer *answer, uint32_t abi_min,
                                  uint32_t abi_max, const char *manifest, const mp_vtable *vtable) {
    if (answer == NULL) return MP_INVALID_ARGUMENT;
    answer->abi_min = abi_min;
    answer->abi_max = abi_max;
    if (offer == NULL) return MP_INVALID_ARGUMENT;
    if (offer->abi_min > abi_max || offer->abi_max < abi_min) return MP_UNSUPPORTED;
    answer->abi_chosen = offer->abi_max < abi_max ? offer->abi_max : abi_max;
    answer->manifest_json = manifest;
    answer->vtable = vtable;
    return MP_OK;
}

/** Defines the exported entry point for ABI 1..1, answering `manifest_expr` and `vtable_expr`. */
#define HOSTILE_DEFINE_NEGOTIATE(manifest_expr, vtable_expr)                                                         \
    int32_t molecule_provider_negotiate(const mp_host_offer *offer, mp_provider_answer *answer) {                    \
        return h_negotiate(offer, answer, HOSTILE_ABI_MIN, HOSTILE_ABI_MAX, (manifest_expr), (vtable_expr));         \
    }

#endif /* MOLECULE_HOSTILE_COMMON_H */
