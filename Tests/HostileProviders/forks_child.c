/*
 * forks_child.c — HOSTILE: a verb forks a child that outlives the call.
 *
 * What it does wrong: "hostile-fork" loads cleanly and describe answers at once, but provision fork()s a child that
 * stays in its parent's process group (no setsid/setpgid), closes descriptors 3..1023 (so it does not hold the
 * parent's channels open; it keeps 0, 1 and 2), sleeps for up to an hour and then _exit(0)s. The parent answers OK
 * {"instance_ref":"<child pid>","state":"running"}. stop, inspect and list_owned answer like the c-example provider
 * for an unknown workspace ({"stopped":false}, {"state":"absent"}, {"resources":[]}).
 * What the Host must answer: provision OK with the child's pid as instance_ref, in both modes.
 *   - process isolation: the child is in the runner's process group. When the Host stops or restarts the runner it
 *     kills the runner's whole process group, so the child dies with it — no orphan survives the runner. The child's
 *     inherited stdout/stderr must not make the Host wait for the runner's output to reach EOF.
 *   - in process: the child belongs to the Host itself and nothing reaps it for the provider; whoever loads this
 *     provider in process must kill it by its pid (the instance_ref).
 */
#include "hostile_common.h"

#include <stdio.h>
#include <sys/types.h>

HOSTILE_CONSTANT_VERB(describe, "{\"name\":\"hostile-fork\",\"version\":\"1.0.0\"}")

static void provision_fork(mp_instance *instance, const mp_call *call, mp_bytes request, mp_result *out) {
    (void)instance, (void)call, (void)request;
    pid_t child = fork();
    if (child < 0) {
        h_error(out, MP_INTERNAL, "hostile-fork: fork failed");
        return;
    }
    if (child == 0) {
        /* Only async-signal-safe calls from here: the parent may have had other threads. */
        for (int fd = 3; fd <= 1023; fd++) (void)close(fd);
        for (int second = 0; second < 3600; second++) sleep(1);
        _exit(0);
    }
    char body[96];
    snprintf(body, sizeof body, "{\"instance_ref\":\"%ld\",\"state\":\"running\"}", (long)child);
    h_ok(out, body);
}

HOSTILE_CORE_VTABLE(vtable, describe, provision_fork, h_list_owned_empty);

HOSTILE_DEFINE_NEGOTIATE(HOSTILE_CORE_MANIFEST("hostile-fork", "1.0.0"), &vtable)
