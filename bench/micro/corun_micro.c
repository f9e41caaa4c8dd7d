/*
 * libcorun micro-benchmarks. Prints one JSON object per line (bench/run.py's contract):
 *   switch_bare_rt   a bare assembly switch round trip (two co__ctx_switch calls)
 *   yield_rt         co_yield -> resumed: one task, one full loop iteration per yield
 *   yield_rt_100     the same with 100 tasks yielding in turn: per yield, the iteration's
 *                    own cost shared by 100
 *   spawn_join       co_spawn + run + co_join of an empty task, pooled stacks
 *   idle_task_bytes  resident memory per parked task (RSS delta / tasks)
 * Each figure is the median of REPS repetitions. CS_BENCH_QUICK=1 runs fewer iterations.
 */
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
    int64_t t0 = co_now_ns();
    for (long i = 0; i < iterations; i++)
        co__ctx_switch(&bare_main, &bare_other);
    double ns = (double)(co_now_ns() - t0) / (double)iterations;
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
    int64_t t0 = co_now_ns();
    for (long i = 0; i < iterations; i++)
        co_yield ();
    yield_ns = (double)(co_now_ns() - t0) / (double)iterations;
    return 0;
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
    int64_t t0 = co_now_ns();
    for (int i = 0; i < N; i++)
        if (co_spawn(&t[i], yielder, (void *)(intptr_t)per_task, NULL) != 0)
            return 1;
    int r = co_gather(t, N, NULL, CO_NO_DEADLINE);
    yield_ns = (double)(co_now_ns() - t0) / (double)(per_task * N);
    return r;
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
            spawn_ns = (double)co_now_ns();
        co_task *t;
        if (co_spawn(&t, empty_task, NULL, NULL) != 0 || co_join(t, NULL, CO_NO_DEADLINE) != 0)
            return 1;
    }
    spawn_ns = ((double)co_now_ns() - spawn_ns) / (double)n;
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

/* Usage: corun_micro [only]   (only = bare, yield, yield100, spawn or idle) */
int main(int argc, char **argv)
{
    const char *quick = getenv("CS_BENCH_QUICK");
    const char *only = argc > 1 ? argv[1] : "";
    if (quick && strcmp(quick, "1") == 0)
        iterations = 200000;
#define WANT(name) (!*only || strcmp(only, name) == 0)
    double bare[REPS], yield[REPS], yield100[REPS], spawn[REPS], idle[REPS];
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
    return 0;
}
