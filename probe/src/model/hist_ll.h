/*
 * Percentiles of log-linear histograms (corun_debug.h's corun_ll_bucket, 8 sub-buckets
 * per power of two), and the conversion that lets a log2 histogram of an older debug
 * table or recording be read as one.
 */
#ifndef CS_HIST_LL_H
#define CS_HIST_LL_H

#include <stdint.h>

#include "corun_debug.h"

/*
 * The q-quantile (0 < q <= 1) of hist[0..CORUN_LL_BUCKETS), 0 for an empty histogram.
 * The sample of rank ceil(q * total) is placed inside its bucket by linear interpolation
 * (the bucket's samples taken as evenly spread over its width), so the result is within
 * 1/8 of the true value and usually much closer; it never leaves the bucket's bounds.
 */
uint64_t cs_ll_quantile_ns(const uint64_t hist[CORUN_LL_BUCKETS], double q);

/*
 * Adds a log2 histogram (bucket 0 holds 0, bucket k >= 1 holds [2^(k-1), 2^k), the last
 * of the n holds the rest) into ll. Each log2 bucket's count goes to the log-linear
 * bucket of its upper value 2^k - 1, as the log2 reader reported a percentile by the
 * bucket's upper value: a converted histogram's percentiles are that old value to
 * within 1/8 (they cannot be more precise than the buckets they came from).
 */
void cs_ll_add_log2(uint64_t ll[CORUN_LL_BUCKETS], const uint64_t *log2, unsigned n);

/* ll = the log2 histogram log2[0..n) converted (cs_ll_add_log2 into zeroes). */
void cs_ll_from_log2(uint64_t ll[CORUN_LL_BUCKETS], const uint64_t *log2, unsigned n);

/* ll = src[0..n) as a libcorun table lays its histograms out: CORUN_LL_BUCKETS buckets are
 * log-linear ones (version 3) and copied, fewer are log2 ones (versions 1, 2) and
 * converted; 0: an empty histogram. */
void cs_ll_from_table(uint64_t ll[CORUN_LL_BUCKETS], const uint64_t *src, unsigned n);

/*
 * The log2 histogram (CORUN_HIST_BUCKETS buckets, corun_hist_bucket) of ll: exact, as each
 * log-linear bucket lies inside one power of two. For what is drawn one bar per power of
 * two, and for readers of the log2 layouts.
 */
void cs_ll_to_log2(uint64_t log2[CORUN_HIST_BUCKETS], const uint64_t ll[CORUN_LL_BUCKETS]);

/* The q-quantile of a log2 histogram log2[0..n) (a recording's, a view's), through its
 * conversion: within 1/8 of the old rule's bucket upper bound. */
uint64_t cs_log2_quantile_ns(const uint64_t *log2, unsigned n, double q);

/* The number of samples in ll. */
uint64_t cs_ll_total(const uint64_t ll[CORUN_LL_BUCKETS]);

/* The largest value the highest non-empty bucket of ll can hold; 0 for an empty one. */
uint64_t cs_ll_top_ns(const uint64_t ll[CORUN_LL_BUCKETS]);

#endif
