/*
 * abort_verb.c — HOSTILE: a verb aborts the process.
 *
 * What it does wrong: "hostile-abort" loads cleanly and describe answers at once, but provision calls abort() and
 * the process receives SIGABRT. stop, inspect and list_owned answer like the c-example provider for an unknown
 * workspace ({"stopped":false}, {"state":"absent"}, {"resources":[]}).
 * What the Host must answer:
 *   - process isolation: the runner dies of SIGABRT; the in-flight provision (and any other call in flight on that
 *     runner) fails UNAVAILABLE with a message naming the provider and the signal (SIGABRT); the runner is
 *     restarted, later calls answer normally and the Host keeps serving.
 *   - in process: abort() kills the Host process; nothing in-process can contain it. Load this provider only under
 *     process isolation.
 */
#include "hostile_common.h"

HOSTILE_CONSTANT_VERB(describe, "{\"name\":\"hostile-abort\",\"version\":\"1.0.0\"}")

static void provision_abort(mp_instance *instance, const mp_call *call, mp_bytes request, mp_result *out) {
    (void)instance, (void)call, (void)request, (void)out;
    abort(); /* SIGABRT */
}

HOSTILE_CORE_VTABLE(vtable, describe, provision_abort, h_list_owned_empty);

HOSTILE_DEFINE_NEGOTIATE(HOSTILE_CORE_MANIFEST("hostile-abort", "1.0.0"), &vtable)
