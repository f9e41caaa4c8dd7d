/* A small, strict JSON reader: recursive descent over a byte buffer (json_reader.h). */
#include "json_reader.h"
#include "cs_sort.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct parser {
    const char *text;
    size_t len;
    size_t pos;
    int depth;
    int status; /* 0, -EINVAL or -ENOMEM once something failed */
    struct cs_json_error *err;
};

static void fail_at(struct parser *p, size_t offset, const char *fmt, ...)
{
    if (p->status)
        return; /* the first error is the one to report */
    p->status = -EINVAL;
    struct cs_json_error *e = p->err;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    if (offset > p->len)
        offset = p->len;
    e->offset = offset;
    e->line = 1;
    e->column = 1;
    for (size_t i = 0; i < offset; i++) {
        if (p->text[i] == '\n') {
            e->line++;
            e->column = 1;
        } else {
            e->column++;
        }
    }
}

static void out_of_memory(struct parser *p)
{
    if (p->status)
        return;
    fail_at(p, p->pos, "out of memory");
    p->status = -ENOMEM;
}

static int peek(const struct parser *p)
{
    return p->pos < p->len ? (unsigned char)p->text[p->pos] : -1;
}

static void skip_space(struct parser *p)
{
    while (p->pos < p->len) {
        char c = p->text[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        p->pos++;
    }
}

/* Names what is at the current position for an error message. */
static const char *what_is_here(const struct parser *p, char *buf, size_t size)
{
    int c = peek(p);
    if (c < 0)
        return "the end of the input";
    if (c >= 0x21 && c < 0x7f)
        snprintf(buf, size, "'%c'", c);
    else
        snprintf(buf, size, "byte 0x%02x", (unsigned)c);
    return buf;
}

static struct cs_jv *new_value(struct parser *p, enum cs_jv_type type)
{
    struct cs_jv *v = calloc(1, sizeof *v);
    if (!v) {
        out_of_memory(p);
        return NULL;
    }
    v->type = type;
    return v;
}

static struct cs_jv *parse_value(struct parser *p);

static bool match_word(struct parser *p, const char *word)
{
    size_t n = strlen(word);
    if (p->len - p->pos < n || memcmp(p->text + p->pos, word, n) != 0)
        return false;
    p->pos += n;
    return true;
}

static int hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Reads the 4 hex digits after "\u"; -1 (error reported) when they are not there. */
static long read_hex4(struct parser *p)
{
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int d = hex_digit(peek(p));
        if (d < 0) {
            fail_at(p, p->pos, "\\u must be followed by 4 hex digits");
            return -1;
        }
        v = v * 16 + d;
        p->pos++;
    }
    return v;
}

/* Length of the valid UTF-8 sequence at s (n bytes available), 0 if it is not one. */
static size_t utf8_sequence_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    /* Overlong forms, surrogates and code points past U+10FFFF are not UTF-8. */
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

