/* Tasks: co_spawn starts a coroutine, co_join waits for its end and collects its result. */
#include <stdio.h>

#include "corun.h"

static int square_later(void *arg, intptr_t *result)
{
    intptr_t n = (intptr_t)arg;
    co_sleep(n * 1000 * 1000); /* n ms: the tasks run concurrently */
    printf("%s finished\n", co_task_name(NULL));
    *result = n * n;
    return 0;
}

static int main_task(void *arg, intptr_t *result)
{
    (void)arg;
    (void)result;
    co_task *slow, *fast;
    struct co_spawn_opts slow_opts = {.name = "slow"}, fast_opts = {.name = "fast"};
    co_spawn(&slow, square_later, (void *)50, &slow_opts);
    co_spawn(&fast, square_later, (void *)5, &fast_opts);
    struct co_outcome a, b;
    co_join(slow, &a, CO_NO_DEADLINE);
    co_join(fast, &b, CO_NO_DEADLINE);
    printf("slow: error %d value %ld; fast: error %d value %ld\n", a.error, (long)a.value, b.error,
           (long)b.value);
    return 0;
}

int main(void)
{
    return co_run(main_task, NULL, NULL) == 0 ? 0 : 1;
}
