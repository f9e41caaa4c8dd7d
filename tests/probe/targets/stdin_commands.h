/* Line assembly for the test targets: feed it what stdin gave, it runs whole lines. */
#ifndef CS_TEST_STDIN_COMMANDS_H
#define CS_TEST_STDIN_COMMANDS_H

/*
 * Reads what is available on fd 0 and runs each complete line (stall_run_command).
 * Returns 1 when the target should stop (stdin closed or "quit"), else 0.
 */
int stdin_commands_read(void);

#endif
