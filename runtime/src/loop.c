/*
 * The loop: one per thread. co_run() creates it, and iteration() is one turn of it:
 *
 *   compute the timeout -> poll -> expired timers -> fd events -> posted callbacks
 *   -> run the tasks that were ready when this phase began (asyncio's _run_once)
 *
 * Tasks run one at a time on the loop's own stack-switching context: a task switches back
 * to the loop whenever it suspends, never straight to another task.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "timing.h"

#if CO__ASAN
#include <sanitizer/common_interface_defs.h>
#endif

__thread struct co_loop *co__tls_loop __attribute__((tls_model("initial-exec")));

static atomic_uint_fast64_t next_loop_id = 1;

/* How many pooled stacks a loop keeps for reuse. */
#define STACK_POOL_LIMIT 64

int64_t co__coarse_clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t co_now_ns(void)
{
    return co__clock_ns();
}

int64_t co_deadline_in(int64_t duration_ns)
{
    int64_t now = co__clock_ns();
    /* A negative duration is a deadline already past (asyncio's timeout(-1) expires at
     * once): a computed "time left" that went negative must not mean "wait forever". */
    if (duration_ns < 0)
        return now + duration_ns >= 0 ? now + duration_ns : 0;
    /* A deadline past the clock's range never comes. */
    return duration_ns > INT64_MAX - now ? CO_NO_DEADLINE : now + duration_ns;
}

co_loop *co_loop_current(void)
{
    return co__tls_loop;
}

uint64_t co_loop_id(const co_loop *loop)
{
    return loop ? loop->id : 0;
}

/* ---- Ready queue: a FIFO through task.ready_next ---- */

static struct co_task *ready_pop(struct co_loop *loop)
{
    struct co_task *t = loop->ready_head;
    loop->ready_head = t->ready_next;
    if (!loop->ready_head)
        loop->ready_tail = NULL;
    loop->ready_count--;
    return t;
}

/* ---- Switching between the loop and a task (the task's side: co__suspend) ---- */

/* A task finished: what is left to do once we are off its stack. */
static void task_done(struct co_task *t)
{
    CO_PROBE4(task_done, t, t->id, (int)t->outcome, t->error);
    /* Its stack is free now that we are off it. */
    if (t->flags & CO__TASK_DETACHED)
        co__task_free(t);
}

/* Runs t's slice. The timing (slice begin and end) is the caller's. */
static inline __attribute__((always_inline)) void run_task(struct co_loop *loop, struct co_task *t)
{
    loop->current = t;
    t->state = CORUN_TASK_RUNNING;
    loop->slice_seq++;
    CO_PROBE2(task_resume, t, t->id);
#if CO__ASAN
    char *stack_lo = (char *)t->map + co__page_size();
    __sanitizer_start_switch_fiber(&loop->asan_fake_stack, stack_lo,
                                   (size_t)((char *)t - stack_lo));
#endif
    co__ctx_switch(&loop->sched_ctx, &t->ctx);
#if CO__ASAN
    __sanitizer_finish_switch_fiber(loop->asan_fake_stack, NULL, NULL);
#endif
    loop->current = NULL;
}

/* After run_task (and the slice's timing): the probe of how the slice ended. */
static inline __attribute__((always_inline)) void after_slice(struct co_task *t)
{
    if (__builtin_expect(t->state == CORUN_TASK_DONE, 0))
        task_done(t);
    else
        CO_PROBE4(task_suspend, t, t->id, t->wait_reason, t->wait_obj);
}

/*
 * The run phase: runs the n tasks at the head of the ready queue (those that were ready
 * when the phase began: asyncio's rule, so a task that keeps yielding lets timers, I/O
 * and every other ready task have their turn at each iteration).
 */
static inline __attribute__((always_inline)) void run_ready(struct co_loop *loop, uint64_t n)
{
    loop->tasks_run = n;
    if (__builtin_expect(!(loop->listen & CO__LISTEN_TIMING), 1)) {
        for (; n > 0; n--) {
            struct co_task *t = ready_pop(loop);
            run_task(loop, t);
            after_slice(t);
        }
        return;
    }
    int64_t now = loop->clock_ns;
    for (; n > 0; n--) {
        struct co_task *t = ready_pop(loop);
        co__slice_begin(loop, t, now);
        run_task(loop, t);
        now = co__slice_end(loop, t); /* also the next slice's start */
        after_slice(t);
    }
}

/* ---- Posted callbacks (co_loop_post) ---- */

