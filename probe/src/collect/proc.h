/* The few facts coscope reads from /proc about a target: the one reader of each. */
#ifndef CS_PROC_H
#define CS_PROC_H

/* The process's comm into buf ("?" if it is gone). */
void cs_proc_comm(int pid, char *buf, unsigned len);

/* A thread's comm into buf ("" if it is gone). */
void cs_thread_comm(int pid, int tid, char *buf, unsigned len);

#endif
