/*
 * What corun.bpf.c (USDT programs on a libcorun target) and coscope share: the event a
 * long task slice produces. The slice definition is libcorun's (design.md): from a task's
 * resume to its suspension; the runtime fires corun:slice_long for slices of at least
 * CORUN_LONG_SLICE_FLOOR_NS, and only while the probe's semaphore is set.
 */
#ifndef CS_CORUN_USDT_H
#define CS_CORUN_USDT_H

#define CS_CORUN_NAME_LEN 32

struct cs_corun_slice_event {
    unsigned long long task_id;
    unsigned long long start_ns; /* CLOCK_MONOTONIC */
    unsigned long long duration_ns;
    unsigned long long slice_seq;
    unsigned int tid; /* the loop thread */
    unsigned int pad;
    char name[CS_CORUN_NAME_LEN]; /* the task's name, read from the target at the event */
};

#endif