int co_loop_post(co_loop *loop, void (*fn)(void *arg), void *arg)
{
    if (!loop || !fn)
        return CO_EINVAL;
    struct co__post *p = malloc(sizeof *p);
    if (!p)
        return CO_ENOMEM;
    p->fn = fn;
    p->arg = arg;
    p->next = NULL;
    pthread_mutex_lock(&loop->post_lock);
    if (loop->post_closed) {
        pthread_mutex_unlock(&loop->post_lock);
        free(p);
        return CO_ECLOSED;
    }
    if (loop->post_tail)
        loop->post_tail->next = p;
    else
        loop->post_head = p;
    loop->post_tail = p;
    /* Only the first post since the loop last looked writes the eventfd. Writing inside
     * the lock keeps the loop (and its eventfd) alive while we use it. */
    if (__atomic_exchange_n(&loop->post_pending, 1, __ATOMIC_SEQ_CST) == 0) {
        uint64_t one = 1;
        ssize_t w = write(loop->wake_fd, &one, sizeof one);
        (void)w; /* EAGAIN: the counter is saturated, the loop wakes anyway */
    }
    pthread_mutex_unlock(&loop->post_lock);
    return 0;
}

static void run_posted_callbacks(struct co_loop *loop)
{
    __atomic_store_n(&loop->post_pending, 0, __ATOMIC_SEQ_CST);
    pthread_mutex_lock(&loop->post_lock);
    struct co__post *p = loop->post_head;
    loop->post_head = loop->post_tail = NULL;
    pthread_mutex_unlock(&loop->post_lock);
    while (p) {
        struct co__post *next = p->next;
        p->fn(p->arg);
        free(p);
        p = next;
    }
}

/* ---- One iteration ---- */

static int64_t poll_timeout_ns(struct co_loop *loop)
{
    if (loop->ready_head || __atomic_load_n(&loop->post_pending, __ATOMIC_RELAXED))
        return 0;
    if (!loop->heap_len)
        return -1;
    int64_t left = loop->heap[0]->deadline_ns - co__clock_ns();
    return left > 0 ? left : 0;
}

static void run_expired_timers(struct co_loop *loop)
{
    loop->now_ns = co__clock_ns();
    loop->clock_ns = loop->now_ns; /* the ready time of the tasks it wakes (stats) */
    while (loop->heap_len && loop->heap[0]->deadline_ns <= loop->now_ns)
        co__unpark(loop->heap[0], CO__WAKE_TIMER);
}

static void dispatch_fd_events(struct co_loop *loop, const struct co__poll_event *evs, int n)
{
    for (int i = 0; i < n; i++) {
        if (evs[i].fd == loop->wake_fd) {
            uint64_t count;
            ssize_t r = read(loop->wake_fd, &count, sizeof count);
            (void)r; /* the posts themselves are found through post_pending */
            continue;
        }
        co__fd_ready(loop, evs[i].fd, evs[i].events);
    }
}

/* The poll and dispatch phases, when there is something to poll for or dispatch. */
static __attribute__((noinline)) void poll_and_dispatch(struct co_loop *loop, int64_t timeout_ns)
{
    struct co__poll_event events[64];
    int nevents = 0, polled = 0;
    /* With nothing to wait for and no fd to learn about, skip the system call. */
    if (timeout_ns != 0 || loop->fd_waiters > 0) {
        nevents = co__poller_wait(&loop->poller, events, 64, timeout_ns);
        if (nevents < 0)
            nevents = 0;
        polled = 1;
    }
    loop->state = CORUN_LOOP_RUNNING;
    CO_PROBE2(poll_exit, loop, nevents);
    loop->iterations++;
    uint32_t was = loop->listen;
    /* The semaphores are read once per iteration: a tracer that attaches is served from
     * the next one. */
    loop->listen = co__listen_now();
    if (loop->listen & CO__LISTEN_TIMING)
        co__iter_begin(loop, was, polled);

    int dispatched = nevents > 0;
    if (loop->heap_len) {
        run_expired_timers(loop);
        dispatched = 1;
    }
    dispatch_fd_events(loop, events, nevents);
    if (__atomic_load_n(&loop->post_pending, __ATOMIC_RELAXED)) {
        run_posted_callbacks(loop);
        dispatched = 1;
    }
    if (dispatched && (loop->listen & CO__LISTEN_TIMING))
        loop->clock_ns = co__clock_ns(); /* the first slice begins after the dispatch */
}

/*
 * One iteration (asyncio's _run_once):
 *   compute the timeout -> poll -> expired timers -> fd events -> posted callbacks
 *   -> run the tasks that were ready when the run phase began.
 * Tasks made ready while it runs wait for the next iteration.
 *
 * The common case of a busy loop - tasks ready, no timer, no fd waited for, no post, the
 * same listeners as in the last iteration - has nothing to poll or dispatch: it counts
 * the iteration, fires the poll probes (coscope sees every iteration) and goes straight
 * to the run phase.
 */
