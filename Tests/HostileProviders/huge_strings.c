/*
 * huge_strings.c — HOSTILE: a verb floods the Host with 16 MiB strings through every channel it has.
 *
 * What it does wrong: "hostile-huge" keeps `offer->services` from negotiation. provision first emits a 16 MiB event
 * ({"type":"x","pad":"aaaa…"}, valid JSON, exactly 16 MiB) through `emit_event`, then logs a 16 MiB line through
 * `log`, then answers MP_UNAVAILABLE with a 16 MiB message ('m' repeated). stop, inspect and list_owned answer like
 * the c-example provider for an unknown workspace ({"stopped":false}, {"state":"absent"}, {"resources":[]}).
 * What the Host must answer: UNAVAILABLE for provision, with the provider's message cut to the Host's message limit
 * (and saying it was cut), the result released through free_result; the oversized event is dropped with a warning and
 * the log line is cut to the Host's log-line limit, neither stored nor forwarded whole; memory stays bounded and the
 * Host keeps serving. In process isolation mode the runner must bound them the same way before they cross its channel
 * to the Host: an oversized string must neither kill the runner nor make the Host drop the runner's channel.
 */
#include "hostile_common.h"

#include <stdatomic.h>

#define HUGE_BYTES ((size_t)16 << 20)

/** The Host's services, kept from negotiation ("valid for the lifetime of the process; the provider may keep it"). */
static const mp_host_services *_Atomic kept_services = NULL;

HOSTILE_CONSTANT_VERB(describe, "{\"name\":\"hostile-huge\",\"version\":\"1.0.0\"}")

/** A malloc'd run of `len` copies of `fill` followed by a NUL, or NULL. */
static char *huge_run(char fill, size_t len) {
    char *text = malloc(len + 1);
    if (text == NULL) return NULL;
    memset(text, fill, len);
    text[len] = '\0';
    return text;
}

static void provision_huge(mp_instance *instance, const mp_call *call, mp_bytes request, mp_result *out) {
    (void)instance, (void)call, (void)request;
    const mp_host_services *services = atomic_load(&kept_services);

    static const char prefix[] = "{\"type\":\"x\",\"pad\":\"", suffix[] = "\"}";
    char *event = huge_run('a', HUGE_BYTES);
    if (event == NULL) {
        h_error(out, MP_INTERNAL, "hostile-huge: out of memory");
        return;
    }
    memcpy(event, prefix, sizeof prefix - 1);
    memcpy(event + HUGE_BYTES - (sizeof suffix - 1), suffix, sizeof suffix - 1);
    if (services != NULL && services->emit_event != NULL) {
        services->emit_event(services->host_ctx, (mp_bytes){.ptr = (const uint8_t *)event, .len = HUGE_BYTES});
    }
    free(event);

    char *line = huge_run('l', HUGE_BYTES);
    if (line == NULL) {
        h_error(out, MP_INTERNAL, "hostile-huge: out of memory");
        return;
    }
    if (services != NULL && services->log != NULL) services->log(services->host_ctx, MP_LOG_INFO, line);
    free(line);

    char *message = huge_run('m', HUGE_BYTES);
    if (message == NULL) {
        h_error(out, MP_INTERNAL, "hostile-huge: out of memory");
        return;
    }
    out->status = MP_UNAVAILABLE;
    out->retryable = 0;
    out->message = message; /* released by h_free_result */
}

HOSTILE_CORE_VTABLE(vtable, describe, provision_huge, h_list_owned_empty);

int32_t molecule_provider_negotiate(const mp_host_offer *offer, mp_provider_answer *answer) {
    int32_t status = h_negotiate(offer, answer, HOSTILE_ABI_MIN, HOSTILE_ABI_MAX,
                                 HOSTILE_CORE_MANIFEST("hostile-huge", "1.0.0"), &vtable);
    if (status == MP_OK && offer->services != NULL) atomic_store(&kept_services, offer->services);
    return status;
}
