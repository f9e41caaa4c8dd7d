/*
 * Task groups (asyncio.TaskGroup): the owner waits for its children; the first failure
 * cancels the siblings and the owner's body (if the owner is not waiting for the group
 * yet) and is returned to the owner; cancelling the owner (co_cancel, or an expired
 * co_timeout scope the group was created in, or cutting its wait short) cancels the
 * children, and the group's wait then reports CO_ECANCELED.
 */
#include <stdlib.h>

#include "internal.h"

struct co_group {
    struct co_loop *loop;
    struct co_task *owner;
    struct co_group *owner_next; /* owner's list of groups */
    struct co_task *children;    /* running children, through group_next/prev */
    size_t live;
    int first_error;
    int cancelling;
    struct co_task *waiter; /* the owner, while in co_group_wait */
    struct co_task *kept;   /* finished children whose handle was given out */
    /* The owner's innermost co_timeout scope when the group was created: the group is
     * cancelled when that scope (or one around it) expires. */
    const struct co_timeout *scope;
    int owner_cancelled;        /* the owner was cancelled while the group was open */
    int cancelling_owner;       /* this group is cancelling its owner (a child failed) */
    uint32_t owner_cancel_mark; /* owner's cancel_requests after that request; 0: none */
};

int co_group_create(co_group **out)
{
    struct co_task *self = co__current();
    if (!out)
        return CO_EINVAL;
    *out = NULL;
    if (!self)
        return CO_EPERM;
    struct co_group *g = calloc(1, sizeof *g);
    if (!g)
        return CO_ENOMEM;
    g->loop = self->loop;
    g->owner = self;
    g->scope = self->scopes;
    g->owner_next = self->owned_groups;
    self->owned_groups = g;
    *out = g;
    return 0;
}

static int group_spawn(co_group *g, co_task **out, co_task_fn fn, void *arg,
                       const struct co_spawn_opts *opts, uint64_t spawn_pc)
{
    if (out)
        *out = NULL;
    if (!g || g->loop != co__tls_loop)
        return CO_EINVAL;
    if (g->cancelling)
        return CO_ECANCELED;
    struct co_spawn_opts o = {0};
    if (opts)
        o = *opts;
    /* The group, not a join, ends the child's life: freed when it finishes, unless its
     * handle was given out (then when the group is destroyed). */
    if (out)
        o.flags &= ~(unsigned)CO_SPAWN_DETACHED;
    else
        o.flags |= CO_SPAWN_DETACHED;
    struct co_task *t;
    int r = co__spawn_at(&t, fn, arg, &o, spawn_pc);
    if (r != 0)
        return r;
    if (out)
        t->flags |= CO__TASK_GROUP_KEPT;
    t->group = g;
    t->group_prev = NULL;
    t->group_next = g->children;
    if (g->children)
        g->children->group_prev = t;
    g->children = t;
    g->live++;
    if (out)
        *out = t;
    return 0;
}

int co_group_spawn(co_group *g, co_task_fn fn, void *arg, const struct co_spawn_opts *opts)
{
    return group_spawn(g, NULL, fn, arg, opts, (uint64_t)(uintptr_t)__builtin_return_address(0));
}

int co_group_spawn_task(co_group *g, co_task **out, co_task_fn fn, void *arg,
                        const struct co_spawn_opts *opts)
{
    if (!out)
        return CO_EINVAL;
    return group_spawn(g, out, fn, arg, opts, (uint64_t)(uintptr_t)__builtin_return_address(0));
}

int co_group_cancel(co_group *g)
{
    if (!g || g->loop != co__tls_loop)
        return CO_EINVAL;
    g->cancelling = 1;
    for (struct co_task *t = g->children; t; t = t->group_next)
        co_cancel(t);
    return 0;
}

void co__cancel_owned_groups(struct co_task *t)
{
    for (struct co_group *g = t->owned_groups; g; g = g->owner_next) {
        if (!g->cancelling_owner)
            g->owner_cancelled = 1;
        co_group_cancel(g);
    }
}

/* Was g created inside `scope` (one of t's open scopes)? */
static int group_in_scope(const struct co_task *t, const struct co_group *g,
                          const struct co_timeout *scope)
{
    for (const struct co_timeout *s = t->scopes; s; s = s->outer) {
        if (s == g->scope)
            return 1;
        if (s == scope)
            return 0;
    }
    return 0;
}

