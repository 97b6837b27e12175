/*
 * segv_verb.c — HOSTILE: a verb crashes the process with SIGSEGV.
 *
 * What it does wrong: "hostile-segv" loads cleanly and describe answers at once, but provision writes through a NULL
 * pointer (read through a volatile, so the compiler can neither prove it NULL nor drop the store) and the process
 * receives SIGSEGV. stop, inspect and list_owned answer like the c-example provider for an unknown workspace
 * ({"stopped":false}, {"state":"absent"}, {"resources":[]}).
 * What the Host must answer:
 *   - process isolation: the runner dies of SIGSEGV; the in-flight provision (and any other call in flight on that
 *     runner) fails UNAVAILABLE with a message naming the provider and the signal (SIGSEGV); the runner is
 *     restarted, later calls (describe, stop, inspect, list_owned) answer normally and the Host keeps serving.
 *   - in process: nothing can contain a SIGSEGV in the Host's own address space — the Host process dies. Load this
 *     provider only under process isolation.
 */
#include "hostile_common.h"

HOSTILE_CONSTANT_VERB(describe, "{\"name\":\"hostile-segv\",\"version\":\"1.0.0\"}")

static void provision_segv(mp_instance *instance, const mp_call *call, mp_bytes request, mp_result *out) {
    (void)instance, (void)call, (void)request;
    volatile int *volatile nowhere = NULL;
    *nowhere = 1; /* SIGSEGV */
    h_error(out, MP_INTERNAL, "hostile-segv: survived a write through NULL");
}

HOSTILE_CORE_VTABLE(vtable, describe, provision_segv, h_list_owned_empty);

HOSTILE_DEFINE_NEGOTIATE(HOSTILE_CORE_MANIFEST("hostile-segv", "1.0.0"), &vtable)
