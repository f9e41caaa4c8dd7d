/*
 * Blocking calls of a libcorun process (docs/architecture.md, "Definitions"): every system
 * call a loop thread made inside a task's slice, with the off-CPU time in it, as a histogram
 * per system call and per task; and executor calls (co_to_thread & co) as queue wait + run
 * time, per task. Filled by collect/corun_blocking.c, written by report/blocking_report.c.
 */
#ifndef CS_BLOCKING_H
#define CS_BLOCKING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model_tasks.h"

struct cs_blocking_row {
    uint64_t task_id;
    char syscall[32];
    uint64_t calls, blocked, off_ns;
    uint64_t off_hist[CS_LL_HIST_BUCKETS];
};

struct cs_exec_row {
    uint64_t task_id;
    uint64_t calls, queue_ns, run_ns;
    uint64_t queue_hist[CS_LL_HIST_BUCKETS];
    uint64_t run_hist[CS_LL_HIST_BUCKETS];
};

struct cs_blocking_stat {
    bool syscalls_on, exec_on; /* what could be attached */
    bool all_calls;            /* every call counted, not only the ones that blocked */
    size_t nrows, nexec;
    struct cs_blocking_row *rows; /* by task id, then syscall name */
    struct cs_exec_row *exec;     /* by task id */
};

void cs_blocking_free(struct cs_blocking_stat *b);

#endif
