#include "hist_ll.h"

uint64_t cs_ll_quantile_ns(const uint64_t hist[CORUN_LL_BUCKETS], double q)
{
    uint64_t total = 0;
    for (unsigned b = 0; b < CORUN_LL_BUCKETS; b++)
        total += hist[b];
    if (!total)
        return 0;
    /* 1-based rank: p99 of 100 samples is the 99th. */
    uint64_t rank = (uint64_t)(q * (double)total + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > total)
        rank = total;
    uint64_t seen = 0;
    for (unsigned b = 0; b < CORUN_LL_BUCKETS; b++) {
        if (!hist[b] || seen + hist[b] < rank) {
            seen += hist[b];
            continue;
        }
        uint64_t lo = corun_ll_lower(b), hi = corun_ll_upper(b);
        /* The i-th of the bucket's c samples (1-based) sits at the middle of its share
         * of the width: one sample in a bucket is reported at the bucket's middle. */
        double frac = ((double)(rank - seen) - 0.5) / (double)hist[b];
        double v = (double)lo + frac * ((double)(hi - lo) + 1.0);
        if (v >= (double)hi)
            return hi;
        return v <= (double)lo ? lo : (uint64_t)v;
    }
    return UINT64_MAX;
}

void cs_ll_add_log2(uint64_t ll[CORUN_LL_BUCKETS], const uint64_t *log2, unsigned n)
{
    for (unsigned k = 0; k < n; k++) {
        if (!log2[k])
            continue;
        uint64_t upper = k == 0 ? 0 : k >= 64 ? UINT64_MAX : (1ull << k) - 1;
        ll[corun_ll_bucket(upper)] += log2[k];
    }
}

void cs_ll_from_log2(uint64_t ll[CORUN_LL_BUCKETS], const uint64_t *log2, unsigned n)
{
    for (unsigned b = 0; b < CORUN_LL_BUCKETS; b++)
        ll[b] = 0;
    cs_ll_add_log2(ll, log2, n);
}

void cs_ll_to_log2(uint64_t log2[CORUN_HIST_BUCKETS], const uint64_t ll[CORUN_LL_BUCKETS])
{
    for (unsigned k = 0; k < CORUN_HIST_BUCKETS; k++)
        log2[k] = 0;
    for (unsigned b = 0; b < CORUN_LL_BUCKETS; b++)
        log2[corun_hist_bucket(corun_ll_lower(b))] += ll[b];
}

uint64_t cs_ll_top_ns(const uint64_t ll[CORUN_LL_BUCKETS])
{
    for (unsigned b = CORUN_LL_BUCKETS; b-- > 0;)
        if (ll[b])
            return corun_ll_upper(b);
    return 0;
}

uint64_t cs_log2_quantile_ns(const uint64_t *log2, unsigned n, double q)
{
    uint64_t ll[CORUN_LL_BUCKETS];
    cs_ll_from_log2(ll, log2, n);
    return cs_ll_quantile_ns(ll, q);
}

void cs_ll_from_table(uint64_t ll[CORUN_LL_BUCKETS], const uint64_t *src, unsigned n)
{
    if (n == CORUN_LL_BUCKETS) {
        for (unsigned b = 0; b < CORUN_LL_BUCKETS; b++)
            ll[b] = src[b];
        return;
    }
    cs_ll_from_log2(ll, src, n);
}

uint64_t cs_ll_total(const uint64_t ll[CORUN_LL_BUCKETS])
{
    uint64_t n = 0;
    for (unsigned b = 0; b < CORUN_LL_BUCKETS; b++)
        n += ll[b];
    return n;
}
