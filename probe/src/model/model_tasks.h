/*
 * The task side of the model: libcorun loops and their tasks as read from the target's
 * memory (corun_target.c), plus what `coscope stat` accumulates over a session. No BPF
 * types and no target layout in here: corun_target.c translates through the debug table.
 */
#ifndef CS_MODEL_TASKS_H
#define CS_MODEL_TASKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "corun_debug.h"

#define CS_TASK_NAME_LEN 64
/* A task's histograms: log2 buckets (corun_hist_bucket), as the runtime keeps them per
 * task. */
#define CS_TASK_HIST_BUCKETS CORUN_HIST_BUCKETS
/* Every other histogram (loops, blocking and executor calls, foreign loops): log-linear
 * (corun_ll_bucket, hist_ll.h); a log2 one (an older debug table, a recording, a kernel
 * map) is converted when read. */
#define CS_LL_HIST_BUCKETS CORUN_LL_BUCKETS

/* One task, as the target's debug table describes it. Times are CLOCK_MONOTONIC ns. */
struct cs_task {
    uint64_t addr; /* in the target: what wait objects (join) point at */
    uint64_t id;
    uint64_t parent_id; /* 0: spawned outside a task */
    char name[CS_TASK_NAME_LEN];
    uint32_t state;       /* enum corun_task_state */
    uint32_t wait_reason; /* enum corun_wait_reason */
    uint64_t wait_obj;
    bool wait_obj_unknown;    /* the reason is known, the object not (a replayed task) */
    int64_t waiting_since_ns; /* 0 unless the runtime's timing was on */
    uint64_t awaited_task_id;
    uint64_t spawn_pc;
    int64_t created_ns;
    /* Finished (state DONE) and the target's table carries outcomes (version 2+). */
    bool outcome_known;
    uint32_t outcome; /* enum corun_task_outcome, when outcome_known */
    int32_t error;    /* what the task returned (0 or a negative errno), when outcome_known */
    bool has_stats;   /* the runtime kept statistics for it (stats semaphore was set) */
    uint64_t polls, busy_ns, wakes;
    uint64_t sched_hist[CS_TASK_HIST_BUCKETS];
    uint64_t poll_hist[CS_TASK_HIST_BUCKETS];
};

struct cs_corun_loop {
    uint64_t addr;
    uint64_t id;
    int32_t tid;
    uint32_t state;           /* enum corun_loop_state */
    uint64_t current_task_id; /* 0 between slices */
    uint64_t slice_seq;
    int64_t slice_start_ns; /* 0 unless timing is on, or between slices */
    int64_t iter_start_ns;
    uint64_t iterations;
    uint64_t busy_ns, poll_wait_ns; /* stats */
    uint64_t ready_count, task_count;
    uint64_t sched_hist[CS_LL_HIST_BUCKETS];
    uint64_t iter_hist[CS_LL_HIST_BUCKETS];
    /* The longest iteration so far (iter_hist's last bucket has no upper bound); known
     * from libcorun tables that carry it. */
    bool iter_max_known;
    uint64_t iter_max_ns;
    size_t ntasks;
    struct cs_task *tasks; /* in the loop's list order */
};

/* One consistent reading of every loop of a process. */
struct cs_corun_snapshot {
    int pid;
    char comm[16];    /* the process's name (TASK_COMM_LEN) */
    int64_t taken_ns; /* CLOCK_MONOTONIC when read */
    size_t nloops;
    struct cs_corun_loop *loops;
};

void cs_corun_snapshot_free(struct cs_corun_snapshot *s);
/* A deep copy of src into dst (free with cs_corun_snapshot_free): 0 or -ENOMEM. */
int cs_corun_snapshot_dup(struct cs_corun_snapshot *dst, const struct cs_corun_snapshot *src);

/* Name of a task state / wait reason for output ("waiting", "sleep", ...). */
const char *cs_task_state_name(uint32_t state);
const char *cs_wait_reason_name(uint32_t reason);

/* How a finished task ended: "ok", "failed", "cancelled"; NULL when the task is not done
 * or the target's debug table does not say (version 1). */
const char *cs_task_outcome_name(const struct cs_task *t);

/* A task's error code for people: "ECONNREFUSED (-111, Connection refused)" for a
 * negative errno, "code N" otherwise. Returns buf. */
const char *cs_task_error_text(int32_t err, char *buf, size_t len);

/* A task histogram's quantile: the upper bound (ns) of the bucket holding quantile q
 * (0..1); 0 for an empty histogram. */
uint64_t cs_hist_quantile_ns(const uint64_t hist[CS_TASK_HIST_BUCKETS], double q);
uint64_t cs_hist_total(const uint64_t hist[CS_TASK_HIST_BUCKETS]);

/*
 * `coscope stat`: what a session saw. Loop and task figures are deltas from the first
 * snapshot that showed them (a task born during the session starts from zero).
 */
struct cs_stat_task {
    uint64_t id, parent_id;
    char name[CS_TASK_NAME_LEN];
    int64_t created_ns, last_seen_ns;
    bool gone; /* finished (absent from a later snapshot) */
    uint64_t base_polls, base_busy_ns, base_wakes;
    uint64_t base_sched_hist[CS_TASK_HIST_BUCKETS];
    uint64_t loop_id;
    uint64_t long_slices, longest_slice_ns; /* from corun:slice_long events */
    struct cs_task last;
};

struct cs_blocking_stat;

struct cs_stat_loop {
    uint64_t id;
    int32_t tid;
    struct cs_corun_loop base, last;
    uint64_t ready_samples, ready_sum, ready_max;
    uint64_t long_slices; /* from corun:slice_long events */
};

struct cs_stat {
    int pid;
    char comm[16]; /* the process's name, when the statistics began ("": not known) */
    int64_t start_ns, end_ns;
    uint64_t lost_events; /* slice events the kernel could not pass on */
    size_t nloops, ntasks, cap_tasks;
    struct cs_stat_loop *loops;
    struct cs_stat_task *tasks;        /* sorted by id */
    struct cs_blocking_stat *blocking; /* blocking and executor calls (blocking.h), or NULL */
};

void cs_stat_init(struct cs_stat *st, int pid);
/* Folds one snapshot in. 0 or -ENOMEM. */
int cs_stat_add(struct cs_stat *st, const struct cs_corun_snapshot *snap);
/* Drops the tasks gone and last seen before `seen_before_ns`: a long session over short
 * tasks (the recorder) keeps memory for the live ones only. */
void cs_stat_forget_gone(struct cs_stat *st, int64_t seen_before_ns);
/* Counts one long slice (corun:slice_long) of a task on the loop thread `tid`; a task no
 * snapshot saw (born and gone between two) is added with what the event says. */
int cs_stat_add_long_slice(struct cs_stat *st, int tid, uint64_t task_id, const char *name,
                           uint64_t duration_ns);
void cs_stat_free(struct cs_stat *st);

/* A long slice of a libcorun task (corun:slice_long): what a loop thread ran, and for how
 * long. */
struct cs_task_slice {
    int tid;
    uint64_t task_id;
    uint64_t start_ns, end_ns; /* CLOCK_MONOTONIC */
    char task[40];
};

/* A task that ended recently: kept, drawn dim, for CS_TASK_FADE_NS. */
struct cs_task_ended {
    uint64_t task_id;
    int64_t ended_ns; /* CLOCK_MONOTONIC: the first snapshot without it */
};

#define CS_TASK_SLICES_MAX 128
#define CS_TASK_ENDED_MAX  256
#define CS_TASK_FADE_NS    5000000000ll

#endif
