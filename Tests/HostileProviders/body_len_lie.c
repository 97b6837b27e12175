/*
 * body_len_lie.c — HOSTILE: a result whose body_len claims far more bytes than the body holds.
 *
 * What it does wrong: "hostile-bodylen" loads cleanly and describe answers at once, but provision answers MP_OK with
 * body = a 2-byte malloc'd "{}" and body_len = 1 << 40 (1 TiB). Reading (or copying) body_len bytes walks off the
 * allocation and crashes. stop, inspect and list_owned answer like the c-example provider for an unknown workspace
 * ({"stopped":false}, {"state":"absent"}, {"resources":[]}).
 * What the Host must answer: INTERNAL for provision, with a message naming the body_len (1099511627776) as beyond its
 * limit, without reading the body; the result is still released through free_result and the provider stays usable
 * for its other verbs. In process isolation mode the runner must apply the same check before it copies the body
 * onto its channel to the Host: the answer is the same INTERNAL, and the runner neither crashes nor restarts.
 */
#include "hostile_common.h"

HOSTILE_CONSTANT_VERB(describe, "{\"name\":\"hostile-bodylen\",\"version\":\"1.0.0\"}")

static void provision_lying_length(mp_instance *instance, const mp_call *call, mp_bytes request, mp_result *out) {
    (void)instance, (void)call, (void)request;
    h_ok(out, "{}");                 /* a real 2-byte allocation, released by h_free_result */
    out->body_len = (size_t)1 << 40; /* ...that claims to be 1 TiB */
}

HOSTILE_CORE_VTABLE(vtable, describe, provision_lying_length, h_list_owned_empty);

HOSTILE_DEFINE_NEGOTIATE(HOSTILE_CORE_MANIFEST("hostile-bodylen", "1.0.0"), &vtable)
