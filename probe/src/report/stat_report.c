#include "stat_report.h"

#include <inttypes.h>
#include <string.h>

#include "blocking_report.h"
#include "hist_ll.h"
#include "json_writer.h"
#include "stat_hist.h"

/* Session deltas: what happened between the first and the last snapshot. */
static uint64_t delta(uint64_t last, uint64_t base)
{
    return last >= base ? last - base : last; /* a reset counter counts from zero */
}

/* n buckets: CS_LL_HIST_BUCKETS for a loop's histograms, CS_TASK_HIST_BUCKETS a task's. */
static void hist_delta(const uint64_t *last, const uint64_t *base, uint64_t *out, unsigned n)
{
    for (unsigned k = 0; k < n; k++)
        out[k] = delta(last[k], base ? base[k] : 0);
}

/*
 * The longest iteration of the session, when the runtime keeps it: exact if it was set
 * during the session; otherwise, when it falls in the session's highest bucket, the
 * runtime's maximum bounds the session's more tightly than the bucket does. False: the
 * bucket bounds say enough.
 */
static bool iter_max_ns(const struct cs_stat_loop *l, const uint64_t *h, uint64_t *max_ns)
{
    if (!l->last.iter_max_known || !cs_ll_total(h))
        return false;
    if (l->last.iter_max_ns > l->base.iter_max_ns ||
        cs_ll_top_ns(h) == corun_ll_upper(corun_ll_bucket(l->last.iter_max_ns))) {
        *max_ns = l->last.iter_max_ns;
        return true;
    }
    return false;
}

static int64_t alive_ns(const struct cs_stat *st, const struct cs_stat_task *t)
{
    if (!t->created_ns)
        return -1;
    return (t->gone ? t->last_seen_ns : st->end_ns) - t->created_ns;
}

/*
 * The task that held loop `l` for the whole run: the same slice (task and slice number)
 * at the first and the last reading — a stall still in progress, at least as long as the
 * run. NULL if the loop ran more than one slice, or its task is unknown.
 */
static const struct cs_stat_task *stuck_task(const struct cs_stat *st, const struct cs_stat_loop *l)
{
    if (!l->base.current_task_id || l->base.current_task_id != l->last.current_task_id ||
        l->base.slice_seq != l->last.slice_seq || l->last.iterations != l->base.iterations)
        return NULL;
    for (size_t j = 0; j < st->ntasks; j++)
        if (st->tasks[j].id == l->last.current_task_id)
            return &st->tasks[j];
    return NULL;
}

