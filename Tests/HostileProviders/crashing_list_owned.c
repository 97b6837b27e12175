/*
 * crashing_list_owned.c — HOSTILE: list_owned crashes the process with SIGSEGV.
 *
 * What it does wrong: "hostile-listowned" loads cleanly, describe answers at once, provision answers OK
 * {"instance_ref":"x","state":"running"} and stop and inspect answer like the c-example provider for an unknown
 * workspace ({"stopped":false}, {"state":"absent"}), but list_owned — the verb reconciliation relies on — writes
 * through a NULL pointer (read through a volatile) and the process receives SIGSEGV.
 * What the Host must answer:
 *   - process isolation: the runner dies of SIGSEGV; list_owned (and any other call in flight on that runner) fails
 *     UNAVAILABLE with a message naming the provider and the signal (SIGSEGV); the runner is restarted and the other
 *     verbs answer normally. Reconciliation must treat the failure as "unknown", never as "owns nothing": it must
 *     not forget or remove the provider's workspaces because of it. The Host keeps serving.
 *   - in process: nothing can contain a SIGSEGV in the Host's own address space — the Host process dies. Load this
 *     provider only under process isolation.
 */
#include "hostile_common.h"

HOSTILE_CONSTANT_VERB(describe, "{\"name\":\"hostile-listowned\",\"version\":\"1.0.0\"}")

static void list_owned_segv(mp_instance *instance, const mp_call *call, mp_bytes request, mp_result *out) {
    (void)instance, (void)call, (void)request;
    volatile int *volatile nowhere = NULL;
    *nowhere = 1; /* SIGSEGV */
    h_error(out, MP_INTERNAL, "hostile-listowned: survived a write through NULL");
}

HOSTILE_CORE_VTABLE(vtable, describe, h_provision_running, list_owned_segv);

HOSTILE_DEFINE_NEGOTIATE(HOSTILE_CORE_MANIFEST("hostile-listowned", "1.0.0"), &vtable)
