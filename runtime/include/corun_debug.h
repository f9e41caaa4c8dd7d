/*
 * corun_debug.h — what an outside reader (coscope) needs to know about libcorun,
 * without compile-time knowledge of its structs (docs/probes.md).
 *
 * - Stable enums: loop states, task states, wait reasons, task outcomes.
 * - The histogram bucket function shared by the runtime, BPF programs and coscope.
 * - The debug table `corun_debug`: an exported, versioned struct holding the address of
 *   the loop registry and the offsets of every field a reader needs. A reader in another
 *   process finds the symbol (in .dynsym or .symtab), reads the table with
 *   process_vm_readv, checks magic/version/size, then walks loops and tasks.
 *
 * Usable from C, C++ and BPF C (no libc needed for the inline function).
 */
#ifndef CORUN_DEBUG_H
#define CORUN_DEBUG_H

#ifndef __bpf__
#include <stdint.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Stable enums (values never change; new values are appended) ------------------- */

enum corun_loop_state {
    CORUN_LOOP_IDLE = 0,     /* created, not iterating yet */
    CORUN_LOOP_POLLING = 1,  /* inside the poller (epoll_wait), or about to be */
    CORUN_LOOP_RUNNING = 2,  /* running timers, fd events, callbacks or tasks */
    CORUN_LOOP_STOPPING = 3, /* main has returned; cancelling and joining the rest */
    CORUN_LOOP_STOPPED = 4,  /* done; about to be freed */
};

enum corun_task_state {
    CORUN_TASK_INVALID = 0,
    CORUN_TASK_READY = 1,   /* in the ready queue */
    CORUN_TASK_RUNNING = 2, /* the loop's current task */
    CORUN_TASK_WAITING = 3, /* suspended: see wait reason and wait object */
    CORUN_TASK_DONE = 4,    /* finished, not yet joined */
};

enum corun_wait_reason {
    CORUN_WAIT_NONE = 0,
    CORUN_WAIT_YIELD = 1,     /* co_yield: ready again at once */
    CORUN_WAIT_SLEEP = 2,     /* co_sleep */
    CORUN_WAIT_FD = 3,        /* co_wait_fd and the socket calls; obj = (void *)(intptr_t)fd */
    CORUN_WAIT_JOIN = 4,      /* co_join / co_gather; obj = awaited task */
    CORUN_WAIT_ANY = 5,       /* co_wait_any; obj = the array of tasks */
    CORUN_WAIT_GROUP = 6,     /* co_group_wait; obj = group */
    CORUN_WAIT_LOCK = 7,      /* obj = lock */
    CORUN_WAIT_SEM = 8,       /* obj = semaphore */
    CORUN_WAIT_EVENT = 9,     /* obj = event */
    CORUN_WAIT_COND = 10,     /* obj = condition */
    CORUN_WAIT_QUEUE = 11,    /* obj = queue */
    CORUN_WAIT_EXECUTOR = 12, /* obj = executor job */
    CORUN_WAIT_GEN = 13,      /* obj = generator */
    CORUN_WAIT_SIGNAL = 14,   /* obj = signal set */
    CORUN_WAIT_OTHER = 15,
};

/* How a task ended: what its function returned, sorted. Cancelled is not a failure
 * (asyncio does not report a CancelledError nobody retrieved either). */
enum corun_task_outcome {
    CORUN_OUTCOME_OK = 0,        /* returned 0 */
    CORUN_OUTCOME_ERROR = 1,     /* returned a negative code other than CO_ECANCELED */
    CORUN_OUTCOME_CANCELLED = 2, /* returned CO_ECANCELED */
};

/* ---- Probe-related constants ------------------------------------------------------- */

/* slice_long / iter_long fire only for slices / iterations at least this long. */
#define CORUN_LONG_SLICE_FLOOR_NS 250000ull
/* Number of slowest slices an iteration remembers (iter_long's top_ptr array). */
#define CORUN_ITER_TOP_SLICES 8

/* ---- Log2 buckets of nanoseconds ---------------------------------------------------
 *
 * Every histogram of tables of version 1 and 2; the per-task ones (stats block) of
 * version 3; the recordings and the kernel maps. */

#define CORUN_HIST_BUCKETS 32

/* Bucket k holds [2^(k-1), 2^k) ns; bucket 0 holds 0; the last one holds the rest. */
static inline unsigned corun_hist_bucket(uint64_t v_ns)
{
    unsigned k;
    if (!v_ns)
        return 0;
    k = 64u - (unsigned)__builtin_clzll(v_ns);
    return k < CORUN_HIST_BUCKETS - 1 ? k : CORUN_HIST_BUCKETS - 1;
}

