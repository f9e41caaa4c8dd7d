#include "task_tree.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "cs_sort.h"

long cs_task_index(const struct cs_corun_loop *loop, uint64_t id)
{
    /* Snapshots keep tasks sorted by id (corun_target.c): binary search. */
    size_t lo = cs_lower_bound_u64(loop->tasks, loop->ntasks, sizeof *loop->tasks,
                                   offsetof(struct cs_task, id), id);
    return lo < loop->ntasks && loop->tasks[lo].id == id ? (long)lo : -1;
}

static long task_by_addr(const struct cs_corun_loop *loop, uint64_t addr)
{
    if (!addr)
        return -1; /* not known (a replayed task has no address): no task is awaited */
    for (size_t i = 0; i < loop->ntasks; i++)
        if (loop->tasks[i].addr == addr)
            return (long)i;
    return -1;
}

/* The task t awaits, or -1: the join target by id, else by the wait object's address. */
static long awaited_index(const struct cs_corun_loop *loop, const struct cs_task *t)
{
    if (t->state != CORUN_TASK_WAITING)
        return -1;
    long i = t->awaited_task_id ? cs_task_index(loop, t->awaited_task_id) : -1;
    if (i < 0 && t->wait_reason == CORUN_WAIT_JOIN)
        i = task_by_addr(loop, t->wait_obj);
    return i;
}

void cs_task_tree_free(struct cs_task_tree *tree)
{
    free(tree->first_child);
    free(tree->next_sibling);
    free(tree->parent);
    tree->first_child = tree->next_sibling = tree->parent = NULL;
    tree->n = 0;
}

int cs_task_tree_build(struct cs_task_tree *tree, const struct cs_corun_loop *loop,
                       enum cs_tree_kind kind)
{
    size_t n = loop->ntasks;
    tree->n = n;
    tree->first_root = -1;
    tree->first_child = malloc((n + 1) * sizeof(long));
    tree->next_sibling = malloc((n + 1) * sizeof(long));
    tree->parent = malloc((n + 1) * sizeof(long));
    if (!tree->first_child || !tree->next_sibling || !tree->parent) {
        cs_task_tree_free(tree);
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        tree->first_child[i] = tree->next_sibling[i] = tree->parent[i] = -1;
    }
    if (kind == CS_TREE_SPAWN) {
        for (size_t i = 0; i < n; i++) {
            long p = loop->tasks[i].parent_id ? cs_task_index(loop, loop->tasks[i].parent_id) : -1;
            tree->parent[i] = p == (long)i ? -1 : p;
        }
    } else {
        /* The awaited task hangs under its (first) awaiter. */
        for (size_t i = 0; i < n; i++) {
            long a = awaited_index(loop, &loop->tasks[i]);
            if (a >= 0 && a != (long)i && tree->parent[a] < 0)
                tree->parent[a] = (long)i;
        }
    }
    /* A cycle (a corrupt read, or tasks awaiting each other) would hide tasks: cut it. */
    for (size_t i = 0; i < n; i++) {
        long p = tree->parent[i];
        for (size_t steps = 0; p >= 0; steps++) {
            if (p == (long)i || steps > n) {
                tree->parent[i] = -1;
                break;
            }
            p = tree->parent[p];
        }
    }
    /* Link children in array order (append at the tail). */
    long last_root = -1;
    long *last_child = malloc((n + 1) * sizeof(long));
    if (!last_child) {
        cs_task_tree_free(tree);
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        last_child[i] = -1;
    for (size_t i = 0; i < n; i++) {
        long p = tree->parent[i];
        if (p < 0) {
            if (last_root < 0)
                tree->first_root = (long)i;
            else
                tree->next_sibling[last_root] = (long)i;
            last_root = (long)i;
        } else {
            if (last_child[p] < 0)
                tree->first_child[p] = (long)i;
            else
                tree->next_sibling[last_child[p]] = (long)i;
            last_child[p] = (long)i;
        }
    }
    free(last_child);
    return 0;
}

void cs_task_waiting_on(const struct cs_corun_loop *loop, const struct cs_task *t, char *buf,
                        size_t len)
{
    buf[0] = 0;
    if (t->state != CORUN_TASK_WAITING)
        return;
    long a = awaited_index(loop, t);
    if (t->wait_reason == CORUN_WAIT_NONE)
        return; /* waiting on nothing known (a replay without its statistics): say nothing */
    if (t->wait_obj_unknown && a < 0 && !t->awaited_task_id) {
        /* A recording keeps why a task waits, not on what: "fd", not a made-up "fd 0". */
        snprintf(buf, len, "%s", cs_wait_reason_name(t->wait_reason));
        return;
    }
    switch (t->wait_reason) {
    case CORUN_WAIT_FD:
        snprintf(buf, len, "fd %" PRId64, (int64_t)t->wait_obj);
        return;
    case CORUN_WAIT_SLEEP:
    case CORUN_WAIT_YIELD:
        snprintf(buf, len, "%s", cs_wait_reason_name(t->wait_reason));
        return;
    case CORUN_WAIT_JOIN:
        if (a >= 0) {
            snprintf(buf, len, "task %" PRIu64 " (%s)", loop->tasks[a].id, loop->tasks[a].name);
            return;
        }
        if (t->awaited_task_id) {
            snprintf(buf, len, "task %" PRIu64, t->awaited_task_id);
            return;
        }
        break;
    default:
        break;
    }
    if (t->wait_obj)
        snprintf(buf, len, "%s 0x%" PRIx64, cs_wait_reason_name(t->wait_reason), t->wait_obj);
    else
        snprintf(buf, len, "%s", cs_wait_reason_name(t->wait_reason));
}
