/*
 * exit_verb.c — HOSTILE: a verb exits the process with status 0.
 *
 * What it does wrong: "hostile-exit" loads cleanly and describe answers at once, but provision calls exit(0): the
 * process ends "successfully", running atexit handlers, in the middle of a call and without answering it. stop,
 * inspect and list_owned answer like the c-example provider for an unknown workspace ({"stopped":false},
 * {"state":"absent"}, {"resources":[]}).
 * What the Host must answer:
 *   - process isolation: the runner exits with status 0 while a call is in flight; that is still a crash. The
 *     in-flight provision (and any other call in flight on that runner) fails UNAVAILABLE with a message naming the
 *     provider and the exit status (0); the runner is restarted, later calls answer normally and the Host keeps
 *     serving.
 *   - in process: exit(0) ends the Host process; nothing in-process can contain it. Load this provider only under
 *     process isolation.
 */
#include "hostile_common.h"

HOSTILE_CONSTANT_VERB(describe, "{\"name\":\"hostile-exit\",\"version\":\"1.0.0\"}")

static void provision_exit(mp_instance *instance, const mp_call *call, mp_bytes request, mp_result *out) {
    (void)instance, (void)call, (void)request, (void)out;
    exit(0); /* a "clean" exit in the middle of a call */
}

HOSTILE_CORE_VTABLE(vtable, describe, provision_exit, h_list_owned_empty);

HOSTILE_DEFINE_NEGOTIATE(HOSTILE_CORE_MANIFEST("hostile-exit", "1.0.0"), &vtable)
