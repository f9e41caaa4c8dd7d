/*
 * Text from a target is any bytes: a comm (prctl(PR_SET_NAME) takes any 15), a path, a
 * symbol. JSON and XML outputs must still be valid, so their writers keep well-formed
 * UTF-8 as it is and put U+FFFD (the replacement character) for each byte that starts no
 * valid sequence (docs/report.md, "Names that are not UTF-8").
 */
#ifndef CS_UTF8_H
#define CS_UTF8_H

#include <stddef.h>
#include <stdio.h>

/* U+FFFD in UTF-8. */
#define CS_UTF8_REPLACEMENT "\xef\xbf\xbd"

/*
 * The length (1 to 4) of the well-formed UTF-8 sequence `s` starts with, or 0 when its
 * first byte starts none: a stray continuation byte, 0xc0, 0xc1 or 0xf5..0xff, a
 * sequence cut short (by another byte or by the string's NUL), an overlong encoding, a
 * UTF-16 surrogate (U+D800..U+DFFF) or a code point past U+10FFFF. `s` is NUL-terminated
 * and not at its end.
 */
size_t cs_utf8_seq_len(const char *s);

/*
 * Writes at most `max_bytes` bytes of `s` (fewer when a sequence would be cut) as XML
 * character data that is also fine in a double-quoted attribute: < > & " escaped; C0
 * controls, DEL, U+FFFE, U+FFFF and bytes of no valid sequence each become U+FFFD (XML 1.0
 * allows no control characters other than tab and newlines, not even as references; a
 * name has no use for those either). Returns the bytes of `s` consumed.
 */
size_t cs_xml_write_text(FILE *out, const char *s, size_t max_bytes);

#endif
