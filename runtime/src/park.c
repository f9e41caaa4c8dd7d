/*
 * park/unpark (see internal.h) and the suspending calls built directly on them:
 * co_yield, co_sleep, scoped timeouts.
 */
#include "internal.h"

/* Does a co_timeout scope apply to t now? Scopes opened outside a shield wait for it. */
static int scope_applies(const struct co_task *t, const struct co_timeout *s)
{
    return s->shield_level >= t->shield_depth;
}

int64_t co__scope_deadline(const struct co_task *t)
{
    int64_t dl = CO_NO_DEADLINE;
    for (const struct co_timeout *s = t->scopes; s; s = s->outer)
        if (scope_applies(t, s) && s->deadline_ns != CO_NO_DEADLINE &&
            (dl == CO_NO_DEADLINE || s->deadline_ns < dl))
            dl = s->deadline_ns;
    return dl;
}

/*
 * A deadline of t's scopes passed at `when`: the scopes due by then are spent (their
 * deadline no longer cuts waits short: asyncio delivers a timeout's cancellation once, so
 * clean-up code in the scope can wait). Only the outermost of them reports the timeout:
 * when nested timeouts expire together, asyncio's outer one raises TimeoutError and the
 * inner ones let the cancellation through. Returns 1 if a scope was due.
 */
static int expire_scopes(struct co_task *t, int64_t when)
{
    struct co_timeout *outermost = NULL;
    for (struct co_timeout *s = t->scopes; s; s = s->outer)
        if (scope_applies(t, s) && s->deadline_ns != CO_NO_DEADLINE && s->deadline_ns <= when)
            outermost = s;
    if (!outermost)
        return 0;
    for (struct co_timeout *s = t->scopes;; s = s->outer) {
        if (scope_applies(t, s) && s->deadline_ns != CO_NO_DEADLINE && s->deadline_ns <= when)
            s->deadline_ns = CO_NO_DEADLINE;
        if (s == outermost)
            break;
    }
    outermost->expired = 1;
    /* As when the task is cancelled, the groups opened in the scope cancel their
     * children (asyncio's timeout cancels the task, whose TaskGroups see it). */
    if (t->owned_groups)
        co__cancel_scope_groups(t, outermost);
    return 1;
}

static int take_pending_cancel(struct co_task *t)
{
    if ((t->flags & CO__TASK_CANCEL_PENDING) && t->shield_depth == 0) {
        t->flags &= ~(uint32_t)CO__TASK_CANCEL_PENDING;
        return 1;
    }
    return 0;
}

int co__park(enum corun_wait_reason why, const void *obj, int64_t deadline_ns)
{
    struct co_task *t = co__current();
    if (!t)
        return CO_EPERM;
    if (take_pending_cancel(t))
        return CO_ECANCELED;
    struct co_loop *loop = t->loop;
    int64_t effective = deadline_ns;
    if (t->scopes) {
        int64_t scope_dl = co__scope_deadline(t);
        if (scope_dl != CO_NO_DEADLINE && (effective == CO_NO_DEADLINE || scope_dl < effective))
            effective = scope_dl;
    }
    if (effective != CO_NO_DEADLINE && co__timer_add(loop, t, effective) != 0)
        return CO_ENOMEM;
    t->state = CORUN_TASK_WAITING;
    t->wait_reason = why;
    t->wait_obj = obj;
    co__suspend(t); /* while timing is on, the loop sets waiting_since_ns */
    t->wait_reason = CORUN_WAIT_NONE;
    t->wait_obj = NULL;
    t->waiting_since_ns = 0;
    int r = t->wake_result;
    if (r == CO__WAKE_TIMER)
        r = expire_scopes(t, effective) ? CO_ECANCELED : CO_ETIMEDOUT;
    return r;
}

int co__unpark(struct co_task *t, int result)
{
    if (!t || t->state != CORUN_TASK_WAITING)
        return 0;
    struct co_loop *loop = t->loop;
    if (t->heap_index != SIZE_MAX)
        co__timer_remove(loop, t);
    t->wake_result = result;
    t->state = CORUN_TASK_READY;
    co__ready_push(loop, t);
    struct co_task *waker = loop->current;
    CO_PROBE3(task_ready, t, t->id, waker ? waker->id : 0);
    return 1;
}

