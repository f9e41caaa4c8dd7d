/*
 * The task side of the live source: finds libcorun in the target (its debug table),
 * holds the runtime's statistics semaphore up through USDT so per-task counters and
 * histograms are kept, and reads a snapshot of every loop and task now and then.
 */
#ifndef CS_CORUN_TASKS_H
#define CS_CORUN_TASKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cs_corun_snapshot;
struct cs_corun_tasks;
struct cs_task_slice; /* model_tasks.h */
struct cs_task_ended;
struct cs_lint_table;
struct cs_stall;

/*
 * Never fails for want of libcorun: the source then says why in cs_corun_tasks_why().
 * Task slices longer than a fraction of `threshold_ns` are remembered with their task's
 * name, to name the task of a stall.
 */
struct cs_corun_tasks *cs_corun_tasks_new(int pid, uint64_t threshold_ns);
void cs_corun_tasks_free(struct cs_corun_tasks *s);

/* Reads a new snapshot when one is due (and retries finding libcorun now and then). */
void cs_corun_tasks_process(struct cs_corun_tasks *s, uint64_t now_ns);

/* The latest snapshot, NULL while there is none. Valid until the next process. */
const struct cs_corun_snapshot *cs_corun_tasks_snapshot(const struct cs_corun_tasks *s);
/* Per-task statistics are being kept (the semaphore is held). */
bool cs_corun_tasks_has_stats(const struct cs_corun_tasks *s);
/* Why there are no tasks (one sentence), or "". */
const char *cs_corun_tasks_why(const struct cs_corun_tasks *s);

/* Copies the most recent long task slices (oldest first) into out; returns how many. */
size_t cs_corun_tasks_slices(const struct cs_corun_tasks *s, struct cs_task_slice *out, size_t max);

/* The tasks of the snapshot that have ended (ghosts, fading out), sorted by id. */
size_t cs_corun_tasks_ended(const struct cs_corun_tasks *s, struct cs_task_ended *out, size_t max);
/* The per-task warnings (task_warnings.h). */
const struct cs_lint_table *cs_corun_tasks_lints(const struct cs_corun_tasks *s);
/* A stall record: a finished one blocked in a system call warns its task (once it is
 * known which task ran). */
void cs_corun_tasks_note_stall(struct cs_corun_tasks *s, const struct cs_stall *st,
                               uint64_t now_ns);

#endif
