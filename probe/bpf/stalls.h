/*
 * Structures shared by stalls.bpf.c (kernel side) and the stall collector (user side).
 * Definitions of slice / stall / blocking call: cs_defs.h.
 */
#ifndef CS_STALLS_H
#define CS_STALLS_H

#include "cs_defs.h"

#define CS_COMM_LEN        16
#define CS_MAX_SYSCALLS    8                     /* distinct blocking syscalls tallied per slice */
#define CS_MAX_STACK       64                    /* frames per frame-pointer stack */
#define CS_MAX_STACK_BYTES (64 * 1024)           /* largest user-stack window for DWARF unwinding */
#define CS_RAW_EVERY_NS    (10ull * 1000 * 1000) /* DWARF on-CPU samples: at most 100/s */

/* How the start of a slice is known (cs_stall_event.start_kind). */
enum cs_start_kind {
    CS_START_EXACT = 0,    /* seen leaving its wait call */
    CS_START_LAST_RAN = 1, /* began before attach: blocked since it last ran on a CPU */
    CS_START_ATTACH = 2,   /* began before attach, running then: at least since attach */
};

/* What a wait call waits on. */
enum cs_wait_class {
    CS_WAIT_NONE = 0,   /* poll/select on no descriptors: a sleep, never a loop's wait */
    CS_WAIT_EPOLL = 1,  /* object: the epoll fd */
    CS_WAIT_URING = 2,  /* object: the io_uring fd */
    CS_WAIT_POLL = 3,   /* object: the pollfd array's address */
    CS_WAIT_SELECT = 4, /* object: nfds */
};

/*
 * A loop's own wait call, learned per thread in BPF: an epoll fd or io_uring ring seen
 * CS_WAIT_LEARN_MIN times more than any other (a majority vote over epoll/io_uring
 * waits only: a poll or select inside a handler is never the loop's wait once one is
 * known). poll/select loops are not learned: each of their waits ends the slice.
 */
#define CS_WAIT_LEARN_MIN 3
struct cs_loop_wait {
    unsigned int learned;
    unsigned int cls; /* enum cs_wait_class */
    unsigned long long obj;
    unsigned int cand_cls, cand_votes;
    unsigned long long cand_obj;
};

/*
 * Per loop thread, in the `threads` hash map keyed by TID. User space creates the
 * entry (that is what makes a thread a loop thread) and reads it every few ms to
 * report stalls still in progress; BPF updates it.
 */
struct cs_thread_state {
    unsigned long long slice_start_ns; /* 0: in a wait call, or not seen leaving one yet */
    unsigned long long slice_seq;      /* slices started on this thread so far */
    unsigned long long off_cpu_ns;     /* off-CPU time of the current slice so far */
    unsigned long long switch_out_ns;  /* when it went off-CPU inside the slice, else 0 */
    unsigned long long best_off_ns;    /* longest single off-CPU period of the slice */
    int pending_stack_id;              /* user stack at the last voluntary switch-out */
    int best_stack_id;                 /* stack at the start of the longest period */
    int off_syscall;                   /* syscall it switched out in (if voluntary) */
    unsigned int off_voluntary;
    unsigned int in_wait; /* entered a qualifying wait call */
    unsigned int nsys;
    struct cs_syscall_slot sys[CS_MAX_SYSCALLS];
    unsigned long long last_raw_ns; /* last DWARF on-CPU sample sent */
    unsigned int tid;               /* the map key, for code that only has the state */
    unsigned int switches_seen;     /* switch-outs seen inside the slice */
    /* Cross-checks against the kernel's own per-task counters, so a context switch we
     * did not see (a skipped program run) is noticed and repaired, never silently
     * misreported: switches seen vs. nvcsw+nivcsw, CPU time by se.sum_exec_runtime. */
    unsigned long long csw_begin;      /* nvcsw + nivcsw when the slice began */
    unsigned long long exec_begin_ns;  /* se.sum_exec_runtime when the slice began */
    unsigned long long exec_at_out_ns; /* se.sum_exec_runtime at the last switch-out */
    unsigned int start_kind;           /* enum cs_start_kind of the current slice */
    unsigned int nested_wait;          /* in a wait call that is not the loop's own */
    /* The loop's own wait, learned (cs_loop_wait); any other wait inside a slice is a
     * blocking call. Until learned, every wait ends the slice. */
    struct cs_loop_wait wait;
};

/*
 * `coscope stat` on a foreign loop: per loop thread, in the `loop_stats` hash map keyed
 * by TID (user space creates the entry). The slice histogram is log-linear
 * (corun_debug.h's corun_ll_bucket), as libcorun's loop histograms, so both kinds of loop
 * print alike and within 1/8. The blocking-call histograms: log2 buckets as in cs_defs.h,
 * capped at CS_STAT_HIST_BUCKETS.
 */
