/* A FIFO of parked tasks: what every rt-io sync primitive waits in.
 *
 * A node lives on the waiting task's own stack (stackful coroutines keep it valid for
 * the whole wait). Wake-ups are hand-offs: the waker unlinks the first node and unparks
 * its task. co__unpark says whether that wake-up won (the first wake-up of a park wins):
 * if the task had already been woken by its deadline or a cancellation, the waker skips
 * it and hands the wake-up to the next node instead — so a cancelled waiter never
 * swallows a wake-up (asyncio's rule). A node that got the wake-up has granted = true and
 * its park returns 0; node->result says why it was woken.
 * Everything here runs on the loop thread that owns the primitive. */
#ifndef CO_WAITQ_H
#define CO_WAITQ_H

#include <stdbool.h>
#include <stddef.h>

#include "corun.h"
#include "internal.h"

struct co__wq_node {
    struct co__wq_node *next, *prev;
    struct co_task *task;
    int result;   /* set by the waker: why (e.g. item reserved / queue closed) */
    bool queued;  /* still linked in the queue */
    bool granted; /* a waker's wake-up reached this task */
};

static inline bool co__waitq_empty(const struct co_waitq *q)
{
    return q->head == NULL;
}

static inline void co__waitq_push(struct co_waitq *q, struct co__wq_node *w)
{
    w->queued = true;
    w->next = NULL;
    w->prev = q->tail;
    if (q->tail)
        q->tail->next = w;
    else
        q->head = w;
    q->tail = w;
}

static inline void co__waitq_remove(struct co_waitq *q, struct co__wq_node *w)
{
    if (w->prev)
        w->prev->next = w->next;
    else
        q->head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        q->tail = w->prev;
    w->next = w->prev = NULL;
    w->queued = false;
}

/* Wakes the first waiter still parked (skipping those already woken by a deadline or a
 * cancellation) with `result` in its node. Returns the task woken, or NULL if none. */
static inline struct co_task *co__waitq_wake_first(struct co_waitq *q, int result)
{
    struct co__wq_node *w;
    while ((w = q->head)) {
        co__waitq_remove(q, w);
        w->result = result;
        if (co__unpark(w->task, 0)) {
            w->granted = true;
            return w->task;
        }
    }
    return NULL;
}

/* Parks the current task in q until a waker picks it, the deadline passes or the task is
 * cancelled. Returns 0 when woken by a waker (w->result says why), else CO_ETIMEDOUT /
 * CO_ECANCELED (the node is then out of the queue and owns nothing). */
int co__waitq_wait(struct co_waitq *q, struct co__wq_node *w, enum corun_wait_reason why,
                   const void *obj, int64_t deadline_ns);

#endif
