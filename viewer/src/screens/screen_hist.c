/* Histograms drawn as bars, shared by the task detail and the loops screen. */
#include <stdio.h>

#include "model_tasks.h"
#include "screens.h"
#include "term.h"

int cs_draw_hist(int y, int x, int width, int bottom, const char *title, const uint64_t *hist)
{
    uint64_t total = 0, max = 0;
    int first = -1, last = -1;
    for (int k = 0; k < CORUN_HIST_BUCKETS; k++) {
        total += hist[k];
        if (!hist[k])
            continue;
        if (first < 0)
            first = k;
        last = k;
        if (hist[k] > max)
            max = hist[k];
    }
    if (y < bottom)
        cs_term_put(y, x + 1, CS_ROLE_TITLE, "%.*s (%llu)", width > 12 ? width - 12 : 1, title,
                    (unsigned long long)total);
    y++;
    if (!total) {
        if (y < bottom)
            cs_term_put(y, x + 3, CS_ROLE_DIM, "no samples yet");
        return y + 1;
    }
    /* "  lo-hi   count " takes 27 columns; the bar has the rest of the width. */
    int bar_w = width - 29;
    if (bar_w < 4)
        bar_w = 4;
    for (int k = first; k <= last && y < bottom; k++, y++) {
        /* A run of empty buckets takes one row. */
        if (!hist[k]) {
            cs_term_put(y, x + 3, CS_ROLE_DIM, "%15s %8s", "...", "0");
            while (k + 1 <= last && !hist[k + 1])
                k++;
            continue;
        }
        /* Bucket k holds [2^(k-1), 2^k) ns (corun_debug.h); bucket 0 holds 0 exactly. */
        char lo[16], hi[16], range[40];
        cs_fmt_duration(k ? 1ull << (k - 1) : 0, lo, sizeof lo);
        cs_fmt_duration(1ull << k, hi, sizeof hi);
        if (k)
            snprintf(range, sizeof range, "%7s-%-7s", lo, hi);
        else
            snprintf(range, sizeof range, "%7s %-7s", lo, "");
        int bx =
            cs_term_put(y, x + 3, CS_ROLE_NORMAL, "%s %8llu ", range, (unsigned long long)hist[k]);
        cs_term_bar(y, bx, (double)hist[k] * bar_w / (double)max, bar_w);
    }
    return y + 1;
}
