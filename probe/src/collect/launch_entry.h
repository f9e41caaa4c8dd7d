/* `coscope stalls|stat|top|record -- CMD`: let a command started stopped at its exec run to
 * its entry point. */
#ifndef CS_LAUNCH_ENTRY_H
#define CS_LAUNCH_ENTRY_H

/*
 * `pid` is a tracee stopped right after its exec (cs_launch_stopped). Runs it up to the
 * first instruction of its program (AT_ENTRY), where the dynamic loader has mapped every
 * library it links - libcorun among them - but none of the program's code has run, and
 * leaves it stopped there (cs_launch_release lets it go). Without this the runtime is
 * not mapped yet when coscope attaches, and its probes are found only on a later retry:
 * the first stalls of a launched command would have no task.
 * 0, or a negative errno (-ENOTSUP on an architecture without the breakpoint here,
 * -ESRCH if it exited); on failure it is still stopped at the exec, or gone.
 */
int cs_launch_run_to_entry(int pid);

#endif
