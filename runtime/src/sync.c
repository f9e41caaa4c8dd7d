/* Locks, semaphores, events and conditions (asyncio.Lock/Semaphore/Event/Condition).
 *
 * All of them are FIFO-fair by hand-off: a release gives the resource straight to the
 * first waiter instead of letting a newcomer barge in. See waitq.h for the rule that keeps
 * a cancelled waiter from swallowing a hand-off. */
#include "waitq.h"

int co__waitq_wait(struct co_waitq *q, struct co__wq_node *w, enum corun_wait_reason why,
                   const void *obj, int64_t deadline_ns)
{
    w->task = co__current();
    w->granted = false;
    w->result = 0;
    co__waitq_push(q, w);
    int rc = co__park(why, obj, deadline_ns);
    if (w->queued)
        co__waitq_remove(q, w);
    /* Only a waker's co__unpark(t, 0) ends a park with 0, and it wins only if it came
     * first; so rc == 0 exactly when the wake-up was granted. */
    return w->granted ? 0 : (rc ? rc : CO_ECANCELED);
}

/* ---- lock ---------------------------------------------------------------------------- */

int co_lock_init(struct co_lock *l)
{
    if (!l)
        return CO_EINVAL;
    *l = (struct co_lock)CO_LOCK_INIT;
    return 0;
}

static void lock_grant(struct co_lock *l, struct co_task *t)
{
    l->owner = t;
    co__task_lock_acquired(t);
}

int co_lock_try_acquire(struct co_lock *l)
{
    if (!l)
        return CO_EINVAL;
    struct co_task *self = co__current();
    if (!self)
        return CO_EINVAL;
    if (l->owner || !co__waitq_empty(&l->waiters))
        return CO_EAGAIN;
    lock_grant(l, self);
    return 0;
}

int co_lock_acquire(struct co_lock *l, int64_t deadline_ns)
{
    int rc = co_lock_try_acquire(l);
    if (rc != CO_EAGAIN)
        return rc;
    struct co_task *self = co__current();
    if (l->owner == self)
        return CO_EDEADLK; /* not re-entrant, like asyncio.Lock: waiting would hang */
    CO_PROBE3(lock_contended, l, self->id, l->owner ? l->owner->id : 0);
    struct co__wq_node w;
    /* on success the releaser has already made us the owner */
    return co__waitq_wait(&l->waiters, &w, CORUN_WAIT_LOCK, l, deadline_ns);
}

int co_lock_release(struct co_lock *l)
{
    if (!l)
        return CO_EINVAL;
    if (!l->owner)
        return CO_EINVAL; /* releasing an unlocked lock (asyncio: RuntimeError) */
    /* Any task may release (asyncio's rule), but only the acquirer's own count can be
     * trusted to be alive: a task that ended holding the lock is debug mode's warning. */
    if (l->owner == co__current())
        co__task_lock_released(l->owner);
    l->owner = NULL;
    struct co_task *next = co__waitq_wake_first(&l->waiters, 0);
    if (next)
        lock_grant(l, next); /* hand-off: no newcomer can take it before `next` runs */
    return 0;
}

int co_lock_locked(const struct co_lock *l)
{
    return l && l->owner;
}

/* ---- semaphore ----------------------------------------------------------------------- */

int co_sem_init(struct co_sem *s, unsigned value)
{
    if (!s || value > INT32_MAX)
        return CO_EINVAL;
    *s = (struct co_sem){.value = value, .bound = -1};
    return 0;
}

int co_sem_init_bounded(struct co_sem *s, unsigned value)
{
    int rc = co_sem_init(s, value);
    if (rc == 0)
        s->bound = value;
    return rc;
}

int co_sem_try_acquire(struct co_sem *s)
{
    if (!s)
        return CO_EINVAL;
    if (s->value == 0 || !co__waitq_empty(&s->waiters))
        return CO_EAGAIN;
    s->value--;
    return 0;
}

