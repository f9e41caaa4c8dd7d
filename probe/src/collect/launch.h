/* `coscope … -- CMD ARGS…`: start a command stopped at its exec, so probes attach first. */
#ifndef CS_LAUNCH_H
#define CS_LAUNCH_H

/*
 * Forks and execs argv[0] (PATH search), stopped right after exec. Returns its pid,
 * or a negative errno (-ENOENT etc. when the exec failed; the reason is on stderr). A
 * file the kernel cannot execute is -ENOEXEC: unlike execvp, no /bin/sh runs it instead.
 */
int cs_launch_stopped(char *const argv[]);

/* The same with the command's stdin from `stdin_fd` and its stdout and stderr to
 * `output_fd` (-1: coscope's own); a failure to run it is still said on coscope's stderr. */
int cs_launch_stopped_io(char *const argv[], int stdin_fd, int output_fd);

/* Lets the stopped command run. 0 or a negative errno. */
int cs_launch_release(int pid);

#endif
