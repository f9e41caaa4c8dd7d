/* The loop and a first coroutine: co_run runs main as a task until it returns. */
#include <stdio.h>

#include "corun.h"

static int main_task(void *arg, intptr_t *result)
{
    const char *who = arg;
    printf("hello, %s\n", who);
    co_sleep(10 * 1000 * 1000); /* suspends this task; the loop waits on its timer */
    printf("10 ms later\n");
    *result = 42;
    return 0;
}

int main(void)
{
    intptr_t result = 0;
    int rc = co_run(main_task, "coroutines", &result);
    printf("co_run returned %d, result %ld\n", rc, (long)result);
    return rc == 0 ? 0 : 1;
}
