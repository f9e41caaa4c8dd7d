/*
 * `coscope report`: the figures every format shares, computed once from a recording —
 * loops, stalls by duration, tasks by p99 scheduling latency, blocking calls by total
 * time. Each format (report_text.c, report_json.c, report_chrome.c, report_folded.c,
 * report_svg.c) reads this and the recording; none of them adds figures of its own.
 */
#ifndef CS_REPORT_SUMMARY_H
#define CS_REPORT_SUMMARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "recording_reader.h"

struct cs_report_loop {
    int tid;
    char comm[CS_MODEL_COMM_LEN];
    uint64_t stalls, stalled_ns, worst_ns;
    bool has_stats; /* libcorun: the runtime's own figures (LOOP_STATS) */
    bool engine;    /* ...or, loop_id 0, the stall engine's: no scheduling latency */
    uint64_t loop_id, iterations, busy_ns, poll_wait_ns;
    uint64_t sched_p50_ns, sched_p99_ns, iter_p99_ns;
};

struct cs_report_task {
    uint64_t id, parent_id;
    char name[CS_REC_NAME_LEN];
    int loop_tid;
    uint64_t spawn_ns; /* from the recording's start; 0 if before it */
    bool done;
    uint64_t done_ns;
    bool outcome_known; /* recorded at corun:task_done */
    uint32_t outcome;   /* enum corun_task_outcome */
    int32_t error;
    bool has_stats;
    uint64_t polls, busy_ns, wakes, sched_p50_ns, sched_p99_ns, sched_max_ns;
};

struct cs_report_call {
    char name[32];
    uint64_t count, total_ns, stalls;
};

struct cs_report {
    const struct cs_recording *rec;
    uint64_t t0_ns;       /* CLOCK_MONOTONIC of the start: times in outputs count from here */
    uint64_t duration_ns; /* start to trailer (or the last record seen) */
    struct cs_report_loop *loops;
    size_t nloops;
    const struct cs_stall **by_duration; /* longest first */
    const struct cs_stall **by_start;    /* oldest first */
    size_t nstalls;
    uint64_t stalled_ns;
    struct cs_report_task *tasks; /* with statistics first, by p99 sched latency, longest first */
    size_t ntasks, ntasks_with_stats;
    struct cs_report_call *calls; /* by total time, longest first */
    size_t ncalls;
    /* record --polls: every poll (rec->polls) and wake edge */
    uint64_t polls, wakes, wakes_by_loop; /* wakes_by_loop: waker 0 (timer, fd, post) */
};

/* 0 or -ENOMEM. `rec` must outlive `r`. */
int cs_report_build(struct cs_report *r, const struct cs_recording *rec);
void cs_report_free(struct cs_report *r);

/* The frame's display name: "symbol", "symbol (inlined)", "module+0xoff", "[jit] 0xaddr"
 * (JIT code its runtime did not name) or "0xaddr". */
void cs_report_frame_name(const struct cs_frame *f, char *buf, size_t len);

/* A stall's task name, or its thread's comm for a foreign loop. */
const char *cs_report_stall_owner(const struct cs_stall *s);

/* One folded stack ("comm;task:NAME;outer;...;inner") and its weight in µs. */
struct cs_folded {
    char *stack;
    uint64_t weight_us;
};

/*
 * Every stall's stacks, outermost frame first, weighted by the stall's duration in µs
 * (split between its stacks by sample count, so the weights of one stall add up to its
 * duration), identical stacks merged, sorted. 0 or -ENOMEM; free with cs_folded_free.
 */
int cs_report_folded(const struct cs_report *r, struct cs_folded **out, size_t *n);
void cs_folded_free(struct cs_folded *f, size_t n);

void cs_report_write_text(FILE *out, const struct cs_report *r);
void cs_report_write_json(FILE *out, const struct cs_report *r);
void cs_report_write_chrome(FILE *out, const struct cs_report *r);
void cs_report_write_folded(FILE *out, const struct cs_report *r);
/* 0 or -ENOMEM. */
int cs_report_write_svg(FILE *out, const struct cs_report *r);
/* The stall stacks as a gzipped pprof profile.proto. 0, -ENOMEM or -EIO. */
int cs_report_write_pprof(FILE *out, const struct cs_report *r);

#endif
