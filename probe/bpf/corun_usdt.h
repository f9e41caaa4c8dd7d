/*
 * What corun.bpf.c (USDT programs on a libcorun target) and coscope share. The slice
 * definition is libcorun's (docs/architecture.md): from a task's resume to its suspension; the
 * runtime fires corun:slice_long for slices of at least CORUN_LONG_SLICE_FLOOR_NS (250 us) and
 * corun:iter_long for iterations (poll_exit -> poll_enter) as long, only while the probes'
 * semaphores are set.
 */
#ifndef CS_CORUN_USDT_H
#define CS_CORUN_USDT_H

#include "cs_defs.h"

#define CS_CORUN_NAME_LEN   32
#define CS_CORUN_MAX_SYS    8  /* distinct blocking syscalls tallied per long slice */
#define CS_CORUN_OFFCPU_LOG 32 /* off-CPU periods remembered per loop thread */
#define CS_CORUN_ITER_TOP   8  /* CORUN_ITER_TOP_SLICES */

/*
 * A long slice. The first fields are the layout every reader (stat, the viewer) relies on;
 * the off-CPU part is filled only where the off-CPU accounting runs (corun_switch attached).
 */
struct cs_corun_slice_event {
    unsigned long long task_id;
    unsigned long long start_ns; /* CLOCK_MONOTONIC */
    unsigned long long duration_ns;
    unsigned long long slice_seq;
    unsigned int tid; /* the loop thread */
    unsigned int pad;
    char name[CS_CORUN_NAME_LEN];  /* the task's name, read from the target at the event */
    unsigned long long off_cpu_ns; /* of the slice, from the off-CPU accounting */
    unsigned int nsys;
    unsigned int log_state; /* enum cs_corun_log_state */
    struct cs_syscall_slot sys[CS_CORUN_MAX_SYS];
};

enum cs_corun_log_state {
    CS_CORUN_LOG_NONE = 0,     /* no off-CPU accounting for the thread: off_cpu_ns, sys unknown */
    CS_CORUN_LOG_COMPLETE = 1, /* off_cpu_ns and sys are the slice's */
    CS_CORUN_LOG_PARTIAL = 2,  /* the slice began before the thread's log: off_cpu_ns and
                                * sys miss what came before (a switch-out it never saw) */
};

/*
 * Off-CPU accounting per loop thread (map `offcpu`, key TID; user space creates the entry
 * with the loop's address). Slices are told apart without a probe per switch: at each
 * switch-out the program reads the loop's slice_seq from target memory; a new value means a
 * new slice began since the thread last switched in, and the thread has run ever since, so
 * the off-CPU total so far is also the total at that slice's start (`base_cum_ns`).
 */
struct cs_corun_offcpu_log {
    unsigned long long loop_addr; /* the thread's co_loop in the target */
    unsigned long long out_ns;    /* switched out now, since; 0 = running */
    int out_nr;                   /* syscall it switched out in, CS_NO_SYSCALL if none */
    unsigned int out_voluntary;
    unsigned long long cum_off_ns;  /* off-CPU time since the entry was made */
    unsigned long long base_seq;    /* slice the tally below belongs to */
    unsigned long long base_cum_ns; /* cum_off_ns when that slice began */
    unsigned int nsys;
    unsigned int pad;
    struct cs_syscall_slot sys[CS_CORUN_MAX_SYS]; /* blocking calls of slice base_seq */
    /* `coscope stat`: the system call in progress, if made inside a task's slice. */
    unsigned long long sys_task_id;  /* 0: not in a syscall, or not inside a slice */
    unsigned long long sys_off_base; /* cum_off_ns at its entry */
    int sys_nr;
    unsigned int pad2;
    unsigned long long out_task_id; /* stat, blocking calls at switch: the task that blocked */
    unsigned long long since_ns;    /* CLOCK_MONOTONIC when user space made the entry */
};

/* Histograms of stat's blocking calls and executor calls: log2 buckets as libcorun's. */
#define CS_CORUN_HIST 32 /* CORUN_HIST_BUCKETS */

/* The bucket of v: its bit length, capped (BPF has no count-leading-zeros instruction, and
 * clang 14 crashes on __builtin_clzll for BPF: six shifts instead). */
static inline unsigned int cs_corun_bucket(unsigned long long v_ns)
{
    unsigned int b = 0;
    if (v_ns >> 32) {
        v_ns >>= 32;
        b += 32;
    }
    if (v_ns >> 16) {
        v_ns >>= 16;
        b += 16;
    }
    if (v_ns >> 8) {
        v_ns >>= 8;
        b += 8;
    }
    if (v_ns >> 4) {
        v_ns >>= 4;
        b += 4;
    }
    if (v_ns >> 2) {
        v_ns >>= 2;
        b += 2;
    }
    if (v_ns >> 1) {
        v_ns >>= 1;
        b += 1;
    }
    b += (unsigned int)v_ns; /* 1 if any bit was set */
    return b < CS_CORUN_HIST - 1 ? b : CS_CORUN_HIST - 1;
}

