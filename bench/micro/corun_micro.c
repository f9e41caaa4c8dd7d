/*
 * libcorun micro-benchmarks. Prints one JSON object per line (bench/run.py's contract):
 *   switch_bare_rt   a bare assembly switch round trip (two co__ctx_switch calls)
 *   yield_rt         co_yield -> resumed: one task, one full loop iteration per yield
 *   yield_rt_100     the same with 100 tasks yielding in turn: per yield, the iteration's
 *                    own cost shared by 100
 *   yield_rt_stats   yield_rt while the runtime keeps statistics (as when coscope stat or
 *                    bpftrace attaches to corun:stats: the bench sets the semaphore itself)
 *   yield_rt_scoped  yield_rt inside an open co_timeout scope (each yield then reads the
 *                    clock, so a loop of yields still times out)
 *   spawn_join       co_spawn + run + co_join of an empty task, pooled stacks
 *   idle_task_bytes  resident memory per parked task (RSS delta / tasks)
 * Each figure is the median of REPS repetitions. CS_BENCH_QUICK=1 runs fewer iterations.
 * The switch, yield and spawn figures are the thread's CPU time per operation
 * (CLOCK_THREAD_CPUTIME_ID): on a busy machine, time spent preempted is not counted; on a
 * quiet one it equals the wall-clock time.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define REPS 7

static long iterations = 2000000;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[n / 2];
}

static void report(const char *name, double value, const char *unit, long iters)
{
    printf("{\"name\": \"%s\", \"value\": %.2f, \"unit\": \"%s\", \"iterations\": %ld, "
           "\"reps\": %d}\n",
           name, value, unit, iters, REPS);
}

/* CPU time of this thread (see the top). */
static int64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- bare switch ---- */

static struct co__ctx bare_main, bare_other;

static void bare_entry(void *arg)
{
    (void)arg;
    for (;;)
        co__ctx_switch(&bare_other, &bare_main);
}

static double bench_bare_switch(void)
{
    size_t bytes = 64 * 1024;
    char *stack = malloc(bytes);
    co__ctx_make(&bare_other, stack, bytes, bare_entry, NULL);
    co__ctx_switch(&bare_main, &bare_other); /* warm up, enter the loop */
    int64_t t0 = cpu_ns();
    for (long i = 0; i < iterations; i++)
        co__ctx_switch(&bare_main, &bare_other);
    double ns = (double)(cpu_ns() - t0) / (double)iterations;
    free(stack);
    return ns;
}

/* ---- yield round trip ---- */

static double yield_ns;

static int yield_main(void *arg, intptr_t *result)
{
    (void)arg;
    (void)result;
    for (int i = 0; i < 1000; i++)
        co_yield ();
    int64_t t0 = cpu_ns();
    for (long i = 0; i < iterations; i++)
        co_yield ();
    yield_ns = (double)(cpu_ns() - t0) / (double)iterations;
    return 0;
}

static int yield_scoped_main(void *arg, intptr_t *result)
{
    struct co_timeout scope;
    co_timeout_begin(&scope, co_deadline_in((int64_t)3600 * 1000000000));
    int r = yield_main(arg, result);
    co_timeout_end(&scope);
    return r;
}

static int yielder(void *arg, intptr_t *result)
{
    long n = (long)(intptr_t)arg;
    (void)result;
    for (long i = 0; i < n; i++)
        co_yield ();
    return 0;
}

static int yield100_main(void *arg, intptr_t *result)
{
    (void)arg;
    (void)result;
    enum { N = 100 };
    co_task *t[N];
    long per_task = iterations / N;
    int64_t t0 = cpu_ns();
    for (int i = 0; i < N; i++)
        if (co_spawn(&t[i], yielder, (void *)(intptr_t)per_task, NULL) != 0)
            return 1;
    int r = co_gather(t, N, NULL, CO_NO_DEADLINE);
    yield_ns = (double)(cpu_ns() - t0) / (double)(per_task * N);
    return r;
}

/* With the stats semaphore set, as a tracer attached to corun:stats would. */
static double yield_stats_run(void)
{
#if CORUN_WITH_PROBES
    corun_stats_semaphore++;
    co_run(yield_main, NULL, NULL);
    corun_stats_semaphore--;
    return yield_ns;
#else
    return 0; /* no probes, no stats */
#endif
}

