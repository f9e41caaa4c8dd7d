#include "utf8.h"

static int is_continuation(unsigned char c)
{
    return (c & 0xc0) == 0x80;
}

size_t cs_utf8_seq_len(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    unsigned char c = p[0];
    if (c < 0x80)
        return 1;
    /* The second byte's range excludes overlong forms (0xe0, 0xf0), surrogates (0xed)
     * and code points past U+10FFFF (0xf4); the NUL ends a cut sequence early. */
    unsigned char lo = 0x80, hi = 0xbf;
    size_t len;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        if (c == 0xe0)
            lo = 0xa0;
        else if (c == 0xed)
            hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f;
    } else
        return 0;
    if (p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (!is_continuation(p[i]))
            return 0;
    return len;
}

/* U+FFFE and U+FFFF: well-formed UTF-8, yet no XML character. */
static int is_xml_nonchar(const unsigned char *p, size_t len)
{
    return len == 3 && p[0] == 0xef && p[1] == 0xbf && (p[2] == 0xbe || p[2] == 0xbf);
}

size_t cs_xml_write_text(FILE *out, const char *s, size_t max_bytes)
{
    size_t i = 0;
    while (s[i] && i < max_bytes) {
        const unsigned char *p = (const unsigned char *)s + i;
        size_t len = cs_utf8_seq_len(s + i);
        if (len > 1 && i + len > max_bytes)
            break; /* no half characters at the cut */
        if (len == 0 || *p < 0x20 || *p == 0x7f || is_xml_nonchar(p, len)) {
            fputs(CS_UTF8_REPLACEMENT, out);
            i += len ? len : 1;
            continue;
        }
        switch (*p) {
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '&':
            fputs("&amp;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        default:
            fwrite(p, 1, len, out);
        }
        i += len;
    }
    return i;
}
