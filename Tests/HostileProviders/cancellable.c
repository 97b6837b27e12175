/*
 * cancellable.c — WELL-BEHAVED: provision honours cancellation (a fixture, not a fault).
 *
 * What it does: "cancellable" keeps the host services from negotiation; provision polls `is_cancelled` every 5 ms for
 * up to 10 s and answers DEADLINE_EXCEEDED "cancelled after N ms" as soon as it turns non-zero (or OK after 10 s).
 * What the Host must do: make `is_cancelled` non-zero when the caller abandons the call — a cancelled task in this
 * process, or a cancel frame that crossed the socket to a runner process — long before the call's deadline.
 */
#include "hostile_common.h"

#include <stdio.h>
#include <time.h>

static const mp_host_services *services;

HOSTILE_CONSTANT_VERB(describe, "{\"name\":\"cancellable\",\"version\":\"1.0.0\"}")

static void provision_until_cancelled(mp_instance *instance, const mp_call *call, mp_bytes request, mp_result *out) {
    (void)instance, (void)request;
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

HOSTILE_CORE_VTABLE(vtable, describe, provision_until_cancelled, h_list_owned_empty);

int32_t molecule_provider_negotiate(const mp_host_offer *offer, mp_provider_answer *answer) {
    if (offer != NULL) services = offer->services;
    return h_negotiate(offer, answer, HOSTILE_ABI_MIN, HOSTILE_ABI_MAX, HOSTILE_CORE_MANIFEST("cancellable", "1.0.0"), &vtable);
}
