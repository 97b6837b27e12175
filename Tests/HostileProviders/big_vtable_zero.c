/*
 * big_vtable_zero.c — NOT hostile (the control case for big_vtable.c): a vtable from a newer ABI whose extra
 * trailing slot is NULL.
 *
 * What it does: "future-ok" answers a struct that begins with a complete mp_vtable followed by one extra function
 * pointer that is NULL; struct_size = sizeof(the bigger struct). It implements describe
 * ({"name":"future-ok","version":"2.0.0"}), provision ({"instance_ref":"x","state":"running"}, immediately), stop
 * ({"stopped":false}), inspect ({"state":"absent"}) and list_owned ({"resources":[]}).
 * What the Host must answer: ACCEPT it — every byte past the mp_vtable it knows is zero — and serve its verbs.
 */
#include "hostile_common.h"

typedef struct future_vtable {
    mp_vtable base;
    void (*future_slot)(void); /* a verb this Host does not know about */
} future_vtable;

HOSTILE_CONSTANT_VERB(describe, "{\"name\":\"future-ok\",\"version\":\"2.0.0\"}")

static const future_vtable vtable = {
    .base =
        {
            .struct_size = sizeof(future_vtable),
            HOSTILE_VTABLE_BASICS,
            .verbs =
                {
                    [MP_VERB_DESCRIBE] = describe,
                    [MP_VERB_PROVISION] = h_provision_running,
                    [MP_VERB_STOP] = h_stop_false,
                    [MP_VERB_INSPECT] = h_inspect_absent,
                    [MP_VERB_LIST_OWNED] = h_list_owned_empty,
                },
        },
    .future_slot = NULL, /* zero: a reader that does not know this slot may ignore it */
};

HOSTILE_DEFINE_NEGOTIATE(HOSTILE_CORE_MANIFEST("future-ok", "2.0.0"), &vtable.base)
