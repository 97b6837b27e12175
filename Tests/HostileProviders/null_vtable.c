/*
 * null_vtable.c — HOSTILE: negotiation succeeds but hands back no function table.
 *
 * What it does wrong: `molecule_provider_negotiate` returns MP_OK with a valid manifest ("hostile-nullvtable") but
 * leaves `answer->vtable` NULL.
 * What the Host must answer: refuse to load it (negotiation answered OK without a vtable), without dereferencing
 * the NULL pointer and without registering the provider.
 */
#include "hostile_common.h"

static const char manifest[] = HOSTILE_CORE_MANIFEST("hostile-nullvtable", "1.0.0");

HOSTILE_DEFINE_NEGOTIATE(manifest, NULL)