/* ---- spawn + run + join ---- */

static double spawn_ns;

static int empty_task(void *arg, intptr_t *result)
{
    (void)arg;
    (void)result;
    return 0;
}

static int spawn_main(void *arg, intptr_t *result)
{
    (void)arg;
    (void)result;
    long n = iterations / 4;
    for (long i = 0; i < n + 1000; i++) {
        if (i == 1000)
            spawn_ns = (double)cpu_ns();
        co_task *t;
        if (co_spawn(&t, empty_task, NULL, NULL) != 0 || co_join(t, NULL, CO_NO_DEADLINE) != 0)
            return 1;
    }
    spawn_ns = ((double)cpu_ns() - spawn_ns) / (double)n;
    return 0;
}

/* ---- memory per idle task ---- */

static double idle_bytes;

static long rss_bytes(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return 0;
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
        resident = 0;
    fclose(f);
    return resident * (long)co__page_size();
}

static int sleeper(void *arg, intptr_t *result)
{
    (void)arg;
    (void)result;
    return co_sleep_until(CO_NO_DEADLINE);
}

static int idle_main(void *arg, intptr_t *result)
{
    (void)arg;
    (void)result;
    enum { N = 10000 };
    static co_task *tasks[N];
    long before = rss_bytes();
    for (int i = 0; i < N; i++)
        if (co_spawn(&tasks[i], sleeper, NULL, NULL) != 0)
            return 1;
    co_yield (); /* every task runs and parks */
    co_yield ();
    idle_bytes = (double)(rss_bytes() - before) / N;
    for (int i = 0; i < N; i++)
        co_cancel(tasks[i]);
    return co_gather(tasks, N, NULL, CO_NO_DEADLINE) == CO_ECANCELED ? 0 : 1;
}

/* Queue ping-pong, lock hand-off, timer churn: defined after main(). */
static int run_sync_benchmarks(const char *only);

/* Usage: corun_micro [only]   (only = bare, yield, yield100, yield_stats, yield_scoped, spawn,
 * idle, queue, lock, timer_fire or timer_cancel) */
int main(int argc, char **argv)
{
    const char *quick = getenv("CS_BENCH_QUICK");
    const char *only = argc > 1 ? argv[1] : "";
    if (quick && strcmp(quick, "1") == 0)
        iterations = 200000;
#define WANT(name) (!*only || strcmp(only, name) == 0)
    double bare[REPS], yield[REPS], yield100[REPS], yield_stats[REPS], yield_scoped[REPS],
        spawn[REPS], idle[REPS];
    for (int r = 0; r < REPS; r++) {
        /* Side by side: each repetition measures all of them. */
        if (WANT("bare"))
            bare[r] = bench_bare_switch();
        if (WANT("yield")) {
            co_run(yield_main, NULL, NULL);
            yield[r] = yield_ns;
        }
        if (WANT("yield100")) {
            co_run(yield100_main, NULL, NULL);
            yield100[r] = yield_ns;
        }
        if (WANT("yield_stats"))
            yield_stats[r] = yield_stats_run();
        if (WANT("yield_scoped")) {
            co_run(yield_scoped_main, NULL, NULL);
            yield_scoped[r] = yield_ns;
        }
        if (WANT("spawn")) {
            co_run(spawn_main, NULL, NULL);
            spawn[r] = spawn_ns;
        }
        if (WANT("idle")) {
            co_run(idle_main, NULL, NULL);
            idle[r] = idle_bytes;
        }
    }
    if (WANT("bare"))
        report("switch_bare_rt", median(bare, REPS), "ns", iterations);
    if (WANT("yield"))
        report("yield_rt", median(yield, REPS), "ns", iterations);
    if (WANT("yield100"))
        report("yield_rt_100", median(yield100, REPS), "ns", iterations);
    if (WANT("yield_stats"))
        report("yield_rt_stats", median(yield_stats, REPS), "ns", iterations);
    if (WANT("yield_scoped"))
        report("yield_rt_scoped", median(yield_scoped, REPS), "ns", iterations);
    if (!*only) {
        /* Ratios of medians measured in the same run. */
        printf("{\"name\": \"yield_over_bare\", \"value\": %.2f, \"unit\": \"ratio\"}\n",
               median(yield, REPS) / median(bare, REPS));
        printf("{\"name\": \"yield100_over_bare\", \"value\": %.2f, \"unit\": \"ratio\"}\n",
               median(yield100, REPS) / median(bare, REPS));
    }
    if (WANT("spawn"))
        report("spawn_join", median(spawn, REPS), "ns", iterations / 4);
    if (WANT("idle"))
        report("idle_task_bytes", median(idle, REPS), "bytes", 10000);
    return run_sync_benchmarks(only);
}

