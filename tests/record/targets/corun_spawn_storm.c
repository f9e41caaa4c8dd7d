/*
 * A libcorun target that spawns short tasks without end: every millisecond a batch of
 * BATCH detached tasks (default 8, ~8k tasks a second), each sleeping 1 ms. Runs for
 * SECONDS (default 600) and exits 0. The recorder's memory must not grow with the tasks
 * it has seen (tests/record/test_record_memory.cpp).
 */
#include <stdio.h>
#include <stdlib.h>

#include "corun.h"

#define MS_NS 1000000

static int short_task(void *arg, intptr_t *result)
{
    (void)arg;
    (void)result;
    return co_sleep(MS_NS);
}

struct storm {
    long batch, seconds;
};

static int storm_main(void *arg, intptr_t *result)
{
    (void)result;
    const struct storm *s = arg;
    printf("ready\n");
    fflush(stdout);
    for (long ms = 0; ms < s->seconds * 1000; ms++) {
        for (long i = 0; i < s->batch; i++) {
            struct co_spawn_opts o = {.name = "short", .flags = CO_SPAWN_DETACHED};
            if (co_spawn(NULL, short_task, NULL, &o))
                return -1;
        }
        if (co_sleep(MS_NS))
            return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct storm s = {argc > 1 ? atol(argv[1]) : 8, argc > 2 ? atol(argv[2]) : 600};
    if (s.batch < 1 || s.seconds < 1)
        return 2;
    intptr_t result = 0;
    return co_run(storm_main, &s, &result) ? 1 : 0;
}
