/*
 * ignores_minor.c — HOSTILE: a 1.1 provider that always answers its 1.1 table, whatever minor the Host offers.
 *
 * What it does wrong: "hostile-1.1-only" claims `exec` (manifest "abi": {"min":1,"max":1,"minor":1}) and answers a
 * table with the exec slot set even to a Host whose offer ends before `abi_minor` (a 1.0 Host). It writes
 * `answer->abi_minor` only where the answer's size allows (so on a 1.0 Host it reads as 0).
 * What the Host must answer: a 1.1 Host loads it and calls its exec; a Host playing 1.0 refuses it at load, naming the
 * minor mismatch — never loading a table whose slots it would not know.
 */
#include "hostile_common.h"

HOSTILE_CONSTANT_VERB(describe, "{\"name\":\"hostile-1.1-only\",\"version\":\"1.1.0\"}")
HOSTILE_CONSTANT_VERB(exec_constant, "{\"exit_code\":0,\"timed_out\":false,\"stdout_base64\":\"aGk=\",\"stderr_base64\":\"\","
                                     "\"stdout_truncated\":false,\"stderr_truncated\":false,\"duration_ms\":1}")

static const mp_vtable vtable = {
    .struct_size = sizeof(mp_vtable),
    HOSTILE_VTABLE_BASICS,
    .verbs = {[MP_VERB_DESCRIBE] = describe, [MP_VERB_PROVISION] = h_provision_running, [MP_VERB_STOP] = h_stop_false,
              [MP_VERB_INSPECT] = h_inspect_absent, [MP_VERB_LIST_OWNED] = h_list_owned_empty,
              [MP_VERB_EXEC] = exec_constant},
};

#define MANIFEST                                                                                                     \
    "{\"name\":\"hostile-1.1-only\",\"version\":\"1.1.0\",\"abi\":{\"min\":1,\"max\":1,\"minor\":1},"                \
    "\"verbs\":{\"describe\":{\"contract\":1},\"provision\":{\"contract\":1},\"stop\":{\"contract\":1},"             \
    "\"inspect\":{\"contract\":1},\"list_owned\":{\"contract\":1},\"exec\":{\"contract\":1}}}"

int32_t molecule_provider_negotiate(const mp_host_offer *offer, mp_provider_answer *answer) {
    int32_t status = h_negotiate(offer, answer, HOSTILE_ABI_MIN, HOSTILE_ABI_MAX, MANIFEST, &vtable);
    if (status == MP_OK && answer->struct_size >= offsetof(mp_provider_answer, abi_minor) + sizeof(uint32_t)) answer->abi_minor = 1;
    return status;
}
