/*
 * vtable_size_lie.c — HOSTILE: a vtable whose struct_size claims almost 2 GiB.
 *
 * What it does wrong: "hostile-vtsize" answers a normal static mp_vtable (all five core slots set) whose struct_size
 * is 0x7fffffff. A reader that applies "a larger struct is acceptable when every byte it does not know is zero" by
 * scanning struct_size bytes reads far past the real table and crashes.
 * What the Host must answer: refuse to load it with an error naming the vtable's struct_size (2147483647) as
 * implausible, before reading a single byte past sizeof(mp_vtable); the provider is not registered and the Host keeps
 * starting up. In process isolation mode the runner performs the same check and reports the same refusal; it must
 * not crash.
 */
#include "hostile_common.h"

HOSTILE_CONSTANT_VERB(describe, "{\"name\":\"hostile-vtsize\",\"version\":\"1.0.0\"}")

static const mp_vtable vtable = {
    .struct_size = 0x7fffffffu, /* the table itself is sizeof(mp_vtable) bytes */
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

HOSTILE_DEFINE_NEGOTIATE(HOSTILE_CORE_MANIFEST("hostile-vtsize", "1.0.0"), &vtable)
