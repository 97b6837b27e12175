/*
 * provider.c — "c-example", a minimal Molecule Host provider written in plain C (C11, no external libraries).
 *
 * It keeps workspaces in a table (no real processes) and implements five verbs: describe, provision, stop, inspect
 * and list_owned. Every other verb slot is NULL and the manifest says why. It exists to show the provider ABI
 * (Sources/ProviderABI/include/molecule_provider.h) from C: negotiation, the vtable, the manifest (also embedded as
 * an ELF note), result ownership and thread safety.
 *
 * Configuration (the JSON object given to `create`):
 *   "owner":       string, optional, default "default" — recorded on every resource, matched by list_owned.
 *   "unreachable": bool, optional, default false — when true every verb answers UNAVAILABLE (retryable), which lets
 *                  a contract run exercise the "backend down" path.
 *   "state_file":  string, optional — a file path. When set, the workspace table lives in that file rather than in
 *                  this process's memory, so it outlives the process (the Host runs each instance in its own runner
 *                  process) and is shared by every process configured with the same path. See the section "The
 *                  table: in memory, or in a state file" for the format and the locking.
 *
 * Build: see Makefile (`make`, or `make OUT=/path/libX.so`).
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* flock(2) */

#include "molecule_provider.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------------------------------------------------------ */
/* Manifest: defined once, used both for the ELF note and for `answer->manifest_json`.                                */
/* ------------------------------------------------------------------------------------------------------------------ */

#define C_EXAMPLE_NAME "c-example"
#define C_EXAMPLE_VERSION "1.0.0"
#define C_EXAMPLE_ABI_MIN 1u
#define C_EXAMPLE_ABI_MAX 1u

#define C_EXAMPLE_MANIFEST                                                                                           \
    "{\"name\":\"c-example\",\"version\":\"1.0.0\","                                                                 \
    "\"summary\":\"Minimal in-memory example provider written in plain C (no real processes).\","                    \
    "\"abi\":{\"min\":1,\"max\":1},"                                                                                 \
    "\"verbs\":{\"describe\":{\"contract\":1},\"provision\":{\"contract\":1},\"stop\":{\"contract\":1},"             \
    "\"inspect\":{\"contract\":1},\"list_owned\":{\"contract\":1}},"                                                 \
    "\"unsupported\":{"                                                                                              \
    "\"pause\":\"c-example keeps no real processes to suspend\","                                                    \
    "\"resume\":\"c-example keeps no real processes to suspend\","                                                   \
    "\"snapshot\":\"c-example has no storage to capture\","                                                          \
    "\"restore\":\"c-example has no storage to capture\","                                                           \
    "\"list_files\":\"c-example has no workspace file system\","                                                     \
    "\"read_file\":\"c-example has no workspace file system\","                                                      \
    "\"write_file\":\"c-example has no workspace file system\","                                                     \
    "\"delete_file\":\"c-example has no workspace file system\","                                                    \
    "\"install_plugin\":\"c-example runs no agent to extend\","                                                      \
    "\"uninstall_plugin\":\"c-example runs no agent to extend\","                                                    \
    "\"list_plugins\":\"c-example runs no agent to extend\","                                                        \
    "\"logs\":\"c-example boots nothing, so there is no console log\","                                              \
    "\"diagnose\":\"c-example has no backend stages to probe\","                                                     \
    "\"remove_storage\":\"c-example has no storage to remove\"}}"

MP_MANIFEST_NOTE(C_EXAMPLE_MANIFEST);

static const char c_example_manifest[] = C_EXAMPLE_MANIFEST;

/** At most this many workspaces in the backend; provisioning one more answers QUOTA_EXCEEDED. */
#define MAX_WORKSPACES 4096u

#define UNREACHABLE_MESSAGE "c-example backend unreachable (configured with unreachable=true)"

/* ------------------------------------------------------------------------------------------------------------------ */
/* Instance state                                                                                                     */
/* ------------------------------------------------------------------------------------------------------------------ */

typedef enum ws_state { WS_RUNNING = 0, WS_STOPPED = 1 } ws_state;

typedef struct workspace {
    char *workspace_id; /* NUL-terminated UTF-8, owned */
    char *owner;        /* the owner label of the instance that created it, owned */
    ws_state state;
    int64_t created_at_ms;
} workspace;

typedef struct workspace_table {
    workspace *items;
    size_t count;
    size_t cap;
} workspace_table;

/*
 * The memory "backend": process-wide, like a daemon that outlives its clients. Instances of one process are clients
 * of it, so a new instance in the same process finds what an earlier one created. The Host, though, runs each
 * instance in its own runner process, and a restarted Host (the contract's list-owned.after-restart case) is another
 * process altogether: only the file backend ("state_file") outlives a process, as a real backend does.
 */
typedef struct memory_backend {
    pthread_mutex_t lock; /* guards table; also held around every use of a state file (see table_open) */
    workspace_table table;
} memory_backend;

static memory_backend backend = {PTHREAD_MUTEX_INITIALIZER, {NULL, 0, 0}};

struct mp_instance {
    char *owner;      /* immutable after create */
    bool unreachable; /* immutable after create */
    /* With "state_file": the paths of the file backend, immutable after create; all NULL for the memory backend. */
    char *state_file; /* the table */
    char *lock_file;  /* <state_file>.lock: flock'ed around every read-modify-write, never replaced */
    char *temp_file;  /* <state_file>.tmp: the next table, renamed over state_file */
    char *state_dir;  /* the directory holding them, fsync'ed after a rename */
};

static int64_t now_ms(void) {
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0) return 0;
    return (int64_t)ts.tv_sec * 1000 + (int64_t)(ts.tv_nsec / 1000000);
}

/* ------------------------------------------------------------------------------------------------------------------ */
/* Results                                                                                                            */
/* ------------------------------------------------------------------------------------------------------------------ */

static void result_error(mp_result *out, int32_t status, bool retryable, const char *message) {
    if (out == NULL) return;
    out->status = status;
    out->retryable = retryable ? 1 : 0;
    out->native_code = 0;
    out->message = strdup(message); /* NULL only if out of memory; nothing better to do then */
}

