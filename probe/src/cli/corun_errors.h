/* Turning a failed cs_corun_open into one line on stderr and coscope's exit code. */
#ifndef CS_CORUN_ERRORS_H
#define CS_CORUN_ERRORS_H

/* Prints "coscope: PID 123 (comm) <why>[: <verb> needs its task table]" and returns the
 * exit code for `err` (a cs_corun_open / cs_corun_snapshot result). */
int cs_corun_report_error(const char *verb, int pid, int err, const char *why);

#endif