/*
 * Map `blocking`: system calls of loop threads inside task slices, per task and call. By
 * default counted at sched_switch: each voluntary switch-out inside a slice is one blocked
 * call (cheap: only when the thread blocks). With every call counted (stat --all-syscalls,
 * sys_enter/sys_exit), `calls` counts them all and `blocked` those that went off-CPU.
 */
struct cs_corun_block_key {
    unsigned long long task_id;
    int nr;
    unsigned int pad;
};

struct cs_corun_block_val {
    unsigned long long calls;
    unsigned long long blocked; /* calls in which the thread went off-CPU */
    unsigned long long off_ns;  /* off-CPU time inside them */
    unsigned long long off_hist[CS_CORUN_HIST];
};

/* Map `exec`, key task id: executor calls (corun:exec_done). */
struct cs_corun_exec_val {
    unsigned long long calls, queue_ns, run_ns;
    unsigned long long queue_hist[CS_CORUN_HIST];
    unsigned long long run_hist[CS_CORUN_HIST];
};

struct cs_corun_top_slice {
    unsigned long long task_id, duration_ns; /* struct corun_slice_rec */
};

/* A long iteration (corun:iter_long), with its slowest slices, slowest first. */
struct cs_corun_iter_event {
    unsigned long long start_ns;
    unsigned long long duration_ns;
    unsigned long long tasks_run;
    unsigned int tid;
    unsigned int ntop;
    struct cs_corun_top_slice top[CS_CORUN_ITER_TOP];
};

/*
 * `record --polls`: every poll (task_resume -> task_suspend / task_done) and every wake
 * edge (task_ready), one ring buffer record each (ring buffer `polls`). Both kinds share
 * one 40-byte layout so the consumer reads one stream in order.
 */
enum cs_corun_poll_kind {
    CS_CORUN_EV_POLL = 1,  /* task_id ran from start_ns for duration_ns */
    CS_CORUN_EV_WAKE = 2,  /* at start_ns, waker_id made task_id ready (waker 0: the loop) */
    CS_CORUN_EV_SPAWN = 3, /* struct cs_corun_life_event: task_id was created at start_ns */
    CS_CORUN_EV_END = 4,   /* struct cs_corun_life_event: task_id returned at start_ns */
};

#define CS_CORUN_POLL_DONE 0xffffu /* wait_reason of a poll that ended with the task's end */

struct cs_corun_poll_event {
    unsigned long long task_id;     /* the polled task, or the woken one */
    unsigned long long start_ns;    /* CLOCK_MONOTONIC: the poll's start, or the wake's time */
    unsigned long long duration_ns; /* POLL; 0 for WAKE */
    unsigned long long waker_id;    /* WAKE; 0 for POLL */
    unsigned int tid;               /* the loop thread */
    unsigned short kind;            /* enum cs_corun_poll_kind */
    unsigned short wait_reason;     /* POLL: corun_debug.h's at suspension, or _POLL_DONE */
};

/*
 * A task's birth (corun:task_spawn) or end (corun:task_done), one per task each: what the
 * periodic snapshots of the debug table miss (a task born and gone between two, the last
 * figures of a task that ended). The head is a poll event's layout (kind SPAWN or END,
 * start_ns = the time, tid = the loop thread), so both kinds share the ring `polls`.
 * At END the runtime has already counted the task's last slice in its stats block
 * (co__slice_end runs before the probe): the figures are the task's final ones.
 */
struct cs_corun_life_event {
    struct cs_corun_poll_event head;
    unsigned long long parent_id;             /* SPAWN */
    unsigned long long polls, busy_ns, wakes; /* END, has_stats: the stats block's */
    unsigned int has_stats;                   /* END: the runtime kept stats for the task */
    unsigned int outcome;                     /* END: enum corun_task_outcome */
    int error;                                /* END: what the task's function returned */
    unsigned int pad;
    char name[CS_CORUN_NAME_LEN];
    unsigned long long sched_hist[CS_CORUN_HIST]; /* END, has_stats */
};

/* Map `poll_cur`, key TID: the poll the loop thread runs now (task_resume). */
struct cs_corun_poll_cur {
    unsigned long long task_addr; /* the task's struct in the target: its suspend matches it */
    unsigned long long task_id;
    unsigned long long start_ns; /* 0: none (the poll's start was not seen) */
};

#endif
