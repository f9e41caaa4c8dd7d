/*
 * The libcorun side of `coscope stat`: while open, the probes hold the runtime's
 * semaphores up (corun:stats, corun:slice_long), so it keeps its own per-loop and per-task
 * accounting, which samples read from the target's memory into a struct cs_stat; long-slice
 * events, blocking calls (sched_switch, and with all_syscalls every call) and executor
 * calls (corun:exec_done) come from the BPF programs (corun_probes.h). Prints nothing: what
 * could not be attached is told as notes.
 */
#ifndef CS_CORUN_STAT_H
#define CS_CORUN_STAT_H

#include <stdbool.h>
#include <stddef.h>

#include "corun_target.h"
#include "model_tasks.h"

struct cs_corun_stat;

/* Attaches to libcorun in target `t` (which must outlive the collector). 0, or a negative
 * errno and the reason in `why`: the statistics probes could not be attached. */
int cs_corun_stat_open(const struct cs_corun_target *t, bool all_syscalls,
                       struct cs_corun_stat **out, char *why, size_t why_len);

/* The i-th note (one sentence on something not collected, e.g. no blocking calls), NULL
 * past the last. */
const char *cs_corun_stat_note(const struct cs_corun_stat *s, unsigned i);

/* Reads the events so far and one snapshot of the target. 0 or a negative errno (-ESRCH: the
 * process is gone). */
int cs_corun_stat_sample(struct cs_corun_stat *s);

/* Reads the last events and the kernel's counts and detaches (the semaphores drop back to
 * 0): the statistics, valid until cs_corun_stat_free. */
const struct cs_stat *cs_corun_stat_finish(struct cs_corun_stat *s);

void cs_corun_stat_free(struct cs_corun_stat *s);

#endif
