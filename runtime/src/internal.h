/*
 * libcorun internals shared by the runtime's source files (core and I/O layer).
 *
 * The one primitive every suspending call is built on is park/unpark:
 *
 *   int co__park(enum corun_wait_reason why, const void *obj, int64_t deadline_ns);
 *       Suspends the running task until someone calls co__unpark() on it, the deadline
 *       passes or the task is cancelled. Returns the result given to co__unpark()
 *       (0 or a negative code of the waker's choice), CO_ETIMEDOUT, or CO_ECANCELED
 *       (co_cancel, or an expired co_timeout scope). A pending cancellation is delivered
 *       at once, without suspending (unless shielded). Outside a task: CO_EPERM.
 *       `why` and `obj` are what coscope shows as "waiting on".
 *
 *   int co__unpark(struct co_task *t, int result);
 *       Makes a parked task ready; its co__park returns `result`. Returns 1 if t was
 *       parked, 0 if it was not (already woken by its deadline, a cancellation or an
 *       earlier unpark): the first wake-up wins, later ones are ignored. Only call it on
 *       the task's own loop thread (from another thread: co_loop_post a callback).
 *
 * The usual pattern for a wait queue (lock, semaphore, ...):
 *     enqueue(self) ; r = co__park(CORUN_WAIT_SEM, sem, deadline) ;
 *     if (r != 0) dequeue(self)      // timed out / cancelled: nobody woke us
 * and the waker dequeues a waiter before calling co__unpark(waiter, 0).
 */
#ifndef CO_INTERNAL_H
#define CO_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "corun.h"
#include "corun_debug.h"
#include "poller.h"
#include "probes.h"
#include "stack.h"
#include "switch.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__SANITIZE_ADDRESS__)
#define CO__ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CO__ASAN 1
#endif
#endif
#ifndef CO__ASAN
#define CO__ASAN 0
#endif
#if CO__ASAN
#include <sanitizer/common_interface_defs.h>
#endif

/* A task that waits for another task's end (join, gather, wait-any, group). */
struct co__waiter {
    struct co_task *task;
    struct co__waiter *next;
};

/* Per-task statistics, allocated while the stats semaphore is set (corun_debug_stats_*). */
struct co__task_stats {
    uint64_t polls;
    uint64_t busy_ns;
    uint64_t wakes;
    int64_t last_ready_ns;
    /* log2 (corun_hist_bucket): two log-linear ones would take 7.75 KiB per live task */
    uint64_t sched_hist[CORUN_HIST_BUCKETS];
    uint64_t poll_hist[CORUN_HIST_BUCKETS];
};

enum co__task_flags {
    CO__TASK_DETACHED = 1u << 0,
    CO__TASK_CANCEL_PENDING = 1u << 1,
    CO__TASK_JOINED = 1u << 2,      /* someone got the outcome */
    CO__TASK_CANCEL_SEEN = 1u << 3, /* co_cancel was called at least once */
    /* Stats: the task readied itself (co_yield); its ready time is its slice's end. */
    CO__TASK_READY_AT_SLICE_END = 1u << 4,
    CO__TASK_IN_SCOPE = 1u << 5,   /* inside a co_timeout scope (t->scopes != NULL) */
    CO__TASK_GROUP_KEPT = 1u << 6, /* a group child whose handle was given out */
};

/* co__park's internal result for "the deadline passed", before it is sorted into
 * CO_ETIMEDOUT (the call's deadline) or CO_ECANCELED (a co_timeout scope's). */
#define CO__WAKE_TIMER INT32_MIN

struct co_task {
    /* Read from outside through the debug table: keep these first and plain. */
    uint64_t id;
    uint64_t parent_id;
    struct co_loop *loop;
    char name[CO_TASK_NAME_MAX];
    uint32_t state;       /* enum corun_task_state */
    uint32_t wait_reason; /* enum corun_wait_reason */
    const void *wait_obj;
    int64_t waiting_since_ns;
    uint64_t awaited_task_id;
    uint64_t spawn_pc;
    int64_t created_ns;
    struct co_task *next_task; /* the loop's list of live tasks */
    struct co__task_stats *stats;
    uint32_t outcome; /* enum corun_task_outcome, set when state becomes DONE */
    int32_t error;    /* what fn returned (0 or a negative code) */

