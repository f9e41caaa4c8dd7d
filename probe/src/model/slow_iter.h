/*
 * A slow iteration of a libcorun loop: one iteration (poll_exit -> poll_enter) longer than
 * the stall threshold although no single slice in it was — many short slices adding up.
 * `coscope stalls` reports them next to stalls (docs/stalls.md; report/stall_format.h
 * writes them), with the tasks that ran in it, slowest first.
 */
#ifndef CS_SLOW_ITER_H
#define CS_SLOW_ITER_H

#include <stdint.h>

#define CS_SLOW_ITER_MAX_TASKS 64

struct cs_slow_iter_task {
    uint64_t id;
    char name[33];        /* "" when the task is gone and its name unknown */
    uint64_t duration_ns; /* its slice in the iteration (a task runs once per iteration) */
};

struct cs_slow_iter {
    int pid;
    int tid;
    char comm[16];
    uint64_t start_ns; /* CLOCK_MONOTONIC */
    uint64_t duration_ns;
    uint64_t tasks_run; /* slices in the iteration, as the runtime counted them */
    unsigned ntasks;    /* the ones named here, slowest first */
    struct cs_slow_iter_task tasks[CS_SLOW_ITER_MAX_TASKS];
};

#endif
