/*
 * json.c — see json.h. A recursive-descent parser that never reads outside its input, never nests deeper than
 * JSON_MAX_DEPTH, and hands back only valid UTF-8; a writer that always produces valid JSON; base64 both ways.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE

#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_MAX_DEPTH 64

/* ------------------------------------------------------------------------------------------------------------------ */
/* UTF-8                                                                                                              */
/* ------------------------------------------------------------------------------------------------------------------ */

/** Length of the valid UTF-8 sequence at s[0..n), or 0 when it is not one (strict: no overlongs, no surrogates). */
static size_t utf8_sequence(const uint8_t *s, size_t n) {
    uint8_t c = s[0];
    if (c < 0x80) return 1;
    size_t extra;
    uint32_t cp, min;
    if (c >= 0xC2 && c <= 0xDF) {
        extra = 1, cp = c & 0x1Fu, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        extra = 2, cp = c & 0x0Fu, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        extra = 3, cp = c & 0x07u, min = 0x10000;
    } else {
        return 0;
    }
    if (extra >= n) return 0;
    for (size_t k = 1; k <= extra; k++) {
        if ((s[k] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[k] & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return extra + 1;
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

/* ------------------------------------------------------------------------------------------------------------------ */
/* Parser                                                                                                             */
/* ------------------------------------------------------------------------------------------------------------------ */

typedef struct parser {
    const uint8_t *p;
    size_t len;
    size_t i;
    const char *error; /* first error, static string */
} parser;

static bool fail(parser *ps, const char *error) {
    if (ps->error == NULL) ps->error = error;
    return false;
}

static void skip_ws(parser *ps) {
    while (ps->i < ps->len) {
        uint8_t c = ps->p[ps->i];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
        ps->i++;
    }
}

static int hex_value(uint8_t c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/** Reads 4 hex digits at ps->i; -1 when they are missing or not hex. */
static long read_hex4(parser *ps) {
    if (ps->len - ps->i < 4) return -1;
    long v = 0;
    for (size_t k = 0; k < 4; k++) {
        int h = hex_value(ps->p[ps->i + k]);
        if (h < 0) return -1;
        v = (v << 4) | h;
    }
    ps->i += 4;
    return v;
}

/** Parses a string at ps->i (the opening quote) into a malloc'd buffer. */
static bool parse_string(parser *ps, char **out, size_t *out_len) {
    ps->i++; /* the opening quote */
    /* Decoding never makes a string longer (every escape is at least as long as its UTF-8), so the distance to the
       closing quote bounds the buffer. Find it first. */
    size_t j = ps->i;
    while (j < ps->len && ps->p[j] != '"') j += ps->p[j] == '\\' ? 2 : 1;
    if (j >= ps->len) return fail(ps, "unterminated string");
    char *buf = malloc(j - ps->i + 1);
    if (buf == NULL) return fail(ps, "out of memory");
    size_t n = 0;
    while (ps->p[ps->i] != '"') {
        uint8_t c = ps->p[ps->i];
        if (c < 0x20) {
            free(buf);
            return fail(ps, "control character in a string");
        }
        if (c != '\\') {
            size_t k = utf8_sequence(ps->p + ps->i, ps->len - ps->i);
            if (k == 0) {
                free(buf);
                return fail(ps, "invalid UTF-8 in a string");
            }
            memcpy(buf + n, ps->p + ps->i, k);
            n += k;
            ps->i += k;
            continue;
        }
        uint8_t e = ps->p[ps->i + 1]; /* in bounds: the scan above stopped at a quote after it */
        ps->i += 2;
        char simple = 0;
        switch (e) {
        case '"': simple = '"'; break;
        case '\\': simple = '\\'; break;
        case '/': simple = '/'; break;
        case 'b': simple = '\b'; break;
        case 'f': simple = '\f'; break;
        case 'n': simple = '\n'; break;
        case 'r': simple = '\r'; break;
        case 't': simple = '\t'; break;
        case 'u': {
            long u = read_hex4(ps);
            if (u < 0) break;
            uint32_t cp = (uint32_t)u;
            if (cp >= 0xDC00 && cp <= 0xDFFF) break; /* a lone low surrogate */
            if (cp >= 0xD800 && cp <= 0xDBFF) {      /* a high surrogate must be followed by a low one */
                if (ps->len - ps->i < 2 || ps->p[ps->i] != '\\' || ps->p[ps->i + 1] != 'u') break;
                ps->i += 2;
                long low = read_hex4(ps);
                if (low < 0xDC00 || low > 0xDFFF) break;
                cp = 0x10000 + ((cp - 0xD800) << 10) + ((uint32_t)low - 0xDC00);
            }
            n += utf8_encode(cp, buf + n);
            continue;
        }
        default: break;
        }
        if (simple == 0) {
            free(buf);
            return fail(ps, "invalid escape in a string");
        }
        buf[n++] = simple;
    }
    ps->i++; /* the closing quote */
    buf[n] = '\0';
    *out = buf;
    *out_len = n;
    return true;
}

static bool parse_number(parser *ps, json_value *v) {
    size_t start = ps->i;
    bool integral = true;
    if (ps->p[ps->i] == '-') ps->i++;
    if (ps->i >= ps->len) return fail(ps, "malformed number");
    if (ps->p[ps->i] == '0') {
        ps->i++;
    } else if (ps->p[ps->i] >= '1' && ps->p[ps->i] <= '9') {
        while (ps->i < ps->len && ps->p[ps->i] >= '0' && ps->p[ps->i] <= '9') ps->i++;
    } else {
        return fail(ps, "malformed number");
    }
    if (ps->i < ps->len && ps->p[ps->i] == '.') {
        integral = false;
        ps->i++;
        size_t digits = ps->i;
        while (ps->i < ps->len && ps->p[ps->i] >= '0' && ps->p[ps->i] <= '9') ps->i++;
        if (ps->i == digits) return fail(ps, "malformed number");
    }
    if (ps->i < ps->len && (ps->p[ps->i] == 'e' || ps->p[ps->i] == 'E')) {
        integral = false;
        ps->i++;
        if (ps->i < ps->len && (ps->p[ps->i] == '+' || ps->p[ps->i] == '-')) ps->i++;
        size_t digits = ps->i;
        while (ps->i < ps->len && ps->p[ps->i] >= '0' && ps->p[ps->i] <= '9') ps->i++;
        if (ps->i == digits) return fail(ps, "malformed number");
    }
    size_t n = ps->i - start;
    if (n > 400) return fail(ps, "number too long");
    char text[401];
    memcpy(text, ps->p + start, n);
    text[n] = '\0';
    v->type = JSON_NUMBER;
    v->number = strtod(text, NULL);
    if (integral) {
        /* Exact int64 arithmetic, so 9007199254740993 stays exact and an overflow is noticed. */
        bool negative = text[0] == '-';
        uint64_t magnitude = 0;
        bool fits = true;
        for (const char *d = text + (negative ? 1 : 0); *d != '\0'; d++) {
            uint64_t digit = (uint64_t)(*d - '0');
            if (magnitude > (UINT64_MAX - digit) / 10) {
                fits = false;
                break;
            }
            magnitude = magnitude * 10 + digit;
        }
        if (fits && !negative && magnitude <= (uint64_t)INT64_MAX) {
            v->is_integer = true;
            v->integer = (int64_t)magnitude;
        } else if (fits && negative && magnitude <= (uint64_t)INT64_MAX + 1) {
            v->is_integer = true;
            v->integer = magnitude == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)magnitude;
        }
    }
    return true;
}

static bool parse_value(parser *ps, json_value *v, int depth);

/** Appends one zeroed item to a container under construction; NULL when out of memory. */
static json_value *grow(json_value *v, size_t *cap, bool with_keys) {
    if (v->count == *cap) {
        size_t next = *cap ? *cap * 2 : 4;
        json_value *items = realloc(v->items, next * sizeof *items);
        if (items == NULL) return NULL;
        v->items = items;
        if (with_keys) {
            char **keys = realloc(v->keys, next * sizeof *keys);
            if (keys == NULL) return NULL;
            v->keys = keys;
        }
        *cap = next;
    }
    json_value *item = &v->items[v->count];
    memset(item, 0, sizeof *item);
    if (with_keys) v->keys[v->count] = NULL;
    v->count++;
    return item;
}

static bool parse_container(parser *ps, json_value *v, int depth, bool object) {
    v->type = object ? JSON_OBJECT : JSON_ARRAY;
    uint8_t close = object ? '}' : ']';
    size_t cap = 0;
    ps->i++; /* the opening bracket */
    skip_ws(ps);
    if (ps->i < ps->len && ps->p[ps->i] == close) {
        ps->i++;
        return true;
    }
    for (;;) {
        skip_ws(ps);
        json_value *item = grow(v, &cap, object);
        if (item == NULL) return fail(ps, "out of memory");
        if (object) {
            if (ps->i >= ps->len || ps->p[ps->i] != '"') return fail(ps, "expected a member name");
            size_t key_len;
            if (!parse_string(ps, &v->keys[v->count - 1], &key_len)) return false;
            skip_ws(ps);
            if (ps->i >= ps->len || ps->p[ps->i] != ':') return fail(ps, "expected ':' after a member name");
            ps->i++;
            skip_ws(ps);
        }
        if (!parse_value(ps, item, depth + 1)) return false;
        skip_ws(ps);
        if (ps->i >= ps->len) return fail(ps, "unterminated object or array");
        if (ps->p[ps->i] == ',') {
            ps->i++;
            continue;
        }
        if (ps->p[ps->i] == close) {
            ps->i++;
            return true;
        }
        return fail(ps, object ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static bool literal(parser *ps, const char *word) {
    size_t n = strlen(word);
    if (ps->len - ps->i < n || memcmp(ps->p + ps->i, word, n) != 0) return fail(ps, "invalid literal");
    ps->i += n;
    return true;
}

static bool parse_value(parser *ps, json_value *v, int depth) {
    if (depth > JSON_MAX_DEPTH) return fail(ps, "nested too deeply");
    skip_ws(ps);
    if (ps->i >= ps->len) return fail(ps, "expected a value");
    switch (ps->p[ps->i]) {
    case '{': return parse_container(ps, v, depth, true);
    case '[': return parse_container(ps, v, depth, false);
    case '"': v->type = JSON_STRING; return parse_string(ps, &v->string, &v->string_len);
    case 't': v->type = JSON_BOOL; v->boolean = true; return literal(ps, "true");
    case 'f': v->type = JSON_BOOL; v->boolean = false; return literal(ps, "false");
    case 'n': v->type = JSON_NULL; return literal(ps, "null");
    default: return parse_number(ps, v);
    }
}

static void free_contents(json_value *v) {
    free(v->string);
    for (size_t k = 0; k < v->count; k++) {
        free_contents(&v->items[k]);
        if (v->keys != NULL) free(v->keys[k]);
    }
    free(v->items);
    free(v->keys);
}

json_value *json_parse(const uint8_t *p, size_t len, const char **error) {
    static const uint8_t empty[1] = {0};
    parser ps = {p != NULL ? p : empty, p != NULL ? len : 0, 0, NULL};
    json_value *root = calloc(1, sizeof *root);
    if (root == NULL) {
        if (error != NULL) *error = "out of memory";
        return NULL;
    }
    bool ok = parse_value(&ps, root, 0);
    if (ok) {
        skip_ws(&ps);
        if (ps.i != ps.len) ok = fail(&ps, "trailing characters after the value");
    }
    if (!ok) {
        json_free(root);
        if (error != NULL) *error = ps.error;
        return NULL;
    }
    return root;
}

void json_free(json_value *value) {
    if (value == NULL) return;
    free_contents(value);
    free(value);
}

const json_value *json_get(const json_value *object, const char *key) {
    if (object == NULL || object->type != JSON_OBJECT) return NULL;
    for (size_t k = 0; k < object->count; k++) {
        if (strcmp(object->keys[k], key) == 0) return &object->items[k];
    }
    return NULL;
}

json_lookup json_get_string(const json_value *object, const char *key, const char **out, size_t *out_len) {
    const json_value *v = json_get(object, key);
    if (v == NULL || v->type == JSON_NULL) return JSON_ABSENT;
    if (v->type != JSON_STRING) return JSON_WRONG_TYPE;
    *out = v->string;
    if (out_len != NULL) *out_len = v->string_len;
    return JSON_FOUND;
}

json_lookup json_get_bool(const json_value *object, const char *key, bool *out) {
    const json_value *v = json_get(object, key);
    if (v == NULL || v->type == JSON_NULL) return JSON_ABSENT;
    if (v->type != JSON_BOOL) return JSON_WRONG_TYPE;
    *out = v->boolean;
    return JSON_FOUND;
}

json_lookup json_get_int(const json_value *object, const char *key, int64_t *out) {
    const json_value *v = json_get(object, key);
    if (v == NULL || v->type == JSON_NULL) return JSON_ABSENT;
    if (v->type != JSON_NUMBER || !v->is_integer) return JSON_WRONG_TYPE;
    *out = v->integer;
    return JSON_FOUND;
}

/* ------------------------------------------------------------------------------------------------------------------ */
/* Writer                                                                                                             */
/* ------------------------------------------------------------------------------------------------------------------ */

void sb_putn(strbuf *sb, const char *s, size_t n) {
    if (sb->oom || n == 0) return;
    if (n > SIZE_MAX / 2 - sb->len) {
        sb->oom = true;
        return;
    }
    if (sb->len + n + 1 > sb->cap) {
        size_t cap = sb->cap ? sb->cap : 256;
        while (cap < sb->len + n + 1) cap *= 2;
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

void sb_puts(strbuf *sb, const char *s) { sb_putn(sb, s, strlen(s)); }

void sb_put_i64(strbuf *sb, int64_t v) {
    char digits[32];
    int n = snprintf(digits, sizeof digits, "%lld", (long long)v);
    if (n > 0) sb_putn(sb, digits, (size_t)n);
}

void sb_put_json_bytes(strbuf *sb, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    const uint8_t *u = (const uint8_t *)s;
    sb_putn(sb, "\"", 1);
    size_t run = 0; /* start of the pending run of bytes that need no escaping */
    for (size_t i = 0; i < n;) {
        uint8_t c = u[i];
        const char *escape = NULL;
        char uescape[7];
        size_t step = 1;
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
                snprintf(uescape, sizeof uescape, "\\u00%c%c", hex[c >> 4], hex[c & 0xF]);
                escape = uescape;
            } else if (c >= 0x80) {
                step = utf8_sequence(u + i, n - i);
                if (step == 0) { /* not UTF-8: one replacement character per bad byte */
                    escape = "\xEF\xBF\xBD";
                    step = 1;
                }
            }
            break;
        }
        if (escape != NULL) {
            sb_putn(sb, s + run, i - run);
            sb_puts(sb, escape);
            run = i + step;
        }
        i += step;
    }
    sb_putn(sb, s + run, n - run);
    sb_putn(sb, "\"", 1);
}

void sb_put_json_string(strbuf *sb, const char *s) { sb_put_json_bytes(sb, s, strlen(s)); }

static const char base64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void sb_put_base64(strbuf *sb, const uint8_t *data, size_t n) {
    char chunk[4096]; /* a multiple of 4 */
    size_t used = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t b0 = data[i];
        uint32_t b1 = i + 1 < n ? data[i + 1] : 0;
        uint32_t b2 = i + 2 < n ? data[i + 2] : 0;
        uint32_t triple = (b0 << 16) | (b1 << 8) | b2;
        chunk[used++] = base64_alphabet[(triple >> 18) & 0x3F];
        chunk[used++] = base64_alphabet[(triple >> 12) & 0x3F];
        chunk[used++] = i + 1 < n ? base64_alphabet[(triple >> 6) & 0x3F] : '=';
        chunk[used++] = i + 2 < n ? base64_alphabet[triple & 0x3F] : '=';
        if (used == sizeof chunk) {
            sb_putn(sb, chunk, used);
            used = 0;
        }
    }
    sb_putn(sb, chunk, used);
}

char *sb_take(strbuf *sb, size_t *len) {
    if (sb->oom) {
        sb_free(sb);
        return NULL;
    }
    if (sb->data == NULL) sb->data = calloc(1, 1); /* nothing was appended: an empty string */
    char *data = sb->data;
    if (data == NULL) return NULL;
    if (len != NULL) *len = sb->len;
    sb->data = NULL;
    sb->len = sb->cap = 0;
    return data;
}

void sb_free(strbuf *sb) {
    free(sb->data);
    sb->data = NULL;
    sb->len = sb->cap = 0;
    sb->oom = false;
}

/* ------------------------------------------------------------------------------------------------------------------ */
/* Base64 decoding                                                                                                    */
/* ------------------------------------------------------------------------------------------------------------------ */

static int base64_value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

bool base64_decode(const char *text, size_t len, uint8_t **out, size_t *out_len, bool *oom) {
    *oom = false;
    /* Padding: at most two '=' at the very end, and then the length must be a multiple of 4. */
    size_t pad = 0;
    while (pad < 2 && len > pad && text[len - 1 - pad] == '=') pad++;
    if (pad > 0 && len % 4 != 0) return false;
    size_t n = len - pad;
    if (n % 4 == 1) return false; /* no whole byte in a single trailing character */
    uint8_t *buf = malloc(n / 4 * 3 + 3);
    if (buf == NULL) {
        *oom = true;
        return false;
    }
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = base64_value(text[i]);
        if (v < 0) {
            free(buf);
            return false;
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[o++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    *out = buf;
    *out_len = o;
    return true;
}
