/*
 * cancellable.c — WELL-BEHAVED: provision honours cancellation (a fixture, not a fault).
 *
 * What it does: "cancellable" keeps the host services from negotiation; provision polls `is_cancelled` every 5 ms for
 * up to 10 s and answers DEADLINE_EXCEEDED "cancelled after N ms" as soon as it turns non-zero (or OK after 10 s).
 * A workspace named "quick-…" provisions at once. diagnose waits for `is_cancelled` the same way and, when it turns
 * non-zero, writes the file /tmp/molecule-cancelled-<workspace_id> (the Host's HTTP test: a client that goes away).
 * What the Host must do: make `is_cancelled` non-zero when the caller abandons the call — a cancelled task in this
 * process, a cancel frame that crossed the socket to a runner process, or an HTTP client that disconnected — long
 * before the call's deadline.
 */
#define _GNU_SOURCE /* memmem */
#include "hostile_common.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static const mp_host_services *services;

HOSTILE_CONSTANT_VERB(describe, "{\"name\":\"cancellable\",\"version\":\"1.0.0\"}")

static int contains(mp_bytes request, const char *needle) {
    return request.ptr != NULL && memmem(request.ptr, request.len, needle, strlen(needle)) != NULL;
}

static void provision_until_cancelled(mp_instance *instance, const mp_call *call, mp_bytes request, mp_result *out) {
    (void)instance;
    if (contains(request, "\"name\":\"quick-")) {
        h_ok(out, "{\"instance_ref\":\"x\",\"state\":\"running\"}");
        return;
    }
    for (int waited = 0; waited < 10000; waited += 5) {
        if (services != NULL && services->is_cancelled(services->host_ctx, call)) {
            char message[64];
            snprintf(message, sizeof message, "cancelled after %d ms", waited);
            h_error(out, MP_DEADLINE_EXCEEDED, message);
            return;
        }
        struct timespec pause = {0, 5 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    h_ok(out, "{\"instance_ref\":\"x\",\"state\":\"running\"}");
}

/* Copies the workspace id out of {"workspace_id":"…"} (ids are UUIDs: no escapes). */
static void workspace_id(mp_bytes request, char *id, size_t size) {
    id[0] = 0;
    const char *key = "\"workspace_id\":\"";
    const char *start = request.ptr ? memmem(request.ptr, request.len, key, strlen(key)) : NULL;
    if (start == NULL) return;
    start += strlen(key);
    size_t n = 0;
    while (n + 1 < size && start + n < (const char *)request.ptr + request.len && start[n] != '"' && start[n] != '/') n++;
    memcpy(id, start, n);
    id[n] = 0;
}

static void diagnose_until_cancelled(mp_instance *instance, const mp_call *call, mp_bytes request, mp_result *out) {
    (void)instance;
    char id[64];
    workspace_id(request, id, sizeof id);
    for (int waited = 0; waited < 10000; waited += 5) {
        if (services != NULL && services->is_cancelled(services->host_ctx, call)) {
            char path[128];
            snprintf(path, sizeof path, "/tmp/molecule-cancelled-%s", id);
            FILE *marker = fopen(path, "w");
            if (marker != NULL) {
                fprintf(marker, "%d\n", waited);
                fclose(marker);
            }
            h_error(out, MP_DEADLINE_EXCEEDED, "cancelled");
            return;
        }
        struct timespec pause = {0, 5 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    h_ok(out, "{\"ok\":true,\"stages\":[]}");
}

static const mp_vtable vtable = {
    .struct_size = sizeof(mp_vtable),
    HOSTILE_VTABLE_BASICS,
    .verbs = {[MP_VERB_DESCRIBE] = describe, [MP_VERB_PROVISION] = provision_until_cancelled, [MP_VERB_STOP] = h_stop_false,
              [MP_VERB_INSPECT] = h_inspect_absent, [MP_VERB_LIST_OWNED] = h_list_owned_empty,
              [MP_VERB_DIAGNOSE] = diagnose_until_cancelled},
};

static const char manifest[] =
    "{\"name\":\"cancellable\",\"version\":\"1.0.0\",\"summary\":\"cancellation fixture\",\"abi\":{\"min\":1,\"max\":1},"
    "\"verbs\":{\"describe\":{\"contract\":1},\"provision\":{\"contract\":1},\"stop\":{\"contract\":1},"
    "\"inspect\":{\"contract\":1},\"list_owned\":{\"contract\":1},\"diagnose\":{\"contract\":1}},"
    "\"unsupported\":{\"pause\":\"fixture\",\"resume\":\"fixture\",\"snapshot\":\"fixture\",\"restore\":\"fixture\","
    "\"list_files\":\"fixture\",\"read_file\":\"fixture\",\"write_file\":\"fixture\",\"delete_file\":\"fixture\","
    "\"install_plugin\":\"fixture\",\"uninstall_plugin\":\"fixture\",\"list_plugins\":\"fixture\","
    "\"logs\":\"fixture\",\"remove_storage\":\"fixture\"}}";

int32_t molecule_provider_negotiate(const mp_host_offer *offer, mp_provider_answer *answer) {
    if (offer != NULL) services = offer->services;
    return h_negotiate(offer, answer, HOSTILE_ABI_MIN, HOSTILE_ABI_MAX, manifest, &vtable);
}
