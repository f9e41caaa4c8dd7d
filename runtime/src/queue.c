/* FIFO queue of fixed-size items, bounded or not (asyncio.Queue, plus close()).
 *
 * Fairness without barging: a put that makes an item available to a parked getter wakes
 * that getter and RESERVES the item for it (items_reserved); newcomers only see the
 * unreserved items. Likewise a get that frees a slot for a parked putter reserves the slot
 * (slots_reserved). A waiter is only woken if its wake-up wins (see waitq.h), so it always
 * runs to consume its reservation: nothing is lost to a cancelled waiter.
 *
 * An unbounded queue is a ring that doubles when full, so a put never waits. Every item
 * put counts as unfinished until co_queue_task_done (asyncio's task_done/join). */
#include <stdlib.h>
#include <string.h>

#include "waitq.h"

enum { WAKE_RESERVED = 0, WAKE_CLOSED = 1 };

/* The first ring of an unbounded queue, in items. */
#define UNBOUNDED_INITIAL_ITEMS 16

int co_queue_init(struct co_queue *q, size_t item_size, size_t capacity)
{
    int unbounded = capacity == CO_QUEUE_UNBOUNDED;
    if (unbounded)
        capacity = UNBOUNDED_INITIAL_ITEMS;
    if (!q || item_size == 0 || capacity > SIZE_MAX / item_size)
        return CO_EINVAL;
    *q = (struct co_queue){.item_size = item_size, .capacity = capacity, .unbounded = unbounded};
    q->buf = malloc(item_size * capacity);
    return q->buf ? 0 : CO_ENOMEM;
}

void co_queue_destroy(struct co_queue *q)
{
    if (!q)
        return;
    co_queue_close(q);
    /* Nobody can mark the remaining items done any more. */
    while (co__waitq_wake_first(&q->joiners, WAKE_CLOSED))
        ;
    free(q->buf);
    q->buf = NULL;
}

/* An unbounded queue is full: double its ring, unwrapping the items to its start. */
static int ring_grow(struct co_queue *q)
{
    if (q->capacity > SIZE_MAX / 2 / q->item_size)
        return CO_ENOMEM;
    size_t cap = q->capacity * 2;
    char *buf = malloc(cap * q->item_size);
    if (!buf)
        return CO_ENOMEM;
    size_t first = q->capacity - q->head < q->count ? q->capacity - q->head : q->count;
    memcpy(buf, (char *)q->buf + q->head * q->item_size, first * q->item_size);
    memcpy(buf + first * q->item_size, q->buf, (q->count - first) * q->item_size);
    free(q->buf);
    q->buf = buf;
    q->capacity = cap;
    q->head = 0;
    return 0;
}

static void ring_push(struct co_queue *q, const void *item)
{
    size_t tail = (q->head + q->count) % q->capacity;
    memcpy((char *)q->buf + tail * q->item_size, item, q->item_size);
    q->count++;
    q->unfinished++;
}

static void ring_pop(struct co_queue *q, void *item)
{
    memcpy(item, (char *)q->buf + q->head * q->item_size, q->item_size);
    q->head = (q->head + 1) % q->capacity;
    q->count--;
}

/* Wakes the first parked getter if an unreserved item exists for it. */
static void offer_item(struct co_queue *q)
{
    if (q->count > q->items_reserved && co__waitq_wake_first(&q->getters, WAKE_RESERVED))
        q->items_reserved++;
}

/* Wakes the first parked putter if an unreserved slot exists for it. */
static void offer_slot(struct co_queue *q)
{
    if (q->count + q->slots_reserved < q->capacity &&
        co__waitq_wake_first(&q->putters, WAKE_RESERVED))
        q->slots_reserved++;
}

int co_queue_try_put(struct co_queue *q, const void *item)
{
    if (!q || !item || !q->buf)
        return CO_EINVAL;
    if (q->closed)
        return CO_ECLOSED;
    if (!co__waitq_empty(&q->putters))
        return CO_EAGAIN;
    if (q->count + q->slots_reserved >= q->capacity) {
        if (!q->unbounded)
            return CO_EAGAIN;
        int rc = ring_grow(q);
        if (rc != 0)
            return rc;
    }
    ring_push(q, item);
    offer_item(q);
    return 0;
}

int co_queue_try_get(struct co_queue *q, void *item)
{
    if (!q || !item || !q->buf)
        return CO_EINVAL;
    if (q->count <= q->items_reserved)
        return q->closed ? CO_ECLOSED : CO_EAGAIN;
    ring_pop(q, item);
    offer_slot(q);
    return 0;
}

int co_queue_put(struct co_queue *q, const void *item, int64_t deadline_ns)
{
    int rc = co_queue_try_put(q, item);
    if (rc != CO_EAGAIN)
        return rc;
    if (!co__current())
        return CO_EINVAL;
    struct co__wq_node w;
    rc = co__waitq_wait(&q->putters, &w, CORUN_WAIT_QUEUE, q, deadline_ns);
    if (rc != 0)
        return rc;
    if (w.result == WAKE_CLOSED)
        return CO_ECLOSED;
    q->slots_reserved--;
    ring_push(q, item);
    offer_item(q);
    return 0;
}

int co_queue_get(struct co_queue *q, void *item, int64_t deadline_ns)
{
    int rc = co_queue_try_get(q, item);
    if (rc != CO_EAGAIN)
        return rc;
    if (!co__current())
        return CO_EINVAL;
    struct co__wq_node w;
    rc = co__waitq_wait(&q->getters, &w, CORUN_WAIT_QUEUE, q, deadline_ns);
    if (rc != 0)
        return rc;
    if (w.result == WAKE_CLOSED)
        return CO_ECLOSED;
    q->items_reserved--;
    ring_pop(q, item);
    offer_slot(q);
    return 0;
}

int co_queue_close(struct co_queue *q)
{
    if (!q)
        return CO_EINVAL;
    q->closed = 1;
    /* Putters fail; getters beyond the items left see the end of the queue. Getters
     * already holding a reservation keep it and drain their item. */
    while (co__waitq_wake_first(&q->putters, WAKE_CLOSED))
        ;
    while (q->count > q->items_reserved && co__waitq_wake_first(&q->getters, WAKE_RESERVED))
        q->items_reserved++;
    while (co__waitq_wake_first(&q->getters, WAKE_CLOSED))
        ;
    return 0;
}

int co_queue_task_done(struct co_queue *q)
{
    if (!q || !q->buf || q->unfinished == 0)
        return CO_EINVAL; /* asyncio: ValueError, called more times than items were put */
    if (--q->unfinished == 0)
        while (co__waitq_wake_first(&q->joiners, WAKE_RESERVED))
            ;
    return 0;
}

int co_queue_join(struct co_queue *q, int64_t deadline_ns)
{
    if (!q || !q->buf)
        return CO_EINVAL;
    if (q->unfinished == 0)
        return 0;
    if (!co__current())
        return CO_EPERM;
    /* A later put may make the count non-zero again before we run: wait again then. */
    while (q->unfinished > 0) {
        struct co__wq_node w;
        int rc = co__waitq_wait(&q->joiners, &w, CORUN_WAIT_QUEUE, q, deadline_ns);
        if (rc != 0)
            return rc;
        if (w.result == WAKE_CLOSED)
            return CO_ECLOSED;
    }
    return 0;
}

size_t co_queue_len(const struct co_queue *q)
{
    return q ? q->count : 0;
}

int co_queue_closed(const struct co_queue *q)
{
    return q && q->closed;
}