static size_t put_utf8(char *out, uint32_t cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Parses a string at the opening quote; returns it NUL-terminated (len in *len_out). */
static char *parse_string_chars(struct parser *p, size_t *len_out)
{
    size_t start = p->pos;
    p->pos++; /* the opening quote */
    /* The decoded text is never longer than the source text. */
    size_t cap = 1;
    for (size_t i = p->pos; i < p->len && p->text[i] != '"'; i++) {
        if (p->text[i] == '\\') {
            i++; /* the escaped byte: never the end of the string */
            cap++;
        }
        cap++;
    }
    char *out = malloc(cap + 4);
    if (!out) {
        out_of_memory(p);
        return NULL;
    }
    size_t n = 0;
    for (;;) {
        int c = peek(p);
        if (c < 0) {
            fail_at(p, start, "string not closed before the end of the input");
            goto bad;
        }
        if (c == '"') {
            p->pos++;
            break;
        }
        if (c < 0x20) {
            fail_at(p, p->pos, "control character 0x%02x inside a string (escape it)", (unsigned)c);
            goto bad;
        }
        if (c == '\\') {
            size_t esc_at = p->pos;
            p->pos++;
            int e = peek(p);
            if (e < 0) {
                fail_at(p, start, "string not closed before the end of the input");
                goto bad;
            }
            const char *simple = e >= 0 ? strchr("\"\\/bfnrt", e) : NULL;
            if (e > 0 && simple) {
                static const char decoded[] = "\"\\/\b\f\n\r\t";
                out[n++] = decoded[simple - "\"\\/bfnrt"];
                p->pos++;
                continue;
            }
            if (e != 'u') {
                fail_at(p, esc_at, "invalid escape in a string");
                goto bad;
            }
            p->pos++;
            long hi = read_hex4(p);
            if (hi < 0)
                goto bad;
            uint32_t cp = (uint32_t)hi;
            if (hi >= 0xdc00 && hi <= 0xdfff) {
                fail_at(p, esc_at, "lone low surrogate \\u%04lx", hi);
                goto bad;
            }
            if (hi >= 0xd800 && hi <= 0xdbff) {
                if (!match_word(p, "\\u")) {
                    fail_at(p, esc_at, "high surrogate \\u%04lx without its low half", hi);
                    goto bad;
                }
                long lo = read_hex4(p);
                if (lo < 0)
                    goto bad;
                if (lo < 0xdc00 || lo > 0xdfff) {
                    fail_at(p, esc_at, "high surrogate \\u%04lx without its low half", hi);
                    goto bad;
                }
                cp = 0x10000 + (((uint32_t)hi - 0xd800) << 10) + ((uint32_t)lo - 0xdc00);
            }
            if (cp == 0) {
                fail_at(p, esc_at, "\\u0000 inside a string is not supported");
                goto bad;
            }
            n += put_utf8(out + n, cp);
            continue;
        }
        size_t seq = utf8_sequence_len((const unsigned char *)p->text + p->pos, p->len - p->pos);
        if (seq == 0) {
            fail_at(p, p->pos, "invalid UTF-8 inside a string");
            goto bad;
        }
        memcpy(out + n, p->text + p->pos, seq);
        n += seq;
        p->pos += seq;
    }
    out[n] = '\0';
    *len_out = n;
    return out;
bad:
    free(out);
    return NULL;
}

static struct cs_jv *parse_number(struct parser *p)
{
    size_t start = p->pos;
    if (peek(p) == '-')
        p->pos++;
    int c = peek(p);
    if (c == '0') {
        p->pos++;
        if (peek(p) >= '0' && peek(p) <= '9') {
            fail_at(p, start, "number with a leading zero");
            return NULL;
        }
    } else if (c >= '1' && c <= '9') {
        while (peek(p) >= '0' && peek(p) <= '9')
            p->pos++;
    } else {
        fail_at(p, start, "invalid number");
        return NULL;
    }
    if (peek(p) == '.') {
        p->pos++;
        if (!(peek(p) >= '0' && peek(p) <= '9')) {
            fail_at(p, p->pos, "a digit must follow the decimal point");
            return NULL;
        }
        while (peek(p) >= '0' && peek(p) <= '9')
            p->pos++;
    }
    if (peek(p) == 'e' || peek(p) == 'E') {
        p->pos++;
        if (peek(p) == '+' || peek(p) == '-')
            p->pos++;
        if (!(peek(p) >= '0' && peek(p) <= '9')) {
            fail_at(p, p->pos, "a digit must follow the exponent");
            return NULL;
        }
        while (peek(p) >= '0' && peek(p) <= '9')
            p->pos++;
    }
    /* The grammar is checked; strtod needs a terminated copy (the buffer may not be). */
    size_t n = p->pos - start;
    char small[64];
    char *copy = n < sizeof small ? small : malloc(n + 1);
    if (!copy) {
        out_of_memory(p);
        return NULL;
    }
    memcpy(copy, p->text + start, n);
    copy[n] = '\0';
    double d = strtod(copy, NULL);
    if (copy != small)
        free(copy);
    if (!isfinite(d)) {
        fail_at(p, start, "number out of range");
        return NULL;
    }
    struct cs_jv *v = new_value(p, CS_JV_NUMBER);
    if (v)
        v->u.number = d;
    return v;
}

static bool grow(struct parser *p, void **items, size_t *cap, size_t len, size_t item_size)
{
    if (len < *cap)
        return true;
    size_t new_cap = *cap ? *cap * 2 : 4;
    void *n = realloc(*items, new_cap * item_size);
    if (!n) {
        out_of_memory(p);
        return false;
    }
    *items = n;
    *cap = new_cap;
    return true;
}

static struct cs_jv *parse_array(struct parser *p)
{
    struct cs_jv *v = new_value(p, CS_JV_ARRAY);
    if (!v)
        return NULL;
    size_t cap = 0;
    p->pos++; /* '[' */
    skip_space(p);
    if (peek(p) == ']') {
        p->pos++;
        return v;
    }
    for (;;) {
        struct cs_jv *item = parse_value(p);
        if (!item)
            goto bad;
        if (!grow(p, (void **)&v->u.array.items, &cap, v->u.array.len, sizeof item)) {
            cs_jv_free(item);
            goto bad;
        }
        v->u.array.items[v->u.array.len++] = item;
        skip_space(p);
        int c = peek(p);
        if (c == ',') {
            p->pos++;
            skip_space(p);
            if (peek(p) == ']') {
                fail_at(p, p->pos, "trailing comma before ']'");
                goto bad;
            }
            continue;
        }
        if (c == ']') {
            p->pos++;
            return v;
        }
        char buf[16];
        fail_at(p, p->pos, "expected ',' or ']' in an array, found %s",
                what_is_here(p, buf, sizeof buf));
        goto bad;
    }
bad:
    cs_jv_free(v);
    return NULL;
}

static int compare_member_keys(const void *a, const void *b)
{
    const struct cs_jv_member *x = *(const struct cs_jv_member *const *)a;
    const struct cs_jv_member *y = *(const struct cs_jv_member *const *)b;
    return strcmp(x->key, y->key);
}

/* Duplicate keys make "the value of key K" ambiguous: refuse them (sorted pointers,
 * so an object with many members costs n log n, not n^2). */
static bool keys_unique(struct parser *p, const struct cs_jv *v, size_t obj_start)
{
    size_t n = v->u.object.len;
    if (n < 2)
        return true;
    const struct cs_jv_member **sorted = malloc(n * sizeof *sorted);
    if (!sorted) {
        out_of_memory(p);
        return false;
    }
    for (size_t i = 0; i < n; i++)
        sorted[i] = &v->u.object.members[i];
    cs_qsort(sorted, n, sizeof *sorted, compare_member_keys);
    bool ok = true;
    for (size_t i = 1; i < n && ok; i++) {
        if (strcmp(sorted[i - 1]->key, sorted[i]->key) == 0) {
            fail_at(p, obj_start, "duplicate key \"%.80s\" in an object", sorted[i]->key);
            ok = false;
        }
    }
    free(sorted);
    return ok;
}

static struct cs_jv *parse_object(struct parser *p)
{
    size_t obj_start = p->pos;
    struct cs_jv *v = new_value(p, CS_JV_OBJECT);
    if (!v)
        return NULL;
    size_t cap = 0;
    p->pos++; /* '{' */
    skip_space(p);
    if (peek(p) == '}') {
        p->pos++;
        return v;
    }
    for (;;) {
        char buf[16];
        if (peek(p) != '"') {
            fail_at(p, p->pos, "expected a string key in an object, found %s",
                    what_is_here(p, buf, sizeof buf));
            goto bad;
        }
        size_t key_len;
        char *key = parse_string_chars(p, &key_len);
        if (!key)
            goto bad;
        skip_space(p);
        if (peek(p) != ':') {
            fail_at(p, p->pos, "expected ':' after a key, found %s",
                    what_is_here(p, buf, sizeof buf));
            free(key);
            goto bad;
        }
        p->pos++;
        struct cs_jv *item = parse_value(p);
        if (!item) {
            free(key);
            goto bad;
        }
        if (!grow(p, (void **)&v->u.object.members, &cap, v->u.object.len,
                  sizeof(struct cs_jv_member))) {
            free(key);
            cs_jv_free(item);
            goto bad;
        }
        v->u.object.members[v->u.object.len++] = (struct cs_jv_member){key, item};
        skip_space(p);
        int c = peek(p);
        if (c == ',') {
            p->pos++;
            skip_space(p);
            if (peek(p) == '}') {
                fail_at(p, p->pos, "trailing comma before '}'");
                goto bad;
            }
            continue;
        }
        if (c == '}') {
            p->pos++;
            if (!keys_unique(p, v, obj_start))
                goto bad;
            return v;
        }
        fail_at(p, p->pos, "expected ',' or '}' in an object, found %s",
                what_is_here(p, buf, sizeof buf));
        goto bad;
    }
bad:
    cs_jv_free(v);
    return NULL;
}

static struct cs_jv *parse_value(struct parser *p)
{
    skip_space(p);
    int c = peek(p);
    char buf[16];
    switch (c) {
    case '{':
    case '[': {
        if (++p->depth > CS_JSON_MAX_NESTING) {
            fail_at(p, p->pos, "nested deeper than %d levels", CS_JSON_MAX_NESTING);
            return NULL;
        }
        struct cs_jv *v = c == '{' ? parse_object(p) : parse_array(p);
        p->depth--;
        return v;
    }
    case '"': {
        struct cs_jv *v = new_value(p, CS_JV_STRING);
        if (!v)
            return NULL;
        v->u.string.chars = parse_string_chars(p, &v->u.string.len);
        if (!v->u.string.chars) {
            free(v);
            return NULL;
        }
        return v;
    }
    case 't':
    case 'f':
        if (match_word(p, c == 't' ? "true" : "false")) {
            struct cs_jv *v = new_value(p, CS_JV_BOOL);
            if (v)
                v->u.boolean = c == 't';
            return v;
        }
        break;
    case 'n':
        if (match_word(p, "null"))
            return new_value(p, CS_JV_NULL);
        break;
    default:
        if (c == '-' || (c >= '0' && c <= '9'))
            return parse_number(p);
        break;
    }
    fail_at(p, p->pos, "expected a value, found %s", what_is_here(p, buf, sizeof buf));
    return NULL;
}

int cs_json_parse(const char *text, size_t len, struct cs_jv **out, struct cs_json_error *err)
{
    struct parser p = {.text = text, .len = len, .err = err};
    *out = NULL;
    memset(err, 0, sizeof *err);
    /* A UTF-8 byte order mark is not JSON (RFC 8259 §8.1): say so plainly. */
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
        fail_at(&p, 0, "starts with a UTF-8 byte order mark");
        return p.status;
    }
    struct cs_jv *v = parse_value(&p);
    if (v) {
        skip_space(&p);
        if (p.pos != p.len) {
            char buf[16];
            fail_at(&p, p.pos, "unexpected %s after the value", what_is_here(&p, buf, sizeof buf));
        }
    }
    if (p.status) {
        cs_jv_free(v);
        return p.status;
    }
    *out = v;
    return 0;
}

