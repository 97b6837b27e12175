/*
 * null_return.c — HOSTILE: negotiation succeeds but hands back no manifest.
 *
 * What it does wrong: `molecule_provider_negotiate` returns MP_OK with a complete, valid vtable but leaves
 * `answer->manifest_json` NULL.
 * What the Host must answer: refuse to load it (negotiation answered OK without a manifest), without dereferencing
 * the NULL pointer and without registering the provider.
 */
#include "hostile_common.h"

HOSTILE_CONSTANT_VERB(describe, "{\"name\":\"hostile-nomanifest\",\"version\":\"1.0.0\"}")

static const mp_vtable vtable = {
    .struct_size = sizeof(mp_vtable),
    HOSTILE_VTABLE_BASICS,
    .verbs =
        {
            [MP_VERB_DESCRIBE] = describe,
            [MP_VERB_PROVISION] = h_provision_running,
            [MP_VERB_STOP] = h_stop_false,
            [MP_VERB_INSPECT] = h_inspect_absent,
            [MP_VERB_LIST_OWNED] = h_list_owned_empty,
        },
};

HOSTILE_DEFINE_NEGOTIATE(NULL, &vtable)
