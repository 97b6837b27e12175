/*
 * abi_mismatch.c — HOSTILE: a provider from the future that speaks only ABI versions 7..9.
 *
 * What it does wrong: nothing, strictly — it is a provider the Host cannot talk to. It writes abi_min = 7 and
 * abi_max = 9 into the answer and returns MP_UNSUPPORTED, with no manifest and no vtable.
 * What the Host must answer: refuse to load it with an ABI-mismatch error that reports both ranges (provider 7...9,
 * Host 1...1), without reading manifest_json or vtable, and without registering the provider.
 */
#include "hostile_common.h"

int32_t molecule_provider_negotiate(const mp_host_offer *offer, mp_provider_answer *answer) {
    (void)offer;
    if (answer == NULL) return MP_INVALID_ARGUMENT;
    answer->abi_min = 7;
    answer->abi_max = 9;
    return MP_UNSUPPORTED;
}
