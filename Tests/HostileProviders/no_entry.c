/*
 * no_entry.c — HOSTILE: a shared object that does not export the entry point.
 *
 * What it does wrong: it exports only `int something_else(void)`; there is no `molecule_provider_negotiate`.
 * What the Host must answer: refuse to load it, saying the symbol `molecule_provider_negotiate` is missing
 * (a load error naming the file and the symbol), without crashing and without registering any provider.
 */
int something_else(void);

int something_else(void) { return 42; }
