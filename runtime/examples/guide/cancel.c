/* Cancellation: co_cancel makes the task's current wait return CO_ECANCELED; the task
 * cleans up and ends. A shield defers cancellation over a section that must finish. */
#include <stdio.h>

#include "corun.h"

static int worker(void *arg, intptr_t *result)
{
    (void)arg;
    (void)result;
    for (;;) {
        int rc = co_sleep(10 * 1000 * 1000); /* one step of work */
        if (rc == CO_ECANCELED) {
            printf("worker: cancelled, cleaning up\n");
            co_shield_begin(); /* the clean-up's own waits are not cut short */
            co_sleep(5 * 1000 * 1000);
            co_shield_end();
            printf("worker: clean-up done\n");
            return CO_ECANCELED; /* "I was cancelled" */
        }
    }
}

static int main_task(void *arg, intptr_t *result)
{
    (void)arg;
    (void)result;
    co_task *t;
    co_spawn(&t, worker, NULL, NULL);
    co_sleep(25 * 1000 * 1000); /* let it work a little */
    co_cancel(t);
    struct co_outcome out;
    co_join(t, &out, CO_NO_DEADLINE);
    printf("main: worker ended with %s\n", co_strerror(out.error));
    co_cancel(co_self()); /* cancelling yourself: only the next wait fails */
    printf("main: next sleep returns %s\n", co_strerror(co_sleep(1000)));
    printf("main: and the one after %s\n", co_strerror(co_sleep(1000)));
    return 0;
}

int main(void)
{
    return co_run(main_task, NULL, NULL) == 0 ? 0 : 1;
}