    /* Private. */
    struct co_task *prev_task;
    struct co_task *ready_next;
    struct co__ctx ctx;
    void *map; /* the stack mapping; this struct lives at its top */
    size_t map_bytes;
    co_task_fn fn;
    void *arg;
    intptr_t result;
    int wake_result;
    uint32_t flags; /* enum co__task_flags */
    int shield_depth;
    int held_locks;            /* locks held (the I/O layer's lock counts them), for debug mode */
    struct co_timeout *scopes; /* innermost first */
    int64_t deadline_ns;       /* while in the timer heap */
    size_t heap_index;         /* position in the timer heap, SIZE_MAX when not in it */
    struct co__waiter *waiters;
    struct co_group *group; /* the group this task is a child of */
    struct co_task *group_next, *group_prev;
    struct co_group *owned_groups;  /* groups this task created */
    int64_t resumed_ns;             /* slice start, while timing is on */
    uint64_t done_seq;              /* the loop's finish order (gather's "first failure") */
    uint32_t cancel_requests;       /* co_cancel calls (a group tells its own from others') */
    void (*arg_release)(void *arg); /* co_set_arg_release */
#if CO__ASAN
    void *asan_fake_stack;
#endif
};

/* A posted callback (co_loop_post). */
struct co__post {
    void (*fn)(void *arg);
    void *arg;
    struct co__post *next;
};

/* Per-fd waiters (co_wait_fd): at most one reader and one writer per fd, and what the
 * poller watches for it (see poller.h for the two kinds of registration). */
struct co__fd_slot {
    struct co_task *reader;
    struct co_task *writer;
    uint8_t persistent; /* created by the runtime's socket calls: registered until co_close */
    uint8_t in_set;     /* fd is in the epoll set (as far as we know) */
    uint8_t watched;    /* persistent: the CO__POLL_IN/OUT the registration holds */
};

struct co_loop {
    /* Read from outside through the debug table. */
    uint64_t id;
    int32_t tid;
    uint32_t state; /* enum corun_loop_state */
    struct co_task *current;
    uint64_t slice_seq;
    int64_t slice_start_ns;
    int64_t iter_start_ns;
    uint64_t iterations;
    uint64_t busy_ns;
    uint64_t poll_wait_ns;
    uint64_t ready_count;
    uint64_t task_count;
    struct co_task *first_task;
    struct co_loop *next_loop;
    uint64_t sched_hist[CORUN_LL_BUCKETS]; /* corun_ll_bucket */
    uint64_t iter_hist[CORUN_LL_BUCKETS];
    uint64_t iter_max_ns; /* exact, where a bucket only bounds it to 1/8 */
    struct corun_slice_rec top_slices[CORUN_ITER_TOP_SLICES];
    uint32_t top_count;

    /* Private. */
    struct co__ctx sched_ctx; /* the loop's own context, on the thread's stack */
    struct co_task *ready_head, *ready_tail;
    struct co_task **heap; /* timer min-heap on deadline_ns */
    size_t heap_len, heap_cap;
    struct co__poller poller;
    struct co__fd_slot *fds;
    size_t fds_cap;
    size_t fd_waiters; /* tasks in co_wait_fd: 0 lets an idle-free iteration skip epoll */
    int wake_fd;       /* eventfd: co_loop_post wakes a sleeping loop */
    pthread_mutex_t post_lock;
    struct co__post *post_head, *post_tail;
    int post_pending; /* __atomic builtins: this header is also read by C++ tests */
    bool post_closed;
    struct co__stack_pool stacks;
    int64_t now_ns;        /* cached: read at the start of the timer phase */
    uint64_t alive;        /* tasks not yet finished */
    int64_t poll_enter_ns; /* while timing is on: when the last poll began */
    /* While timing is on: the loop's last clock reading (after the poll, the timers, the
     * last switch). One reading per switch serves the slice that ends and the next. */
    int64_t clock_ns;
    int64_t stats_since_ns;  /* when statistics were last switched on */
    uint32_t listen;         /* CO__LISTEN_*: the semaphores, read once per iteration */
    uint64_t tasks_run;      /* in the current iteration */
    uint64_t tasks_finished; /* numbers the tasks' ends (done_seq) */
#if CO__ASAN
    void *asan_fake_stack;
    const void *asan_stack_lo;
    size_t asan_stack_bytes;
#endif
};