static void c_free_result(mp_result *result) {
    if (result == NULL) return;
    free(result->message);
    free(result->body);
    result->message = NULL;
    result->body = NULL;
    result->body_len = 0;
}

/* ------------------------------------------------------------------------------------------------------------------ */
/* Output: a growable buffer with JSON string escaping                                                                */
/* ------------------------------------------------------------------------------------------------------------------ */

typedef struct strbuf {
    char *data;
    size_t len;
    size_t cap;
    bool oom;
} strbuf;

static void sb_putn(strbuf *sb, const char *s, size_t n) {
    if (sb->oom) return;
    if (n > SIZE_MAX - sb->len - 1) {
        sb->oom = true;
        return;
    }
    if (sb->len + n + 1 > sb->cap) {
        size_t cap = sb->cap ? sb->cap : 128;
        while (cap < sb->len + n + 1) {
            if (cap > SIZE_MAX / 2) {
                cap = sb->len + n + 1;
                break;
            }
            cap *= 2;
        }
        char *grown = realloc(sb->data, cap);
        if (grown == NULL) {
            sb->oom = true;
            return;
        }
        sb->data = grown;
        sb->cap = cap;
    }
    memcpy(sb->data + sb->len, s, n);
    sb->len += n;
    sb->data[sb->len] = '\0';
}

static void sb_puts(strbuf *sb, const char *s) { sb_putn(sb, s, strlen(s)); }

static void sb_put_i64(strbuf *sb, int64_t v) {
    char digits[32];
    int n = snprintf(digits, sizeof digits, "%lld", (long long)v);
    if (n > 0) sb_putn(sb, digits, (size_t)n);
}

/** Appends `s` as a quoted JSON string. `s` is valid UTF-8 (every string we print was validated on the way in). */
static void sb_put_json_string(strbuf *sb, const char *s) {
    static const char hex[] = "0123456789abcdef";
    sb_putn(sb, "\"", 1);
    const char *run = s; /* start of the pending run of characters that need no escaping */
    for (const char *p = s; *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;
        const char *escape = NULL;
        char uescape[7];
        switch (c) {
        case '"': escape = "\\\""; break;
        case '\\': escape = "\\\\"; break;
        case '\b': escape = "\\b"; break;
        case '\f': escape = "\\f"; break;
        case '\n': escape = "\\n"; break;
        case '\r': escape = "\\r"; break;
        case '\t': escape = "\\t"; break;
        default:
            if (c < 0x20) {
                uescape[0] = '\\';
                uescape[1] = 'u';
                uescape[2] = '0';
                uescape[3] = '0';
                uescape[4] = hex[c >> 4];
                uescape[5] = hex[c & 0xF];
                uescape[6] = '\0';
                escape = uescape;
            }
            break;
        }
        if (escape != NULL) {
            sb_putn(sb, run, (size_t)(p - run));
            sb_puts(sb, escape);
            run = p + 1;
        }
    }
    sb_puts(sb, run);
    sb_putn(sb, "\"", 1);
}

/** Hands the buffer to `out` as the body (MP_OK), or answers INTERNAL if building it ran out of memory. */
static void sb_finish(strbuf *sb, mp_result *out) {
    if (sb->oom || sb->data == NULL) {
        free(sb->data);
        result_error(out, MP_INTERNAL, false, "c-example ran out of memory building its response");
        return;
    }
    out->status = MP_OK;
    out->body = (uint8_t *)sb->data;
    out->body_len = sb->len;
    sb->data = NULL;
}

static void result_body(mp_result *out, const char *json) {
    strbuf sb = {0};
    sb_puts(&sb, json);
    sb_finish(&sb, out);
}

/* ------------------------------------------------------------------------------------------------------------------ */
/* Input: a tiny, bounded JSON field extractor                                                                        */
/*                                                                                                                    */
/* It finds a key among the members of the top-level object and reads its value when that is a string, a boolean or  */
/* null. It is not a validating parser: it only guarantees never to read outside [p, p+len), to honour string        */
/* escapes, to skip nested objects/arrays, and to hand back only valid, NUL-free UTF-8.                               */
/* ------------------------------------------------------------------------------------------------------------------ */

/* J_MALFORMED: the document is not a (well-formed enough) JSON object. J_WRONG_TYPE: the member has another type. */
typedef enum jfind { J_ABSENT = 0, J_FOUND = 1, J_MALFORMED = -1, J_WRONG_TYPE = -2 } jfind;

static size_t skip_ws(const uint8_t *p, size_t len, size_t i) {
    while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r')) i++;
    return i;
}