static inline __attribute__((always_inline)) void iteration(struct co_loop *loop)
{
    int64_t timeout_ns = poll_timeout_ns(loop);
    if (loop->iter_start_ns)
        co__iter_end(loop);
    CO_PROBE3(poll_enter, loop, timeout_ns, loop->ready_count);
    loop->state = CORUN_LOOP_POLLING;
    if (__builtin_expect(timeout_ns == 0 && !loop->fd_waiters && !loop->heap_len &&
                             loop->listen == co__listen_now() &&
                             !__atomic_load_n(&loop->post_pending, __ATOMIC_RELAXED),
                         1)) {
        loop->state = CORUN_LOOP_RUNNING;
        CO_PROBE2(poll_exit, loop, 0);
        loop->iterations++;
        if (loop->listen & CO__LISTEN_TIMING)
            co__iter_begin(loop, loop->listen, 0);
    } else {
        poll_and_dispatch(loop, timeout_ns);
    }
    run_ready(loop, loop->ready_count);
}

static void loop_iteration(struct co_loop *loop)
{
    iteration(loop);
}

/* ---- Loop life cycle ---- */

static void loop_destroy(struct co_loop *loop)
{
    pthread_mutex_lock(&loop->post_lock);
    loop->post_closed = true;
    struct co__post *p = loop->post_head;
    loop->post_head = loop->post_tail = NULL;
    pthread_mutex_unlock(&loop->post_lock);
    while (p) {
        struct co__post *next = p->next;
        free(p);
        p = next;
    }
    co__stack_pool_drain(&loop->stacks);
    co__poller_close(&loop->poller);
    if (loop->wake_fd >= 0)
        close(loop->wake_fd);
    pthread_mutex_destroy(&loop->post_lock);
    free(loop->heap);
    free(loop->fds);
    free(loop);
}

static int loop_create(struct co_loop **out)
{
    struct co_loop *loop = calloc(1, sizeof *loop);
    if (!loop)
        return CO_ENOMEM;
    loop->id = atomic_fetch_add(&next_loop_id, 1);
    loop->tid = (int32_t)gettid();
    loop->state = CORUN_LOOP_IDLE;
    loop->wake_fd = -1;
    loop->poller.epfd = -1;
    loop->stacks.limit = STACK_POOL_LIMIT;
    pthread_mutex_init(&loop->post_lock, NULL);
    int r = co__poller_init(&loop->poller);
    if (r == 0) {
        loop->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        r = loop->wake_fd < 0 ? CO_ENOMEM : co__poller_add_persistent(&loop->poller, loop->wake_fd);
    }
    if (r != 0) {
        loop_destroy(loop);
        return r == -EMFILE || r == -ENFILE ? CO_ENOMEM : r;
    }
    *out = loop;
    return 0;
}

/* main has returned: cancel what is left and run until it has finished. */
static void loop_shutdown(struct co_loop *loop)
{
    loop->state = CORUN_LOOP_STOPPING;
    while (loop->alive > 0) {
        for (struct co_task *t = loop->first_task; t; t = t->next_task) {
            if (t->state == CORUN_TASK_DONE || (t->flags & CO__TASK_CANCEL_SEEN))
                continue;
            if (co__debug.enabled)
                co__debug_warn("task %llu \"%s\" still alive when main returned: cancelling",
                               (unsigned long long)t->id, t->name);
            co_cancel(t);
        }
        loop_iteration(loop);
    }
    /* Finished tasks nobody joined die with the loop. */
    while (loop->first_task)
        co__task_free(loop->first_task);
}

int co_run(co_task_fn main_fn, void *arg, intptr_t *result)
{
    if (!main_fn)
        return CO_EINVAL;
    if (co__tls_loop)
        return CO_EBUSY;
    co__debug_init_from_env();
    struct co_loop *loop;
    int r = loop_create(&loop);
    if (r != 0)
        return r;
    co__tls_loop = loop;
    co__guard_thread_init();
    co__registry_add(loop);
    loop->listen = co__listen_now();
    loop->clock_ns = co__clock_ns();
    loop->stats_since_ns = loop->clock_ns;
    CO_PROBE3(loop_start, loop, loop->id, loop->tid);
    CO_PROBE1(stats, loop);

    struct co_task *main_task;
    struct co_spawn_opts opts = {.name = "main"};
    r = co__spawn_at(&main_task, main_fn, arg, &opts,
                     (uint64_t)(uintptr_t)__builtin_return_address(0));
    if (r == 0) {
        while (main_task->state != CORUN_TASK_DONE)
            iteration(loop);
        r = main_task->error;
        if (result)
            *result = main_task->result;
        main_task->flags |= CO__TASK_JOINED;
        co__task_free(main_task);
        loop_shutdown(loop);
    }

    loop->state = CORUN_LOOP_STOPPED;
    CO_PROBE2(loop_stop, loop, loop->id);
    co__registry_remove(loop);
    co__guard_thread_fini();
    co__tls_loop = NULL;
    loop_destroy(loop);
    return r;
}
