/*
 * The task graphs of one loop: the spawn tree (parent -> children) and the await graph
 * (a task -> the tasks it waits for), over a snapshot's task array, by index.
 */
#ifndef CS_TASK_TREE_H
#define CS_TASK_TREE_H

#include <stddef.h>

#include "model_tasks.h"

enum cs_tree_kind {
    CS_TREE_SPAWN, /* children: the tasks a task spawned */
    CS_TREE_AWAIT, /* children: the tasks a task awaits (joins) */
};

struct cs_task_tree {
    size_t n;
    /* Per task, by index into the loop's task array; -1 ends a list. */
    long *first_child;
    long *next_sibling;
    long *parent;
    long first_root; /* roots in task-array order, linked through next_sibling */
};

/* Builds the graph over loop->tasks. A task whose parent (or awaiter) is not in the array
 * is a root. 0 or -ENOMEM; free with cs_task_tree_free. */
int cs_task_tree_build(struct cs_task_tree *tree, const struct cs_corun_loop *loop,
                       enum cs_tree_kind kind);
void cs_task_tree_free(struct cs_task_tree *tree);

/* Index of the task with this id in loop->tasks (sorted by id, as snapshots are), or -1. */
long cs_task_index(const struct cs_corun_loop *loop, uint64_t id);

/*
 * What a task waits on, for people: "sleep", "fd 7", "task 3 (worker)", "lock 0x55…";
 * an empty string when it does not wait.
 */
void cs_task_waiting_on(const struct cs_corun_loop *loop, const struct cs_task *t, char *buf,
                        size_t len);

#endif