void cs_stat_write_text(FILE *out, const struct cs_stat *st)
{
    char a[24], b[24];
    const char *comm = st->comm[0] ? st->comm : "?";
    double secs = (double)(st->end_ns - st->start_ns) / 1e9;
    fprintf(out, "process %d (%s): %.2fs, %zu loop%s, %zu task%s seen\n", st->pid, comm, secs,
            st->nloops, st->nloops == 1 ? "" : "s", st->ntasks, st->ntasks == 1 ? "" : "s");
    for (size_t i = 0; i < st->nloops; i++) {
        const struct cs_stat_loop *l = &st->loops[i];
        uint64_t iters = delta(l->last.iterations, l->base.iterations);
        uint64_t busy = delta(l->last.busy_ns, l->base.busy_ns);
        uint64_t wait = delta(l->last.poll_wait_ns, l->base.poll_wait_ns);
        cs_stat_format_ns(busy, a, sizeof a);
        cs_stat_format_ns(wait, b, sizeof b);
        fprintf(out,
                "loop %" PRIu64 " (thread %d): %" PRIu64 " iterations (%.0f/s), utilisation "
                "%.1f%% (busy %s, waiting in poll %s), ready queue avg %.1f max %" PRIu64
                ", %" PRIu64 " long slices\n",
                l->id, l->tid, iters, secs > 0 ? (double)iters / secs : 0.0,
                busy + wait ? 100.0 * (double)busy / (double)(busy + wait) : 0.0, a, b,
                l->ready_samples ? (double)l->ready_sum / (double)l->ready_samples : 0.0,
                l->ready_max, l->long_slices);
        const struct cs_stat_task *stuck = stuck_task(st, l);
        if (stuck) {
            cs_stat_format_ns((uint64_t)(st->end_ns - st->start_ns), a, sizeof a);
            fprintf(out,
                    "  stuck: task %s #%" PRIu64 " held the loop the whole run (at least %s), "
                    "a stall still in progress\n",
                    stuck->name, stuck->id, a);
        }
        uint64_t h[CS_LL_HIST_BUCKETS];
        hist_delta(l->last.sched_hist, l->base.sched_hist, h, CS_LL_HIST_BUCKETS);
        cs_stat_hist_text(out, "sched latency", h);
        hist_delta(l->last.iter_hist, l->base.iter_hist, h, CS_LL_HIST_BUCKETS);
        uint64_t mx;
        if (iter_max_ns(l, h, &mx))
            cs_stat_hist_text_max(out, "iteration", h, mx, "");
        else
            cs_stat_hist_text(out, "iteration", h);
        fprintf(out, "  %-16s %6s %8s %9s %8s %9s %9s %9s %6s\n", "TASK", "ID", "POLLS", "BUSY",
                "WAKES", "SCHED p50", "SCHED p99", "ALIVE", "LONG");
        for (size_t j = 0; j < st->ntasks; j++) {
            const struct cs_stat_task *t = &st->tasks[j];
            if (t->loop_id != l->id)
                continue;
            char busy_s[24], p50[24], p99[24], alive[24];
            uint64_t sh[CS_TASK_HIST_BUCKETS];
            hist_delta(t->last.sched_hist, t->base_sched_hist, sh, CS_TASK_HIST_BUCKETS);
            cs_stat_format_ns(delta(t->last.busy_ns, t->base_busy_ns), busy_s, sizeof busy_s);
            cs_stat_format_ns(cs_hist_quantile_ns(sh, 0.5), p50, sizeof p50);
            cs_stat_format_ns(cs_hist_quantile_ns(sh, 0.99), p99, sizeof p99);
            int64_t al = alive_ns(st, t);
            if (al < 0)
                snprintf(alive, sizeof alive, "?");
            else
                cs_stat_format_ns((uint64_t)al, alive, sizeof alive);
            fprintf(out,
                    "  %-16.16s %6" PRIu64 " %8" PRIu64 " %9s %8" PRIu64 " %9s %9s %9s %6" PRIu64
                    "%s\n",
                    t->name, t->id, delta(t->last.polls, t->base_polls), busy_s,
                    delta(t->last.wakes, t->base_wakes), p50, p99, alive, t->long_slices,
                    t->gone ? "  (finished)" : "");
        }
    }
    if (st->blocking)
        cs_blocking_write_text(out, st->blocking, st);
    if (st->lost_events)
        fprintf(out, "lost events: %" PRIu64 "\n", st->lost_events);
}

static void kv_uint(struct cs_json *w, const char *key, uint64_t v)
{
    cs_json_key(w, key);
    cs_json_uint(w, v);
}

void cs_stat_json_begin(struct cs_json *w, FILE *out, int pid, uint64_t duration_ns,
                        uint64_t lost_events)
{
    cs_json_init(w, out);
    cs_json_begin_object(w);
    cs_json_key(w, "pid");
    cs_json_int(w, pid);
    kv_uint(w, "duration_us", duration_ns / 1000);
    kv_uint(w, "lost_events", lost_events);
}

