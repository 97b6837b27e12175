/*
 * bad_manifest.c — HOSTILE: the manifest is not JSON.
 *
 * What it does wrong: negotiation returns MP_OK with a complete, valid vtable, but `manifest_json` is the text
 * "{name: oops" (unquoted key, unterminated object).
 * What the Host must answer: refuse to load it because the manifest cannot be decoded (a manifest error naming the
 * file), without calling any verb and without registering the provider.
 */
#include "hostile_common.h"

HOSTILE_CONSTANT_VERB(describe, "{\"name\":\"hostile-manifest\",\"version\":\"1.0.0\"}")

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

HOSTILE_DEFINE_NEGOTIATE("{name: oops", &vtable)
