#include "stat_hist.h"

#include <inttypes.h>
#include <stdbool.h>

#include "hist_ll.h"
#include "json_writer.h"
#include "model_tasks.h"

/* The summary of a histogram that every form prints. */
struct hist_figures {
    uint64_t count;
    uint64_t p_ns[3]; /* p50, p90, p99 */
    uint64_t max_ns;
    bool max_exact; /* max_ns is the largest value, not its bucket's upper bound */
};

static const double quantiles[3] = {0.50, 0.90, 0.99};

/* A quantile is read inside its bucket (within 1/8, hist_ll.h), but never more than a
 * largest value known exactly. */
static void figures(const uint64_t *h, const uint64_t *exact_max_ns, struct hist_figures *f)
{
    f->count = cs_ll_total(h);
    f->max_exact = exact_max_ns != NULL;
    f->max_ns = f->max_exact ? *exact_max_ns : cs_ll_top_ns(h);
    for (int i = 0; i < 3; i++) {
        uint64_t v = cs_ll_quantile_ns(h, quantiles[i]);
        f->p_ns[i] = f->max_exact && v > f->max_ns ? f->max_ns : v;
    }
}

void cs_stat_format_ns(uint64_t ns, char *buf, size_t len)
{
    if (ns < 10000)
        snprintf(buf, len, "%" PRIu64 "ns", ns);
    else if (ns < 10000000)
        snprintf(buf, len, "%.1fus", (double)ns / 1e3);
    else if (ns < 10000000000ull)
        snprintf(buf, len, "%.1fms", (double)ns / 1e6);
    else
        snprintf(buf, len, "%.1fs", (double)ns / 1e9);
}

static void write_text(FILE *out, const char *label, const uint64_t *h, const uint64_t *max_ns,
                       const char *extra)
{
    struct hist_figures f;
    figures(h, max_ns, &f);
    char p50[24], p90[24], p99[24], mx[24];
    cs_stat_format_ns(f.p_ns[0], p50, sizeof p50);
    cs_stat_format_ns(f.p_ns[1], p90, sizeof p90);
    cs_stat_format_ns(f.p_ns[2], p99, sizeof p99);
    cs_stat_format_ns(f.max_ns, mx, sizeof mx);
    fprintf(out, "  %-15s n=%-8" PRIu64 "%s p50 %s  p90 %s  p99 %s  max %s%s\n", label, f.count,
            extra, p50, p90, p99, f.max_exact ? "" : "<", mx);
}

void cs_stat_hist_text(FILE *out, const char *label, const uint64_t *h)
{
    write_text(out, label, h, NULL, "");
}

void cs_stat_hist_text_max(FILE *out, const char *label, const uint64_t *h, uint64_t max_ns,
                           const char *extra)
{
    write_text(out, label, h, &max_ns, extra);
}

static void write_members(struct cs_json *w, const uint64_t *h, const uint64_t *max_ns)
{
    static const char *const names[3] = {"p50_ns", "p90_ns", "p99_ns"};
    struct hist_figures f;
    figures(h, max_ns, &f);
    cs_json_key(w, "count");
    cs_json_uint(w, f.count);
    for (int i = 0; i < 3; i++) {
        cs_json_key(w, names[i]);
        cs_json_uint(w, f.p_ns[i]);
    }
    cs_json_key(w, "max_ns");
    cs_json_uint(w, f.max_ns);
    /* The non-empty buckets only, as [lower_ns, count]: 496 mostly empty counters would
     * swamp the output, and a bucket's upper bound follows from its lower one. */
    cs_json_key(w, "buckets");
    cs_json_begin_array(w);
    for (unsigned b = 0; b < CS_LL_HIST_BUCKETS; b++) {
        if (!h[b])
            continue;
        cs_json_begin_array(w);
        cs_json_uint(w, corun_ll_lower(b));
        cs_json_uint(w, h[b]);
        cs_json_end_array(w);
    }
    cs_json_end_array(w);
}

void cs_stat_hist_json(struct cs_json *w, const char *key, const uint64_t *h)
{
    cs_json_key(w, key);
    cs_json_begin_object(w);
    write_members(w, h, NULL);
    cs_json_end_object(w);
}

void cs_stat_hist_json_members_max(struct cs_json *w, const uint64_t *h, uint64_t max_ns)
{
    write_members(w, h, &max_ns);
}
