/* Locks, semaphores and events. Tasks of one loop never run at the same time, so these
 * are only needed around WAITS: a lock keeps a multi-step update whole across them. */
#include <stdio.h>

#include "corun.h"

static struct co_lock account_lock = CO_LOCK_INIT;
static int balance = 100;
static struct co_sem pool; /* at most 2 "connections" at once */
static int in_use, max_in_use;
static struct co_event go = CO_EVENT_INIT;

static int withdraw(void *arg, intptr_t *result)
{
    (void)result;
    int amount = (int)(intptr_t)arg;
    co_event_wait(&go, CO_NO_DEADLINE); /* everyone starts together */
    co_lock_acquire(&account_lock, CO_NO_DEADLINE);
    int seen = balance;
    co_sleep(1000 * 1000); /* a wait in the middle: without the lock, updates get lost */
    balance = seen - amount;
    co_lock_release(&account_lock);

    co_sem_acquire(&pool, CO_NO_DEADLINE);
    if (++in_use > max_in_use)
        max_in_use = in_use;
    co_sleep(2 * 1000 * 1000);
    in_use--;
    co_sem_release(&pool);
    return 0;
}

static int main_task(void *arg, intptr_t *result)
{
    (void)arg;
    (void)result;
    co_sem_init(&pool, 2);
    co_task *t[5];
    for (int i = 0; i < 5; i++)
        co_spawn(&t[i], withdraw, (void *)(intptr_t)10, NULL);
    co_sleep(1000 * 1000);
    printf("before go: balance %d\n", balance);
    co_event_set(&go);
    co_gather(t, 5, NULL, CO_NO_DEADLINE);
    printf("after 5 withdrawals of 10: balance %d\n", balance);
    printf("at most %d in the pool at once\n", max_in_use);
    return 0;
}

int main(void)
{
    return co_run(main_task, NULL, NULL) == 0 ? 0 : 1;
}