static int hex_value(uint8_t c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/** Reads 4 hex digits at p[i..i+4); returns -1 when they are missing or not hex. */
static long read_hex4(const uint8_t *p, size_t len, size_t i) {
    if (len < 4 || i > len - 4) return -1;
    long v = 0;
    for (size_t k = 0; k < 4; k++) {
        int h = hex_value(p[i + k]);
        if (h < 0) return -1;
        v = (v << 4) | h;
    }
    return v;
}

/** Strict UTF-8 validation (no overlongs, no surrogates, nothing above U+10FFFF). */
static bool utf8_valid(const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t extra;
        uint32_t cp, min;
        if (c >= 0xC2 && c <= 0xDF) {
            extra = 1, cp = c & 0x1F, min = 0x80;
        } else if (c >= 0xE0 && c <= 0xEF) {
            extra = 2, cp = c & 0x0F, min = 0x800;
        } else if (c >= 0xF0 && c <= 0xF4) {
            extra = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return false;
        }
        if (extra > n - i - 1) return false;
        for (size_t k = 1; k <= extra; k++) {
            uint8_t cc = s[i + k];
            if ((cc & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (cc & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        i += extra + 1;
    }
    return true;
}

static size_t utf8_encode(uint32_t cp, char *dst) {
    if (cp < 0x80) {
        dst[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        dst[0] = (char)(0xC0 | (cp >> 6));
        dst[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        dst[0] = (char)(0xE0 | (cp >> 12));
        dst[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        dst[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    dst[0] = (char)(0xF0 | (cp >> 18));
    dst[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    dst[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    dst[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/**
 * Reads the JSON string whose opening quote is at p[i]. Sets *end to the index just past the closing quote.
 * When `out` is not NULL, stores the decoded value there (malloc'd, NUL-terminated, valid UTF-8, no NUL inside).
 * Returns false when the string is unterminated or malformed (bad escape, raw control character, lone surrogate,
 * \u0000, invalid UTF-8) or when out of memory.
 */
static bool read_string(const uint8_t *p, size_t len, size_t i, size_t *end, char **out) {
    if (i >= len || p[i] != '"') return false;
    /* Pass 1: find the closing quote, so pass 2 can allocate a buffer that is large enough
       (decoding never makes a string longer: every escape is at least as long as what it decodes to). */
    size_t j = i + 1;
    for (;;) {
        if (j >= len) return false;
        if (p[j] == '"') break;
        if (p[j] == '\\') {
            if (j + 1 >= len) return false;
            j += 2;
            continue;
        }
        j++;
    }
    size_t close = j;
    *end = close + 1;

    char *buf = out != NULL ? malloc(close - i) : NULL; /* close - i >= 1; holds the content plus the NUL */
    if (out != NULL && buf == NULL) return false;
    size_t n = 0;
    for (j = i + 1; j < close;) {
        uint8_t c = p[j];
        if (c < 0x20) goto fail; /* raw control characters are not allowed in JSON strings */
        if (c != '\\') {
            if (buf) buf[n] = (char)c;
            n++;
            j++;
            continue;
        }
        uint8_t e = p[j + 1]; /* j + 1 < close: pass 1 guaranteed an escape never swallows the closing quote */
        char decoded = 0;
        switch (e) {
        case '"': decoded = '"'; break;
        case '\\': decoded = '\\'; break;
        case '/': decoded = '/'; break;
        case 'b': decoded = '\b'; break;
        case 'f': decoded = '\f'; break;
        case 'n': decoded = '\n'; break;
        case 'r': decoded = '\r'; break;
        case 't': decoded = '\t'; break;
        case 'u': {
            long u = read_hex4(p, close, j + 2);
            if (u < 0) goto fail;
            size_t used = 6;
            uint32_t cp = (uint32_t)u;
            if (cp >= 0xDC00 && cp <= 0xDFFF) goto fail; /* lone low surrogate */
            if (cp >= 0xD800 && cp <= 0xDBFF) {           /* high surrogate: must be followed by \uDC00-\uDFFF */
                if (j + 7 >= close || p[j + 6] != '\\' || p[j + 7] != 'u') goto fail;
                long low = read_hex4(p, close, j + 8);
                if (low < 0xDC00 || low > 0xDFFF) goto fail;
                cp = 0x10000 + ((cp - 0xD800) << 10) + ((uint32_t)low - 0xDC00);
                used = 12;
            }
            if (cp == 0) goto fail; /* an embedded NUL cannot live in a C string */
            char tmp[4];
            size_t k = utf8_encode(cp, tmp);
            if (buf) memcpy(buf + n, tmp, k);
            n += k;
            j += used;
            continue;
        }
        default: goto fail;
        }
        if (buf) buf[n] = decoded;
        n++;
        j += 2;
    }
    if (buf != NULL) {
        buf[n] = '\0';
        if (!utf8_valid((const uint8_t *)buf, n)) goto fail;
        *out = buf;
    }
    return true;
fail:
    free(buf);
    return false;
}

/**
 * Finds `key` among the members of the top-level object. On J_FOUND, *value_at is the index of the value's first
 * byte. An empty document reads as `{}` (J_ABSENT); a document that is not an object is J_MALFORMED.
 */
static jfind find_member(const uint8_t *p, size_t len, const char *key, size_t *value_at) {
    size_t i = skip_ws(p, len, 0);
    if (i == len) return J_ABSENT;
    if (p[i] != '{') return J_MALFORMED;
    size_t depth = 0;
    while (i < len) {
        uint8_t c = p[i];
        if (c == '"') {
            size_t end;
            if (depth != 1) { /* inside a nested value: skip the string without decoding it */
                if (!read_string(p, len, i, &end, NULL)) return J_MALFORMED;
                i = end;
                continue;
            }
            char *name = NULL;
            if (!read_string(p, len, i, &end, &name)) return J_MALFORMED;
            size_t after = skip_ws(p, len, end);
            if (after < len && p[after] == ':') { /* a member name at the top level */
                bool match = strcmp(name, key) == 0;
                free(name);
                if (match) {
                    size_t v = skip_ws(p, len, after + 1);
                    if (v >= len) return J_MALFORMED;
                    *value_at = v;
                    return J_FOUND;
                }
                i = after + 1;
                continue;
            }
            free(name); /* a top-level string value */
            i = end;
            continue;
        }
        if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            if (depth == 0) return J_MALFORMED;
            depth--;
            if (depth == 0) return J_ABSENT; /* end of the top-level object */
        }
        i++;
    }
    return J_MALFORMED; /* unterminated object */
}

static bool literal_at(const uint8_t *p, size_t len, size_t i, const char *word) {
    size_t n = strlen(word);
    return i <= len && len - i >= n && memcmp(p + i, word, n) == 0;
}

/**
 * A string member: J_FOUND with *out malloc'd; J_ABSENT when missing or null; J_WRONG_TYPE for any other type;
 * J_MALFORMED when the document or the string itself is malformed.
 */
static jfind get_string(const uint8_t *p, size_t len, const char *key, char **out) {
    size_t v;
    jfind r = find_member(p, len, key, &v);
    if (r != J_FOUND) return r;
    if (literal_at(p, len, v, "null")) return J_ABSENT;
    if (p[v] != '"') return J_WRONG_TYPE;
    size_t end;
    return read_string(p, len, v, &end, out) ? J_FOUND : J_MALFORMED;
}

/** A boolean member: J_FOUND with *out set; J_ABSENT when missing or null; J_WRONG_TYPE for any other type. */
static jfind get_bool(const uint8_t *p, size_t len, const char *key, bool *out) {
    size_t v;
    jfind r = find_member(p, len, key, &v);
    if (r != J_FOUND) return r;
    if (literal_at(p, len, v, "null")) return J_ABSENT;
    if (literal_at(p, len, v, "true")) {
        *out = true;
        return J_FOUND;
    }
    if (literal_at(p, len, v, "false")) {
        *out = false;
        return J_FOUND;
    }
    return J_WRONG_TYPE;
}

/* ------------------------------------------------------------------------------------------------------------------ */
/* The table: in memory, or in a state file                                                                           */
/*                                                                                                                    */
/* Every verb that reads or changes the table brackets its work with table_open / table_save / table_close. Without   */
/* a state file that is the memory backend under its mutex. With one ("the file backend"):                            */
/*   - table_open takes an exclusive flock(2) on <state_file>.lock (created 0600, with any missing directories 0700,  */
/*     and never replaced), then reads <state_file> into a private table (a missing file is an empty table);          */
/*   - table_save, called only when the verb changed the table, writes it to <state_file>.tmp, fsyncs it, renames it  */
/*     over <state_file> and fsyncs the directory, all while the lock is held;                                        */
/*   - table_close drops the private table and the lock.                                                              */
/* The lock lives in its own file because the state file is replaced by rename: a lock on the old state file's inode  */
/* would not exclude a process that opens the new one. Several processes may share one state file; every              */
/* read-modify-write is whole under the lock, so none loses another's change. The backend mutex is held as well, so   */
/* the threads of one process never rely on flock alone (on NFS, Linux emulates flock with per-process fcntl locks).  */
/*                                                                                                                    */
/* The state file is text: a header line, then one line per workspace, fields separated by tabs:                      */
/*     c-example-state 1                                                                                              */
/*     <workspace_id> TAB <owner> TAB running|stopped TAB <created_at_ms> LF                                          */
/* Ids and owners are stored verbatim, so with a state file they must be free of control characters (see storable).   */
/* ------------------------------------------------------------------------------------------------------------------ */

#define STATE_FILE_HEADER "c-example-state 1\n"

/** True when `s` can be a field of a state file line: non-empty, valid UTF-8, no ASCII control characters. */
static bool storable_n(const uint8_t *s, size_t n) {
    if (n == 0 || !utf8_valid(s, n)) return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < 0x20 || s[i] == 0x7F) return false;
    }
    return true;
}

static bool storable(const char *s) { return storable_n((const uint8_t *)s, strlen(s)); }

static void table_free(workspace_table *table) {
    for (size_t k = 0; k < table->count; k++) {
        free(table->items[k].workspace_id);
        free(table->items[k].owner);
    }
    free(table->items);
    table->items = NULL;
    table->count = 0;
    table->cap = 0;
}

/** Makes room for one more workspace (at most MAX_WORKSPACES). False when the table is full or out of memory. */
static bool table_reserve(workspace_table *table) {
    if (table->count < table->cap) return true;
    if (table->count >= MAX_WORKSPACES) return false;
    size_t cap = table->cap ? table->cap * 2 : 16;
    if (cap > MAX_WORKSPACES) cap = MAX_WORKSPACES;
    workspace *grown = realloc(table->items, cap * sizeof *grown);
    if (grown == NULL) return false;
    table->items = grown;
    table->cap = cap;
    return true;
}

/** Index of `owner`'s `id` in `table`, or `table->count` when absent. */
static size_t find_workspace(const workspace_table *table, const char *owner, const char *id) {
    for (size_t k = 0; k < table->count; k++) {
        if (strcmp(table->items[k].workspace_id, id) == 0 && strcmp(table->items[k].owner, owner) == 0) return k;
    }
    return table->count;
}

/** Answers a failed system call on `path`: UNAVAILABLE (retryable), with errno `error` as the native code. */
static void result_io_error(mp_result *out, const char *what, const char *path, int error) {
    char reason[128];
    if (strerror_r(error, reason, sizeof reason) != 0) snprintf(reason, sizeof reason, "errno %d", error);
    strbuf sb = {0};
    sb_puts(&sb, "c-example cannot ");
    sb_puts(&sb, what);
    sb_puts(&sb, " ");
    sb_puts(&sb, path);
    sb_puts(&sb, ": ");
    sb_puts(&sb, reason);
    if (sb.oom) {
        free(sb.data);
        result_error(out, MP_INTERNAL, false, "c-example ran out of memory");
        return;
    }
    result_error(out, MP_UNAVAILABLE, true, sb.data);
    out->native_code = error;
    free(sb.data);
}

/** Answers a state file that cannot be read back: INTERNAL, not retryable (the file is left as it is). */
static void result_corrupt(mp_result *out, const char *path, size_t line, const char *detail) {
    strbuf sb = {0};
    sb_puts(&sb, "c-example state file ");
    sb_puts(&sb, path);
    sb_puts(&sb, " is corrupt at line ");
    sb_put_i64(&sb, (int64_t)line);
    sb_puts(&sb, ": ");
    sb_puts(&sb, detail);
    if (sb.oom) {
        free(sb.data);
        result_error(out, MP_INTERNAL, false, "c-example ran out of memory");
        return;
    }
    result_error(out, MP_INTERNAL, false, sb.data);
    free(sb.data);
}

/** Creates `dir` and any missing parents (mode 0700), like `mkdir -p`. False with errno set on failure. */
static bool make_directories(const char *dir) {
    char *copy = strdup(dir);
    if (copy == NULL) return false;
    for (char *p = copy + 1;; p++) {
        if (*p != '/' && *p != '\0') continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(copy, 0700) != 0 && errno != EEXIST) {
            int error = errno;
            free(copy);
            errno = error;
            return false;
        }
        *p = saved;
        if (saved == '\0') break;
    }
    free(copy);
    return true;
}

/** Reads all of `fd` into `sb`. False with errno set on a read error. */
static bool read_all(int fd, strbuf *sb) {
    char chunk[65536];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return false;
        if (n == 0) return true;
        sb_putn(sb, chunk, (size_t)n);
        if (sb->oom) {
            errno = ENOMEM;
            return false;
        }
    }
}

/** Writes all of [data, data+len) to `fd`. False with errno set on a write error. */
static bool write_all(int fd, const char *data, size_t len) {
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return false;
        data += n;
        len -= (size_t)n;
    }
    return true;
}

/** Copies the field [s, s+n) into a malloc'd string; NULL when out of memory. */
static char *field_dup(const char *s, size_t n) {
    char *copy = malloc(n + 1);
    if (copy == NULL) return NULL;
    memcpy(copy, s, n);
    copy[n] = '\0';
    return copy;
}

/** Parses the state file text [text, text+len) into `table` (empty). On failure fills `out` and returns false. */
static bool state_parse(const char *path, const char *text, size_t len, workspace_table *table, mp_result *out) {
    if (len == 0) return true; /* an empty file (say, made by `touch`) is an empty table */
    size_t header = strlen(STATE_FILE_HEADER);
    if (len < header || memcmp(text, STATE_FILE_HEADER, header) != 0) {
        result_corrupt(out, path, 1, "not a c-example state file (the first line is not \"c-example-state 1\")");
        return false;
    }
    size_t line = 1;
    for (size_t i = header; i < len;) {
        line++;
        const char *start = text + i;
        const char *end = memchr(start, '\n', len - i);
        if (end == NULL) {
            result_corrupt(out, path, line, "the last line is not terminated");
            return false;
        }
        i = (size_t)(end - text) + 1;

        const char *field[4];
        size_t field_len[4];
        size_t nfields = 0;
        for (const char *f = start;;) {
            const char *tab = memchr(f, '\t', (size_t)(end - f));
            const char *stop = tab != NULL ? tab : end;
            if (nfields == 4) {
                nfields++; /* too many */
                break;
            }
            field[nfields] = f;
            field_len[nfields] = (size_t)(stop - f);
            nfields++;
            if (tab == NULL) break;
            f = tab + 1;
        }
        if (nfields != 4) {
            result_corrupt(out, path, line, "expected 4 tab-separated fields");
            return false;
        }
        if (!storable_n((const uint8_t *)field[0], field_len[0]) ||
            !storable_n((const uint8_t *)field[1], field_len[1])) {
            result_corrupt(out, path, line, "the workspace id or the owner is empty or has control characters");
            return false;
        }
        ws_state state;
        if (field_len[2] == 7 && memcmp(field[2], "running", 7) == 0) {
            state = WS_RUNNING;
        } else if (field_len[2] == 7 && memcmp(field[2], "stopped", 7) == 0) {
            state = WS_STOPPED;
        } else {
            result_corrupt(out, path, line, "the state is neither \"running\" nor \"stopped\"");
            return false;
        }
        int64_t created_at_ms = 0;
        bool number = field_len[3] > 0 && field_len[3] <= 18; /* 18 digits cannot overflow int64 */
        for (size_t k = 0; number && k < field_len[3]; k++) {
            char c = field[3][k];
            if (c < '0' || c > '9') number = false;
            else created_at_ms = created_at_ms * 10 + (c - '0');
        }
        if (!number) {
            result_corrupt(out, path, line, "the creation time is not a number of milliseconds");
            return false;
        }
        if (table->count >= MAX_WORKSPACES) {
            result_corrupt(out, path, line, "more than 4096 workspaces");
            return false;
        }
        char *id = field_dup(field[0], field_len[0]);
        char *owner = field_dup(field[1], field_len[1]);
        if (id == NULL || owner == NULL || !table_reserve(table)) {
            free(id);
            free(owner);
            result_error(out, MP_INTERNAL, false, "c-example ran out of memory");
            return false;
        }
        table->items[table->count++] = (workspace){id, owner, state, created_at_ms};
    }
    return true;
}

/** One verb's hold on the table: the memory table, or a private copy of the state file's under its lock. */
typedef struct table_session {
    const mp_instance *instance;
    workspace_table *table; /* what the verb works on */
    workspace_table loaded; /* with a state file: the table read from it */
    int lock_fd;            /* with a state file: <state_file>.lock, flock'ed; -1 otherwise */
} table_session;

static void table_close(table_session *session) {
    if (session->lock_fd >= 0) {
        table_free(&session->loaded);
        close(session->lock_fd); /* releases the flock */
        session->lock_fd = -1;
    }
    session->table = NULL;
    pthread_mutex_unlock(&backend.lock);
}

/** Takes the table for one verb. On failure fills `out` and returns false (nothing to close). */
static bool table_open(const mp_instance *instance, table_session *session, mp_result *out) {
    *session = (table_session){instance, &backend.table, {NULL, 0, 0}, -1};
    pthread_mutex_lock(&backend.lock);
    if (instance->state_file == NULL) return true;

    int fd = open(instance->lock_file, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0 && errno == ENOENT) {
        if (!make_directories(instance->state_dir)) {
            int error = errno;
            pthread_mutex_unlock(&backend.lock);
            result_io_error(out, "create the state directory", instance->state_dir, error);
            return false;
        }
        fd = open(instance->lock_file, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    }
    if (fd < 0) {
        int error = errno;
        pthread_mutex_unlock(&backend.lock);
        result_io_error(out, "open the state lock file", instance->lock_file, error);
        return false;
    }
    while (flock(fd, LOCK_EX) != 0) {
        if (errno == EINTR) continue;
        int error = errno;
        close(fd);
        pthread_mutex_unlock(&backend.lock);
        result_io_error(out, "lock the state lock file", instance->lock_file, error);
        return false;
    }
    session->lock_fd = fd;
    session->table = &session->loaded;

    int state_fd = open(instance->state_file, O_RDONLY | O_CLOEXEC);
    if (state_fd < 0 && errno == ENOENT) return true; /* nothing saved yet: an empty table */
    if (state_fd < 0) {
        int error = errno;
        table_close(session);
        result_io_error(out, "open the state file", instance->state_file, error);
        return false;
    }
    strbuf text = {0};
    bool read_ok = read_all(state_fd, &text);
    int error = errno;
    close(state_fd);
    if (!read_ok) {
        free(text.data);
        table_close(session);
        result_io_error(out, "read the state file", instance->state_file, error);
        return false;
    }
    bool parsed = state_parse(instance->state_file, text.data, text.len, &session->loaded, out);
    free(text.data);
    if (!parsed) {
        table_close(session);
        return false;
    }
    return true;
}

/**
 * Makes the verb's change to the table durable: nothing to do for the memory table; for a state file, replaces it
 * atomically (call with the session open, so with the lock held). On failure fills `out` and returns false; the
 * state file then still holds the table as it was before the verb.
 */
static bool table_save(table_session *session, mp_result *out) {
    const mp_instance *instance = session->instance;
    if (instance->state_file == NULL) return true;

    strbuf text = {0};
    sb_puts(&text, STATE_FILE_HEADER);
    for (size_t k = 0; k < session->table->count; k++) {
        const workspace *w = &session->table->items[k];
        sb_puts(&text, w->workspace_id);
        sb_puts(&text, "\t");
        sb_puts(&text, w->owner);
        sb_puts(&text, w->state == WS_RUNNING ? "\trunning\t" : "\tstopped\t");
        sb_put_i64(&text, w->created_at_ms);
        sb_puts(&text, "\n");
    }
    if (text.oom) {
        free(text.data);
        result_error(out, MP_INTERNAL, false, "c-example ran out of memory");
        return false;
    }

    const char *what = "write the state file";
    int fd = open(instance->temp_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    bool ok = fd >= 0;
    if (!ok) what = "create the state file";
    if (ok) ok = fchmod(fd, 0600) == 0 && write_all(fd, text.data, text.len) && fsync(fd) == 0;
    int error = errno;
    if (fd >= 0 && close(fd) != 0 && ok) {
        ok = false;
        error = errno;
    }
    free(text.data);
    if (!ok) {
        if (fd >= 0) unlink(instance->temp_file);
        result_io_error(out, what, instance->temp_file, error);
        return false;
    }
    if (rename(instance->temp_file, instance->state_file) != 0) {
        error = errno;
        unlink(instance->temp_file);
        result_io_error(out, "replace the state file", instance->state_file, error);
        return false;
    }
    /* Make the rename itself durable. Best effort: some file systems refuse fsync on a directory. */
    int dir_fd = open(instance->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd >= 0) {
        (void)fsync(dir_fd);
        close(dir_fd);
    }
    return true;
}

/* ------------------------------------------------------------------------------------------------------------------ */
/* create / destroy                                                                                                   */
/* ------------------------------------------------------------------------------------------------------------------ */

static void c_destroy(mp_instance *instance) {
    if (instance == NULL) return;
    free(instance->owner); /* the backend's workspaces outlive the instance */
    free(instance->state_file);
    free(instance->lock_file);
    free(instance->temp_file);
    free(instance->state_dir);
    free(instance);
}

/** `path` followed by `suffix`, malloc'd; NULL when out of memory. */
static char *path_with_suffix(const char *path, const char *suffix) {
    strbuf sb = {0};
    sb_puts(&sb, path);
    sb_puts(&sb, suffix);
    if (sb.oom) {
        free(sb.data);
        return NULL;
    }
    return sb.data;
}

/** The directory part of `path` ("." when it has none), malloc'd; NULL when out of memory. */
static char *path_directory(const char *path) {
    const char *slash = strrchr(path, '/');
    if (slash == NULL) return strdup(".");
    if (slash == path) return strdup("/");
    size_t n = (size_t)(slash - path);
    char *dir = malloc(n + 1);
    if (dir == NULL) return NULL;
    memcpy(dir, path, n);
    dir[n] = '\0';
    return dir;
}

static mp_instance *c_create(mp_bytes config_json, mp_result *err) {
    const uint8_t *p = config_json.ptr;
    size_t len = p != NULL ? config_json.len : 0;

    size_t first = skip_ws(p, len, 0);
    if (first < len && p[first] != '{') {
        result_error(err, MP_INVALID_ARGUMENT, false, "c-example configuration must be a JSON object");
        return NULL;
    }

    char *owner = NULL;
    jfind r = get_string(p, len, "owner", &owner);
    if (r == J_MALFORMED) {
        result_error(err, MP_INVALID_ARGUMENT, false, "c-example configuration is not a well-formed JSON object");
        return NULL;
    }
    if (r == J_WRONG_TYPE) {
        result_error(err, MP_INVALID_ARGUMENT, false,
                     "c-example configuration is invalid: \"owner\" must be a string");
        return NULL;
    }
    if (r == J_FOUND && owner[0] == '\0') {
        free(owner);
        result_error(err, MP_INVALID_ARGUMENT, false,
                     "c-example configuration is invalid: \"owner\" must not be empty");
        return NULL;
    }
    if (r == J_ABSENT) {
        owner = strdup("default");
        if (owner == NULL) {
            result_error(err, MP_INTERNAL, false, "c-example ran out of memory");
            return NULL;
        }
    }

    bool unreachable = false;
    r = get_bool(p, len, "unreachable", &unreachable);
    if (r == J_MALFORMED || r == J_WRONG_TYPE) {
        free(owner);
        result_error(err, MP_INVALID_ARGUMENT, false,
                     "c-example configuration is invalid: \"unreachable\" must be a boolean");
        return NULL;
    }

    char *state_file = NULL;
    r = get_string(p, len, "state_file", &state_file);
    if (r == J_MALFORMED || r == J_WRONG_TYPE) {
        free(owner);
        result_error(err, MP_INVALID_ARGUMENT, false,
                     "c-example configuration is invalid: \"state_file\" must be a string (a file path)");
        return NULL;
    }
    if (r == J_FOUND && state_file[0] == '\0') {
        free(owner);
        free(state_file);
        result_error(err, MP_INVALID_ARGUMENT, false,
                     "c-example configuration is invalid: \"state_file\" must not be empty");
        return NULL;
    }
    if (state_file != NULL && !storable(owner)) {
        free(owner);
        free(state_file);
        result_error(err, MP_INVALID_ARGUMENT, false,
                     "c-example configuration is invalid: with a \"state_file\", \"owner\" must not contain "
                     "control characters (tab, newline, ...)");
        return NULL;
    }

    mp_instance *instance = calloc(1, sizeof *instance);
    if (instance == NULL) {
        free(owner);
        free(state_file);
        result_error(err, MP_INTERNAL, false, "c-example ran out of memory");
        return NULL;
    }
    instance->owner = owner;
    instance->unreachable = unreachable;
    if (state_file != NULL) {
        /* Only the paths are worked out here: create must not touch the backend, the verbs open the files. */
        instance->state_file = state_file;
        instance->lock_file = path_with_suffix(state_file, ".lock");
        instance->temp_file = path_with_suffix(state_file, ".tmp");
        instance->state_dir = path_directory(state_file);
        if (instance->lock_file == NULL || instance->temp_file == NULL || instance->state_dir == NULL) {
            c_destroy(instance);
            result_error(err, MP_INTERNAL, false, "c-example ran out of memory");
            return NULL;
        }
    }
    return instance;
}

/* ------------------------------------------------------------------------------------------------------------------ */
/* Verbs                                                                                                              */
/* ------------------------------------------------------------------------------------------------------------------ */

/** Common checks for every verb. Returns false (and fills `out`) when the verb must not go on. */
static bool verb_prologue(mp_instance *instance, const char *verb, mp_bytes request, mp_result *out) {
    if (out == NULL) return false;
    if (instance == NULL) {
        result_error(out, MP_INVALID_ARGUMENT, false, "c-example verb called with a NULL instance");
        return false;
    }
    if (instance->unreachable) {
        result_error(out, MP_UNAVAILABLE, true, UNREACHABLE_MESSAGE);
        return false;
    }
    const uint8_t *p = request.ptr;
    size_t len = p != NULL ? request.len : 0;
    if (p == NULL && request.len != 0) {
        result_error(out, MP_INVALID_ARGUMENT, false, "c-example request has a NULL pointer and a non-zero length");
        return false;
    }
    size_t first = skip_ws(p, len, 0);
    if (first < len && p[first] != '{') {
        char message[96];
        snprintf(message, sizeof message, "malformed %s request: expected a JSON object", verb);
        result_error(out, MP_INVALID_ARGUMENT, false, message);
        return false;
    }
    return true;
}

/**
 * The workspace-id rule every provider shares (ProviderWire's `Identifier`, checked by the contract suite's
 * `validation.workspace-id` case): 1 to 128 ASCII letters, digits, '-', '_' and '.', not starting with '.' and
 * without ".." anywhere.
 */
static bool valid_workspace_id(const char *id) {
    size_t n = strlen(id);
    if (n == 0 || n > 128 || id[0] == '.' || strstr(id, "..") != NULL) return false;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
        if (!ok) return false;
    }
    return true;
}

/** Reads the request's "workspace_id" and checks it against the shared rule; on failure fills `out`, returns NULL. */
static char *require_workspace_id(const char *verb, mp_bytes request, mp_result *out) {
    char *id = NULL;
    jfind r = get_string(request.ptr, request.ptr != NULL ? request.len : 0, "workspace_id", &id);
    if (r == J_FOUND && valid_workspace_id(id)) return id;
    bool present = r == J_FOUND && id[0] != '\0';
    free(id);
    char message[256];
    if (present) {
        snprintf(message, sizeof message,
                 "%s request's \"workspace_id\" is invalid: use 1-128 letters, digits, '-', '_' or '.', not starting "
                 "with '.' and without '..'",
                 verb);
    } else if (r == J_MALFORMED) {
        snprintf(message, sizeof message, "malformed %s request: not a well-formed JSON object", verb);
    } else {
        snprintf(message, sizeof message, "%s request needs a \"workspace_id\"", verb);
    }
    result_error(out, MP_INVALID_ARGUMENT, false, message);
    return NULL;
}

static void put_instance_ref(strbuf *sb, const char *id) {
    strbuf ref = {0};
    sb_puts(&ref, "c-");
    sb_puts(&ref, id);
    if (ref.oom) {
        sb->oom = true;
    } else {
        sb_put_json_string(sb, ref.data);
    }
    free(ref.data);
}

static void c_describe(mp_instance *instance, const mp_call *call, mp_bytes request, mp_result *out) {
    (void)call;
    if (!verb_prologue(instance, "describe", request, out)) return;
    if (instance->state_file == NULL) {
        result_body(out, "{\"name\":\"" C_EXAMPLE_NAME "\",\"version\":\"" C_EXAMPLE_VERSION "\","
                         "\"backend\":\"memory\"}");
    } else {
        result_body(out, "{\"name\":\"" C_EXAMPLE_NAME "\",\"version\":\"" C_EXAMPLE_VERSION "\","
                         "\"backend\":\"file\"}");
    }
}

static void c_provision(mp_instance *instance, const mp_call *call, mp_bytes request, mp_result *out) {
    (void)call;
    if (!verb_prologue(instance, "provision", request, out)) return;
    char *id = require_workspace_id("provision", request, out);
    if (id == NULL) return;
    if (instance->state_file != NULL && !storable(id)) {
        free(id);
        result_error(out, MP_INVALID_ARGUMENT, false,
                     "provision request's \"workspace_id\" must not contain control characters (tab, newline, ...): "
                     "c-example keeps it in a line of its state file");
        return;
    }

    table_session session;
    if (!table_open(instance, &session, out)) {
        free(id);
        return;
    }
    workspace_table *table = session.table;
    size_t k = find_workspace(table, instance->owner, id);
    bool changed = true;
    if (k == table->count) {
        if (table->count >= MAX_WORKSPACES) {
            table_close(&session);
            free(id);
            result_error(out, MP_QUOTA_EXCEEDED, false, "c-example holds at most 4096 workspaces");
            return;
        }
        char *owner = strdup(instance->owner);
        if (owner == NULL || !table_reserve(table)) {
            table_close(&session);
            free(owner);
            free(id);
            result_error(out, MP_INTERNAL, false, "c-example ran out of memory");
            return;
        }
        table->items[k].owner = owner;
        table->items[k].workspace_id = id; /* the table owns it now */
        table->items[k].state = WS_RUNNING;
        table->items[k].created_at_ms = now_ms();
        table->count++;
        id = NULL;
    } else {
        changed = table->items[k].state != WS_RUNNING;
        table->items[k].state = WS_RUNNING; /* idempotent: converge on running */
        free(id);
        id = NULL;
    }
    strbuf sb = {0};
    sb_puts(&sb, "{\"instance_ref\":");
    put_instance_ref(&sb, table->items[k].workspace_id);
    sb_puts(&sb, ",\"state\":\"running\"}");
    if (changed && !table_save(&session, out)) {
        table_close(&session);
        free(sb.data);
        return;
    }
    table_close(&session);
    sb_finish(&sb, out);
}

static void c_stop(mp_instance *instance, const mp_call *call, mp_bytes request, mp_result *out) {
    (void)call;
    if (!verb_prologue(instance, "stop", request, out)) return;
    char *id = require_workspace_id("stop", request, out);
    if (id == NULL) return;

    table_session session;
    if (!table_open(instance, &session, out)) {
        free(id);
        return;
    }
    workspace_table *table = session.table;
    bool stopped = false;
    size_t k = find_workspace(table, instance->owner, id);
    free(id);
    if (k < table->count) {
        stopped = table->items[k].state == WS_RUNNING;
        free(table->items[k].workspace_id);
        free(table->items[k].owner);
        table->items[k] = table->items[table->count - 1]; /* order does not matter */
        table->count--;
        if (!table_save(&session, out)) {
            table_close(&session);
            return;
        }
    }
    table_close(&session);
    result_body(out, stopped ? "{\"stopped\":true}" : "{\"stopped\":false}");
}

static void c_inspect(mp_instance *instance, const mp_call *call, mp_bytes request, mp_result *out) {
    (void)call;
    if (!verb_prologue(instance, "inspect", request, out)) return;
    char *id = require_workspace_id("inspect", request, out);
    if (id == NULL) return;

    table_session session;
    if (!table_open(instance, &session, out)) {
        free(id);
        return;
    }
    const workspace_table *table = session.table;
    strbuf sb = {0};
    size_t k = find_workspace(table, instance->owner, id);
    if (k < table->count && table->items[k].state == WS_RUNNING) {
        sb_puts(&sb, "{\"state\":\"running\",\"instance_ref\":");
        put_instance_ref(&sb, table->items[k].workspace_id);
        sb_puts(&sb, "}");
    } else {
        sb_puts(&sb, "{\"state\":\"absent\"}");
    }
    table_close(&session);
    free(id);
    sb_finish(&sb, out);
}

static void c_list_owned(mp_instance *instance, const mp_call *call, mp_bytes request, mp_result *out) {
    (void)call;
    if (!verb_prologue(instance, "list_owned", request, out)) return;
    char *owner = NULL;
    jfind r = get_string(request.ptr, request.ptr != NULL ? request.len : 0, "owner", &owner);
    if (r == J_MALFORMED || r == J_WRONG_TYPE) {
        result_error(out, MP_INVALID_ARGUMENT, false, "malformed list_owned request: \"owner\" must be a string");
        return;
    }
    /* A missing (or empty) owner means the configured one. */
    bool matches = r != J_FOUND || owner[0] == '\0' || strcmp(owner, instance->owner) == 0;
    free(owner);

    strbuf sb = {0};
    sb_puts(&sb, "{\"resources\":[");
    if (matches) {
        table_session session;
        if (!table_open(instance, &session, out)) {
            free(sb.data);
            return;
        }
        const workspace_table *table = session.table;
        bool first = true;
        for (size_t k = 0; k < table->count; k++) {
            const workspace *w = &table->items[k];
            if (w->state != WS_RUNNING || strcmp(w->owner, instance->owner) != 0) continue;
            if (!first) sb_puts(&sb, ",");
            first = false;
            sb_puts(&sb, "{\"workspace_id\":");
            sb_put_json_string(&sb, w->workspace_id);
            sb_puts(&sb, ",\"kind\":\"instance\",\"ref\":");
            put_instance_ref(&sb, w->workspace_id);
            sb_puts(&sb, ",\"owner\":");
            sb_put_json_string(&sb, instance->owner);
            sb_puts(&sb, ",\"state\":\"running\",\"created_at_ms\":");
            sb_put_i64(&sb, w->created_at_ms);
            sb_puts(&sb, "}");
        }
        table_close(&session);
    }
    sb_puts(&sb, "]}");
    sb_finish(&sb, out);
}

/* ------------------------------------------------------------------------------------------------------------------ */
/* The vtable and the entry point                                                                                     */
/* ------------------------------------------------------------------------------------------------------------------ */

static const mp_vtable c_example_vtable = {
    .struct_size = sizeof(mp_vtable),
    .reserved = 0,
    .create = c_create,
    .destroy = c_destroy,
    .free_result = c_free_result,
    .verbs =
        {
            [MP_VERB_DESCRIBE] = c_describe,
            [MP_VERB_PROVISION] = c_provision,
            [MP_VERB_STOP] = c_stop,
            [MP_VERB_INSPECT] = c_inspect,
            [MP_VERB_LIST_OWNED] = c_list_owned,
            /* every other slot is NULL: unsupported, with the reason in the manifest */
        },
};

/** True when the peer-allocated struct (of declared size `declared`) contains the whole `field`. */
#define FITS(type, field, declared) (offsetof(type, field) + sizeof(((type *)0)->field) <= (size_t)(declared))

__attribute__((visibility("default"))) int32_t molecule_provider_negotiate(const mp_host_offer *offer,
                                                                           mp_provider_answer *answer) {
    if (answer == NULL) return MP_INVALID_ARGUMENT;
    uint32_t size = answer->struct_size;
    if (FITS(mp_provider_answer, abi_min, size)) answer->abi_min = C_EXAMPLE_ABI_MIN;
    if (FITS(mp_provider_answer, abi_max, size)) answer->abi_max = C_EXAMPLE_ABI_MAX;
    if (offer == NULL || !FITS(mp_host_offer, abi_max, offer->struct_size)) return MP_INVALID_ARGUMENT;

    if (offer->abi_min > C_EXAMPLE_ABI_MAX || offer->abi_max < C_EXAMPLE_ABI_MIN || offer->abi_min > offer->abi_max) {
        return MP_UNSUPPORTED;
    }
    if (!FITS(mp_provider_answer, vtable, size)) return MP_INVALID_ARGUMENT; /* nowhere to put the answer */
    answer->abi_chosen = offer->abi_max < C_EXAMPLE_ABI_MAX ? offer->abi_max : C_EXAMPLE_ABI_MAX;
    answer->manifest_json = c_example_manifest;
    answer->vtable = &c_example_vtable;
    return MP_OK;
}
