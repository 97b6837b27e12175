/*
 * late_thread.c — HOSTILE: a thread keeps a copy of a call's context and uses it after the call has returned.
 *
 * What it does wrong: "hostile-late" keeps `offer->services` from negotiation. provision copies its `mp_call` by
 * value into heap memory, starts a detached thread and answers OK {"instance_ref":"late","state":"running"} at once.
 * 300 ms later — long after the call returned and the Host released its per-call state — the thread calls
 * `services->is_cancelled(host_ctx, &copy)` and `services->log`. The copy carries the call's `call_id` and its
 * `host_call_ctx` pointer, which now points at nothing. describe answers
 * {"name":"hostile-late","version":"1.0.0","healthy":true,"detail":"late_is_cancelled=N"}, N being what
 * is_cancelled answered (-1 until the thread has asked). stop, inspect and list_owned answer like the c-example
 * provider for an unknown workspace ({"stopped":false}, {"state":"absent"}, {"resources":[]}).
 * What the Host must answer: provision OK; then, in both modes, is_cancelled must look the call up by `call_id` (never
 * dereference `host_call_ctx` or keep raw pointers to per-call state) and answer 1 for a call that no longer exists,
 * so describe reports "late_is_cancelled=1"; the late log line is accepted (or dropped) without harm and the Host
 * keeps serving. In process isolation mode the same holds inside the runner, which answers is_cancelled from its
 * own table of calls in flight.
 */
#include "hostile_common.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

/** The Host's services, kept from negotiation ("valid for the lifetime of the process; the provider may keep it"). */
static const mp_host_services *_Atomic kept_services = NULL;

/** What the late is_cancelled answered; -1 until the thread asked. */
static _Atomic int late_is_cancelled = -1;

static void describe(mp_instance *instance, const mp_call *call, mp_bytes request, mp_result *out) {
    (void)instance, (void)call, (void)request;
    char body[256];
    snprintf(body, sizeof body,
             "{\"name\":\"hostile-late\",\"version\":\"1.0.0\",\"healthy\":true,\"detail\":\"late_is_cancelled=%d\"}",
             atomic_load(&late_is_cancelled));
    h_ok(out, body);
}

static void *ask_late(void *argument) {
    mp_call *copy = argument;
    struct timespec pause = {.tv_sec = 0, .tv_nsec = 300 * 1000 * 1000};
    while (nanosleep(&pause, &pause) != 0 && errno == EINTR) {} /* resume after a signal with the time left */
    const mp_host_services *services = atomic_load(&kept_services);
    if (services != NULL && services->is_cancelled != NULL) {
        int answer = (int)services->is_cancelled(services->host_ctx, copy); /* a call that returned 300 ms ago */
        atomic_store(&late_is_cancelled, answer);
        if (services->log != NULL) {
            char line[128];
            snprintf(line, sizeof line, "hostile-late: late is_cancelled answered %d", answer);
            services->log(services->host_ctx, MP_LOG_WARNING, line);
        }
    }
    free(copy);
    return NULL;
}

static void provision_late(mp_instance *instance, const mp_call *call, mp_bytes request, mp_result *out) {
    (void)instance, (void)request;
    if (call == NULL) {
        h_error(out, MP_INVALID_ARGUMENT, "hostile-late: no call context");
        return;
    }
    mp_call *copy = malloc(sizeof *copy);
    if (copy == NULL) {
        h_error(out, MP_INTERNAL, "hostile-late: out of memory");
        return;
    }
    *copy = *call; /* by value: outlives the call, including its host_call_ctx pointer */
    pthread_t thread;
    if (pthread_create(&thread, NULL, ask_late, copy) != 0) {
        free(copy);
        h_error(out, MP_INTERNAL, "hostile-late: pthread_create failed");
        return;
    }
    pthread_detach(thread);
    h_ok(out, "{\"instance_ref\":\"late\",\"state\":\"running\"}");
}

HOSTILE_CORE_VTABLE(vtable, describe, provision_late, h_list_owned_empty);

int32_t molecule_provider_negotiate(const mp_host_offer *offer, mp_provider_answer *answer) {
    int32_t status = h_negotiate(offer, answer, HOSTILE_ABI_MIN, HOSTILE_ABI_MAX,
                                 HOSTILE_CORE_MANIFEST("hostile-late", "1.0.0"), &vtable);
    if (status == MP_OK && offer->services != NULL) atomic_store(&kept_services, offer->services);
    return status;
}
