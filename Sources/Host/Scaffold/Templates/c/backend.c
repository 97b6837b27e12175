/*
 * backend.c — the error helpers and the release functions of backend.h. Keep it when you replace the stub backend.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE

#include "backend.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool be_fail(be_error *err, int32_t status, bool retryable, const char *format, ...) {
    va_list args;
    va_start(args, format);
    vsnprintf(err->message, sizeof err->message, format, args);
    va_end(args);
    if (err->message[0] == '\0') snprintf(err->message, sizeof err->message, "backend error (no detail)");
    err->status = status;
    err->retryable = retryable;
    err->native_code = 0;
    return false;
}

bool be_fail_errno(be_error *err, int error, const char *what, const char *path) {
    int32_t status = MP_INTERNAL;
    bool retryable = false;
    if (error == ENOSPC || error == EDQUOT) {
        status = MP_QUOTA_EXCEEDED, retryable = true;
    } else if (error == EMFILE || error == ENFILE || error == ENOMEM || error == EIO || error == EAGAIN ||
               error == EINTR || error == EBUSY) {
        status = MP_UNAVAILABLE, retryable = true;
    }
    char reason[128];
    if (strerror_r(error, reason, sizeof reason) != 0) snprintf(reason, sizeof reason, "errno %d", error);
    be_fail(err, status, retryable, "cannot %s %s: %s", what, path, reason);
    err->native_code = error;
    return false;
}

void be_instance_free(be_instance *instance) {
    free(instance->instance_ref);
    instance->instance_ref = NULL;
}

void be_resource_list_free(be_resource_list *list) {
    for (size_t k = 0; k < list->count; k++) {
        free(list->items[k].workspace_id);
        free(list->items[k].ref);
        free(list->items[k].owner);
    }
    free(list->items);
    list->items = NULL;
    list->count = list->cap = 0;
}

void be_file_list_free(be_file_list *list) {
    for (size_t k = 0; k < list->count; k++) free(list->items[k].path);
    free(list->items);
    list->items = NULL;
    list->count = list->cap = 0;
}

void be_file_content_free(be_file_content *content) {
    free(content->data);
    content->data = NULL;
    content->size = 0;
}

void be_logs_free(be_logs *logs) {
    free(logs->content);
    free(logs->cursor);
    logs->content = NULL;
    logs->cursor = NULL;
    logs->content_len = 0;
}