int cs_json_parse_file(const char *path, struct cs_jv **out, struct cs_json_error *err)
{
    memset(err, 0, sizeof *err);
    *out = NULL;
    /* O_NONBLOCK: a FIFO or a device must not hang the open; only regular files pass */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    FILE *f = fd >= 0 ? fdopen(fd, "rb") : NULL;
    if (!f) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        snprintf(err->message, sizeof err->message, "%s", strerror(e));
        return -e;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0) {
        int e = errno;
        snprintf(err->message, sizeof err->message, "%s", strerror(e));
        fclose(f);
        return -e;
    }
    if (!S_ISREG(st.st_mode)) {
        /* not EINVAL: that is a parse error (with a line and a column) */
        int e = S_ISDIR(st.st_mode) ? EISDIR : ENODEV;
        snprintf(err->message, sizeof err->message, "%s",
                 e == EISDIR ? "is a directory" : "not a regular file");
        fclose(f);
        return -e;
    }
    if ((unsigned long long)st.st_size > CS_JSON_MAX_FILE_BYTES) {
        snprintf(err->message, sizeof err->message, "larger than %u MiB",
                 CS_JSON_MAX_FILE_BYTES >> 20);
        fclose(f);
        return -EFBIG;
    }
    size_t size = (size_t)st.st_size;
    char *buf = malloc(size ? size : 1);
    if (!buf) {
        fclose(f);
        snprintf(err->message, sizeof err->message, "out of memory");
        return -ENOMEM;
    }
    size_t got = fread(buf, 1, size, f);
    int read_failed = ferror(f);
    fclose(f);
    if (read_failed || got != size) {
        free(buf);
        snprintf(err->message, sizeof err->message, "read error");
        return -EIO;
    }
    int rc = cs_json_parse(buf, size, out, err);
    free(buf);
    return rc;
}

