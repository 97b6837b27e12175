/*
 * dup_name.c — HOSTILE: a valid provider that reuses the name of the built-in "process" provider.
 *
 * What it does wrong: on its own, nothing — it is a well-formed provider named "process" (version 0.0.1) that
 * implements only describe ({"name":"process","version":"0.0.1"}). Loaded next to the real process provider, two
 * providers claim the same name, and a workspace records its provider by name.
 * What the Host must answer: refuse to register the second provider named "process" (a duplicate-name error that
 * names both files) and keep the first one working; it must never silently replace it.
 */
#include "hostile_common.h"

static const char manifest[] =
    "{\"name\":\"process\",\"version\":\"0.0.1\",\"summary\":\"hostile test provider\","
    "\"abi\":{\"min\":1,\"max\":1},"
    "\"verbs\":{\"describe\":{\"contract\":1}},"
    "\"unsupported\":{\"provision\":\"hostile\",\"stop\":\"hostile\",\"inspect\":\"hostile\",\"pause\":\"hostile\","
    "\"resume\":\"hostile\",\"snapshot\":\"hostile\",\"restore\":\"hostile\",\"list_files\":\"hostile\","
    "\"read_file\":\"hostile\",\"write_file\":\"hostile\",\"delete_file\":\"hostile\",\"install_plugin\":\"hostile\","
    "\"uninstall_plugin\":\"hostile\",\"list_plugins\":\"hostile\",\"logs\":\"hostile\",\"list_owned\":\"hostile\","
    "\"diagnose\":\"hostile\",\"remove_storage\":\"hostile\"}}";

HOSTILE_CONSTANT_VERB(describe, "{\"name\":\"process\",\"version\":\"0.0.1\"}")

static const mp_vtable vtable = {
    .struct_size = sizeof(mp_vtable),
    HOSTILE_VTABLE_BASICS,
    .verbs = {[MP_VERB_DESCRIBE] = describe},
};

HOSTILE_DEFINE_NEGOTIATE(manifest, &vtable)
