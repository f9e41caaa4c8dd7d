/*
 * The per-switch and per-iteration half of timing and statistics (see stats.c for the
 * rules): inline, because the loop calls it at every switch while someone listens.
 */
#ifndef CO_TIMING_H
#define CO_TIMING_H

#include "internal.h"

/*
 * While timing is on, the clock is read once per switch (co__slice_end: it ends one slice
 * and its reading begins the next), once after a poll that waited, and once after a
 * dispatch phase that did work. Everything else reuses loop->clock_ns.
 *   co__slice_begin(loop, t, now)   before switching to t
 *   co__slice_end(loop, t)          after t switched back: reads and returns the clock
 *   co__iter_begin(loop, was, polled)  at poll_exit: `was` is the previous iteration's
 *                                   loop->listen, `polled` whether epoll_wait was called
 *   co__iter_end(loop)              at the next poll_enter
 */

struct co__task_stats *co__stats_of(struct co_task *t); /* allocates on first need */
void co__remember_slice_slow(struct co_loop *loop, uint64_t task_id, uint64_t duration_ns);
void co__slow_slice(struct co_loop *loop, struct co_task *t, int64_t start, uint64_t duration_ns);

static inline void co__slice_begin(struct co_loop *loop, struct co_task *t, int64_t now_ns)
{
    t->resumed_ns = now_ns;
    loop->slice_start_ns = now_ns;
    if (!(loop->listen & CO__LISTEN_STATS))
        return;
    struct co__task_stats *s = t->stats ? t->stats : co__stats_of(t);
    if (!s)
        return;
    int64_t ready_ns = s->last_ready_ns;
    s->last_ready_ns = 0;
    if (ready_ns && ready_ns >= loop->stats_since_ns && ready_ns <= now_ns) {
        uint64_t latency_ns = (uint64_t)(now_ns - ready_ns);
        s->sched_hist[corun_hist_bucket(latency_ns)]++;
        loop->sched_hist[corun_ll_bucket(latency_ns)]++;
    }
}

/* Keeps the CORUN_ITER_TOP_SLICES slowest slices of the iteration, slowest first. */
static inline void co__remember_slice(struct co_loop *loop, uint64_t task_id, uint64_t duration_ns)
{
    uint32_t n = loop->top_count;
    if (n == CORUN_ITER_TOP_SLICES && loop->top_slices[n - 1].duration_ns >= duration_ns)
        return;
    co__remember_slice_slow(loop, task_id, duration_ns);
}

static inline int64_t co__slice_end(struct co_loop *loop, struct co_task *t)
{
    int64_t now = co__clock_ns();
    int64_t start = t->resumed_ns;
    uint64_t duration_ns = (uint64_t)(now - start);
    loop->clock_ns = now;
    t->resumed_ns = 0;
    loop->slice_start_ns = 0;
    if (t->state == CORUN_TASK_WAITING)
        t->waiting_since_ns = now;
    co__remember_slice(loop, t->id, duration_ns);
    if (__builtin_expect(duration_ns >= CORUN_LONG_SLICE_FLOOR_NS, 0))
        co__slow_slice(loop, t, start, duration_ns);
    if (!(loop->listen & CO__LISTEN_STATS))
        return now;
    loop->busy_ns += duration_ns;
    struct co__task_stats *s = t->stats;
    if (s) {
        s->polls++;
        s->busy_ns += duration_ns;
        s->poll_hist[corun_hist_bucket(duration_ns)]++;
        if (t->flags & CO__TASK_READY_AT_SLICE_END) {
            t->flags &= ~(uint32_t)CO__TASK_READY_AT_SLICE_END;
            s->last_ready_ns = now;
        }
    }
    return now;
}

static inline void co__iter_begin(struct co_loop *loop, uint32_t was, int polled)
{
    int64_t now = (polled || !(was & CO__LISTEN_TIMING)) ? co__clock_ns() : loop->clock_ns;
    loop->clock_ns = now;
    if (loop->listen & CO__LISTEN_STATS) {
        if (!(was & CO__LISTEN_STATS))
            loop->stats_since_ns = now;
        /* poll_enter_ns is this iteration's only if timing was on in the last one. */
        else if (loop->poll_enter_ns && (was & CO__LISTEN_TIMING))
            loop->poll_wait_ns += (uint64_t)(now - loop->poll_enter_ns);
    }
    loop->poll_enter_ns = 0;
    loop->iter_start_ns = now;
    loop->top_count = 0;
}

static inline void co__iter_end(struct co_loop *loop)
{
    int64_t now = loop->clock_ns; /* the last switch or dispatch: nothing ran since */
    int64_t start = loop->iter_start_ns;
    uint64_t duration_ns = (uint64_t)(now - start);
    loop->iter_start_ns = 0;
    loop->poll_enter_ns = now;
    if (duration_ns >= CORUN_LONG_SLICE_FLOOR_NS)
        CO_PROBE5(iter_long, loop, start, duration_ns, loop->tasks_run, loop->top_slices);
    if (loop->listen & CO__LISTEN_STATS) {
        loop->iter_hist[corun_ll_bucket(duration_ns)]++;
        if (duration_ns > loop->iter_max_ns)
            loop->iter_max_ns = duration_ns;
    }
}

#endif
