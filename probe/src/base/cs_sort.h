/* qsort for arrays that may be empty: qsort's pointer must not be NULL even when n is 0
 * (UBSan flags it), and an array grown from nothing is NULL until its first element. */
#ifndef CS_SORT_H
#define CS_SORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static inline void cs_qsort(void *base, size_t n, size_t size,
                            int (*cmp)(const void *, const void *))
{
    if (n > 1)
        qsort(base, n, size, cmp);
}

/*
 * Binary search in an array sorted by a uint64_t key (an id) stored `key_off` bytes into
 * each `size`-byte element: the index of the first element whose key is >= `key` (n if
 * none). Use offsetof(struct x, id) for key_off.
 */
static inline size_t cs_lower_bound_u64(const void *base, size_t n, size_t size, size_t key_off,
                                        uint64_t key)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint64_t k;
        memcpy(&k, (const char *)base + mid * size + key_off, sizeof k);
        if (k < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

#endif