int co_sem_acquire(struct co_sem *s, int64_t deadline_ns)
{
    int rc = co_sem_try_acquire(s);
    if (rc != CO_EAGAIN)
        return rc;
    if (!co__current())
        return CO_EINVAL;
    struct co__wq_node w;
    /* on success the releaser handed its unit straight to us */
    return co__waitq_wait(&s->waiters, &w, CORUN_WAIT_SEM, s, deadline_ns);
}

int co_sem_release(struct co_sem *s)
{
    if (!s)
        return CO_EINVAL;
    if (s->bound >= 0 && s->value >= s->bound)
        return CO_EINVAL; /* BoundedSemaphore released too many times */
    if (!co__waitq_wake_first(&s->waiters, 0))
        s->value++;
    return 0;
}

int co_sem_value(const struct co_sem *s)
{
    return s ? (int)s->value : CO_EINVAL;
}

/* ---- event --------------------------------------------------------------------------- */

int co_event_init(struct co_event *e)
{
    if (!e)
        return CO_EINVAL;
    *e = (struct co_event)CO_EVENT_INIT;
    return 0;
}

int co_event_set(struct co_event *e)
{
    if (!e)
        return CO_EINVAL;
    e->is_set = 1;
    while (co__waitq_wake_first(&e->waiters, 0))
        ;
    return 0;
}

int co_event_clear(struct co_event *e)
{
    if (!e)
        return CO_EINVAL;
    e->is_set = 0;
    return 0;
}

int co_event_is_set(const struct co_event *e)
{
    return e && e->is_set;
}

int co_event_wait(struct co_event *e, int64_t deadline_ns)
{
    if (!e || !co__current())
        return CO_EINVAL;
    if (e->is_set)
        return 0;
    struct co__wq_node w;
    return co__waitq_wait(&e->waiters, &w, CORUN_WAIT_EVENT, e, deadline_ns);
}

/* ---- condition ----------------------------------------------------------------------- */

int co_cond_init(struct co_cond *c, struct co_lock *lock)
{
    if (!c || !lock)
        return CO_EINVAL;
    *c = (struct co_cond){.lock = lock};
    return 0;
}

/* Re-takes the condition's lock after a wait, whatever happens: the caller's code after
 * co_cond_wait assumes it holds the lock (asyncio retries through cancellations too).
 * Returns the first cancellation seen so that it is not lost. */
static int cond_relock(struct co_cond *c)
{
    int first_err = 0;
    for (;;) {
        int rc = co_lock_acquire(c->lock, CO_NO_DEADLINE);
        if (rc == 0)
            return first_err;
        if (rc != CO_ECANCELED)
            return rc;
        if (!first_err)
            first_err = rc;
    }
}

int co_cond_wait(struct co_cond *c, int64_t deadline_ns)
{
    if (!c || !co__current())
        return CO_EINVAL;
    if (c->lock->owner != co__current())
        return CO_EPERM; /* must hold the lock (asyncio: RuntimeError) */
    co_lock_release(c->lock);
    struct co__wq_node w;
    int rc = co__waitq_wait(&c->waiters, &w, CORUN_WAIT_COND, c, deadline_ns);
    int relock = cond_relock(c);
    return rc ? rc : relock;
}

int co_cond_wait_for(struct co_cond *c, int (*pred)(void *arg), void *arg, int64_t deadline_ns)
{
    if (!c || !pred)
        return CO_EINVAL;
    while (!pred(arg)) {
        int rc = co_cond_wait(c, deadline_ns);
        if (rc)
            return rc;
    }
    return 0;
}

int co_cond_notify(struct co_cond *c, int n)
{
    if (!c || n < 0)
        return CO_EINVAL;
    int woken = 0;
    while (woken < n && co__waitq_wake_first(&c->waiters, 0))
        woken++;
    return woken;
}

int co_cond_notify_all(struct co_cond *c)
{
    return co_cond_notify(c, INT32_MAX);
}