void co__cancel_scope_groups(struct co_task *t, const struct co_timeout *scope)
{
    for (struct co_group *g = t->owned_groups; g; g = g->owner_next) {
        if (g->scope && group_in_scope(t, g, scope)) {
            g->owner_cancelled = 1;
            co_group_cancel(g);
        }
    }
}

/* A child failed while the owner runs its body: interrupt the body (asyncio cancels the
 * parent task), so that it reaches co_group_wait soon. */
static void cancel_owner(struct co_group *g)
{
    struct co_task *owner = g->owner;
    if (!owner || g->waiter || owner->state == CORUN_TASK_DONE)
        return;
    g->cancelling_owner = 1;
    co_cancel(owner);
    g->cancelling_owner = 0;
    g->owner_cancel_mark = owner->cancel_requests;
}

void co__group_child_done(struct co_group *g, struct co_task *child)
{
    if (child->group_prev)
        child->group_prev->group_next = child->group_next;
    else
        g->children = child->group_next;
    if (child->group_next)
        child->group_next->group_prev = child->group_prev;
    child->group_next = child->group_prev = NULL;
    if (child->flags & CO__TASK_GROUP_KEPT) {
        child->group_next = g->kept;
        g->kept = child;
    }
    g->live--;
    /* A child that was cancelled did not fail (asyncio ignores its CancelledError). */
    if (child->error != 0 && child->error != CO_ECANCELED && !g->first_error) {
        g->first_error = child->error;
        co_group_cancel(g);
        cancel_owner(g);
    }
    if (g->live == 0 && g->waiter)
        co__unpark(g->waiter, 0);
}

/* Parks the owner until every child has finished; interruptions are ignored. */
static void wait_children_shielded(struct co_group *g, struct co_task *self)
{
    co_shield_begin();
    while (g->live > 0) {
        g->waiter = self;
        co__park(CORUN_WAIT_GROUP, g, CO_NO_DEADLINE);
        g->waiter = NULL;
    }
    co_shield_end();
}

int co_group_wait(co_group *g, int64_t deadline_ns)
{
    struct co_task *self = co__current();
    if (!g || g->loop != co__tls_loop)
        return CO_EINVAL;
    if (!self)
        return CO_EPERM;
    if (g->waiter)
        return CO_EBUSY;
    /* The group's own cancellation of the owner, not consumed by the body, only existed
     * to interrupt the body: take it back (asyncio's uncancel()), unless someone else has
     * cancelled the owner since. */
    if (g->owner_cancel_mark && self == g->owner && (self->flags & CO__TASK_CANCEL_PENDING) &&
        self->cancel_requests == g->owner_cancel_mark)
        self->flags &= ~(uint32_t)CO__TASK_CANCEL_PENDING;
    g->owner_cancel_mark = 0;
    int r = 0;
    while (g->live > 0) {
        g->waiter = self;
        r = co__park(CORUN_WAIT_GROUP, g, deadline_ns);
        g->waiter = NULL;
        if (r != 0)
            break;
    }
    if (r != 0) {
        co_group_cancel(g);
        wait_children_shielded(g, self);
    }
    /* As in asyncio, a child's failure outranks the owner's cancellation. */
    if (g->first_error)
        return g->first_error;
    if (r != 0)
        return r;
    /* The owner was cancelled while the group was open (its body may have consumed the
     * cancellation): the group must not report success. */
    return g->owner_cancelled ? CO_ECANCELED : 0;
}

struct co_group *co__group_owner_gone(struct co_group *g)
{
    struct co_group *next = g->owner_next;
    g->owner = NULL;
    g->owner_next = NULL;
    return next;
}

void co_group_destroy(co_group *g)
{
    if (!g)
        return;
    if (g->live > 0)
        co_group_cancel(g);
    /* Children still running finish on their own (detached: their handles die here). */
    for (struct co_task *t = g->children; t;) {
        struct co_task *next = t->group_next;
        t->group = NULL;
        t->group_next = t->group_prev = NULL;
        t->flags |= CO__TASK_DETACHED;
        t = next;
    }
    /* The group reported their outcome: freeing them is no "never joined" failure. */
    for (struct co_task *t = g->kept; t;) {
        struct co_task *next = t->group_next;
        t->flags |= CO__TASK_JOINED;
        co__task_free(t);
        t = next;
    }
    if (g->owner) {
        for (struct co_group **link = &g->owner->owned_groups; *link; link = &(*link)->owner_next) {
            if (*link == g) {
                *link = g->owner_next;
                break;
            }
        }
    }
    free(g);
}
