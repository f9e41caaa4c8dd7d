/* Task groups (asyncio.TaskGroup): the group waits for all its children; the first
 * failure cancels the others and is what co_group_wait returns. */
#include <stdio.h>

#include "corun.h"

static int child(void *arg, intptr_t *result)
{
    (void)result;
    intptr_t ms = (intptr_t)arg;
    int rc = co_sleep(ms * 1000 * 1000);
    if (rc) {
        printf("%s: %s\n", co_task_name(NULL), co_strerror(rc));
        return rc;
    }
    if (ms == 50) {
        printf("%s: failing\n", co_task_name(NULL));
        return -EIO;
    }
    printf("%s: ok\n", co_task_name(NULL));
    return 0;
}

static int main_task(void *arg, intptr_t *result)
{
    (void)arg;
    (void)result;
    co_group *g;
    co_group_create(&g);
    const char *names[] = {"quick", "faulty", "slow"};
    intptr_t ms[] = {5, 50, 1000};
    for (int i = 0; i < 3; i++) {
        struct co_spawn_opts opts = {.name = names[i]};
        co_group_spawn(g, child, (void *)ms[i], &opts);
    }
    int rc = co_group_wait(g, CO_NO_DEADLINE);
    co_group_destroy(g);
    printf("group: %s\n", co_strerror(rc));
    return 0;
}

int main(void)
{
    return co_run(main_task, NULL, NULL) == 0 ? 0 : 1;
}
