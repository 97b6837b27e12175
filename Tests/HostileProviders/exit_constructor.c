/*
 * exit_constructor.c — HOSTILE: the library exits the process as soon as it is loaded.
 *
 * What it does wrong: "hostile-exit-ctor" is otherwise a well-behaved provider (describe answers at once; provision,
 * stop, inspect and list_owned answer like the c-example provider for an unknown workspace), but a constructor
 * (`__attribute__((constructor))`) calls exit(0) during dlopen, before `molecule_provider_negotiate` can be called.
 * What the Host must answer:
 *   - process isolation: loading it in the runner ends the runner with exit status 0 before it answers; the Host
 *     refuses to load the provider with an error naming the file and the exit status (0), does not register it,
 *     and keeps starting up and serving the other providers.
 *   - in process: dlopen runs the constructor inside the Host, which exits; nothing in-process can contain it.
 *     Load this provider only under process isolation.
 */
#include "hostile_common.h"

__attribute__((constructor)) static void exit_on_load(void) { exit(0); }

HOSTILE_CONSTANT_VERB(describe, "{\"name\":\"hostile-exit-ctor\",\"version\":\"1.0.0\"}")

HOSTILE_CORE_VTABLE(vtable, describe, h_provision_running, h_list_owned_empty);

HOSTILE_DEFINE_NEGOTIATE(HOSTILE_CORE_MANIFEST("hostile-exit-ctor", "1.0.0"), &vtable)
