/*
 * Finding the event-loop threads of a process: threads that sit in a wait call
 * (epoll_wait, poll, select, io_uring_enter, …) most of the time.
 */
#ifndef CS_LOOP_DETECT_H
#define CS_LOOP_DETECT_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Samples /proc/PID/task/(*)/syscall `rounds` times, `interval_ms` apart, and writes the
 * TIDs found in a wait call in at least a quarter of the samples to `tids` (up to `max`).
 * Returns how many, or -ESRCH if the process is gone.
 */
int cs_loop_detect(int pid, int rounds, int interval_ms, int *tids, size_t max);

/*
 * The same, one round at a time, for callers with an event loop of their own: call
 * cs_loop_scan_round() every few ms; after `rounds` rounds cs_loop_scan_result() gives
 * the loop threads and starts over.
 */
struct cs_loop_scan;
struct cs_loop_scan *cs_loop_scan_new(int pid, int rounds);
void cs_loop_scan_free(struct cs_loop_scan *s);
/* Returns 1 when the rounds are complete, 0 if more are needed, -ESRCH if the process is gone. */
int cs_loop_scan_round(struct cs_loop_scan *s);
/* TIDs in a wait call in at least half the rounds; resets for the next scan. */
int cs_loop_scan_result(struct cs_loop_scan *s, int *tids, size_t max);

/* Is any thread of `pid` in a wait call right now? (A launched command that is already
 * in its event loop has mapped every library it links.) */
bool cs_loop_waiting_now(int pid);

/* The thread group of `tid` (from /proc/TID/status), or -ESRCH. */
int cs_tgid_of(int tid);

/* Does /proc/PID/task/TID exist? */
int cs_thread_exists(int pid, int tid);

#endif
