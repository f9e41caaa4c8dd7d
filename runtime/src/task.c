/*
 * Tasks: spawn, the task's first and last moments, join, detach, cancel, shield.
 *
 * A task struct lives at the top of its own stack mapping (see stack.h), so spawning
 * takes one pooled mapping and no malloc, and a task's memory is freed in one piece.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#if CO__ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

/* Task ids are unique in the process: 0 means "no task" (e.g. the loop itself). */
static atomic_uint_fast64_t next_task_id = 1;

/* The largest stack a task may ask for (a typo guard, not a resource limit). */
#define STACK_MAX_BYTES ((size_t)1 << 30)

static size_t struct_bytes(void)
{
    return (sizeof(struct co_task) + 63) & ~(size_t)63;
}

static int outcome_failed(int error)
{
    return error != 0 && error != CO_ECANCELED;
}

/* The task's last moments, on its own stack: wake whoever waits for it. */
static void task_finish(struct co_task *t, int error)
{
    struct co_loop *loop = t->loop;
    t->error = error;
    t->done_seq = ++loop->tasks_finished;
    t->outcome = error == 0              ? CORUN_OUTCOME_OK
                 : error == CO_ECANCELED ? CORUN_OUTCOME_CANCELLED
                                         : CORUN_OUTCOME_ERROR;
    /* A reader in another process trusts outcome and error once it sees DONE. */
    __atomic_store_n(&t->state, CORUN_TASK_DONE, __ATOMIC_RELEASE);
    t->wait_reason = CORUN_WAIT_NONE;
    loop->alive--;
    if (t->held_locks > 0 && co__debug.enabled)
        co__debug_warn("task %llu \"%s\" returned while holding %d lock(s)",
                       (unsigned long long)t->id, t->name, t->held_locks);
    if (t->scopes && co__debug.enabled)
        co__debug_warn("task %llu \"%s\" returned inside a co_timeout scope",
                       (unsigned long long)t->id, t->name);
    t->scopes = NULL;
    t->flags &= ~(uint32_t)CO__TASK_IN_SCOPE;
    struct co__waiter *w = t->waiters;
    t->waiters = NULL;
    while (w) {
        struct co__waiter *next = w->next; /* w lives on a stack that may run soon */
        co__unpark(w->task, 0);
        w = next;
    }
    if (t->group)
        co__group_child_done(t->group, t);
    else if ((t->flags & CO__TASK_DETACHED) && outcome_failed(error) && co__debug.enabled)
        co__debug_warn("detached task %llu \"%s\" failed and nobody will join it: %s",
                       (unsigned long long)t->id, t->name, co_strerror(error));
}

static void task_entry(void *arg)
{
    struct co_task *t = arg;
#if CO__ASAN
    __sanitizer_finish_switch_fiber(NULL, &t->loop->asan_stack_lo, &t->loop->asan_stack_bytes);
#endif
    int error;
    if (t->flags & CO__TASK_CANCEL_PENDING) {
        /* Cancelled before it first ran: asyncio throws CancelledError into a coroutine
         * that never started, so none of its code runs. The caller may still own arg. */
        t->flags &= ~(uint32_t)CO__TASK_CANCEL_PENDING;
        if (t->arg_release)
            t->arg_release(t->arg);
        error = CO_ECANCELED;
    } else {
        error = t->fn(t->arg, &t->result);
        /* A cancellation still pending when the task returns successfully makes it
         * cancelled (asyncio: a task that cancels itself and returns is cancelled). */
        if (error == 0 && (t->flags & CO__TASK_CANCEL_PENDING)) {
            t->flags &= ~(uint32_t)CO__TASK_CANCEL_PENDING;
            error = CO_ECANCELED;
        }
    }
    task_finish(t, error);
    co__suspend(t);
    abort(); /* a finished task is never resumed */
}

