/*
 * long_name.c — HOSTILE: a provider name of 200 bytes.
 *
 * What it does wrong: "hostile-nnn…n" is otherwise a well-behaved provider, but its name ("hostile-" followed by 192
 * 'n', 200 bytes of plain lowercase ASCII) is far beyond the 64-byte limit on provider names, which end up in
 * workspace records, log lines and URLs. describe answers the same name.
 * What the Host must answer: refuse to load it with an error naming the file, the name's length (200 bytes) and the
 * 64-byte limit, without registering it; the Host keeps starting up. The same in both modes (in process isolation
 * mode the runner reports the manifest and the Host applies the check).
 */
#include "hostile_common.h"

#define LONG_NAME                                                                                                    \
    "hostile-"                                                                                                       \
    "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"                                               \
    "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"                                               \
    "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"

_Static_assert(sizeof(LONG_NAME) - 1 == 200, "the name must be exactly 200 bytes");

HOSTILE_CONSTANT_VERB(describe, "{\"name\":\"" LONG_NAME "\",\"version\":\"1.0.0\"}")

HOSTILE_CORE_VTABLE(vtable, describe, h_provision_running, h_list_owned_empty);

HOSTILE_DEFINE_NEGOTIATE(HOSTILE_CORE_MANIFEST(LONG_NAME, "1.0.0"), &vtable)
