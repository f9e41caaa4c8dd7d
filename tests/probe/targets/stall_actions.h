/*
 * Stalls the test targets inject on cue, each in its own noinline function so a
 * symbolized stack can name it. Commands arrive as lines on stdin:
 *   burn MS | sleep MS | read MS | fsync | quit
 *   ticks    prints "ticks N": loop ticks so far (stall_loop_tick calls)
 */
#ifndef CS_TEST_STALL_ACTIONS_H
#define CS_TEST_STALL_ACTIONS_H

/* Runs one command line; returns 1 on "quit", 0 otherwise. */
int stall_run_command(const char *line);

/* Small bounded work a busy loop does per tick (keeps a loop under load). */
void stall_tick_work(void);

/* The loop's timer callback: counts the tick (for "ticks") and does stall_tick_work.
 * Loop thread only. */
void stall_loop_tick(void);

#endif
