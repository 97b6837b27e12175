/*
 * closes_fds.c — HOSTILE: a verb closes every file descriptor it did not open.
 *
 * What it does wrong: "hostile-closefds" loads cleanly and describe answers at once, but provision closes every file
 * descriptor from 3 to 65535 (ignoring errors) — sockets, pipes, log files and databases of whoever hosts it — and
 * then answers OK {"instance_ref":"x","state":"running"}. stop, inspect and list_owned answer like the c-example
 * provider for an unknown workspace ({"stopped":false}, {"state":"absent"}, {"resources":[]}).
 * What the Host must answer:
 *   - process isolation: the runner has closed its own channel to the Host, so its answer never arrives; the Host
 *     sees the channel close (and the runner exit or get killed), fails the in-flight provision UNAVAILABLE with a
 *     message naming the provider and how the runner ended, restarts the runner and keeps serving. None of the
 *     Host's own descriptors are affected.
 *   - in process: nothing protects the Host's descriptors from code in its own address space. Load this provider
 *     only under process isolation.
 */
#include "hostile_common.h"

HOSTILE_CONSTANT_VERB(describe, "{\"name\":\"hostile-closefds\",\"version\":\"1.0.0\"}")

static void provision_close_all(mp_instance *instance, const mp_call *call, mp_bytes request, mp_result *out) {
    (void)instance, (void)call, (void)request;
    for (int fd = 3; fd <= 65535; fd++) (void)close(fd); /* errors (EBADF) ignored on purpose */
    h_ok(out, "{\"instance_ref\":\"x\",\"state\":\"running\"}");
}

HOSTILE_CORE_VTABLE(vtable, describe, provision_close_all, h_list_owned_empty);

HOSTILE_DEFINE_NEGOTIATE(HOSTILE_CORE_MANIFEST("hostile-closefds", "1.0.0"), &vtable)