/* How far CLOCK_MONOTONIC_COARSE may lag behind CLOCK_MONOTONIC: its resolution (one
 * tick) in theory, but a late tick (a busy host, a VM descheduled) makes it lag more, so
 * 50 ms are added. Past that, a yield loop would time out late, never not at all. 0
 * until first needed. */
static int64_t coarse_lag_ns;

static int64_t coarse_clock_lag_ns(void)
{
    int64_t lag = __atomic_load_n(&coarse_lag_ns, __ATOMIC_RELAXED);
    if (!lag) {
        struct timespec res;
        if (clock_getres(CLOCK_MONOTONIC_COARSE, &res) != 0)
            res = (struct timespec){.tv_sec = 0, .tv_nsec = 10000000};
        lag = (int64_t)res.tv_sec * 1000000000 + res.tv_nsec + 50000000;
        __atomic_store_n(&coarse_lag_ns, lag, __ATOMIC_RELAXED);
    }
    return lag;
}

/*
 * co_yield's end inside a co_timeout scope: a loop of yields never parks, so no timer
 * cuts it short; the clock is read here instead (only inside scopes). The coarse clock
 * (a few ns) settles the usual case, a deadline more than a tick away; the precise one
 * is read only near the deadline.
 */
static __attribute__((noinline)) int yield_scope_check(struct co_task *t)
{
    if (take_pending_cancel(t))
        return CO_ECANCELED;
    if (!t->scopes)
        return 0;
    int64_t dl = co__scope_deadline(t);
    if (dl == CO_NO_DEADLINE || co__coarse_clock_ns() + coarse_clock_lag_ns() < dl)
        return 0;
    return expire_scopes(t, co__clock_ns()) ? CO_ECANCELED : 0;
}

int co_yield (void)
{
    struct co_loop *loop = co__tls_loop;
    struct co_task *t = loop ? loop->current : NULL;
    if (!t)
        return CO_EPERM;
    if (__builtin_expect(t->flags & CO__TASK_CANCEL_PENDING, 0) && take_pending_cancel(t))
        return CO_ECANCELED;
    t->state = CORUN_TASK_READY;
    t->wait_reason = CORUN_WAIT_YIELD;
    co__ready_push(loop, t);
    co__suspend(t);
    t->wait_reason = CORUN_WAIT_NONE;
    /* Nothing was acquired while ready: a cancellation that came meanwhile, or a scope
     * deadline that passed, is this suspension's. One test of the flags covers both. */
    if (__builtin_expect(t->flags & (CO__TASK_CANCEL_PENDING | CO__TASK_IN_SCOPE), 0))
        return yield_scope_check(t);
    return 0;
}

int co_sleep_until(int64_t deadline_ns)
{
    int r = co__park(CORUN_WAIT_SLEEP, NULL, deadline_ns);
    return r == CO_ETIMEDOUT ? 0 : r;
}

int co_sleep(int64_t duration_ns)
{
    if (duration_ns < 0)
        return CO_EINVAL;
    return co_sleep_until(co__clock_ns() + duration_ns);
}

int co_timeout_begin(struct co_timeout *scope, int64_t deadline_ns)
{
    struct co_task *t = co__current();
    if (!scope || deadline_ns < CO_NO_DEADLINE)
        return CO_EINVAL;
    if (!t)
        return CO_EPERM;
    scope->deadline_ns = deadline_ns;
    scope->expired = 0;
    scope->shield_level = t->shield_depth;
    scope->outer = t->scopes;
    t->scopes = scope;
    t->flags |= CO__TASK_IN_SCOPE;
    return 0;
}

int co_timeout_end(struct co_timeout *scope)
{
    struct co_task *t = co__current();
    if (!t)
        return CO_EPERM;
    if (!scope || t->scopes != scope)
        return CO_EINVAL; /* not the innermost scope */
    t->scopes = scope->outer;
    if (!t->scopes)
        t->flags &= ~(uint32_t)CO__TASK_IN_SCOPE;
    return scope->expired ? CO_ETIMEDOUT : 0;
}
