/* Durations on the command line: "50ms", "2s", "250us", "1000ns" (no suffix = ms). */
#ifndef CS_DURATION_H
#define CS_DURATION_H

#include <stdint.h>

/* Parses `text` into nanoseconds. Returns 0, or -EINVAL for a malformed or negative value. */
int cs_parse_duration_ns(const char *text, uint64_t *out_ns);

/* Parses a byte count with an optional k/K or m/M suffix (KiB/MiB). 0 or -EINVAL. */
int cs_parse_bytes(const char *text, uint64_t *out_bytes);

/* Parses a plain decimal count: digits only (no sign, no space, no suffix) that fit in
 * 64 bits. 0 or -EINVAL. */
int cs_parse_count(const char *text, uint64_t *out);

#endif
