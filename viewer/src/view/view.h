/*
 * What the screens of `coscope top` may read: a read-only picture of the model plus the
 * few things only a live source knows (stalls in progress, thread CPU use, whether the
 * target is still there). A live source (live_source.c) fills it every frame; a recorded
 * file can fill it the same way, so the screens never know where the data came from.
 */
#ifndef CS_VIEW_H
#define CS_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "model.h"
#include "model_tasks.h"

#define CS_VIEW_MAX_LOOPS    64
#define CS_VIEW_UTIL_SAMPLES 60
#define CS_VIEW_HIST_BUCKETS 32 /* CORUN_HIST_BUCKETS == CS_STAT_HIST_BUCKETS */
#define CS_VIEW_MAX_ONGOING  16

struct cs_view_loop {
    int tid;
    char comm[CS_MODEL_COMM_LEN];
    double cpu_pct; /* share of one CPU over the last second; < 0: not known yet */
    uint64_t stalls;
    uint64_t worst_ns;
    uint64_t stalled_ns;        /* total time spent in finished stalls */
    uint64_t last_stall_end_ns; /* CLOCK_MONOTONIC; 0: none yet */
    bool in_stall;              /* a stall is in progress on this thread now */

    /* Utilisation: the busy share of the last second, from the runtime's own busy /
     * poll-wait counters (libcorun), else the engine's slice / wait times, else CPU. */
    double util_pct;       /* < 0: not known yet */
    const char *util_from; /* "runtime", "engine" or "CPU" */
    size_t nutil;          /* the last minute, one sample a second, oldest first */
    unsigned char util_hist[CS_VIEW_UTIL_SAMPLES];
    /* Iteration durations (libcorun: the runtime's; else the engine's slices between two
     * wait calls) and, for libcorun, scheduling latency. log2 buckets, as corun_debug.h. */
    bool has_iter_hist, has_sched_hist;
    uint64_t iter_hist[CS_VIEW_HIST_BUCKETS];
    uint64_t sched_hist[CS_VIEW_HIST_BUCKETS];
};

/* The loop's utilisation to show: util_pct where the source set one (util_from), else
 * the CPU share; < 0 when neither is known (a recording without them). */
static inline double cs_view_loop_util(const struct cs_view_loop *l)
{
    return l->util_from ? l->util_pct : l->cpu_pct;
}

struct cs_lint_table; /* task_warnings.h */

struct cs_view {
    int pid;
    char comm[CS_MODEL_COMM_LEN];
    const char *attach_mode; /* how the probes are attached, one short phrase */
    bool launched;           /* started by coscope (-- CMD) rather than attached to */
    bool target_exited;
    bool has_tasks; /* a libcorun task model is available: `tasks` */
    uint64_t threshold_ns;
    uint64_t now_ns;   /* CLOCK_MONOTONIC time of this picture */
    time_t now_wall;   /* wall clock of this picture */
    uint64_t stalls;   /* finished stalls so far */
    uint64_t worst_ns; /* the longest finished stall */
    int worst_tid;
    uint64_t lost, suppressed;

    size_t nloops;
    struct cs_view_loop loops[CS_VIEW_MAX_LOOPS];

    /* Stalls in progress (duration so far = now_ns - start_ns), newest first. */
    size_t nongoing;
    struct cs_stall ongoing[CS_VIEW_MAX_ONGOING];
    bool ongoing_owned; /* deep copies (a frozen picture) to release */

    /* libcorun loops and tasks (NULL: none; tasks_why says why). */
    const struct cs_corun_snapshot *tasks;
    bool tasks_stats; /* per-task counters and histograms are being kept */
    char tasks_why[160];
    struct cs_corun_snapshot *tasks_copy; /* owned by a frozen picture */
    size_t nslices;                       /* recent long task slices, oldest first */
    struct cs_task_slice slices[CS_TASK_SLICES_MAX];
    size_t nended; /* tasks of `tasks` that have ended (fading out), sorted by task id */
    struct cs_task_ended ended[CS_TASK_ENDED_MAX];
    const struct cs_lint_table *lints; /* per-task warnings (NULL: none kept) */

    /* Finished stalls come from the model; those added after this picture are hidden. */
    const struct cs_model *model;
    uint64_t model_stalls_at;

    /* Names of spawn sites (spawn_sites.h), filled by the source (NULL: none): the
     * screens never symbolize. */
    const struct cs_spawn_sites *spawn_sites;
    const char *replay_of; /* the recording this picture is replayed from (NULL: live) */
};

/* Stalls of the picture, newest first: the ongoing ones, then the finished ones. */
size_t cs_view_stall_count(const struct cs_view *v);
const struct cs_stall *cs_view_stall(const struct cs_view *v, size_t i);
/* The task that held the loop during a stall (NULL: not known, or a foreign loop). */
const char *cs_view_stall_task(const struct cs_view *v, const struct cs_stall *s);
/* The id of that task, 0 when not known. */
uint64_t cs_view_stall_task_id(const struct cs_view *v, const struct cs_stall *s);
/* When a task of the picture ended (it is fading out), or 0 while it lives. */
int64_t cs_view_task_ended_ns(const struct cs_view *v, uint64_t task_id);
/* Duration of a stall as of this picture (grows while it is ongoing). */
uint64_t cs_view_stall_duration_ns(const struct cs_view *v, const struct cs_stall *s);

/* A frozen copy of `src` (pause): owns its ongoing stalls. 0 or -ENOMEM. */
int cs_view_freeze(struct cs_view *dst, const struct cs_view *src);
/* Frees what cs_view_freeze copied. */
void cs_view_release(struct cs_view *v);

/* "512ns", "850us", "12.3ms", "1.20s", "2m05s" into buf; returns buf. */
char *cs_fmt_duration(uint64_t ns, char *buf, size_t len);

#endif
