/*
 * How `coscope stat` prints a histogram (log-linear buckets of nanoseconds, hist_ll.h), for
 * libcorun loops and foreign loops alike: a text line with the count and p50/p90/p99/max,
 * or the same as JSON members with the buckets.
 */
#ifndef CS_STAT_HIST_H
#define CS_STAT_HIST_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct cs_json;

/* "123ns", "45.6us", "7.8ms", "9.0s": 3 to 4 significant digits. */
void cs_stat_format_ns(uint64_t ns, char *buf, size_t len);

/*
 * "  LABEL  n=COUNT p50 A  p90 B  p99 C  max <D": each percentile is read inside its
 * bucket (within 1/8), the maximum is the upper bound of the highest bucket.
 */
void cs_stat_hist_text(FILE *out, const char *label, const uint64_t *h);

/*
 * The same where the largest value is known exactly (the stall engine keeps it):
 * percentiles are capped by it and it is printed as is ("max D"). `extra` goes right
 * after the count ("" for nothing).
 */
void cs_stat_hist_text_max(FILE *out, const char *label, const uint64_t *h, uint64_t max_ns,
                           const char *extra);

/* "key": {"count", "p50_ns", "p90_ns", "p99_ns", "max_ns", "buckets"}, the buckets as
 * [[lower_ns, count], ...], non-empty ones only. */
void cs_stat_hist_json(struct cs_json *w, const char *key, const uint64_t *h);

/* Those members, into the object the caller has open, with an exactly known maximum. */
void cs_stat_hist_json_members_max(struct cs_json *w, const uint64_t *h, uint64_t max_ns);

#endif
