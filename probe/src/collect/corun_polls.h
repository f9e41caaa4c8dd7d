/*
 * The task events of a libcorun target, through one ring buffer this collector drains when
 * asked, oldest first (corun.bpf.c):
 * - always: every task's birth (corun:task_spawn) and end with its final figures
 *   (corun:task_done): struct cs_corun_life_event, kinds SPAWN and END. One uprobe hit per
 *   spawn and one per end.
 * - with `polls` (`record --polls`): every poll and every wake edge (corun:task_resume,
 *   task_suspend, task_done, task_ready): three uprobe hits per request of a server (wake,
 *   resume, suspend), ~0.6 us each for the trap plus ~0.2-0.5 us for the programs, in the
 *   target's CPU time (docs/performance.md).
 */
#ifndef CS_CORUN_POLLS_H
#define CS_CORUN_POLLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "corun_usdt.h"

struct cs_corun_polls;

/* `e->kind` SPAWN and END events are a whole struct cs_corun_life_event. */
typedef void (*cs_corun_poll_cb)(const struct cs_corun_poll_event *e, void *arg);

/*
 * Finds libcorun in `pid` and attaches the lifecycle programs, and with `polls` the poll ones. 0,
 * or -ENOENT (no libcorun, yet: a launched command may map it later; try again), -EPERM, or another
 * -errno; the reason in `why`. The ring buffer holds `ring_bytes` (a power of two, at least a
 * page).
 */
int cs_corun_polls_open(int pid, size_t ring_bytes, bool polls, cs_corun_poll_cb cb, void *arg,
                        struct cs_corun_polls **out, char *why, size_t why_len);

/* Hands every event the kernel produced so far to the callback. Events it handed. */
int cs_corun_polls_consume(struct cs_corun_polls *p);

/* Events the kernel dropped so far (ring buffer full). */
uint64_t cs_corun_polls_lost(const struct cs_corun_polls *p);

/* Detaches (concurrently: each uprobe link waits for an RCU grace period) and frees. */
void cs_corun_polls_close(struct cs_corun_polls *p);

#endif
