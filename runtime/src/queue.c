/* Bounded FIFO queue of fixed-size items (asyncio.Queue, plus close()).
 *
 * Fairness without barging: a put that makes an item available to a parked getter wakes
 * that getter and RESERVES the item for it (items_reserved); newcomers only see the
 * unreserved items. Likewise a get that frees a slot for a parked putter reserves the slot
 * (slots_reserved). A waiter is only woken if its wake-up wins (see waitq.h), so it always
 * runs to consume its reservation: nothing is lost to a cancelled waiter. */
#include <stdlib.h>
#include <string.h>

#include "waitq.h"

enum { WAKE_RESERVED = 0, WAKE_CLOSED = 1 };

int co_queue_init(struct co_queue *q, size_t item_size, size_t capacity)
{
    if (!q || item_size == 0 || capacity == 0 || capacity > SIZE_MAX / item_size)
        return CO_EINVAL;
    *q = (struct co_queue){.item_size = item_size, .capacity = capacity};
    q->buf = malloc(item_size * capacity);
    return q->buf ? 0 : CO_ENOMEM;
}

void co_queue_destroy(struct co_queue *q)
{
    if (!q)
        return;
    co_queue_close(q);
    free(q->buf);
    q->buf = NULL;
}

static void ring_push(struct co_queue *q, const void *item)
{
    size_t tail = (q->head + q->count) % q->capacity;
    memcpy((char *)q->buf + tail * q->item_size, item, q->item_size);
    q->count++;
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
    if (q->count + q->slots_reserved >= q->capacity || !co__waitq_empty(&q->putters))
        return CO_EAGAIN;
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

size_t co_queue_len(const struct co_queue *q)
{
    return q ? q->count : 0;
}

int co_queue_closed(const struct co_queue *q)
{
    return q && q->closed;
}
