/*
 * Stalls the test targets inject on cue, each in its own noinline function so a
 * symbolized stack can name it. Commands arrive as lines on stdin:
 *   burn MS | sleep MS | read MS | fsync | quit
 */
#ifndef CS_TEST_STALL_ACTIONS_H
#define CS_TEST_STALL_ACTIONS_H

/* Runs one command line; returns 1 on "quit", 0 otherwise. */
int stall_run_command(const char *line);

/* Small bounded work a busy loop does per tick (keeps a loop under load). */
void stall_tick_work(void);

#endif
