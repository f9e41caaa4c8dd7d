/*
 * Slice and iteration timing, and statistics: only while someone listens (the USDT
 * semaphores of slice_long and stats, or debug mode). With nobody listening the loop
 * reads no clock per switch (see co__timing_on()).
 */
#include <stdlib.h>

#include "internal.h"

static struct co__task_stats *stats_of(struct co_task *t)
{
    if (!t->stats)
        t->stats = calloc(1, sizeof *t->stats); /* NULL: just no stats for t */
    return t->stats;
}

void co__note_ready(struct co_task *t)
{
    struct co__task_stats *s = stats_of(t);
    if (!s)
        return;
    s->wakes++;
    s->last_ready_ns = co__clock_ns();
}

void co__slice_begin(struct co_loop *loop, struct co_task *t)
{
    int64_t now = co__clock_ns();
    t->resumed_ns = now;
    loop->slice_start_ns = now;
    if (!(loop->listen & CO__LISTEN_STATS))
        return;
    struct co__task_stats *s = stats_of(t);
    if (s && s->last_ready_ns) {
        unsigned b = corun_hist_bucket((uint64_t)(now - s->last_ready_ns));
        s->sched_hist[b]++;
        loop->sched_hist[b]++;
        s->last_ready_ns = 0;
    }
}

/* Keeps the CORUN_ITER_TOP_SLICES slowest slices of the iteration, slowest first. */
static void remember_slice(struct co_loop *loop, uint64_t task_id, uint64_t duration_ns)
{
    uint32_t n = loop->top_count;
    if (n == CORUN_ITER_TOP_SLICES && loop->top_slices[n - 1].duration_ns >= duration_ns)
        return;
    uint32_t i = n < CORUN_ITER_TOP_SLICES ? n : n - 1;
    while (i > 0 && loop->top_slices[i - 1].duration_ns < duration_ns) {
        loop->top_slices[i] = loop->top_slices[i - 1];
        i--;
    }
    loop->top_slices[i].task_id = task_id;
    loop->top_slices[i].duration_ns = duration_ns;
    if (n < CORUN_ITER_TOP_SLICES)
        loop->top_count = n + 1;
}

void co__slice_end(struct co_loop *loop, struct co_task *t)
{
    int64_t now = co__clock_ns();
    int64_t start = t->resumed_ns;
    uint64_t duration_ns = (uint64_t)(now - start);
    t->resumed_ns = 0;
    loop->slice_start_ns = 0;
    remember_slice(loop, t->id, duration_ns);
    if (duration_ns >= CORUN_LONG_SLICE_FLOOR_NS)
        CO_PROBE6(slice_long, loop, t, t->id, start, duration_ns, loop->slice_seq);
    if (co__debug.enabled && (int64_t)duration_ns >= co__debug.slow_slice_ns)
        co__debug_warn("task %llu \"%s\" ran %.1f ms without suspending (slow slice)",
                       (unsigned long long)t->id, t->name, (double)duration_ns / 1e6);
    if (!(loop->listen & CO__LISTEN_STATS))
        return;
    loop->busy_ns += duration_ns;
    struct co__task_stats *s = stats_of(t);
    if (s) {
        s->polls++;
        s->busy_ns += duration_ns;
        s->poll_hist[corun_hist_bucket(duration_ns)]++;
    }
}

void co__iter_begin(struct co_loop *loop)
{
    int64_t now = co__clock_ns();
    if (loop->poll_enter_ns && (loop->listen & CO__LISTEN_STATS))
        loop->poll_wait_ns += (uint64_t)(now - loop->poll_enter_ns);
    loop->poll_enter_ns = 0;
    loop->iter_start_ns = now;
    loop->top_count = 0;
}

void co__iter_end(struct co_loop *loop)
{
    int64_t now = co__clock_ns();
    int64_t start = loop->iter_start_ns;
    uint64_t duration_ns = (uint64_t)(now - start);
    loop->iter_start_ns = 0;
    loop->poll_enter_ns = now;
    if (duration_ns >= CORUN_LONG_SLICE_FLOOR_NS)
        CO_PROBE5(iter_long, loop, start, duration_ns, loop->tasks_run, loop->top_slices);
    if (loop->listen & CO__LISTEN_STATS)
        loop->iter_hist[corun_hist_bucket(duration_ns)]++;
}
