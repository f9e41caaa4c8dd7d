/*
 * A log-linear latency histogram (HDR-style): values below 2^SUB_BITS ns get a bucket
 * each; above that, every power of two is split into 2^SUB_BITS equal buckets, so a
 * quantile is off by at most 1/2^SUB_BITS (about 1.6%) of its value. Fixed size, no
 * allocation on the hot path.
 */
#ifndef CS_LATENCY_HISTOGRAM_H
#define CS_LATENCY_HISTOGRAM_H

#include <stdint.h>

#define CS_LAT_SUB_BITS 6
#define CS_LAT_SUB      (1u << CS_LAT_SUB_BITS)
/* Powers of two from 2^SUB_BITS to 2^63, plus the linear range below. */
#define CS_LAT_BUCKETS ((64 - CS_LAT_SUB_BITS) * CS_LAT_SUB + CS_LAT_SUB)

struct cs_latency_histogram {
    uint64_t count;
    uint64_t max_ns;
    uint64_t buckets[CS_LAT_BUCKETS];
};

static inline unsigned cs_latency_bucket(uint64_t v_ns)
{
    if (v_ns < CS_LAT_SUB)
        return (unsigned)v_ns;
    unsigned msb = 63u - (unsigned)__builtin_clzll(v_ns); /* >= SUB_BITS */
    unsigned shift = msb - CS_LAT_SUB_BITS;
    unsigned sub = (unsigned)(v_ns >> shift) & (CS_LAT_SUB - 1);
    return (shift + 1) * CS_LAT_SUB + sub;
}

/* The smallest value that falls into bucket b. */
static inline uint64_t cs_latency_bucket_low_ns(unsigned b)
{
    if (b < CS_LAT_SUB)
        return b;
    unsigned shift = b / CS_LAT_SUB - 1;
    uint64_t sub = b % CS_LAT_SUB;
    return (CS_LAT_SUB + sub) << shift;
}

static inline void cs_latency_histogram_add(struct cs_latency_histogram *h, uint64_t v_ns)
{
    h->buckets[cs_latency_bucket(v_ns)]++;
    h->count++;
    if (v_ns > h->max_ns)
        h->max_ns = v_ns;
}

/* The q-quantile (0 < q <= 1), as the middle of the bucket holding it; 0 when empty. */
static inline double cs_latency_histogram_quantile_ns(const struct cs_latency_histogram *h,
                                                      double q)
{
    if (!h->count)
        return 0.0;
    uint64_t rank = (uint64_t)(q * (double)h->count + 0.5);
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (unsigned b = 0; b < CS_LAT_BUCKETS; b++) {
        seen += h->buckets[b];
        if (seen >= rank) {
            double lo = (double)cs_latency_bucket_low_ns(b);
            double hi = b + 1 < CS_LAT_BUCKETS ? (double)cs_latency_bucket_low_ns(b + 1) : lo;
            double mid = (lo + hi) / 2.0;
            return mid > (double)h->max_ns ? (double)h->max_ns : mid;
        }
    }
    return (double)h->max_ns;
}

#endif