void cs_stat_write_json(FILE *out, const struct cs_stat *st)
{
    struct cs_json w;
    cs_stat_json_begin(&w, out, st->pid, (uint64_t)(st->end_ns - st->start_ns), st->lost_events);
    cs_json_key(&w, "loops");
    cs_json_begin_array(&w);
    for (size_t i = 0; i < st->nloops; i++) {
        const struct cs_stat_loop *l = &st->loops[i];
        uint64_t busy = delta(l->last.busy_ns, l->base.busy_ns);
        uint64_t wait = delta(l->last.poll_wait_ns, l->base.poll_wait_ns);
        cs_json_begin_object(&w);
        kv_uint(&w, "id", l->id);
        cs_json_key(&w, "tid");
        cs_json_int(&w, l->tid);
        kv_uint(&w, "iterations", delta(l->last.iterations, l->base.iterations));
        kv_uint(&w, "busy_us", busy / 1000);
        kv_uint(&w, "poll_wait_us", wait / 1000);
        /* Per mille, to stay in integers: busy / (busy + waiting in the poll). */
        kv_uint(&w, "utilisation_permille", busy + wait ? busy * 1000 / (busy + wait) : 0);
        cs_json_key(&w, "ready_depth");
        cs_json_begin_object(&w);
        kv_uint(&w, "samples", l->ready_samples);
        kv_uint(&w, "avg_x100", l->ready_samples ? l->ready_sum * 100 / l->ready_samples : 0);
        kv_uint(&w, "max", l->ready_max);
        cs_json_end_object(&w);
        kv_uint(&w, "long_slices", l->long_slices);
        /* {"id","name","at_least_us"}: the task holding the loop the whole run, or null. */
        const struct cs_stat_task *stuck = stuck_task(st, l);
        cs_json_key(&w, "stuck_task");
        if (stuck) {
            cs_json_begin_object(&w);
            kv_uint(&w, "id", stuck->id);
            cs_json_key(&w, "name");
            cs_json_string(&w, stuck->name);
            kv_uint(&w, "at_least_us", (uint64_t)(st->end_ns - st->start_ns) / 1000);
            cs_json_end_object(&w);
        } else {
            cs_json_null(&w);
        }
        uint64_t h[CS_LL_HIST_BUCKETS];
        hist_delta(l->last.sched_hist, l->base.sched_hist, h, CS_LL_HIST_BUCKETS);
        cs_stat_hist_json(&w, "sched_latency", h);
        hist_delta(l->last.iter_hist, l->base.iter_hist, h, CS_LL_HIST_BUCKETS);
        uint64_t mx;
        if (iter_max_ns(l, h, &mx)) {
            cs_json_key(&w, "iteration");
            cs_json_begin_object(&w);
            cs_stat_hist_json_members_max(&w, h, mx);
            cs_json_end_object(&w);
        } else {
            cs_stat_hist_json(&w, "iteration", h);
        }
        cs_json_end_object(&w);
    }
    cs_json_end_array(&w);
    cs_json_key(&w, "tasks");
    cs_json_begin_array(&w);
    for (size_t j = 0; j < st->ntasks; j++) {
        const struct cs_stat_task *t = &st->tasks[j];
        cs_json_begin_object(&w);
        kv_uint(&w, "id", t->id);
        cs_json_key(&w, "parent");
        cs_json_id_or_null(&w, t->parent_id);
        cs_json_key(&w, "name");
        cs_json_string(&w, t->name);
        kv_uint(&w, "loop", t->loop_id);
        kv_uint(&w, "polls", delta(t->last.polls, t->base_polls));
        kv_uint(&w, "busy_us", delta(t->last.busy_ns, t->base_busy_ns) / 1000);
        kv_uint(&w, "wakes", delta(t->last.wakes, t->base_wakes));
        uint64_t sh[CS_TASK_HIST_BUCKETS];
        hist_delta(t->last.sched_hist, t->base_sched_hist, sh, CS_TASK_HIST_BUCKETS);
        cs_json_key(&w, "sched_latency");
        cs_json_begin_object(&w);
        kv_uint(&w, "count", cs_hist_total(sh));
        kv_uint(&w, "p50_ns", cs_hist_quantile_ns(sh, 0.5));
        kv_uint(&w, "p99_ns", cs_hist_quantile_ns(sh, 0.99));
        cs_json_end_object(&w);
        int64_t al = alive_ns(st, t);
        cs_json_key(&w, "alive_us");
        if (al < 0)
            cs_json_null(&w);
        else
            cs_json_int(&w, al / 1000);
        cs_json_key(&w, "finished");
        cs_json_bool(&w, t->gone);
        kv_uint(&w, "long_slices", t->long_slices);
        kv_uint(&w, "longest_slice_us", t->longest_slice_ns / 1000);
        cs_json_end_object(&w);
    }
    cs_json_end_array(&w);
    if (st->blocking)
        cs_blocking_write_json(&w, st->blocking, st);
    cs_json_end_object(&w);
    fputc('\n', out);
}
