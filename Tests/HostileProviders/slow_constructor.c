/*
 * slow_constructor.c — HOSTILE: the library takes an hour to load.
 *
 * What it does wrong: "hostile-slowctor" is otherwise a well-behaved provider (describe answers at once; provision,
 * stop, inspect and list_owned answer like the c-example provider for an unknown workspace), but a constructor
 * (`__attribute__((constructor))`) sleeps for up to 3600 seconds, so dlopen does not return.
 * What the Host must answer: refuse to load it once its load deadline passes, with an error naming the file and the
 * deadline, without registering it; the Host's start-up and the other providers' loading never wait for it.
 *   - process isolation: the runner is stuck in dlopen; the Host kills it (with its process group) at the deadline.
 *   - in process: the loading thread stays blocked and is abandoned, never waited for. (With glibc that thread holds
 *     the dynamic loader's lock, so later dlopen calls in the Host block behind it — load this provider only under
 *     process isolation when other providers must still load.)
 */
#include "hostile_common.h"

__attribute__((constructor)) static void load_slowly(void) {
    for (int second = 0; second < 3600; second++) sleep(1); /* bounded, so a leaked process ends eventually */
}

HOSTILE_CONSTANT_VERB(describe, "{\"name\":\"hostile-slowctor\",\"version\":\"1.0.0\"}")

HOSTILE_CORE_VTABLE(vtable, describe, h_provision_running, h_list_owned_empty);

HOSTILE_DEFINE_NEGOTIATE(HOSTILE_CORE_MANIFEST("hostile-slowctor", "1.0.0"), &vtable)
