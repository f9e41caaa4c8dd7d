/*
 * The libcorun side of a recording: turns successive snapshots of the target's tasks
 * (corun_target.h) into TASK_SPAWN / TASK_DONE records, and the runtime's own counters
 * (folded by cs_stat, model_tasks.h) into LOOP_STATS / TASK_STATS records.
 */
#ifndef CS_RECORD_TASKS_H
#define CS_RECORD_TASKS_H

#include <stdbool.h>

#include "corun_usdt.h"
#include "model_tasks.h"
#include "record_encode.h"
#include "record_writer.h"

struct cs_rec_tasks;

struct cs_rec_tasks *cs_rec_tasks_new(int pid);
void cs_rec_tasks_free(struct cs_rec_tasks *t);

/* Folds one snapshot in and writes what changed; with `stats`, the figures of every live
 * loop and task too. 0 or -errno (the writer's error). */
int cs_rec_tasks_add(struct cs_rec_tasks *t, struct cs_rec_writer *w,
                     const struct cs_corun_snapshot *snap, bool stats);

/* Writes a spawn record and the figures of every task alive now, and of every loop (the
 * flight recorder's file must name tasks born before its window). */
int cs_rec_tasks_write_live(struct cs_rec_tasks *t, struct cs_rec_writer *w, uint64_t now_ns);

/*
 * The exact lifecycle (corun_polls.h's SPAWN and END events), encoded into `b` (a batch):
 * a TASK_SPAWN at a birth no record named yet; at an end, the task's final TASK_STATS and
 * a TASK_DONE with its outcome (and a TASK_SPAWN first if nothing named it). Snapshots
 * then write nothing more about the task. Records encoded, or -ENOMEM.
 */
int cs_rec_tasks_spawned(struct cs_rec_tasks *t, struct cs_rec_buf *b,
                         const struct cs_corun_life_event *e);
int cs_rec_tasks_ended(struct cs_rec_tasks *t, struct cs_rec_buf *b,
                       const struct cs_corun_life_event *e);

/* Tasks seen so far. */
size_t cs_rec_tasks_seen(const struct cs_rec_tasks *t);

#endif
