/*
 * Every poll and every wake edge of a libcorun target (`record --polls`): USDT programs on
 * corun:task_resume, task_suspend, task_done and task_ready (corun.bpf.c) send one event
 * each through a ring buffer, which this collector drains when asked, oldest first.
 *
 * Cost: three uprobe hits per request of a server (wake, resume, suspend), ~0.6 us each for
 * the trap plus ~0.2-0.5 us for the programs, in the target's CPU time (docs/performance.md).
 * Only `record --polls` opens it.
 */
#ifndef CS_CORUN_POLLS_H
#define CS_CORUN_POLLS_H

#include <stddef.h>
#include <stdint.h>

#include "corun_usdt.h"

struct cs_corun_polls;

typedef void (*cs_corun_poll_cb)(const struct cs_corun_poll_event *e, void *arg);

/*
 * Finds libcorun in `pid` and attaches the four programs. 0, or -ENOENT (no libcorun, yet:
 * a launched command may map it later; try again), -EPERM, or another -errno; the reason
 * in `why`. The ring buffer holds `ring_bytes` (a power of two, at least a page).
 */
int cs_corun_polls_open(int pid, size_t ring_bytes, cs_corun_poll_cb cb, void *arg,
                        struct cs_corun_polls **out, char *why, size_t why_len);

/* Hands every event the kernel produced so far to the callback. Events it handed. */
int cs_corun_polls_consume(struct cs_corun_polls *p);

/* Events the kernel dropped so far (ring buffer full). */
uint64_t cs_corun_polls_lost(const struct cs_corun_polls *p);

/* Detaches (concurrently: each uprobe link waits for an RCU grace period) and frees. */
void cs_corun_polls_close(struct cs_corun_polls *p);

#endif
