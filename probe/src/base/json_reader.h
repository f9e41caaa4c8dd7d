/*
 * A small, strict JSON reader (RFC 8259): the whole text becomes a tree of values, or
 * parsing fails with a message and the line and column of the first error. Strict means:
 * no comments, no trailing commas, no NaN/Infinity, no leading zeros, no control
 * characters in strings, valid UTF-8 only, no duplicate keys in an object, nothing but
 * white space after the value. Nesting deeper than CS_JSON_MAX_NESTING is refused, so a
 * hostile file cannot exhaust the stack. It is written to never crash on any input.
 */
#ifndef CS_JSON_READER_H
#define CS_JSON_READER_H

#include <stdbool.h>
#include <stddef.h>

#define CS_JSON_MAX_NESTING 256
/* Files larger than this are refused before parsing (cs_json_parse_file). */
#define CS_JSON_MAX_FILE_BYTES (256u * 1024 * 1024)

enum cs_jv_type {
    CS_JV_NULL,
    CS_JV_BOOL,
    CS_JV_NUMBER,
    CS_JV_STRING,
    CS_JV_ARRAY,
    CS_JV_OBJECT,
};

struct cs_jv;

struct cs_jv_member {
    char *key; /* NUL-terminated UTF-8 (a \u0000 escape is refused) */
    struct cs_jv *value;
};

struct cs_jv {
    enum cs_jv_type type;
    union {
        bool boolean;
        double number; /* always finite */
        struct {
            char *chars; /* NUL-terminated UTF-8 */
            size_t len;
        } string;
        struct {
            struct cs_jv **items;
            size_t len;
        } array;
        struct {
            struct cs_jv_member *members; /* in file order */
            size_t len;
        } object;
    } u;
};

struct cs_json_error {
    char message[160];
    size_t offset;   /* byte offset of the error */
    unsigned line;   /* 1-based */
    unsigned column; /* 1-based, in bytes */
};

/* Parses len bytes of text. 0 and *out = the tree (free with cs_jv_free), or -EINVAL
 * with err filled in (-ENOMEM when memory runs out). */
int cs_json_parse(const char *text, size_t len, struct cs_jv **out, struct cs_json_error *err);

/* Reads and parses a whole file. -errno when it cannot be read (err says why), else as
 * cs_json_parse. */
int cs_json_parse_file(const char *path, struct cs_jv **out, struct cs_json_error *err);

void cs_jv_free(struct cs_jv *v);

/* The member of an object with this key, or NULL (also when v is not an object). */
const struct cs_jv *cs_jv_get(const struct cs_jv *v, const char *key);

const char *cs_jv_type_name(enum cs_jv_type type);

#endif
