/*
 * A libcorun target whose tasks live far less than a snapshot period (250 ms): after a
 * short pause it spawns N tasks (default 1000) "burst-1".."burst-N" at once, each sleeping
 * 1 ms, joins them all, pauses again and exits 0. Prints one line per task:
 *   task ID burst-I
 * so a test can check that a recording names every one of them.
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

static int burst_main(void *arg, intptr_t *result)
{
    (void)result;
    long n = (long)(intptr_t)arg;
    co_task **tasks = calloc((size_t)n, sizeof *tasks);
    if (!tasks)
        return -1;
    co_sleep(300 * MS_NS); /* the recorder's first snapshot comes before the burst */
    int rc = 0;
    for (long i = 0; i < n && !rc; i++) {
        char name[CO_TASK_NAME_MAX];
        snprintf(name, sizeof name, "burst-%ld", i + 1);
        struct co_spawn_opts o = {.name = name};
        rc = co_spawn(&tasks[i], short_task, NULL, &o);
        if (!rc)
            printf("task %llu %s\n", (unsigned long long)co_task_id(tasks[i]), name);
    }
    for (long i = 0; i < n; i++)
        if (tasks[i] && co_join(tasks[i], NULL, CO_NO_DEADLINE))
            rc = -1;
    free(tasks);
    fflush(stdout);
    co_sleep(300 * MS_NS); /* the ends reach the recorder before the process exits */
    return rc;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000;
    if (n < 1)
        return 2;
    intptr_t result = 0;
    int rc = co_run(burst_main, (void *)(intptr_t)n, &result);
    return rc ? 1 : 0;
}