#define CS_STAT_HIST_BUCKETS 32
#define CS_STAT_LL_BUCKETS   496 /* CORUN_LL_BUCKETS */

/* Bucket of v: 0 for 0, else the bit length of v (cs_hist_bucket), capped. Written out
 * as a binary search because the BPF backend of clang 14 cannot lower __builtin_clzll. */
static inline unsigned int cs_stat_bucket(unsigned long long v_ns)
{
    unsigned int b = 0;
    for (unsigned int shift = 32; shift; shift >>= 1) {
        if (v_ns >> shift) {
            v_ns >>= shift;
            b += shift;
        }
    }
    b += v_ns ? 1 : 0;
    return b < CS_STAT_HIST_BUCKETS - 1 ? b : CS_STAT_HIST_BUCKETS - 1;
}

struct cs_loop_stat {
    unsigned long long iterations;    /* slices ended (= counted in slice_hist) */
    unsigned long long busy_ns;       /* sum of those slices */
    unsigned long long wait_ns;       /* time in wait calls, from leaving a slice to the next */
    unsigned long long wait_start_ns; /* entered the current wait call, 0 if not in one */
    unsigned long long stalls;        /* slices of at least threshold_ns */
    unsigned long long max_slice_ns;
    unsigned long long slice_hist[CS_STAT_LL_BUCKETS]; /* corun_ll_bucket */
};

/* Blocking system calls inside slices, per loop thread and syscall (`block_stats`). */
struct cs_block_key {
    unsigned int tid;
    int nr; /* syscall number, CS_NO_SYSCALL for off-CPU outside a syscall */
};

struct cs_block_stat {
    unsigned long long count;    /* voluntary off-CPU periods in the syscall */
    unsigned long long total_ns; /* their off-CPU time */
    unsigned long long max_ns;
    unsigned long long hist[CS_STAT_HIST_BUCKETS]; /* off-CPU time of each period */
};

/* Wait calls of the target's threads that are not (yet) loop threads, per TID
 * (`wait_counts`): a busy loop rarely sits in its wait call when /proc is sampled, but
 * it makes many of them. Sleeps (CS_WAIT_NONE) are not counted. */

enum cs_event_kind {
    CS_EV_STALL = 1,     /* struct cs_stall_event: a stall ended */
    CS_EV_RAW_STACK = 2, /* struct cs_raw_stack_event: registers + user stack window */
};

/* A stall ended: the loop thread entered its wait call again. */
struct cs_stall_event {
    unsigned int kind; /* CS_EV_STALL */
    unsigned int pid;
    unsigned int tid;
    int stack_id; /* best_stack_id: FP stack of the longest blocking period, or -1 */
    char comm[CS_COMM_LEN];
    unsigned long long seq;
    unsigned long long start_ns;
    unsigned long long end_ns;
    unsigned long long off_cpu_ns;
    unsigned int nsys;
    unsigned int start_kind; /* enum cs_start_kind */
    struct cs_syscall_slot sys[CS_MAX_SYSCALLS];
    /* Cross-check (see cs_thread_state): what the kernel counted in the slice. */
    unsigned long long exec_ns;           /* CPU time by se.sum_exec_runtime (tick-stale) */
    unsigned long long unclosed_out_ns;   /* a switch-out whose switch-in we missed, or 0 */
    unsigned long long exec_since_out_ns; /* CPU time since that switch-out */
    unsigned int csw;                     /* context switches the kernel counted */
    unsigned int switches_seen;           /* of which we saw */
    int unclosed_syscall;                 /* syscall of the unclosed switch-out, or -1 */
    unsigned int pad2;
};

/* Key of the on-CPU sample counts: one per (thread, slice, stack). */
struct cs_sample_key {
    unsigned int tid;
    int stack_id;
    unsigned long long seq;
};

/* x86-64 user registers DWARF unwinding starts from. */
struct cs_user_regs {
    unsigned long long ip, sp, bp, bx, r12, r13, r14, r15;
};

enum cs_raw_why {
    CS_RAW_BLOCKING = 1, /* the longest blocking period of a slice */
    CS_RAW_SAMPLE = 2,   /* an on-CPU sample of a slice past the threshold */
};

/*
 * A window of the user stack starting at regs.sp, for DWARF unwinding in user space.
 * Sent (header + `size` bytes) just before the stall event of the same (tid, seq).
 */
struct cs_raw_stack_event {
    unsigned int kind; /* CS_EV_RAW_STACK */
    unsigned int tid;
    unsigned long long seq;
    unsigned int why;
    unsigned int size; /* bytes of data[] that are valid */
    struct cs_user_regs regs;
    unsigned char data[CS_MAX_STACK_BYTES];
};

#endif
