/* `coscope stat`'s summary for a foreign event loop: the libcorun summary's shape
 * (stat_report.c) without tasks, plus blocking system calls per loop thread. */
#include <inttypes.h>
#include <string.h>

#include "foreign_stat.h"
#include "hist_ll.h"
#include "json_writer.h"
#include "model_tasks.h"
#include "stat_hist.h"
#include "stat_report.h"

_Static_assert(CS_STAT_LL_BUCKETS == CS_LL_HIST_BUCKETS, "foreign and libcorun loop histograms");

/* The kernel's n counters (unsigned long long) as the model's log-linear histogram: the
 * slice histogram is log-linear already (CS_STAT_LL_BUCKETS), the blocking ones log2
 * (CS_STAT_HIST_BUCKETS). One printer and quantile function for both kinds of loop. */
static void to_hist(const unsigned long long *in, unsigned n, uint64_t out[CS_LL_HIST_BUCKETS])
{
    uint64_t raw[CS_LL_HIST_BUCKETS];
    for (unsigned k = 0; k < n; k++)
        raw[k] = in[k];
    cs_ll_from_table(out, raw, n);
}

static void write_hist_text(FILE *out, const char *label, const unsigned long long *counts,
                            unsigned n, uint64_t max_ns, const char *extra)
{
    uint64_t h[CS_LL_HIST_BUCKETS];
    to_hist(counts, n, h);
    cs_stat_hist_text_max(out, label, h, max_ns, extra);
}

static uint64_t utilisation_permille(const struct cs_foreign_loop *l)
{
    uint64_t all = l->busy_ns + l->wait_ns;
    return all ? l->busy_ns * 1000 / all : 0;
}

void cs_foreign_stat_write_text(FILE *out, const struct cs_foreign_stat *st)
{
    char a[24], b[24];
    double secs = (double)(st->end_ns - st->start_ns) / 1e9;
    cs_stat_format_ns(st->threshold_ns, a, sizeof a);
    fprintf(out,
            "process %d (%s): %.2fs, %zu event-loop thread%s (no libcorun: no tasks; counted "
            "from system calls), stalls are slices >= %s\n",
            st->pid, st->comm[0] ? st->comm : "?", secs, st->nloops, st->nloops == 1 ? "" : "s", a);
    for (size_t i = 0; i < st->nloops; i++) {
        const struct cs_foreign_loop *l = &st->loops[i];
        uint64_t iters = l->stat.iterations;
        cs_stat_format_ns(l->busy_ns, a, sizeof a);
        cs_stat_format_ns(l->wait_ns, b, sizeof b);
        fprintf(out,
                "loop %zu (thread %d, %s): %" PRIu64 " iterations (%.0f/s), utilisation %.1f%% "
                "(busy %s, waiting in wait calls %s), %llu stall%s\n",
                i + 1, l->tid, l->comm, iters, secs > 0 ? (double)iters / secs : 0.0,
                (double)utilisation_permille(l) / 10.0, a, b, (unsigned long long)l->stalls,
                l->stalls == 1 ? "" : "s");
        if (l->stall_in_progress_ns) {
            cs_stat_format_ns(l->stall_in_progress_ns, a, sizeof a);
            fprintf(out, "  a stall still in progress (unfinished, counted): %s so far%s\n", a,
                    st->end_ns - (int64_t)l->stall_in_progress_ns < st->start_ns
                        ? ", began before coscope attached"
                        : "");
        }
        write_hist_text(out, "iteration", l->stat.slice_hist, CS_STAT_LL_BUCKETS,
                        l->stat.max_slice_ns, "");
        if (!l->nblocking)
            continue;
        fprintf(out, "  blocking system calls in slices (off-CPU time each time):\n");
        for (size_t j = 0; j < l->nblocking; j++) {
            const struct cs_block_stat *bs = &l->blocking[j].stat;
            char total[48], t[24];
            cs_stat_format_ns(bs->total_ns, t, sizeof t);
            snprintf(total, sizeof total, " total %-9s", t);
            write_hist_text(out, l->blocking[j].name, bs->hist, CS_STAT_HIST_BUCKETS, bs->max_ns,
                            total);
        }
    }
    if (st->global_tracepoints)
        fprintf(out, "note: counted with the global syscall tracepoints (costly fallback)\n");
    if (st->lost_events)
        fprintf(out, "lost events: %" PRIu64 "\n", st->lost_events);
}

