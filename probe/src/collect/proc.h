/* The few facts coscope reads from /proc about a target: the one reader of each. */
#ifndef CS_PROC_H
#define CS_PROC_H

/* The process's comm into buf ("?" if it is gone). */
void cs_proc_comm(int pid, char *buf, unsigned len);

/* A thread's comm into buf ("" if it is gone). */
void cs_thread_comm(int pid, int tid, char *buf, unsigned len);

#include <stdbool.h>
#include <stddef.h>

/* The system call thread `tid` is blocked in (/proc/PID/task/TID/syscall): its number,
 * -1 if it is running, -2 if it is gone or unreadable. */
int cs_thread_syscall(int pid, int tid);

/* Is the process a Go program (its executable has Go's build-info section)? Go's
 * runtime multiplexes goroutines over threads that park in futex: no thread is an
 * event loop coscope can watch. */
bool cs_proc_is_go(int pid);

/* Does the process hold an epoll fd or an io_uring ring (it runs an event loop)? */
bool cs_proc_has_event_fd(int pid);

/*
 * May this process read the target the way a debugger does (the kernel's
 * PTRACE_MODE_READ: the same user, or CAP_SYS_PTRACE)? 0 if so (or if the kernel does not
 * say, e.g. a kernel thread), -ESRCH if it is gone, -EACCES with the reason in `why`.
 */
int cs_proc_may_trace(int pid, char *why, size_t why_len);

/* Is it a kernel thread (kthreadd, a kworker…): no user memory, no event loop, nothing
 * a probe of coscope could watch? From the PF_KTHREAD flag in /proc/PID/stat. */
bool cs_proc_is_kernel_thread(int pid);

#endif