enum co__listen {
    CO__LISTEN_TIMING = 1u << 0, /* time slices and iterations */
    CO__LISTEN_STATS = 1u << 1,  /* and keep statistics */
};

/* ---- Loop (loop.c) ---- */

/* The loop of this thread (NULL if none). initial-exec: one instruction to reach it, not
 * a __tls_get_addr call per access from the shared library (glibc keeps static TLS room
 * for libraries loaded with dlopen too). */
extern __thread struct co_loop *co__tls_loop __attribute__((tls_model("initial-exec")));

static inline struct co_task *co__current(void)
{
    struct co_loop *l = co__tls_loop;
    return l ? l->current : NULL;
}

void co__note_ready(struct co_loop *loop, struct co_task *t);

/* Appends t to the loop's FIFO ready queue. */
static inline void co__ready_push(struct co_loop *loop, struct co_task *t)
{
    t->ready_next = NULL;
    if (loop->ready_tail)
        loop->ready_tail->ready_next = t;
    else
        loop->ready_head = t;
    loop->ready_tail = t;
    loop->ready_count++;
    if (loop->listen & CO__LISTEN_STATS)
        co__note_ready(loop, t);
}

static inline int64_t co__clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
/* The same clock at tick resolution (a few ms), ~7x cheaper: for task creation times. */
int64_t co__coarse_clock_ns(void);
/* Switches from the running task to the loop; returns when the task is resumed. Inline:
 * it is most of what a suspension costs. */
static inline void co__suspend(struct co_task *t)
{
    struct co_loop *loop = t->loop;
#if CO__ASAN
    /* A finished task's fake stack is freed by passing NULL. */
    __sanitizer_start_switch_fiber(t->state == CORUN_TASK_DONE ? NULL : &t->asan_fake_stack,
                                   loop->asan_stack_lo, loop->asan_stack_bytes);
#endif
    co__ctx_switch(&t->ctx, &loop->sched_ctx);
#if CO__ASAN
    __sanitizer_finish_switch_fiber(t->asan_fake_stack, &loop->asan_stack_lo,
                                    &loop->asan_stack_bytes);
#endif
}

/* Timer heap (timer_heap.c). */
int co__timer_add(struct co_loop *loop, struct co_task *t, int64_t deadline_ns);
void co__timer_remove(struct co_loop *loop, struct co_task *t);

/* ---- Park / unpark (park.c) ---- */

int co__park(enum corun_wait_reason why, const void *obj, int64_t deadline_ns);
int co__unpark(struct co_task *t, int result);

/* Scoped timeouts: the earliest deadline of the scopes active for t (CO_NO_DEADLINE). */
int64_t co__scope_deadline(const struct co_task *t);

/* ---- Tasks (task.c) ---- */

int co__spawn_at(struct co_task **out, co_task_fn fn, void *arg, const struct co_spawn_opts *opts,
                 uint64_t spawn_pc);
