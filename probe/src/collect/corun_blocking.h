/*
 * `coscope stat` on libcorun: blocking calls (docs/architecture.md, "Definitions") — every system call a loop thread
 * made inside a task's slice, with the off-CPU time in it, as a histogram per system call
 * and per task; and executor calls (co_to_thread & co) as queue wait + run time, per task.
 * Counted in the kernel (corun.bpf.c maps `blocking` and `exec`), read once at the end.
 */
#ifndef CS_CORUN_BLOCKING_H
#define CS_CORUN_BLOCKING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "json_writer.h"
#include "model_tasks.h"

struct cs_blocking_row {
    uint64_t task_id;
    char syscall[32];
    uint64_t calls, blocked, off_ns;
    uint64_t off_hist[CS_TASK_HIST_BUCKETS];
};

struct cs_exec_row {
    uint64_t task_id;
    uint64_t calls, queue_ns, run_ns;
    uint64_t queue_hist[CS_TASK_HIST_BUCKETS];
    uint64_t run_hist[CS_TASK_HIST_BUCKETS];
};

struct cs_blocking_stat {
    bool syscalls_on, exec_on; /* what could be attached */
    bool all_calls;            /* every call counted, not only the ones that blocked */
    size_t nrows, nexec;
    struct cs_blocking_row *rows; /* by task id, then syscall name */
    struct cs_exec_row *exec;     /* by task id */
};

/* Reads the BPF maps (fds; -1 = not collected). 0 or -ENOMEM. */
int cs_blocking_read(struct cs_blocking_stat *b, int blocking_fd, int exec_fd);
void cs_blocking_free(struct cs_blocking_stat *b);

/* Text sections and the "blocking_calls" / "executor" members of stat's JSON object. */
void cs_blocking_write_text(FILE *out, const struct cs_blocking_stat *b, const struct cs_stat *st);
void cs_blocking_write_json(struct cs_json *w, const struct cs_blocking_stat *b,
                            const struct cs_stat *st);

#endif
