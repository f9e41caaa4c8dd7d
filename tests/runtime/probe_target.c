/*
 * A target for the probe tests (test_probes.cpp). It waits until a tracer has attached
 * (the probe's USDT semaphore turns non-zero), runs a workload, prints what it saw, exits.
 *   probe-target leaf    calls a leaf function holding a probe and checks its results
 *   probe-target slices  runs a task whose slices last ~1 ms (slice_long, iter_long)
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "corun.h"
#include "probes.h"

#if CORUN_WITH_PROBES
/* The test's own probe: it lives here, not in libcorun. */
__attribute__((section(".probes"))) volatile unsigned short corun_test_leaf_semaphore;
#define LEAF_ATTACHED()  (corun_test_leaf_semaphore != 0)
#define LEAF_PROBE(a, b) STAP_PROBE2(corun_test, leaf, a, b)
#else
#define LEAF_ATTACHED()  1
#define LEAF_PROBE(a, b) ((void)0)
#endif

/*
 * A leaf function (no calls) with locals in memory: with a red zone, the compiler would
 * keep them below the stack pointer, where a uprobe turned into a `call` writes its
 * return address. This file, like libcorun, is built with -mno-red-zone.
 */
__attribute__((noinline)) long leaf_mix(long x)
{
    volatile long a[8];
    for (int i = 0; i < 8; i++)
        a[i] = x * (i + 1) + i;
    LEAF_PROBE(x, a[3]);
    long sum = 0;
    for (int i = 0; i < 8; i++)
        sum += a[i] ^ (long)i;
    return sum;
}

static long leaf_expected(long x)
{
    long sum = 0;
    for (int i = 0; i < 8; i++)
        sum += (x * (i + 1) + i) ^ (long)i;
    return sum;
}

/* The tracer says when it is ready (SIGUSR1, blocked in main): up to a minute. */
static int wait_for_tracer(void)
{
    sigset_t go;
    sigemptyset(&go);
    sigaddset(&go, SIGUSR1);
    struct timespec minute = {.tv_sec = 60};
    if (sigtimedwait(&go, NULL, &minute) != SIGUSR1) {
        printf("never attached\n");
        return -1;
    }
    return 0;
}

static int run_leaf(void)
{
    if (wait_for_tracer())
        return 1;
    if (!LEAF_ATTACHED()) {
        printf("attached, but the semaphore is 0\n");
        return 1;
    }
    long mismatches = 0, calls = 200000;
    for (long i = 0; i < calls; i++)
        if (leaf_mix(i) != leaf_expected(i))
            mismatches++;
    printf("calls=%ld mismatches=%ld\n", calls, mismatches);
    return mismatches ? 1 : 0;
}

static void burn_ns(int64_t ns)
{
    int64_t end = co_now_ns() + ns;
    while (co_now_ns() < end)
        ;
}

static int burner(void *arg, intptr_t *result)
{
    (void)arg;
    (void)result;
    for (int i = 0; i < 20; i++) {
        burn_ns(1000000);
        co_yield ();
    }
    return 0;
}

static int slices_main(void *arg, intptr_t *result)
{
    (void)arg;
    (void)result;
    co_task *t;
    struct co_spawn_opts opts = {.name = "burner"};
    int r = co_spawn(&t, burner, NULL, &opts);
    if (r == 0)
        r = co_join(t, NULL, CO_NO_DEADLINE);
    co_sleep(200000000); /* let the tracer drain its buffers */
    return r;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    sigset_t go;
    sigemptyset(&go);
    sigaddset(&go, SIGUSR1);
    sigprocmask(SIG_BLOCK, &go, NULL);
    if (argc == 2 && strcmp(argv[1], "leaf") == 0)
        return run_leaf();
    if (argc == 2 && strcmp(argv[1], "slices") == 0) {
        if (wait_for_tracer())
            return 1;
        return co_run(slices_main, NULL, NULL) == 0 ? 0 : 1;
    }
    fprintf(stderr, "usage: probe-target leaf|slices\n");
    return 2;
}
