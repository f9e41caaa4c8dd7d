/* A small streaming JSON writer: objects, arrays, strings with proper escaping. */
#ifndef CS_JSON_WRITER_H
#define CS_JSON_WRITER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define CS_JSON_MAX_DEPTH 16

struct cs_json {
    FILE *out;
    int depth;
    bool need_comma[CS_JSON_MAX_DEPTH];
    bool after_key;
};

void cs_json_init(struct cs_json *w, FILE *out);
void cs_json_begin_object(struct cs_json *w);
void cs_json_end_object(struct cs_json *w);
void cs_json_begin_array(struct cs_json *w);
void cs_json_end_array(struct cs_json *w);
void cs_json_key(struct cs_json *w, const char *key);
void cs_json_string(struct cs_json *w, const char *s); /* NULL writes null */
void cs_json_uint(struct cs_json *w, uint64_t v);
void cs_json_int(struct cs_json *w, int64_t v);
/* v / 1000 with three decimals, exactly (e.g. nanoseconds as microseconds: 1234 -> 1.234). */
void cs_json_milli(struct cs_json *w, uint64_t v);
void cs_json_bool(struct cs_json *w, bool v);
void cs_json_null(struct cs_json *w);
/* A key and its value, the two calls in one. */
void cs_json_kv_uint(struct cs_json *w, const char *key, uint64_t v);
void cs_json_kv_string(struct cs_json *w, const char *key, const char *v);
/* An id where 0 means none: the number, or null. */
void cs_json_id_or_null(struct cs_json *w, uint64_t id);
/* A hex address as a string: "0x7f12…". */
void cs_json_hex(struct cs_json *w, uint64_t v);

#endif
