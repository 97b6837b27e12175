/*
 * slow_create.c — HOSTILE: creating an instance takes an hour.
 *
 * What it does wrong: "hostile-slowcreate" loads cleanly and negotiates at once, but the vtable's `create` sleeps for
 * up to 3600 seconds before answering (the contract says create must not contact a backend, so it should be quick).
 * Its verbs, if an instance ever existed, are well-behaved (describe at once; provision, stop, inspect and list_owned
 * like the c-example provider for an unknown workspace).
 * What the Host must answer: refuse the instance once the create deadline passes, with an error naming the provider
 * and the deadline, without ever waiting for `create`; the Host's start-up and the other providers keep going.
 *   - process isolation: the runner is stuck in create; the Host kills it (with its process group) at the deadline
 *     or abandons the call, and restarts the runner when it needs it again.
 *   - in process: the thread running create stays blocked and is abandoned; if create ever returns, the late
 *     instance is destroyed, never used.
 */
#include "hostile_common.h"

static mp_instance *create_slowly(mp_bytes config_json, mp_result *err) {
    for (int second = 0; second < 3600; second++) sleep(1); /* bounded, so a leaked process ends eventually */
    return h_create(config_json, err);
}

HOSTILE_CONSTANT_VERB(describe, "{\"name\":\"hostile-slowcreate\",\"version\":\"1.0.0\"}")

static const mp_vtable vtable = {
    .struct_size = sizeof(mp_vtable),
    .reserved = 0,
    .create = create_slowly, /* HOSTILE_VTABLE_BASICS, except for create */
    .destroy = h_destroy,
    .free_result = h_free_result,
    .verbs =
        {
            [MP_VERB_DESCRIBE] = describe,
            [MP_VERB_PROVISION] = h_provision_running,
            [MP_VERB_STOP] = h_stop_false,
            [MP_VERB_INSPECT] = h_inspect_absent,
            [MP_VERB_LIST_OWNED] = h_list_owned_empty,
        },
};

HOSTILE_DEFINE_NEGOTIATE(HOSTILE_CORE_MANIFEST("hostile-slowcreate", "1.0.0"), &vtable)
