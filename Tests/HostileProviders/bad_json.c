/*
 * bad_json.c — HOSTILE: successful answers whose bodies are not valid JSON / not valid UTF-8.
 *
 * What it does wrong: "hostile-json" loads cleanly and describe works, but
 *   - provision answers MP_OK with the body "{not json" (not JSON);
 *   - inspect answers MP_OK with the body {"state":"\xff\xfe"} (JSON-shaped, but the bytes 0xFF 0xFE are not UTF-8).
 * stop and list_owned answer like the c-example provider for an unknown workspace.
 * What the Host must answer: INTERNAL for provision and for inspect (the provider's response could not be decoded),
 * never passing the bad bytes on, and still releasing both results through free_result.
 */
#include "hostile_common.h"

HOSTILE_CONSTANT_VERB(describe, "{\"name\":\"hostile-json\",\"version\":\"1.0.0\"}")
HOSTILE_CONSTANT_VERB(provision_not_json, "{not json")

static void inspect_not_utf8(mp_instance *instance, const mp_call *call, mp_bytes request, mp_result *out) {
    (void)instance, (void)call, (void)request;
    static const char body[] = "{\"state\":\"\xff\xfe\"}";
    h_body_bytes(out, MP_OK, body, sizeof body - 1);
}

static const mp_vtable vtable = {
    .struct_size = sizeof(mp_vtable),
    HOSTILE_VTABLE_BASICS,
    .verbs =
        {
            [MP_VERB_DESCRIBE] = describe,
            [MP_VERB_PROVISION] = provision_not_json,
            [MP_VERB_STOP] = h_stop_false,
            [MP_VERB_INSPECT] = inspect_not_utf8,
            [MP_VERB_LIST_OWNED] = h_list_owned_empty,
        },
};

HOSTILE_DEFINE_NEGOTIATE(HOSTILE_CORE_MANIFEST("hostile-json", "1.0.0"), &vtable)
