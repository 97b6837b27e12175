/*
 * bad_status.c — HOSTILE: a verb answers a status outside the taxonomy.
 *
 * What it does wrong: "hostile-status" loads cleanly and describe works, but provision answers status 999 (not an
 * mp_status) with message "weird". stop, inspect and list_owned answer like the c-example provider for an unknown
 * workspace.
 * What the Host must answer: INTERNAL for provision (a contract violation: unknown status 999), still releasing the
 * result through free_result; the provider stays usable for its other verbs.
 */
#include "hostile_common.h"

HOSTILE_CONSTANT_VERB(describe, "{\"name\":\"hostile-status\",\"version\":\"1.0.0\"}")

static void provision_weird(mp_instance *instance, const mp_call *call, mp_bytes request, mp_result *out) {
    (void)instance, (void)call, (void)request;
    h_error(out, 999, "weird");
}

static const mp_vtable vtable = {
    .struct_size = sizeof(mp_vtable),
    HOSTILE_VTABLE_BASICS,
    .verbs =
        {
            [MP_VERB_DESCRIBE] = describe,
            [MP_VERB_PROVISION] = provision_weird,
            [MP_VERB_STOP] = h_stop_false,
            [MP_VERB_INSPECT] = h_inspect_absent,
            [MP_VERB_LIST_OWNED] = h_list_owned_empty,
        },
};

HOSTILE_DEFINE_NEGOTIATE(HOSTILE_CORE_MANIFEST("hostile-status", "1.0.0"), &vtable)
