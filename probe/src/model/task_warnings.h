/*
 * Per-task warnings of `coscope top`, in the spirit of tokio-console's lints: things a
 * task did that hurt its loop, kept for as long as the task is on screen.
 *   - never yielded: one busy slice longer than the stall threshold;
 *   - ready too long: woken, then not run for longer than the threshold;
 *   - blocking call: a system call blocked the loop thread inside its slice (a stall
 *     whose time went to that call);
 *   - failed, never joined: finished with an error (the runtime keeps a joinable task
 *     until someone joins it) and nobody has joined it for longer than the join grace
 *     (asyncio's "Task exception was never retrieved"). A task that ended well or was
 *     cancelled is no warning (cancelling is not failing, as in asyncio). A target whose
 *     debug table has no outcomes (version 1) gets the warning for any finished task.
 * The table is fed by the live source (snapshots, long slices, stalls) and read by the
 * screens through a const pointer in the view.
 */
#ifndef CS_TASK_WARNINGS_H
#define CS_TASK_WARNINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cs_corun_snapshot;
struct cs_task_slice;

enum cs_lint_kind {
    CS_LINT_LONG_SLICE = 1u << 0,
    CS_LINT_READY_LONG = 1u << 1,
    CS_LINT_BLOCKING = 1u << 2,
    CS_LINT_UNJOINED = 1u << 3,
};

/* What one task has been warned about, with the figures that back each warning. */
struct cs_task_lint {
    uint64_t task_id;
    unsigned kinds;            /* enum cs_lint_kind bits */
    uint64_t longest_slice_ns; /* CS_LINT_LONG_SLICE: the longest slice seen (or its
                                  histogram bucket's lower bound) */
    uint64_t ready_ns;         /* CS_LINT_READY_LONG: the longest wait for the loop seen */
    char syscall[32];          /* CS_LINT_BLOCKING: the call that blocked longest */
    uint64_t syscall_ns;       /* and how long the loop thread was blocked in it */
    uint64_t done_ns;          /* CS_LINT_UNJOINED: how long it has waited to be joined */
    bool outcome_known;        /* CS_LINT_UNJOINED: false when the target's table is v1 */
    int64_t last_seen_ns;      /* CLOCK_MONOTONIC: for forgetting tasks long gone */
};

struct cs_lint_table;

/* How long a failed task may wait to be joined before it is warned about: the threshold,
 * but at least this (a join a few snapshots after the end is the normal case). */
#define CS_LINT_JOIN_GRACE_NS 1000000000ull

struct cs_lint_table *cs_lints_new(uint64_t threshold_ns);
void cs_lints_free(struct cs_lint_table *t);

/* Looks at a new snapshot: histograms, ready tasks that did not run, done tasks. */
void cs_lints_snapshot(struct cs_lint_table *t, const struct cs_corun_snapshot *snap);
/* A long slice of a task (corun:slice_long). */
void cs_lints_slice(struct cs_lint_table *t, uint64_t task_id, uint64_t duration_ns,
                    int64_t now_ns);
/* A finished stall of task `task_id` whose off-CPU time went to `syscall` for `ns`. */
void cs_lints_blocking(struct cs_lint_table *t, uint64_t task_id, const char *syscall, uint64_t ns,
                       int64_t now_ns);
/* Forgets tasks not seen (in a snapshot or an event) since before `before_ns`. */
void cs_lints_expire(struct cs_lint_table *t, int64_t before_ns);

/* The warnings of a task, or NULL when it has none. */
const struct cs_task_lint *cs_lints_find(const struct cs_lint_table *t, uint64_t task_id);
/* How long task `task_id` has been seen finished and not joined (any outcome), 0 if it
 * was not: the detail's neutral note for a task that ended well. */
uint64_t cs_lints_unjoined_ns(const struct cs_lint_table *t, uint64_t task_id);
/* How many warnings (bits) a lint record holds. */
unsigned cs_lint_count(const struct cs_task_lint *l);
/* One letter for the tasks screen's warning column: the gravest warning. */
char cs_lint_letter(const struct cs_task_lint *l);

#endif
