/* The loop's timers: a binary min-heap of parked tasks ordered by deadline_ns. */
#include <stdint.h>
#include <stdlib.h>

#include "internal.h"

static void heap_set(struct co_loop *loop, size_t i, struct co_task *t)
{
    loop->heap[i] = t;
    t->heap_index = i;
}

static void sift_up(struct co_loop *loop, size_t i)
{
    struct co_task *t = loop->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (loop->heap[parent]->deadline_ns <= t->deadline_ns)
            break;
        heap_set(loop, i, loop->heap[parent]);
        i = parent;
    }
    heap_set(loop, i, t);
}

static void sift_down(struct co_loop *loop, size_t i)
{
    struct co_task *t = loop->heap[i];
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= loop->heap_len)
            break;
        if (child + 1 < loop->heap_len &&
            loop->heap[child + 1]->deadline_ns < loop->heap[child]->deadline_ns)
            child++;
        if (t->deadline_ns <= loop->heap[child]->deadline_ns)
            break;
        heap_set(loop, i, loop->heap[child]);
        i = child;
    }
    heap_set(loop, i, t);
}

int co__timer_add(struct co_loop *loop, struct co_task *t, int64_t deadline_ns)
{
    if (loop->heap_len == loop->heap_cap) {
        size_t cap = loop->heap_cap ? loop->heap_cap * 2 : 64;
        struct co_task **h = realloc(loop->heap, cap * sizeof *h);
        if (!h)
            return CO_ENOMEM;
        loop->heap = h;
        loop->heap_cap = cap;
    }
    t->deadline_ns = deadline_ns;
    loop->heap[loop->heap_len] = t;
    t->heap_index = loop->heap_len++;
    sift_up(loop, t->heap_index);
    return 0;
}

void co__timer_remove(struct co_loop *loop, struct co_task *t)
{
    size_t i = t->heap_index;
    if (i == SIZE_MAX)
        return;
    t->heap_index = SIZE_MAX;
    struct co_task *last = loop->heap[--loop->heap_len];
    if (i == loop->heap_len)
        return;
    heap_set(loop, i, last);
    if (i > 0 && loop->heap[(i - 1) / 2]->deadline_ns > last->deadline_ns)
        sift_up(loop, i);
    else
        sift_down(loop, i);
}
