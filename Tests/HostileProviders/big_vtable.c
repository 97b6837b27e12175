/*
 * big_vtable.c — HOSTILE: a vtable from a newer ABI with a trailing slot this Host does not know, and it is set.
 *
 * What it does wrong: "hostile-bigtable" answers a struct that begins with a complete mp_vtable followed by one
 * extra function pointer that is NOT NULL; struct_size = sizeof(the bigger struct).
 * What the Host must answer: refuse to load it — a larger struct is only acceptable when every byte the reader does
 * not know is zero — with an error naming the vtable and its unknown non-zero trailing bytes.
 */
#include "hostile_common.h"

typedef struct future_vtable {
    mp_vtable base;
    void (*future_slot)(void); /* a verb this Host does not know about */
} future_vtable;

HOSTILE_CONSTANT_VERB(describe, "{\"name\":\"hostile-bigtable\",\"version\":\"2.0.0\"}")

static void future_verb(void) {}

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
    .future_slot = future_verb, /* non-zero: the Host cannot ignore it */
};

HOSTILE_DEFINE_NEGOTIATE(HOSTILE_CORE_MANIFEST("hostile-bigtable", "2.0.0"), &vtable.base)
