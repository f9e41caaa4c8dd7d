/* Async iteration: a generator task yields values one at a time, when asked. */
#include <stdio.h>

#include "corun.h"

static int countdown(co_gen *g, void *arg)
{
    for (intptr_t n = (intptr_t)arg; n > 0; n--) {
        printf("  (producing %ld)\n", (long)n);
        int rc = co_gen_yield(g, n); /* waits until the consumer asks again */
        if (rc)
            return rc; /* closed early */
    }
    return 0; /* no more values */
}

static int main_task(void *arg, intptr_t *result)
{
    (void)arg;
    (void)result;
    co_gen *g;
    co_gen_spawn(&g, countdown, (void *)3, NULL);
    intptr_t v;
    while (co_gen_next(g, &v, CO_NO_DEADLINE) == 0) /* for v in countdown(3) */
        printf("got %ld\n", (long)v);
    co_gen_close(g);

    co_gen_spawn(&g, countdown, (void *)100, NULL);
    co_gen_next(g, &v, CO_NO_DEADLINE);
    printf("took %ld, closing early\n", (long)v);
    co_gen_close(g); /* cancels the producer at its co_gen_yield */
    return 0;
}

int main(void)
{
    return co_run(main_task, NULL, NULL) == 0 ? 0 : 1;
}