/*
 * ---- queue ping-pong, lock hand-off, timer churn ----
 *   queue_pingpong_rt  two tasks, two co_queues of capacity 1: put, then get the reply;
 *                      per round trip (two hand-offs, each a wake-up and a switch)
 *   lock_handoff       two tasks passing one co_lock back and forth (release hands the
 *                      lock to the waiter, the releaser then waits for it); per hand-off
 *   timer_fire         1M timers armed and fired: 1000 tasks sleeping in turn, each
 *                      sleep already due, so it fires on the next iteration; per timer
 *   timer_cancel       1M timers armed and cancelled: 1000 tasks waiting on an event
 *                      with a far deadline, woken by the event before it; per timer
 * Timers per run: TIMER_TASKS x rounds, 1M (100k with CS_BENCH_QUICK=1).
 */

enum { TIMER_TASKS = 1000 };

static long sync_iterations(void)
{
    return iterations / 2; /* 1M round trips / hand-offs; 100k when quick */
}

static struct co_queue ping_q, pong_q;
static double pingpong_ns;

static int pong_task(void *arg, intptr_t *result)
{
    long n = (long)(intptr_t)arg;
    (void)result;
    for (long i = 0; i < n; i++) {
        long v;
        if (co_queue_get(&ping_q, &v, CO_NO_DEADLINE) || co_queue_put(&pong_q, &v, CO_NO_DEADLINE))
            return 1;
    }
    return 0;
}

static int pingpong_main(void *arg, intptr_t *result)
{
    (void)arg;
    (void)result;
    long n = sync_iterations();
    co_task *pong;
    if (co_queue_init(&ping_q, sizeof(long), 1) || co_queue_init(&pong_q, sizeof(long), 1) ||
        co_spawn(&pong, pong_task, (void *)(intptr_t)n, NULL))
        return 1;
    int64_t t0 = co_now_ns();
    for (long i = 0; i < n; i++) {
        long v = i;
        if (co_queue_put(&ping_q, &v, CO_NO_DEADLINE) ||
            co_queue_get(&pong_q, &v, CO_NO_DEADLINE) || v != i)
            return 1;
    }
    pingpong_ns = (double)(co_now_ns() - t0) / (double)n;
    int rc = co_join(pong, NULL, CO_NO_DEADLINE);
    co_queue_destroy(&ping_q);
    co_queue_destroy(&pong_q);
    return rc;
}

static struct co_lock handoff_lock;
static double handoff_ns;

/* Starts by waiting for the lock main() holds; from then on each release hands the lock
 * to the other task and the acquire after it waits for the lock to come back. */
static int handoff_task(void *arg, intptr_t *result)
{
    long n = (long)(intptr_t)arg;
    (void)result;
    if (co_lock_acquire(&handoff_lock, CO_NO_DEADLINE))
        return 1;
    for (long i = 0; i < n; i++)
        if (co_lock_release(&handoff_lock) || co_lock_acquire(&handoff_lock, CO_NO_DEADLINE))
            return 1;
    return co_lock_release(&handoff_lock);
}

static int handoff_main(void *arg, intptr_t *result)
{
    (void)arg;
    (void)result;
    long n = sync_iterations() / 2;
    co_task *other;
    if (co_lock_init(&handoff_lock) || co_lock_acquire(&handoff_lock, CO_NO_DEADLINE) ||
        co_spawn(&other, handoff_task, (void *)(intptr_t)n, NULL))
        return 1;
    co_yield (); /* the other task runs and waits for the lock */
    int64_t t0 = co_now_ns();
    for (long i = 0; i < n; i++)
        if (co_lock_release(&handoff_lock) || co_lock_acquire(&handoff_lock, CO_NO_DEADLINE))
            return 1;
    handoff_ns = (double)(co_now_ns() - t0) / (double)(2 * n);
    if (co_lock_release(&handoff_lock))
        return 1;
    return co_join(other, NULL, CO_NO_DEADLINE);
}

static double timer_ns;

