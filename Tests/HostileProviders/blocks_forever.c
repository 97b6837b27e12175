/*
 * blocks_forever.c — HOSTILE: provision never returns.
 *
 * What it does wrong: "hostile-block" loads cleanly and describe answers at once, but provision sleeps in an endless
 * loop and never polls `is_cancelled` or the call's deadline. stop, inspect and list_owned answer like the c-example
 * provider for an unknown workspace ({"stopped":false}, {"state":"absent"}, {"resources":[]}).
 * What the Host must answer: DEADLINE_EXCEEDED for provision once the call's deadline passes, while the stuck
 * worker thread stays blocked; the Host itself, other calls on this provider and other providers must stay
 * responsive (the stuck thread is abandoned, never waited for).
 */
#include "hostile_common.h"

HOSTILE_CONSTANT_VERB(describe, "{\"name\":\"hostile-block\",\"version\":\"1.0.0\"}")

static void provision_forever(mp_instance *instance, const mp_call *call, mp_bytes request, mp_result *out) {
    (void)instance, (void)call, (void)request, (void)out;
    for (;;) sleep(1); /* deliberately ignores cancellation and deadlines */
}

static const mp_vtable vtable = {
    .struct_size = sizeof(mp_vtable),
    HOSTILE_VTABLE_BASICS,
    .verbs =
        {
            [MP_VERB_DESCRIBE] = describe,
            [MP_VERB_PROVISION] = provision_forever,
            [MP_VERB_STOP] = h_stop_false,
            [MP_VERB_INSPECT] = h_inspect_absent,
            [MP_VERB_LIST_OWNED] = h_list_owned_empty,
        },
};

HOSTILE_DEFINE_NEGOTIATE(HOSTILE_CORE_MANIFEST("hostile-block", "1.0.0"), &vtable)
