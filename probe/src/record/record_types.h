/*
 * What a recording holds, record by record (recording_format.h): the structs the encoder
 * takes and the reader gives back. A stall is the model's struct cs_stall.
 */
#ifndef CS_RECORD_TYPES_H
#define CS_RECORD_TYPES_H

#include <stdbool.h>
#include <stdint.h>

#include "slow_iter.h"
#include "model.h"
#include "recording_format.h"

#define CS_REC_NAME_LEN 64
#define CS_REC_PATH_LEN 512

struct cs_rec_target {
    int pid;
    char comm[CS_MODEL_COMM_LEN];
    char exe[CS_REC_PATH_LEN];
    char build_id[CS_REC_NAME_LEN]; /* hex, "" when unknown */
    char version[32];               /* coscope's */
    uint64_t start_realtime_ns;     /* CLOCK_REALTIME at the start */
    uint64_t start_mono_ns;         /* CLOCK_MONOTONIC at the start: every t_ns is on it */
    uint64_t threshold_ns;          /* stall threshold */
    uint32_t flags;                 /* CS_REC_TARGET_* */
};

struct cs_rec_loop {
    uint64_t t_ns;
    int tid;
    char comm[CS_MODEL_COMM_LEN];
};

struct cs_rec_task_spawn {
    uint64_t t_ns; /* when it was created (or first seen) */
    uint64_t id, parent_id;
    int loop_tid;
    char name[CS_REC_NAME_LEN];
};

struct cs_rec_task_done {
    uint64_t t_ns; /* its end (exact), or the first snapshot it was missing from */
    uint64_t id;
    /* Optional trailing fields (corun:task_done); absent: not exact, outcome unknown. */
    bool exact;       /* t_ns is the task's end, outcome and error are known */
    uint32_t outcome; /* enum corun_task_outcome */
    int32_t error;
};

struct cs_rec_slice {
    uint64_t start_ns, duration_ns;
    int tid;
    uint64_t task_id;           /* 0: unknown */
    char name[CS_REC_NAME_LEN]; /* a POLL slice is written without; the reader fills it in */
    uint32_t flags;             /* CS_REC_SLICE_* (0 in files before `--polls`) */
    uint32_t wait_reason;       /* POLL: corun_debug.h's at suspension, or CS_REC_WAIT_DONE */
};

struct cs_rec_wake {
    uint64_t t_ns;
    uint64_t waker_id, woken_id; /* waker 0: the loop (a timer, an fd, a posted call) */
    int loop_tid;                /* where it happened; 0 in older files */
};

/* Counters are what happened since the recording started (or the loop was first seen).
 * The histograms are log-linear (corun_ll_bucket) whatever the file's version: a version 1
 * file's log2 ones are converted as they are read. */
struct cs_rec_loop_stats {
    uint64_t t_ns;
    uint64_t loop_id;
    int tid;
    uint64_t iterations, busy_ns, poll_wait_ns;
    uint64_t sched_hist[CS_REC_LL_BUCKETS];
    uint64_t iter_hist[CS_REC_LL_BUCKETS];
};

/* Counters since the task was first seen. */
struct cs_rec_task_stats {
    uint64_t t_ns;
    uint64_t task_id, loop_id;
    uint64_t polls, busy_ns, wakes;
    unsigned nbuckets;
    uint64_t sched_hist[CS_REC_HIST_MAX];
    uint32_t state, wait_reason; /* as the snapshot saw it (corun_debug.h enums); 0: unknown */
};

struct cs_rec_lost {
    uint64_t t_ns;
    uint64_t lost_events, suppressed; /* totals so far */
};

struct cs_rec_trigger {
    uint64_t t_ns;
    char what[CS_REC_NAME_LEN]; /* the trigger as given, e.g. "stall>200ms" */
};

/* SLOW_ITER: the collector's struct cs_slow_iter (model/slow_iter.h) as it is. */

struct cs_rec_trailer {
    uint64_t end_ns;
    uint64_t records; /* records before the trailer */
    uint32_t reason;  /* enum cs_rec_end */
};

#endif
