/*
 * Waiting for several tasks, or for one with a time limit: gather (all-settled and
 * fail-fast), wait_any, wait_for.
 *
 * The asyncio rule they share: a wait that consumes its tasks (gather, wait_for) and is
 * cut short cancels the tasks it waited for, waits for them to finish and joins them,
 * so no task outlives the call that owned it.
 */
#include <stdlib.h>

#include "internal.h"

static int check_all_joinable(co_task *const *tasks, size_t n)
{
    if (n && !tasks)
        return CO_EINVAL;
    for (size_t i = 0; i < n; i++) {
        int r = co__check_joinable(tasks[i]);
        if (r != 0)
            return r;
    }
    return 0;
}

/* Waits, shielded, until every task has finished (they have been cancelled). */
static void wait_all_shielded(co_task *const *tasks, size_t n)
{
    co_shield_begin();
    for (size_t i = 0; i < n; i++)
        co__wait_done(tasks[i], CO_NO_DEADLINE);
    co_shield_end();
}

static void cancel_wait_all(co_task *const *tasks, size_t n)
{
    for (size_t i = 0; i < n; i++)
        co_cancel(tasks[i]);
    wait_all_shielded(tasks, n);
}

static void consume_all(co_task *const *tasks, size_t n, struct co_outcome *outs)
{
    for (size_t i = 0; i < n; i++)
        co__task_consume(tasks[i], outs ? &outs[i] : NULL);
}

int co_gather(co_task *const *tasks, size_t n, struct co_outcome *outs, int64_t deadline_ns)
{
    int r = check_all_joinable(tasks, n);
    if (r != 0)
        return r;
    /* All must finish, so waiting for them one by one takes no longer than for all. */
    for (size_t i = 0; i < n && r == 0; i++)
        r = co__wait_done(tasks[i], deadline_ns);
    if (r != 0) {
        if (r != CO_ETIMEDOUT && r != CO_ECANCELED)
            return r; /* not a wait cut short (e.g. CO_ENOMEM): nothing was done */
        cancel_wait_all(tasks, n);
        consume_all(tasks, n, outs);
        return r;
    }
    int first_error = 0;
    for (size_t i = 0; i < n && !first_error; i++)
        first_error = tasks[i]->error;
    consume_all(tasks, n, outs);
    return first_error;
}

/*
 * Parks until one of the tasks that are not done yet finishes (or the wait is cut
 * short). Returns 0 when one finished, else the park's status.
 */
static int wait_for_one(co_task *const *tasks, size_t n, int64_t deadline_ns)
{
    struct co_task *self = co__current();
    if (!self)
        return CO_EPERM;
    struct co__waiter small[8], *w = n <= 8 ? small : malloc(n * sizeof *w);
    if (!w)
        return CO_ENOMEM;
    struct co_task *first_waited = NULL;
    for (size_t i = 0; i < n; i++) {
        w[i].task = self;
        w[i].next = NULL;
        if (tasks[i]->state == CORUN_TASK_DONE)
            continue;
        w[i].next = tasks[i]->waiters;
        tasks[i]->waiters = &w[i];
        if (!first_waited)
            first_waited = tasks[i];
    }
    int r = 0;
    if (first_waited) {
        self->awaited_task_id = first_waited->id;
        r = co__park(CORUN_WAIT_ANY, tasks, deadline_ns);
        self->awaited_task_id = 0;
    }
    for (size_t i = 0; i < n; i++)
        if (tasks[i]->state != CORUN_TASK_DONE)
            co__waiter_remove(tasks[i], &w[i]);
    if (w != small)
        free(w);
    return r;
}

int co_wait_any(co_task *const *tasks, size_t n, int64_t deadline_ns)
{
    if (!n || !tasks)
        return CO_EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (!tasks[i] || tasks[i]->loop != co__tls_loop)
            return CO_EINVAL;
        if (tasks[i]->state == CORUN_TASK_DONE)
            return (int)i;
    }
    int r = wait_for_one(tasks, n, deadline_ns);
    for (size_t i = 0; i < n; i++)
        if (tasks[i]->state == CORUN_TASK_DONE)
            return (int)i;
    return r != 0 ? r : CO_EINVAL;
}

/* The failed task that finished first (lowest done_seq), or NULL; *all_done tells whether
 * every task has finished. */
static struct co_task *first_failure(co_task *const *tasks, size_t n, int *all_done)
{
    struct co_task *first = NULL;
    *all_done = 1;
    for (size_t i = 0; i < n; i++) {
        struct co_task *t = tasks[i];
        if (t->state != CORUN_TASK_DONE) {
            *all_done = 0;
            continue;
        }
        if (t->error != 0 && t->error != CO_ECANCELED && (!first || t->done_seq < first->done_seq))
            first = t;
    }
    return first;
}

int co_gather_fail_fast(co_task *const *tasks, size_t n, struct co_outcome *outs,
                        int64_t deadline_ns)
{
    int r = check_all_joinable(tasks, n);
    if (r != 0)
        return r;
    struct co_task *failed;
    int all_done;
    while (!(failed = first_failure(tasks, n, &all_done)) && !all_done) {
        r = wait_for_one(tasks, n, deadline_ns);
        if (r != 0)
            break;
    }
    if (r != 0 && r != CO_ETIMEDOUT && r != CO_ECANCELED)
        return r; /* CO_ENOMEM, CO_EPERM: nothing was done */
    int error = r != 0 ? r : failed ? failed->error : 0;
    if (r != 0 || failed)
        cancel_wait_all(tasks, n);
    if (r == 0 && !failed) /* every task finished: a cancelled one is the gather's error */
        for (size_t i = 0; i < n && !error; i++)
            error = tasks[i]->error;
    consume_all(tasks, n, outs);
    return error;
}

int co_wait_for(co_task *t, struct co_outcome *out, int64_t deadline_ns)
{
    int r = co__check_joinable(t);
    if (r != 0)
        return r;
    /* A deadline already past (asyncio: timeout <= 0) cancels at once: a task that has
     * not started yet never runs. */
    if (t->state != CORUN_TASK_DONE && deadline_ns != CO_NO_DEADLINE &&
        deadline_ns <= co__clock_ns())
        r = CO_ETIMEDOUT;
    else
        r = co__wait_done(t, deadline_ns);
    if (r != 0) {
        if (r != CO_ETIMEDOUT && r != CO_ECANCELED)
            return r;
        co_task *one[1] = {t};
        cancel_wait_all(one, 1);
    }
    co__task_consume(t, out);
    return r;
}