/* Sleeps until deadlines that are already due, spread over the last millisecond so the
 * timer heap orders them for real. */
static int fire_task(void *arg, intptr_t *result)
{
    long rounds = (long)(intptr_t)arg;
    (void)result;
    uint32_t x = (uint32_t)(uintptr_t)co_self() * 2654435761u | 1;
    for (long i = 0; i < rounds; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        if (co_sleep_until(co_now_ns() - (int64_t)(x % 1000000)))
            return 1;
    }
    return 0;
}

static int timer_fire_main(void *arg, intptr_t *result)
{
    (void)arg;
    (void)result;
    static co_task *tasks[TIMER_TASKS];
    long rounds = sync_iterations() / TIMER_TASKS;
    int64_t t0 = co_now_ns();
    for (int i = 0; i < TIMER_TASKS; i++)
        if (co_spawn(&tasks[i], fire_task, (void *)(intptr_t)rounds, NULL))
            return 1;
    int rc = co_gather(tasks, TIMER_TASKS, NULL, CO_NO_DEADLINE);
    timer_ns = (double)(co_now_ns() - t0) / (double)(rounds * TIMER_TASKS);
    return rc;
}

static struct co_event cancel_event;
static long cancel_woken;

/* Waits with a deadline that never comes (1-2 s away, spread so the heap orders them):
 * the event wakes the task first, which takes its timer out of the heap. */
static int cancel_task(void *arg, intptr_t *result)
{
    long rounds = (long)(intptr_t)arg;
    (void)result;
    uint32_t x = (uint32_t)(uintptr_t)co_self() * 2654435761u | 1;
    for (long i = 0; i < rounds; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        int64_t deadline = co_now_ns() + 1000000000 + (int64_t)(x % 1000000000);
        if (co_event_wait(&cancel_event, deadline))
            return 1;
        cancel_woken++;
    }
    return 0;
}

static int timer_cancel_main(void *arg, intptr_t *result)
{
    (void)arg;
    (void)result;
    static co_task *tasks[TIMER_TASKS];
    long rounds = sync_iterations() / TIMER_TASKS;
    cancel_woken = 0;
    if (co_event_init(&cancel_event))
        return 1;
    int64_t t0 = co_now_ns();
    for (int i = 0; i < TIMER_TASKS; i++)
        if (co_spawn(&tasks[i], cancel_task, (void *)(intptr_t)rounds, NULL))
            return 1;
    for (long r = 0; r < rounds; r++) {
        co_yield (); /* every task runs and waits (again) */
        /* Wake them all, and clear it so the next wait arms a timer again. */
        if (co_event_set(&cancel_event) || co_event_clear(&cancel_event))
            return 1;
        while (cancel_woken < (r + 1) * TIMER_TASKS)
            co_yield ();
    }
    int rc = co_gather(tasks, TIMER_TASKS, NULL, CO_NO_DEADLINE);
    timer_ns = (double)(co_now_ns() - t0) / (double)(rounds * TIMER_TASKS);
    return rc;
}

static int run_sync_benchmarks(const char *only)
{
    static const struct {
        const char *only, *name;
        co_task_fn fn;
        double *result;
    } benches[] = {
        {"queue", "queue_pingpong_rt", pingpong_main, &pingpong_ns},
        {"lock", "lock_handoff", handoff_main, &handoff_ns},
        {"timer_fire", "timer_fire", timer_fire_main, &timer_ns},
        {"timer_cancel", "timer_cancel", timer_cancel_main, &timer_ns},
    };
    enum { N = sizeof benches / sizeof benches[0] };
    double samples[N][REPS];
    bool wanted[N];
    for (int b = 0; b < N; b++)
        wanted[b] = !*only || strcmp(only, benches[b].only) == 0;
    for (int r = 0; r < REPS; r++) {
        for (int b = 0; b < N; b++) {
            if (!wanted[b])
                continue;
            int rc = co_run(benches[b].fn, NULL, NULL);
            if (rc != 0) {
                fprintf(stderr, "corun_micro: %s failed: %s\n", benches[b].name, co_strerror(rc));
                return 1;
            }
            samples[b][r] = *benches[b].result;
        }
    }
    for (int b = 0; b < N; b++)
        if (wanted[b])
            report(benches[b].name, median(samples[b], REPS), "ns", sync_iterations());
    return 0;
}
