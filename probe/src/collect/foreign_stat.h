/*
 * `coscope stat` on a process without libcorun (a "foreign" event loop): per loop thread,
 * iterations, utilisation, the slice-duration histogram, blocking system calls and
 * stalls, all counted in the kernel from the stall engine's tracepoints (stalls.bpf.c).
 */
#ifndef CS_FOREIGN_STAT_H
#define CS_FOREIGN_STAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "stalls.h"

#define CS_FOREIGN_MAX_BLOCKING 16 /* syscalls reported per loop thread */

struct cs_foreign_blocking {
    char name[32]; /* syscall name */
    struct cs_block_stat stat;
};

struct cs_foreign_loop {
    int tid;
    char comm[CS_COMM_LEN];
    struct cs_loop_stat stat;  /* ended slices and waits */
    uint64_t busy_ns, wait_ns; /* including the slice / wait still in progress at the end */
    /* A slice still in progress at the end and longer than the threshold: a stall counted
     * in `stalls` (unfinished); its length so far, from before the statistics began if it
     * started then (stuck at attach). 0: none. */
    uint64_t stall_in_progress_ns;
    uint64_t stalls;  /* ended slices over the threshold, plus the one in progress */
    size_t nblocking; /* sorted by total off-CPU time, longest first */
    struct cs_foreign_blocking blocking[CS_FOREIGN_MAX_BLOCKING];
};

struct cs_foreign_stat {
    int pid;
    char comm[CS_COMM_LEN]; /* the process's, when the statistics began */
    int64_t start_ns, end_ns;
    uint64_t threshold_ns; /* what counts as a stall */
    uint64_t lost_events;
    bool global_tracepoints; /* the costly global fallback was used */
    size_t nloops;
    struct cs_foreign_loop *loops;
};

struct cs_session;
/* Reads the figures at the end from a session (collect/session.h) opened with the stall
 * collector's statistics on: what the kernel counted, plus the slice or wait still in
 * progress. 0 or -ENOMEM. */
int cs_foreign_stat_read(struct cs_foreign_stat *st, const struct cs_session *sess);

void cs_foreign_stat_write_text(FILE *out, const struct cs_foreign_stat *st);
void cs_foreign_stat_write_json(FILE *out, const struct cs_foreign_stat *st);

#endif
