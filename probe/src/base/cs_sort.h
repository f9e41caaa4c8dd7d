/* qsort for arrays that may be empty: qsort's pointer must not be NULL even when n is 0
 * (UBSan flags it), and an array grown from nothing is NULL until its first element. */
#ifndef CS_SORT_H
#define CS_SORT_H

#include <stddef.h>
#include <stdlib.h>

static inline void cs_qsort(void *base, size_t n, size_t size,
                            int (*cmp)(const void *, const void *))
{
    if (n > 1)
        qsort(base, n, size, cmp);
}

#endif
