/* Timeouts: every waiting call takes an absolute deadline; a timeout scope puts one
 * deadline over a whole block of code (asyncio.timeout()). */
#include <stdio.h>

#include "corun.h"

static int slow_step(int ms)
{
    return co_sleep((int64_t)ms * 1000 * 1000);
}

static int main_task(void *arg, intptr_t *result)
{
    (void)arg;
    (void)result;
    /* a per-call deadline */
    struct co_event never = CO_EVENT_INIT;
    int rc = co_event_wait(&never, co_deadline_in(10 * 1000 * 1000));
    printf("event wait: %s\n", co_strerror(rc));

    /* a scope: steps of 10 ms, 10 ms and 1 s do not fit in 200 ms */
    struct co_timeout scope;
    co_timeout_begin(&scope, co_deadline_in(200 * 1000 * 1000));
    int steps_ms[] = {10, 10, 1000}, done = 0;
    for (int i = 0; i < 3; i++) {
        if (slow_step(steps_ms[i]) != 0)
            break; /* inside the scope, the expiry looks like a cancellation */
        done++;
    }
    rc = co_timeout_end(&scope);
    printf("steps done: %d, scope: %s\n", done, co_strerror(rc));

    /* a scope that does not expire */
    co_timeout_begin(&scope, co_deadline_in(1000 * 1000 * 1000));
    slow_step(1);
    printf("short work: %s\n", co_strerror(co_timeout_end(&scope)));
    return 0;
}

int main(void)
{
    return co_run(main_task, NULL, NULL) == 0 ? 0 : 1;
}
