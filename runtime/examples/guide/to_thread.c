/* Off-loading blocking work: co_to_thread runs a blocking function on a thread pool while
 * the loop keeps running other tasks. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "corun.h"

static intptr_t blocking_sum(void *arg) /* runs on a pool thread: may block freely */
{
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
    intptr_t n = (intptr_t)arg, sum = 0;
    for (intptr_t i = 1; i <= n; i++)
        sum += i;
    return sum;
}

static int ticks;

static int ticker(void *arg, intptr_t *result)
{
    (void)arg;
    (void)result;
    while (co_sleep(5 * 1000 * 1000) == 0)
        ticks++;
    return 0;
}

static int main_task(void *arg, intptr_t *result)
{
    (void)arg;
    (void)result;
    co_task *t;
    co_spawn(&t, ticker, NULL, NULL);
    intptr_t sum = 0;
    co_to_thread(blocking_sum, (void *)100, &sum);
    printf("sum 1..100 = %ld\n", (long)sum);
    printf("the loop kept ticking meanwhile: %s\n", ticks >= 1 ? "yes" : "no");

    char *text;
    size_t len;
    co_file_write_all("/tmp/corun-guide.txt", "written off the loop\n", 21, CO_FILE_FSYNC);
    if (co_file_read_all("/tmp/corun-guide.txt", &text, &len) == 0) {
        printf("read back %zu bytes: %s", len, text);
        free(text);
    }
    co_cancel(t);
    co_join(t, NULL, CO_NO_DEADLINE);
    return 0;
}

int main(void)
{
    return co_run(main_task, NULL, NULL) == 0 ? 0 : 1;
}
