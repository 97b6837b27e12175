/*
 * json.h — the small JSON toolkit of the __PROVIDER__ provider: a bounded parser for requests, a growable buffer that
 * writes correctly escaped JSON for responses, and base64. ABI plumbing: a platform team normally keeps this file as
 * it is.
 *
 * Ownership: json_parse returns a tree the caller frees with json_free; strings returned by the getters point into
 * that tree (borrowed, valid until json_free). A strbuf owns its `data` until strbuf_take hands it over.
 * Threading: no global state; every function is safe to call from any thread on its own arguments.
 */
#ifndef PROVIDER_JSON_H
#define PROVIDER_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------------------------------------------------------------ */
/* Parsing                                                                                                            */
/* ------------------------------------------------------------------------------------------------------------------ */

typedef enum json_type { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT } json_type;

typedef struct json_value json_value;
struct json_value {
    json_type type;
    bool boolean;        /* JSON_BOOL */
    bool is_integer;     /* JSON_NUMBER written without fraction or exponent, and within int64 */
    int64_t integer;     /* JSON_NUMBER when is_integer */
    double number;       /* JSON_NUMBER, always */
    char *string;        /* JSON_STRING: decoded UTF-8, NUL-terminated; may contain NUL bytes (see string_len) */
    size_t string_len;   /* JSON_STRING: length in bytes, without the terminator */
    size_t count;        /* JSON_ARRAY, JSON_OBJECT: number of items / members */
    json_value *items;   /* JSON_ARRAY, JSON_OBJECT: the values */
    char **keys;         /* JSON_OBJECT: the member names (NUL-terminated), parallel to items */
};

/**
 * Parses the whole of [p, p+len) as one JSON value (RFC 8259; nesting at most 64 deep; strings must be valid UTF-8).
 * Returns NULL when it is not well-formed or memory runs out, with a reason in `error` (a static string).
 */
json_value *json_parse(const uint8_t *p, size_t len, const char **error);
void json_free(json_value *value);

/** The value of member `key` of `object` (the first one if repeated), or NULL when absent or not an object. */
const json_value *json_get(const json_value *object, const char *key);

/** What a typed getter found. JSON `null` reads as absent. */
typedef enum json_lookup { JSON_ABSENT = 0, JSON_FOUND = 1, JSON_WRONG_TYPE = -1 } json_lookup;

/** A string member; *out (borrowed) and *out_len on JSON_FOUND. `out_len` may be NULL. */
json_lookup json_get_string(const json_value *object, const char *key, const char **out, size_t *out_len);
json_lookup json_get_bool(const json_value *object, const char *key, bool *out);
/** An integer member (a number without fraction or exponent); a non-integral number is JSON_WRONG_TYPE. */
json_lookup json_get_int(const json_value *object, const char *key, int64_t *out);

/* ------------------------------------------------------------------------------------------------------------------ */
/* Writing                                                                                                            */
/* ------------------------------------------------------------------------------------------------------------------ */

/** A growable, NUL-terminated byte buffer. Zero-initialise it (`strbuf sb = {0};`). Allocation failure is sticky. */
typedef struct strbuf {
    char *data;
    size_t len;
    size_t cap;
    bool oom; /* set once an allocation failed; every later append is a no-op */
} strbuf;

void sb_putn(strbuf *sb, const char *s, size_t n);
void sb_puts(strbuf *sb, const char *s);
void sb_put_i64(strbuf *sb, int64_t v);
/** Appends [s, s+n) as a quoted JSON string. Invalid UTF-8 is replaced by U+FFFD, so any bytes (a log) are safe. */
void sb_put_json_bytes(strbuf *sb, const char *s, size_t n);
/** sb_put_json_bytes for a NUL-terminated string. */
void sb_put_json_string(strbuf *sb, const char *s);
/** Appends the base64 (RFC 4648, padded) of [data, data+n), unquoted. */
void sb_put_base64(strbuf *sb, const uint8_t *data, size_t n);
/** Hands the buffer over (caller frees it) and resets `sb`; NULL when an allocation failed (then `sb` is freed). */
char *sb_take(strbuf *sb, size_t *len);
void sb_free(strbuf *sb);

/* ------------------------------------------------------------------------------------------------------------------ */
/* Base64                                                                                                             */
/* ------------------------------------------------------------------------------------------------------------------ */

/**
 * Decodes standard base64 (RFC 4648 alphabet; padding optional; no whitespace). On success *out is malloc'd (caller
 * frees; non-NULL even for empty input) and *out_len set. Returns false when the text is not base64 or memory runs
 * out (then *oom says which).
 */
bool base64_decode(const char *text, size_t len, uint8_t **out, size_t *out_len, bool *oom);

#endif
