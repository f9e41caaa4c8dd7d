/*
 * Always (libcorun targets): each task's birth (TASK_SPAWN) and end (its final TASK_STATS
 * and TASK_DONE with the outcome), written through record_tasks.h, from the lifecycle
 * events of the task collector (corun_polls.h).
 * `record --polls`: also every poll of every task as a SLICE record (flag CS_REC_SLICE_POLL) and
 * every wake edge as a WAKE record, from the polls collector (corun_polls.h). Events are
 * written in batches, one per drain (every few ms: cs_rec_writer_commit_batch).
 */
#ifndef CS_RECORD_POLLS_H
#define CS_RECORD_POLLS_H

#include <stdbool.h>
#include <stdint.h>

#include "record_tasks.h"
#include "record_writer.h"

struct cs_rec_polls;

/* Attaches at once if libcorun is there; with `retry` (a command just launched) tries again
 * on each tick for a few seconds. NULL only when out of memory. */
struct cs_rec_polls *cs_rec_polls_new(int pid, struct cs_rec_writer *w, struct cs_rec_tasks *tasks,
                                      bool polls, bool retry);

/* Drains the events so far into the recording. */
void cs_rec_polls_tick(struct cs_rec_polls *p);

/* Events the kernel dropped so far (they belong in the LOST record). */
uint64_t cs_rec_polls_lost(const struct cs_rec_polls *p);

/* Polls and wakes written so far. */
uint64_t cs_rec_polls_polls(const struct cs_rec_polls *p);
uint64_t cs_rec_polls_wakes(const struct cs_rec_polls *p);

void cs_rec_polls_free(struct cs_rec_polls *p);

#endif
