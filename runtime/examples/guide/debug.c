/* Debug mode: warnings on stderr for the usual asyncio mistakes (also CORUN_DEBUG=1). */
#include <stdio.h>
#include <time.h>

#include "corun.h"

static struct co_lock lock = CO_LOCK_INIT;

static int hog(void *arg, intptr_t *result) /* blocks the loop: never do this */
{
    (void)arg;
    (void)result;
    struct timespec ts = {0, 30 * 1000 * 1000};
    nanosleep(&ts, NULL); /* a blocking call: use co_sleep or co_to_thread instead */
    return 0;
}

static int forgetful(void *arg, intptr_t *result) /* returns holding a lock */
{
    (void)arg;
    (void)result;
    co_lock_acquire(&lock, CO_NO_DEADLINE);
    return 0;
}

static int failing(void *arg, intptr_t *result)
{
    (void)arg;
    (void)result;
    return -EIO;
}

static int main_task(void *arg, intptr_t *result)
{
    (void)arg;
    (void)result;
    co_debug_enable(10 * 1000 * 1000); /* warn about slices longer than 10 ms */
    co_task *t;
    co_spawn(&t, hog, NULL, &(struct co_spawn_opts){.name = "hog"});
    co_join(t, NULL, CO_NO_DEADLINE);
    co_spawn(&t, forgetful, NULL, &(struct co_spawn_opts){.name = "forgetful"});
    co_join(t, NULL, CO_NO_DEADLINE);
    co_spawn(NULL, failing, NULL,
             &(struct co_spawn_opts){.name = "failing", .flags = CO_SPAWN_DETACHED});
    co_sleep(1000 * 1000);
    printf("main done: see the warnings on stderr\n");
    return 0;
}

int main(void)
{
    return co_run(main_task, NULL, NULL) == 0 ? 0 : 1;
}