/* ---- Log-linear buckets of nanoseconds: the loop histograms of a version 3 table ----
 *
 * Each power of two [2^k, 2^(k+1)) (k >= 3) is cut into CORUN_LL_SUB equal sub-buckets,
 * and 0..CORUN_LL_SUB-1 ns get one bucket each, so a bucket is never wider than 1/8 of
 * its lower bound: a percentile read from it is off by at most 12.5 % (6.25 % when it is
 * reported as the bucket's midpoint), where log2 buckets are off by up to a factor of 2.
 * 8 sub-buckets rather than 16: the whole uint64 range takes 496 buckets (3.9 KiB of
 * counts), 16 would take 976 (7.6 KiB) for every loop's two histograms and every BPF
 * map value, and 6 % is already below the run-to-run noise of the latencies measured.
 */

#define CORUN_LL_SUB_BITS 3u
#define CORUN_LL_SUB      (1u << CORUN_LL_SUB_BITS)
/* (64 - CORUN_LL_SUB_BITS) groups of CORUN_LL_SUB, plus the exact small values. */
#define CORUN_LL_BUCKETS ((64u - CORUN_LL_SUB_BITS + 1u) * CORUN_LL_SUB)

/* The bucket of v_ns. In BPF C the top bit is found by a binary search rather than
 * __builtin_clzll, which the BPF backend of clang 14 cannot lower; elsewhere (the
 * runtime counts every slice with it) by the one instruction. */
static inline unsigned corun_ll_bucket(uint64_t v_ns)
{
    unsigned msb = 0, shift;
    if (v_ns < CORUN_LL_SUB)
        return (unsigned)v_ns;
#ifdef __bpf__
    uint64_t x = v_ns;
    for (unsigned s = 32; s; s >>= 1) {
        if (x >> s) {
            x >>= s;
            msb += s;
        }
    }
#else
    msb = 63u - (unsigned)__builtin_clzll(v_ns);
#endif
    shift = msb - CORUN_LL_SUB_BITS;
    return (shift + 1u) * CORUN_LL_SUB + (unsigned)((v_ns >> shift) & (CORUN_LL_SUB - 1u));
}

/* The smallest value of bucket b (b < CORUN_LL_BUCKETS). */
static inline uint64_t corun_ll_lower(unsigned b)
{
    unsigned shift;
    if (b < CORUN_LL_SUB)
        return b;
    shift = b / CORUN_LL_SUB - 1u;
    return ((uint64_t)CORUN_LL_SUB + b % CORUN_LL_SUB) << shift;
}

/* The largest value of bucket b, inclusive (so the last bucket ends at UINT64_MAX
 * without overflowing). */
static inline uint64_t corun_ll_upper(unsigned b)
{
    if (b < CORUN_LL_SUB)
        return b;
    return corun_ll_lower(b) + ((1ull << (b / CORUN_LL_SUB - 1u)) - 1u);
}

/* One entry of a loop's "slowest slices of this iteration" array (iter_long top_ptr). */
struct corun_slice_rec {
    uint64_t task_id;
    uint64_t duration_ns;
};

/* ---- The debug table --------------------------------------------------------------- */

#define CORUN_DEBUG_MAGIC "CORUNDBG" /* 8 bytes, no NUL stored */
/*
 * Version history (a reader accepts the versions it knows and refuses the others):
 *   1  the first table.
 *   2  task.outcome and task.error appended to struct corun_debug_task_offsets (which
 *      moves `stats` 8 bytes further in struct corun_debug; a v1 table is the v2 one
 *      without those two fields). Appended later within version 2: loop_iter_max_ns.
 *   3  the loop histograms (sched_hist, iter_hist) hold CORUN_LL_BUCKETS log-linear
 *      buckets (corun_ll_bucket) instead of CORUN_HIST_BUCKETS log2 ones (`hist_buckets`
 *      says which); the stats block's stay log2, their count in the appended
 *      `stats_hist_buckets`. Otherwise version 2's layout, loop_iter_max_ns included.
 */
#define CORUN_DEBUG_VERSION 3

/*
 * The loop registry: every live loop of the process, as a singly linked list through
 * `loop.next_loop`. `generation` is bumped (under a mutex) before and after every change,
 * so it is odd while a change is in progress: a reader copies generation, walks, re-reads
 * generation and retries if it changed or was odd.
 */