static void write_hist_json(struct cs_json *w, const unsigned long long *counts, unsigned n,
                            uint64_t max_ns)
{
    uint64_t h[CS_LL_HIST_BUCKETS];
    to_hist(counts, n, h);
    cs_stat_hist_json_members_max(w, h, max_ns);
}

static void write_loop_json(struct cs_json *w, size_t id, const struct cs_foreign_loop *l)
{
    cs_json_begin_object(w);
    cs_json_kv_uint(w, "id", id);
    cs_json_key(w, "tid");
    cs_json_int(w, l->tid);
    cs_json_key(w, "comm");
    cs_json_string(w, l->comm);
    cs_json_kv_uint(w, "iterations", l->stat.iterations);
    cs_json_kv_uint(w, "busy_us", l->busy_ns / 1000);
    cs_json_kv_uint(w, "poll_wait_us", l->wait_ns / 1000);
    cs_json_kv_uint(w, "utilisation_permille", utilisation_permille(l));
    cs_json_key(w, "ready_depth");
    cs_json_null(w); /* no ready queue to see without a runtime */
    /* Slices over the stall threshold: what libcorun calls long slices. */
    cs_json_kv_uint(w, "long_slices", l->stat.stalls);
    cs_json_kv_uint(w, "stalls", l->stalls);
    cs_json_key(w, "stall_in_progress_us");
    if (l->stall_in_progress_ns)
        cs_json_uint(w, l->stall_in_progress_ns / 1000);
    else
        cs_json_null(w);
    cs_json_key(w, "sched_latency");
    cs_json_null(w);
    cs_json_key(w, "iteration");
    cs_json_begin_object(w);
    write_hist_json(w, l->stat.slice_hist, CS_STAT_LL_BUCKETS, l->stat.max_slice_ns);
    cs_json_end_object(w);
    cs_json_key(w, "blocking");
    cs_json_begin_array(w);
    for (size_t j = 0; j < l->nblocking; j++) {
        const struct cs_block_stat *bs = &l->blocking[j].stat;
        cs_json_begin_object(w);
        cs_json_key(w, "syscall");
        cs_json_string(w, l->blocking[j].name);
        cs_json_kv_uint(w, "total_us", bs->total_ns / 1000);
        write_hist_json(w, bs->hist, CS_STAT_HIST_BUCKETS, bs->max_ns);
        cs_json_end_object(w);
    }
    cs_json_end_array(w);
    cs_json_end_object(w);
}

void cs_foreign_stat_write_json(FILE *out, const struct cs_foreign_stat *st)
{
    struct cs_json w;
    cs_stat_json_begin(&w, out, st->pid, (uint64_t)(st->end_ns - st->start_ns), st->lost_events);
    cs_json_kv_uint(&w, "stall_threshold_us", st->threshold_ns / 1000);
    cs_json_key(&w, "global_tracepoints");
    cs_json_bool(&w, st->global_tracepoints);
    cs_json_key(&w, "loops");
    cs_json_begin_array(&w);
    for (size_t i = 0; i < st->nloops; i++)
        write_loop_json(&w, i + 1, &st->loops[i]);
    cs_json_end_array(&w);
    cs_json_key(&w, "tasks");
    cs_json_null(&w); /* not a libcorun process: no tasks to see */
    cs_json_end_object(&w);
    fputc('\n', out);
}
