/*
 * Reading a recording's record payloads (docs/file-format.md): a cursor and its readers
 * of little-endian integers, strings and histograms. Private to the record layer's
 * readers; a read past the end marks the cursor bad instead of failing at once, so a
 * parser reads a whole record and checks once.
 */
#ifndef CS_RECORD_CURSOR_H
#define CS_RECORD_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A cursor over one record's payload: `bad` sticks once a read went past the end. */
struct cur {
    const uint8_t *p, *end;
    bool bad;
};

static inline const uint8_t *take(struct cur *c, size_t n)
{
    if (c->bad || (size_t)(c->end - c->p) < n) {
        c->bad = true;
        return NULL;
    }
    const uint8_t *at = c->p;
    c->p += n;
    return at;
}

static inline uint64_t get_le(struct cur *c, size_t n)
{
    const uint8_t *x = take(c, n);
    uint64_t v = 0;
    if (x)
        for (size_t i = 0; i < n; i++)
            v |= (uint64_t)x[i] << (8 * i);
    return v;
}

static inline uint8_t get_u8(struct cur *c)
{
    return (uint8_t)get_le(c, 1);
}
static inline uint16_t get_u16(struct cur *c)
{
    return (uint16_t)get_le(c, 2);
}
static inline uint32_t get_u32(struct cur *c)
{
    return (uint32_t)get_le(c, 4);
}
static inline uint64_t get_u64(struct cur *c)
{
    return get_le(c, 8);
}

/* Into a fixed buffer, cut to fit and NUL-terminated. */
static inline void get_str(struct cur *c, char *dst, size_t size)
{
    uint16_t n = get_u16(c);
    const uint8_t *s = take(c, n);
    size_t k = s ? (n < size - 1 ? n : size - 1) : 0;
    if (k)
        memcpy(dst, s, k);
    dst[k] = 0;
}

/* A fresh string (NULL for the empty one, as the model has it); false when out of memory. */
static inline bool get_dup(struct cur *c, const char **out)
{
    uint16_t n = get_u16(c);
    const uint8_t *s = take(c, n);
    *out = NULL;
    if (!s || !n)
        return true;
    char *d = malloc((size_t)n + 1);
    if (!d)
        return false;
    memcpy(d, s, n);
    d[n] = 0;
    *out = d;
    return true;
}

static inline void get_hist(struct cur *c, uint64_t *h, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        h[i] = get_u64(c);
}

#endif
