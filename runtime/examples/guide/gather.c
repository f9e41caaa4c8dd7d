/* gather (wait for all) and wait_any (wait for the first). */
#include <stdio.h>

#include "corun.h"

static int nap(void *arg, intptr_t *result)
{
    intptr_t ms = (intptr_t)arg;
    int rc = co_sleep(ms * 1000 * 1000);
    *result = ms;
    return rc;
}

static int main_task(void *arg, intptr_t *result)
{
    (void)arg;
    (void)result;
    co_task *t[3];
    intptr_t ms[3] = {60, 10, 40};
    for (int i = 0; i < 3; i++)
        co_spawn(&t[i], nap, (void *)ms[i], NULL);
    struct co_outcome out[3];
    int rc = co_gather(t, 3, out, CO_NO_DEADLINE); /* joins all three */
    printf("gather: %d, values %ld %ld %ld\n", rc, (long)out[0].value, (long)out[1].value,
           (long)out[2].value);

    for (int i = 0; i < 3; i++)
        co_spawn(&t[i], nap, (void *)ms[i], NULL);
    int first = co_wait_any(t, 3, CO_NO_DEADLINE);
    printf("wait_any: task %d finished first\n", first);
    for (int i = 0; i < 3; i++) { /* the others still run: cancel, then join them all */
        co_cancel(t[i]);
        co_join(t[i], &out[i], CO_NO_DEADLINE);
        printf("task %d: %s\n", i, out[i].error == CO_ECANCELED ? "cancelled" : "done");
    }
    return 0;
}

int main(void)
{
    return co_run(main_task, NULL, NULL) == 0 ? 0 : 1;
}