struct corun_registry {
    uint64_t generation;
    uint64_t first_loop; /* address of the first loop, 0 if none */
    uint64_t loop_count;
};

/* Offsets are from the start of the struct, in bytes; sizes are in bytes. */
struct corun_debug_loop_offsets {
    uint32_t size;
    uint32_t id;             /* uint64 */
    uint32_t tid;            /* int32, the loop thread's kernel tid */
    uint32_t state;          /* uint32, enum corun_loop_state */
    uint32_t current_task;   /* pointer, 0 between slices */
    uint32_t slice_seq;      /* uint64, bumped at every resume */
    uint32_t slice_start_ns; /* int64, maintained while timing is on */
    uint32_t iter_start_ns;  /* int64, maintained while timing is on */
    uint32_t iterations;     /* uint64 */
    uint32_t busy_ns;        /* uint64, stats */
    uint32_t poll_wait_ns;   /* uint64, stats */
    uint32_t ready_count;    /* uint64, tasks in the ready queue */
    uint32_t task_count;     /* uint64, live tasks (not freed) */
    uint32_t first_task;     /* pointer, list through task.next_task */
    uint32_t next_loop;      /* pointer, registry list */
    uint32_t sched_hist;     /* uint64[hist_buckets], ready -> resume, stats */
    uint32_t iter_hist;      /* uint64[hist_buckets], iteration durations, stats */
    uint32_t top_slices;     /* struct corun_slice_rec[CORUN_ITER_TOP_SLICES] */
    uint32_t top_count;      /* uint32 */
};

struct corun_debug_task_offsets {
    uint32_t size;
    uint32_t id;        /* uint64 */
    uint32_t parent_id; /* uint64, 0 = spawned outside a task */
    uint32_t loop;      /* pointer */
    uint32_t name;      /* char[name_size], NUL-terminated */
    uint32_t name_size;
    uint32_t state;            /* uint32, enum corun_task_state */
    uint32_t wait_reason;      /* uint32, enum corun_wait_reason */
    uint32_t wait_obj;         /* pointer */
    uint32_t waiting_since_ns; /* int64, maintained while timing or stats are on, else 0 */
    uint32_t awaited_task_id;  /* uint64, the task being joined, 0 if none */
    uint32_t spawn_pc;         /* uint64, return address in the spawner */
    uint32_t created_ns;       /* int64, CLOCK_MONOTONIC at tick resolution (coarse) */
    uint32_t next_task;        /* pointer, 0 at the end */
    uint32_t stats;            /* pointer to the stats block, 0 when stats are off */
    /* Version 2. Both are valid once state is CORUN_TASK_DONE (written before it). */
    uint32_t outcome; /* uint32, enum corun_task_outcome */
    uint32_t error;   /* int32, what the task's function returned: 0 or a negative errno */
};

struct corun_debug_stats_offsets {
    uint32_t size;
    uint32_t polls;         /* uint64, slices run */
    uint32_t busy_ns;       /* uint64, sum of slice durations */
    uint32_t wakes;         /* uint64, times made ready */
    uint32_t last_ready_ns; /* int64 */
    uint32_t sched_hist;    /* uint64[stats_hist_buckets], ready -> resume */
    uint32_t poll_hist;     /* uint64[stats_hist_buckets], resume -> suspend */
};

struct corun_debug {
    char magic[8]; /* CORUN_DEBUG_MAGIC */
    uint32_t version;
    uint32_t size;         /* sizeof(struct corun_debug) */
    uint64_t registry;     /* address of struct corun_registry */
    uint32_t hist_buckets; /* loop histograms: CORUN_LL_BUCKETS (version 3), else
                            * CORUN_HIST_BUCKETS */
    uint32_t pointer_size;
    struct corun_debug_loop_offsets loop;
    struct corun_debug_task_offsets task;
    struct corun_debug_stats_offsets stats;
    /* Appended within version 2: a table without it is shorter (`size` says so). */
    uint32_t loop_iter_max_ns; /* uint64, the loop's longest iteration so far, stats; an
                                * offset in the loop (a bucket bounds it to 1/8 only) */
    /* Version 3. */
    uint32_t stats_hist_buckets; /* the stats block's histograms: CORUN_HIST_BUCKETS */
};

#ifndef __bpf__
extern const struct corun_debug corun_debug;
#endif

#ifdef __cplusplus
}
#endif

#endif /* CORUN_DEBUG_H */
