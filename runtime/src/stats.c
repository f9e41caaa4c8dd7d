/*
 * Slice and iteration timing, and statistics: only while someone listens (the USDT
 * semaphores of slice_long, iter_long and stats, or debug mode; loop->listen, read once
 * per iteration). With nobody listening the loop reads no clock per switch.
 *
 * Cost while listening (a yield round trip: tens of ns, not hundreds): one clock reading
 * per switch, shared by the slice that ends and the one that begins (see internal.h);
 * histogram buckets by count-leading-zeros; no division. A task that readies itself
 * (co_yield) is stamped ready at its slice's end, from the same reading; a task woken by
 * another task reads the clock at the wake-up (it may wait for the rest of the waker's
 * slice: that is scheduling delay); a task woken by the loop (timers, fds, posted
 * callbacks) gets the reading taken after the poll or the timers.
 *
 * Readings from before a listener attached are never mixed with later ones: the
 * poll-wait time counts only polls that began while timing was on, and a ready time
 * counts only if taken after statistics were last switched on.
 */
#include <stdlib.h>

#include "internal.h"
#include "timing.h"

struct co__task_stats *co__stats_of(struct co_task *t)
{
    if (!t->stats)
        t->stats = calloc(1, sizeof *t->stats); /* NULL: just no stats for t */
    return t->stats;
}

void co__note_ready(struct co_loop *loop, struct co_task *t)
{
    struct co__task_stats *s = co__stats_of(t);
    if (!s)
        return;
    s->wakes++;
    if (t == loop->current)
        t->flags |= CO__TASK_READY_AT_SLICE_END;
    else
        s->last_ready_ns = loop->current ? co__clock_ns() : loop->clock_ns;
}

/* Keeps the CORUN_ITER_TOP_SLICES slowest slices of the iteration, slowest first. */
void co__remember_slice_slow(struct co_loop *loop, uint64_t task_id, uint64_t duration_ns)
{
    uint32_t n = loop->top_count;
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

void co__slow_slice(struct co_loop *loop, struct co_task *t, int64_t start, uint64_t duration_ns)
{
    if (duration_ns >= CORUN_LONG_SLICE_FLOOR_NS)
        CO_PROBE6(slice_long, loop, t, t->id, start, duration_ns, loop->slice_seq);
    if (co__debug.enabled && (int64_t)duration_ns >= co__debug.slow_slice_ns)
        co__debug_warn("task %llu \"%s\" ran %.1f ms without suspending (slow slice)",
                       (unsigned long long)t->id, t->name, (double)duration_ns / 1e6);
}