int co__spawn_at(struct co_task **out, co_task_fn fn, void *arg, const struct co_spawn_opts *opts,
                 uint64_t spawn_pc)
{
    struct co_loop *loop = co__tls_loop;
    unsigned flags = opts ? opts->flags : 0;
    if (out)
        *out = NULL;
    if (!fn || (!out && !(flags & CO_SPAWN_DETACHED)) || (flags & ~CO_SPAWN_DETACHED))
        return CO_EINVAL;
    if (!loop)
        return CO_EPERM;
    size_t stack_bytes =
        opts && opts->stack_size_bytes ? opts->stack_size_bytes : CO_STACK_DEFAULT_BYTES;
    if (stack_bytes < CO_STACK_MIN_BYTES || stack_bytes > STACK_MAX_BYTES)
        return CO_EINVAL;

    size_t page = co__page_size();
    size_t map_bytes = (page + stack_bytes + struct_bytes() + page - 1) & ~(page - 1);
    char *map = co__stack_alloc(&loop->stacks, map_bytes);
    if (!map)
        return CO_ENOMEM;
    struct co_task *t = (struct co_task *)(map + map_bytes - struct_bytes());
    memset(t, 0, sizeof *t);

    struct co_task *parent = loop->current;
    t->id = atomic_fetch_add_explicit(&next_task_id, 1, memory_order_relaxed);
    t->parent_id = parent ? parent->id : 0;
    t->loop = loop;
    const char *name = opts && opts->name ? opts->name : "task";
    size_t len = strnlen(name, CO_TASK_NAME_MAX - 1);
    memcpy(t->name, name, len);
    t->name[len] = '\0';
    t->spawn_pc = spawn_pc;
    t->created_ns = co__coarse_clock_ns();
    t->map = map;
    t->map_bytes = map_bytes;
    t->fn = fn;
    t->arg = arg;
    t->heap_index = SIZE_MAX;
    if (flags & CO_SPAWN_DETACHED)
        t->flags |= CO__TASK_DETACHED;

    char *stack_lo = map + page;
#if CO__ASAN
    /* A pooled stack keeps the poisoning of frames its last task never returned from. */
    ASAN_UNPOISON_MEMORY_REGION(stack_lo, (size_t)((char *)t - stack_lo));
#endif
    co__ctx_make(&t->ctx, stack_lo, (size_t)((char *)t - stack_lo), task_entry, t);

    t->next_task = loop->first_task;
    if (loop->first_task)
        loop->first_task->prev_task = t;
    loop->first_task = t;
    loop->task_count++;
    loop->alive++;

    CO_PROBE5(task_spawn, t, t->id, t->parent_id, t->name, t->spawn_pc);
    t->state = CORUN_TASK_READY;
    co__ready_push(loop, t);
    CO_PROBE3(task_ready, t, t->id, t->parent_id);
    if (out)
        *out = t;
    return 0;
}

int co_spawn(co_task **out, co_task_fn fn, void *arg, const struct co_spawn_opts *opts)
{
    return co__spawn_at(out, fn, arg, opts, (uint64_t)(uintptr_t)__builtin_return_address(0));
}

void co__task_free(struct co_task *t)
{
    struct co_loop *loop = t->loop;
    if (!(t->flags & (CO__TASK_JOINED | CO__TASK_DETACHED)) && outcome_failed(t->error) &&
        co__debug.enabled)
        co__debug_warn("task %llu \"%s\" failed and was never joined: %s",
                       (unsigned long long)t->id, t->name, co_strerror(t->error));
    if (t->prev_task)
        t->prev_task->next_task = t->next_task;
    else
        loop->first_task = t->next_task;
    if (t->next_task)
        t->next_task->prev_task = t->prev_task;
    loop->task_count--;
    for (struct co_group *g = t->owned_groups; g;)
        g = co__group_owner_gone(g);
    free(t->stats);
    co__stack_free(&loop->stacks, t->map, t->map_bytes);
}

int co_set_arg_release(co_task *t, void (*release)(void *arg))
{
    if (!t || t->loop != co__tls_loop)
        return CO_EINVAL;
    t->arg_release = release;
    return 0;
}

