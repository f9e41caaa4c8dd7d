/* corun-prodcons: producers and consumers over one bounded queue.
 *
 *   corun-prodcons [--producers P] [--consumers C] [--items N] [--capacity K]
 *
 * P producers put N items each into a queue of capacity K (default 2 producers, 3
 * consumers, 1000 items, capacity 8); C consumers take them until the queue is closed and
 * drained. When every producer is done, main closes the queue. Prints
 *   produced=2000 consumed=2000 sum_ok=yes
 * and exits 0 when every item arrived exactly once. */
#include <stdio.h>
#include <string.h>

#include "corun.h"
#include "example_args.h"

struct shop {
    long long producers, consumers, items, capacity;
    struct co_queue q;
    long long produced, consumed;
    long long sum_in, sum_out;
};

struct producer_arg {
    struct shop *s;
    long long first; /* items first .. first+items-1 */
};

static int producer_main(void *arg, intptr_t *result)
{
    (void)result;
    struct producer_arg *p = arg;
    for (long long i = 0; i < p->s->items; i++) {
        long long item = p->first + i;
        int rc = co_queue_put(&p->s->q, &item, CO_NO_DEADLINE); /* waits while full */
        if (rc)
            return rc;
        p->s->produced++;
        p->s->sum_in += item;
    }
    return 0;
}

static int consumer_main(void *arg, intptr_t *result)
{
    (void)result;
    struct shop *s = arg;
    for (;;) {
        long long item;
        int rc = co_queue_get(&s->q, &item, CO_NO_DEADLINE); /* waits while empty */
        if (rc == CO_ECLOSED)
            return 0; /* closed and drained: the end of the stream */
        if (rc)
            return rc;
        s->consumed++;
        s->sum_out += item;
        if (item % 100 == 0)
            co_yield (); /* a consumer that sometimes lets others run */
    }
}

static int main_task(void *arg, intptr_t *result)
{
    (void)result;
    struct shop *s = arg;
    int rc = co_queue_init(&s->q, sizeof(long long), (size_t)s->capacity);
    if (rc)
        return rc;
    co_group *producers, *consumers;
    co_group_create(&producers);
    co_group_create(&consumers);
    static struct producer_arg pargs[64];
    struct co_spawn_opts popts = {.name = "producer"}, copts = {.name = "consumer"};
    for (long long i = 0; i < s->producers; i++) {
        pargs[i] = (struct producer_arg){s, i * s->items};
        co_group_spawn(producers, producer_main, &pargs[i], &popts);
    }
    for (long long i = 0; i < s->consumers; i++)
        co_group_spawn(consumers, consumer_main, s, &copts);
    rc = co_group_wait(producers, CO_NO_DEADLINE);
    co_queue_close(&s->q); /* no more items: consumers finish once it is drained */
    int crc = co_group_wait(consumers, CO_NO_DEADLINE);
    co_group_destroy(producers);
    co_group_destroy(consumers);
    co_queue_destroy(&s->q);
    return rc ? rc : crc;
}

int main(int argc, char **argv)
{
    static struct shop s = {.producers = 2, .consumers = 3, .items = 1000, .capacity = 8};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0) {
            printf("usage: corun-prodcons [--producers P] [--consumers C] [--items N]"
                   " [--capacity K]\n");
            return 0;
        }
        long long *field = strcmp(a, "--producers") == 0   ? &s.producers
                           : strcmp(a, "--consumers") == 0 ? &s.consumers
                           : strcmp(a, "--items") == 0     ? &s.items
                           : strcmp(a, "--capacity") == 0  ? &s.capacity
                                                           : NULL;
        if (!field) {
            fprintf(stderr, "corun-prodcons: unknown argument '%s' (try --help)\n", a);
            return 2;
        }
        if (i + 1 >= argc || (*field = example_parse_count(argv[++i])) < 1 ||
            (field == &s.producers && *field > 64)) {
            fprintf(stderr, "corun-prodcons: bad value for %s\n", a);
            return 2;
        }
    }
    int rc = co_run(main_task, &s, NULL);
    long long n = s.producers * s.items;
    int sum_ok = s.sum_in == n * (n - 1) / 2 && s.sum_out == s.sum_in;
    printf("produced=%lld consumed=%lld sum_ok=%s\n", s.produced, s.consumed,
           sum_ok ? "yes" : "no");
    return rc == 0 && s.consumed == n && sum_ok ? 0 : 1;
}
