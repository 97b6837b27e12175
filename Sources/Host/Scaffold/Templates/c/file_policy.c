/*
 * file_policy.c — see file_policy.h. Mirrors ProviderKit's FilePolicy.check exactly, so every provider answers the
 * same status for the same situation.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE

#include "file_policy.h"

#include "molecule_provider.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fp_path_free(fp_path *path) {
    if (path == NULL) return;
    free(path->normalised);
    free(path->components);
    free(path->storage);
    path->normalised = NULL;
    path->storage = NULL;
    path->components = NULL;
    path->count = 0;
}

bool fp_path_parse(const char *raw, size_t len, bool allow_root, fp_path *out, char *message, size_t message_cap,
                   bool *oom) {
    *oom = false;
    memset(out, 0, sizeof *out);
    if (len > FP_MAX_PATH_BYTES) {
        snprintf(message, message_cap, "path is longer than %d bytes", FP_MAX_PATH_BYTES);
        return false;
    }
    if (memchr(raw, '\0', len) != NULL) {
        snprintf(message, message_cap, "path contains a NUL byte");
        return false;
    }
    if (len > 0 && raw[0] == '/') {
        snprintf(message, message_cap, "path \"%.*s\" is absolute; paths are relative to the workspace's files root",
                 (int)len, raw);
        return false;
    }
    if (memchr(raw, '\\', len) != NULL) {
        snprintf(message, message_cap, "path \"%.*s\" contains a backslash", (int)len, raw);
        return false;
    }
    /* The normalised text is never longer than the raw one; components point into a second copy split at '/'. */
    char *normalised = malloc(len + 1);
    char *split = malloc(len + 1);
    char **components = malloc((len / 2 + 1) * sizeof *components);
    if (normalised == NULL || split == NULL || components == NULL) {
        free(normalised);
        free(split);
        free(components);
        *oom = true;
        return false;
    }
    size_t count = 0, used = 0;
    for (size_t i = 0; i < len;) {
        size_t start = i;
        while (i < len && raw[i] != '/') i++;
        size_t n = i - start;
        if (i < len) i++; /* the slash */
        if (n == 0 || (n == 1 && raw[start] == '.')) continue; /* "a//b", "./a" */
        if (n == 2 && raw[start] == '.' && raw[start + 1] == '.') {
            snprintf(message, message_cap,
                     "path \"%.*s\" contains \"..\"; paths may not leave the workspace's files root", (int)len, raw);
            goto invalid;
        }
        if (n > FP_MAX_COMPONENT_BYTES) {
            snprintf(message, message_cap, "path component is longer than %d bytes", FP_MAX_COMPONENT_BYTES);
            goto invalid;
        }
        if (count > 0) normalised[used++] = '/';
        memcpy(normalised + used, raw + start, n);
        used += n;
        count++;
    }
    normalised[used] = '\0';
    if (count == 0 && !allow_root) {
        snprintf(message, message_cap, "path is empty");
        goto invalid;
    }
    /* Split the normalised copy into components (count of them, separated by single slashes). */
    memcpy(split, normalised, used + 1);
    size_t k = 0;
    for (char *c = split; count > 0;) {
        components[k++] = c;
        char *slash = strchr(c, '/');
        if (slash == NULL) break;
        *slash = '\0';
        c = slash + 1;
    }
    out->normalised = normalised;
    out->components = components;
    out->count = count;
    out->storage = split;
    return true;
invalid:
    free(normalised);
    free(split);
    free(components);
    return false;
}

/** The first `depth` components joined, into `buf`. */
static const char *prefix(const fp_path *path, size_t depth, char *buf, size_t cap) {
    size_t used = 0;
    buf[0] = '\0';
    for (size_t k = 0; k < depth && k < path->count; k++) {
        int n = snprintf(buf + used, cap - used, "%s%s", k > 0 ? "/" : "", path->components[k]);
        if (n < 0 || (size_t)n >= cap - used) break;
        used += (size_t)n;
    }
    return buf;
}

int32_t fp_check(fp_operation operation, const fp_observation *observation, const fp_path *path, char *message,
                 size_t message_cap) {
    const char *p = path->normalised;
    char at[FP_MAX_PATH_BYTES + 1];
    switch (observation->kind) {
    case FP_LINK:
        snprintf(message, message_cap, "path \"%s\" goes through the symbolic link \"%s\"; links are never followed", p,
                 prefix(path, observation->depth, at, sizeof at));
        return MP_INVALID_ARGUMENT;
    case FP_ABSENT:
        if (operation == FP_WRITE || (operation == FP_LIST && path->count == 0)) return MP_OK;
        snprintf(message, message_cap, "\"%s\" does not exist", p);
        return MP_NOT_FOUND;
    case FP_BLOCKED:
        if (operation == FP_WRITE) {
            snprintf(message, message_cap, "cannot write \"%s\": \"%s\" is a file, not a directory", p,
                     prefix(path, observation->depth, at, sizeof at));
            return MP_INVALID_ARGUMENT;
        }
        snprintf(message, message_cap, "\"%s\" does not exist (\"%s\" is a file)", p,
                 prefix(path, observation->depth, at, sizeof at));
        return MP_NOT_FOUND;
    case FP_FILE:
        if (operation != FP_LIST) return MP_OK;
        snprintf(message, message_cap, "\"%s\" is a file, not a directory", p);
        return MP_INVALID_ARGUMENT;
    case FP_DIRECTORY:
        if (operation == FP_DELETE || operation == FP_LIST) return MP_OK;
        snprintf(message, message_cap, "\"%s\" is a directory", p);
        return MP_INVALID_ARGUMENT;
    case FP_OTHER:
        if (operation == FP_DELETE) return MP_OK;
        if (operation == FP_LIST) {
            snprintf(message, message_cap, "\"%s\" is not a directory", p);
        } else {
            snprintf(message, message_cap, "\"%s\" is not a regular file (a fifo, socket or device)", p);
        }
        return MP_INVALID_ARGUMENT;
    }
    snprintf(message, message_cap, "\"%s\": unknown observation", p);
    return MP_INTERNAL;
}