/* ---- Waiting for a task's end ---- */

void co__waiter_remove(struct co_task *t, struct co__waiter *w)
{
    for (struct co__waiter **link = &t->waiters; *link; link = &(*link)->next) {
        if (*link == w) {
            *link = w->next;
            return;
        }
    }
}

int co__wait_done(struct co_task *t, int64_t deadline_ns)
{
    struct co_task *self = co__current();
    if (!self)
        return CO_EPERM;
    if (self == t)
        return CO_EINVAL; /* it would wait for itself forever */
    int r = 0;
    while (t->state != CORUN_TASK_DONE) {
        struct co__waiter w = {.task = self, .next = t->waiters};
        t->waiters = &w;
        self->awaited_task_id = t->id;
        r = co__park(CORUN_WAIT_JOIN, t, deadline_ns);
        self->awaited_task_id = 0;
        if (t->state != CORUN_TASK_DONE)
            co__waiter_remove(t, &w);
        if (r != 0)
            break;
    }
    return r;
}

int co__check_joinable(const struct co_task *t)
{
    if (!t || t->loop != co__tls_loop || (t->flags & CO__TASK_DETACHED) || t->group)
        return CO_EINVAL;
    return 0;
}

void co__task_consume(struct co_task *t, struct co_outcome *out)
{
    if (out) {
        out->error = t->error;
        out->value = t->result;
    }
    t->flags |= CO__TASK_JOINED;
    co__task_free(t);
}

int co_join(co_task *t, struct co_outcome *out, int64_t deadline_ns)
{
    int r = co__check_joinable(t);
    if (r != 0)
        return r;
    r = co__wait_done(t, deadline_ns);
    if (r != 0)
        return r;
    co__task_consume(t, out);
    return 0;
}

int co_detach(co_task *t)
{
    int r = co__check_joinable(t);
    if (r != 0)
        return r;
    if (t->state == CORUN_TASK_DONE) {
        if (outcome_failed(t->error) && co__debug.enabled)
            co__debug_warn("detached task %llu \"%s\" had failed: %s", (unsigned long long)t->id,
                           t->name, co_strerror(t->error));
        t->flags |= CO__TASK_JOINED;
        co__task_free(t);
        return 0;
    }
    t->flags |= CO__TASK_DETACHED;
    return 0;
}

/* ---- Identity ---- */

co_task *co_self(void)
{
    return co__current();
}

const char *co_task_name(const co_task *t)
{
    if (!t)
        t = co__current();
    return t ? t->name : NULL;
}

uint64_t co_task_id(const co_task *t)
{
    if (!t)
        t = co__current();
    return t ? t->id : 0;
}

int co_task_done(const co_task *t)
{
    return t && t->state == CORUN_TASK_DONE;
}

/* ---- Cancellation ---- */

int co_cancel(co_task *t)
{
    if (!t || t->loop != co__tls_loop)
        return CO_EINVAL;
    if (t->state == CORUN_TASK_DONE)
        return 1;
    struct co_task *self = co__current();
    CO_PROBE3(task_cancel, t, t->id, self ? self->id : 0);
    t->flags |= CO__TASK_CANCEL_PENDING | CO__TASK_CANCEL_SEEN;
    t->cancel_requests++;
    co__cancel_owned_groups(t);
    if (t->state == CORUN_TASK_WAITING && t->shield_depth == 0) {
        t->flags &= ~(uint32_t)CO__TASK_CANCEL_PENDING;
        co__unpark(t, CO_ECANCELED);
    }
    return 0;
}

int co_shield_begin(void)
{
    struct co_task *t = co__current();
    if (!t)
        return CO_EPERM;
    t->shield_depth++;
    return 0;
}

int co_shield_end(void)
{
    struct co_task *t = co__current();
    if (!t)
        return CO_EPERM;
    if (t->shield_depth == 0)
        return CO_EINVAL;
    t->shield_depth--;
    return 0;
}
