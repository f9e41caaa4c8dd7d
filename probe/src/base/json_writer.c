#include "json_writer.h"

#include <inttypes.h>

#include "utf8.h"

void cs_json_init(struct cs_json *w, FILE *out)
{
    w->out = out;
    w->depth = 0;
    w->need_comma[0] = false;
    w->after_key = false;
}

/* Separates a value from the previous one at this level (unless it follows a key). */
static void value_prefix(struct cs_json *w)
{
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (w->need_comma[w->depth])
        fputc(',', w->out);
    w->need_comma[w->depth] = true;
}

static void open(struct cs_json *w, char c)
{
    value_prefix(w);
    fputc(c, w->out);
    if (w->depth + 1 < CS_JSON_MAX_DEPTH)
        w->depth++;
    w->need_comma[w->depth] = false;
}

static void close_(struct cs_json *w, char c)
{
    fputc(c, w->out);
    if (w->depth > 0)
        w->depth--;
}

void cs_json_begin_object(struct cs_json *w)
{
    open(w, '{');
}

void cs_json_end_object(struct cs_json *w)
{
    close_(w, '}');
}

void cs_json_begin_array(struct cs_json *w)
{
    open(w, '[');
}

void cs_json_end_array(struct cs_json *w)
{
    close_(w, ']');
}

/* Escapes what JSON requires, plus DEL (so no terminal sees it), and puts \ufffd for each
 * byte of the text that is not well-formed UTF-8 (utf8.h): names from a target are any
 * bytes, and a JSON text must be UTF-8. */
static void raw_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const char *p = s; *p;) {
        unsigned char c = (unsigned char)*p;
        size_t len = cs_utf8_seq_len(p);
        if (len == 0) {
            fputs("\\ufffd", out);
            p++;
            continue;
        }
        switch (c) {
        case '"':
            fputs("\\\"", out);
            break;
        case '\\':
            fputs("\\\\", out);
            break;
        case '\n':
            fputs("\\n", out);
            break;
        case '\t':
            fputs("\\t", out);
            break;
        case '\r':
            fputs("\\r", out);
            break;
        default:
            if (c < 0x20 || c == 0x7f)
                fprintf(out, "\\u%04x", c);
            else
                fwrite(p, 1, len, out);
        }
        p += len;
    }
    fputc('"', out);
}

void cs_json_key(struct cs_json *w, const char *key)
{
    value_prefix(w);
    raw_string(w->out, key);
    fputc(':', w->out);
    w->after_key = true;
}

void cs_json_string(struct cs_json *w, const char *s)
{
    if (!s) {
        cs_json_null(w);
        return;
    }
    value_prefix(w);
    raw_string(w->out, s);
}

void cs_json_uint(struct cs_json *w, uint64_t v)
{
    value_prefix(w);
    fprintf(w->out, "%" PRIu64, v);
}

void cs_json_milli(struct cs_json *w, uint64_t v)
{
    value_prefix(w);
    fprintf(w->out, "%" PRIu64 ".%03u", v / 1000, (unsigned)(v % 1000));
}

void cs_json_int(struct cs_json *w, int64_t v)
{
    value_prefix(w);
    fprintf(w->out, "%" PRId64, v);
}

void cs_json_bool(struct cs_json *w, bool v)
{
    value_prefix(w);
    fputs(v ? "true" : "false", w->out);
}

void cs_json_null(struct cs_json *w)
{
    value_prefix(w);
    fputs("null", w->out);
}

void cs_json_hex(struct cs_json *w, uint64_t v)
{
    value_prefix(w);
    fprintf(w->out, "\"0x%" PRIx64 "\"", v);
}

void cs_json_id_or_null(struct cs_json *w, uint64_t id)
{
    if (id)
        cs_json_uint(w, id);
    else
        cs_json_null(w);
}

void cs_json_kv_uint(struct cs_json *w, const char *key, uint64_t v)
{
    cs_json_key(w, key);
    cs_json_uint(w, v);
}

void cs_json_kv_string(struct cs_json *w, const char *key, const char *v)
{
    cs_json_key(w, key);
    cs_json_string(w, v);
}