void cs_jv_free(struct cs_jv *v)
{
    if (!v)
        return;
    switch (v->type) {
    case CS_JV_STRING:
        free(v->u.string.chars);
        break;
    case CS_JV_ARRAY:
        for (size_t i = 0; i < v->u.array.len; i++)
            cs_jv_free(v->u.array.items[i]);
        free(v->u.array.items);
        break;
    case CS_JV_OBJECT:
        for (size_t i = 0; i < v->u.object.len; i++) {
            free(v->u.object.members[i].key);
            cs_jv_free(v->u.object.members[i].value);
        }
        free(v->u.object.members);
        break;
    default:
        break;
    }
    free(v);
}

const struct cs_jv *cs_jv_get(const struct cs_jv *v, const char *key)
{
    if (!v || v->type != CS_JV_OBJECT)
        return NULL;
    for (size_t i = 0; i < v->u.object.len; i++)
        if (strcmp(v->u.object.members[i].key, key) == 0)
            return v->u.object.members[i].value;
    return NULL;
}

const char *cs_jv_type_name(enum cs_jv_type type)
{
    switch (type) {
    case CS_JV_NULL:
        return "null";
    case CS_JV_BOOL:
        return "a boolean";
    case CS_JV_NUMBER:
        return "a number";
    case CS_JV_STRING:
        return "a string";
    case CS_JV_ARRAY:
        return "an array";
    case CS_JV_OBJECT:
        return "an object";
    }
    return "?";
}
