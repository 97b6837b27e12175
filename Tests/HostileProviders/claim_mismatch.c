/*
 * claim_mismatch.c — HOSTILE: the manifest claims a verb the vtable does not implement.
 *
 * What it does wrong: the manifest ("hostile-claims") claims describe, provision, stop, inspect, list_owned and
 * pause, but the vtable only fills the first five slots; the pause slot is NULL.
 * What the Host must answer: refuse to load it because claimed verbs and non-NULL slots differ (naming "pause"),
 * and not register the provider.
 */
#include "hostile_common.h"

static const char manifest[] =
    "{\"name\":\"hostile-claims\",\"version\":\"1.0.0\",\"summary\":\"hostile test provider\","
    "\"abi\":{\"min\":1,\"max\":1},"
    "\"verbs\":{\"describe\":{\"contract\":1},\"provision\":{\"contract\":1},\"stop\":{\"contract\":1},"
    "\"inspect\":{\"contract\":1},\"list_owned\":{\"contract\":1},\"pause\":{\"contract\":1}}}";

HOSTILE_CONSTANT_VERB(describe, "{\"name\":\"hostile-claims\",\"version\":\"1.0.0\"}")

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
            /* [MP_VERB_PAUSE] deliberately NULL although the manifest claims it */
        },
};

HOSTILE_DEFINE_NEGOTIATE(manifest, &vtable)
