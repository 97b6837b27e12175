/*
 * lookalike_name.c — HOSTILE: a provider name that looks exactly like "process" but is not ASCII.
 *
 * What it does wrong: "hostile-lookalike" is otherwise a well-behaved provider, but its manifest (and describe)
 * name is "pr<U+043E>cess", with U+043E CYRILLIC SMALL LETTER O (UTF-8 d0 be) in place of the Latin "o" — valid UTF-8,
 * 8 bytes, and indistinguishable from the built-in "process" provider in most fonts, so an operator (or a workspace
 * record) could be pointed at the wrong provider.
 * What the Host must answer: refuse to load it — provider names are plain ASCII (letters, digits, '-', '_', '.') —
 * with an error naming the file and the name, without registering it; it is never treated as, or as a duplicate of,
 * "process", and the real process provider keeps working. The same in both modes (in process isolation mode the
 * runner reports the manifest and the Host applies the check).
 */
#include "hostile_common.h"

/* "pr" + U+043E (d0 be) + "cess"; the literal is split so that 'c' is not read as part of the \x escape. */
#define LOOKALIKE_NAME "pr\xd0\xbe" "cess"

HOSTILE_CONSTANT_VERB(describe, "{\"name\":\"" LOOKALIKE_NAME "\",\"version\":\"1.0.0\"}")

HOSTILE_CORE_VTABLE(vtable, describe, h_provision_running, h_list_owned_empty);

HOSTILE_DEFINE_NEGOTIATE(HOSTILE_CORE_MANIFEST(LOOKALIKE_NAME, "1.0.0"), &vtable)
