/* A bounded queue between a producer and a consumer; closing it ends the stream. */
#include <stdio.h>

#include "corun.h"

static struct co_queue q;

static int producer(void *arg, intptr_t *result)
{
    (void)arg;
    (void)result;
    for (int i = 1; i <= 5; i++) {
        co_queue_put(&q, &i, CO_NO_DEADLINE); /* waits while the queue is full */
        printf("put %d (queue holds %zu)\n", i, co_queue_len(&q));
    }
    co_queue_close(&q);
    return 0;
}

static int consumer(void *arg, intptr_t *result)
{
    (void)arg;
    (void)result;
    int item;
    while (co_queue_get(&q, &item, CO_NO_DEADLINE) == 0) {
        printf("got %d\n", item);
        co_sleep(1000 * 1000); /* a slow consumer: the producer waits for room */
    }
    printf("queue closed and drained\n");
    return 0;
}

static int main_task(void *arg, intptr_t *result)
{
    (void)arg;
    (void)result;
    co_queue_init(&q, sizeof(int), 2); /* items of sizeof(int), at most 2 */
    co_task *t[2];
    co_spawn(&t[0], producer, NULL, NULL);
    co_spawn(&t[1], consumer, NULL, NULL);
    co_gather(t, 2, NULL, CO_NO_DEADLINE);
    co_queue_destroy(&q);
    return 0;
}

int main(void)
{
    return co_run(main_task, NULL, NULL) == 0 ? 0 : 1;
}