/* Frees a finished task (returns its stack to the pool). */
void co__task_free(struct co_task *t);
/* Cancels every child of every group t owns (group.c). */
void co__cancel_owned_groups(struct co_task *t);
/* t's scope expired: cancels the groups t created inside it (group.c). */
void co__cancel_scope_groups(struct co_task *t, const struct co_timeout *scope);
/* A child of g finished (group.c). */
void co__group_child_done(struct co_group *g, struct co_task *child);
/* Waits (parked, JOIN) until t is done; does not consume t. */
int co__wait_done(struct co_task *t, int64_t deadline_ns);
/* CO_EINVAL unless t can be joined by hand here (a task of this loop, not detached, not
 * a group's). */
int co__check_joinable(const struct co_task *t);
/* Fills *out (may be NULL) from finished t and frees it. */
void co__task_consume(struct co_task *t, struct co_outcome *out);
/* Removes w from t's waiters (after a wait that t's end did not finish). */
void co__waiter_remove(struct co_task *t, struct co__waiter *w);
/* g's owner task is being freed: forget it. Returns the owner's next group. */
struct co_group *co__group_owner_gone(struct co_group *g);

/* ---- fds (fd_wait.c) ---- */

/*
 * Wakes every task waiting on fd with CO_ECLOSED and forgets the fd: call it before
 * closing an fd other tasks may be waiting on.
 */
void co__fd_forget(struct co_loop *loop, int fd);
/* co_wait_fd for the runtime's own calls (a direct call, not through the PLT). */
int co__wait_fd(int fd, unsigned events, int64_t deadline_ns);
/* The poller reported `events` for fd: wake its waiters. */
void co__fd_ready(struct co_loop *loop, int fd, unsigned events);
/* fd was just created by the runtime (accept, connect, listen, socketpair) and will be
 * closed with co_close: watch it persistently. Forgets what the slot knew about an
 * earlier fd of that number. */
void co__fd_adopt(struct co_loop *loop, int fd);

/* ---- Lock accounting hook for the I/O layer's co_lock ---- */

static inline void co__task_lock_acquired(struct co_task *t)
{
    if (t)
        t->held_locks++;
}

static inline void co__task_lock_released(struct co_task *t)
{
    if (t && t->held_locks > 0)
        t->held_locks--;
}

/* ---- Timing and stats (stats.c): what the USDT semaphores switch on ---- */

struct co__debug_config {
    int enabled;
    int64_t slow_slice_ns;
};
extern struct co__debug_config co__debug;

/* Someone listens for per-task statistics (a load and a branch). */
static inline bool co__stats_on(void)
{
    return CO_PROBE_ENABLED(stats);
}

/* Someone listens for long slices / iterations, or debug mode wants slow slices: time
 * every slice. When false, a switch reads no clock. */
static inline bool co__timing_on(void)
{
    return CO_PROBE_ENABLED(slice_long) || CO_PROBE_ENABLED(iter_long) || co__stats_on() ||
           co__debug.enabled;
}

/* What the loop does for listeners in this iteration (see loop->listen). Read without
 * short-circuits: four loads and one branch per iteration. */
static inline uint32_t co__listen_now(void)
{
#if CORUN_WITH_PROBES
    unsigned stats = corun_stats_semaphore;
    unsigned timing = corun_slice_long_semaphore | corun_iter_long_semaphore | stats |
                      (unsigned)co__debug.enabled;
#else
    unsigned stats = 0, timing = (unsigned)co__debug.enabled;
#endif
    return (timing ? (uint32_t)CO__LISTEN_TIMING : 0u) | (stats ? (uint32_t)CO__LISTEN_STATS : 0u);
}

/* The per-switch timing (slice and iteration begin/end) is in timing.h. */

/* ---- Debug mode, registry, guard pages (debug_mode.c, debug_table.c, guard_page.c) ---- */

void co__debug_init_from_env(void);
void co__debug_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

void co__registry_add(struct co_loop *loop);
void co__registry_remove(struct co_loop *loop);

/* Installs the SIGSEGV handler and this thread's alternate signal stack. */
int co__guard_thread_init(void);
void co__guard_thread_fini(void);

#ifdef __cplusplus
}
#endif

#endif
