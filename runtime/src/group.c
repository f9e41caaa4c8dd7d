/*
 * Task groups (asyncio.TaskGroup): the owner waits for its children; the first failure
 * cancels the siblings and is returned to the owner; cancelling the owner (or cutting its
 * wait short) cancels the children.
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
    g->owner_next = self->owned_groups;
    self->owned_groups = g;
    *out = g;
    return 0;
}

int co_group_spawn(co_group *g, co_task_fn fn, void *arg, const struct co_spawn_opts *opts)
{
    if (!g || g->loop != co__tls_loop)
        return CO_EINVAL;
    if (g->cancelling)
        return CO_ECANCELED;
    struct co_spawn_opts o = {0};
    if (opts)
        o = *opts;
    o.flags |= CO_SPAWN_DETACHED; /* the group, not a join, ends the child's life */
    struct co_task *t;
    int r = co__spawn_at(&t, fn, arg, &o, (uint64_t)(uintptr_t)__builtin_return_address(0));
    if (r != 0)
        return r;
    t->group = g;
    t->group_prev = NULL;
    t->group_next = g->children;
    if (g->children)
        g->children->group_prev = t;
    g->children = t;
    g->live++;
    return 0;
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
    for (struct co_group *g = t->owned_groups; g; g = g->owner_next)
        co_group_cancel(g);
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
    g->live--;
    /* A child that was cancelled did not fail (asyncio ignores its CancelledError). */
    if (child->error != 0 && child->error != CO_ECANCELED && !g->first_error) {
        g->first_error = child->error;
        co_group_cancel(g);
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
        return r;
    }
    return g->first_error;
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
    /* Children still running finish on their own (they are detached). */
    for (struct co_task *t = g->children; t;) {
        struct co_task *next = t->group_next;
        t->group = NULL;
        t->group_next = t->group_prev = NULL;
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
