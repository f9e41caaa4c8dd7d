/*
 * A libcorun target with a known tree of named tasks, for `coscope ps` and `stat`:
 *
 *   main ── joins server
 *   ├── server ── gathers conn-a, conn-b
 *   │   ├── conn-a      sleeps (an hour)
 *   │   └── conn-b      sleeps (an hour)
 *   ├── ticker          sleeps 2 ms, forever (keeps the loop iterating)
 *   └── reader          waits on fd 0 (stdin) for commands
 *
 * With the argument `two-loops`, a second thread first runs a loop of its own whose main
 * task joins one task, "side", sleeping an hour.
 *
 * Prints "ready" once every task is parked. Commands on stdin, one per line:
 *   burn MS   spawn a task "burner" that spins MS ms on the CPU in one slice,
 *             then prints "done MS"
 *   burn2 A B spawn "burner-a" (A ms) and "burner-b" (B ms) together: one loop
 *             iteration runs both slices back to back; each prints "done MS"
 *   offload N MS spawn a task "offloader" that runs N executor calls (co_to_thread) one
 *             after the other, each sleeping MS ms on a worker thread; prints "offloaded N"
 *   burnn N MS spawn N tasks "burner-1".."burner-N" together, each spinning MS ms in one
 *             slice: one iteration of N slices; each prints "done MS"
 * EOF on stdin ends the process.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "corun.h"

#define HOUR_NS (3600 * (int64_t)1000000000)

static pthread_mutex_t side_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t side_ready = PTHREAD_COND_INITIALIZER;

static int sleeper(void *arg, intptr_t *result)
{
    (void)result;
    (void)arg;
    co_sleep(HOUR_NS);
    return 0;
}

static int server(void *arg, intptr_t *result)
{
    (void)result;
    (void)arg;
    co_task *conns[2];
    struct co_spawn_opts a = {.name = "conn-a"}, b = {.name = "conn-b"};
    if (co_spawn(&conns[0], sleeper, NULL, &a) || co_spawn(&conns[1], sleeper, NULL, &b))
        return -1;
    return co_gather(conns, 2, NULL, CO_NO_DEADLINE);
}

static int ticker(void *arg, intptr_t *result)
{
    (void)result;
    (void)arg;
    for (;;)
        if (co_sleep(2 * 1000000) != 0)
            return 0;
}

static double mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Spins on the CPU without suspending: one long slice of the task "burner". */
static int burner(void *arg, intptr_t *result)
{
    (void)result;
    long ms = (long)(intptr_t)arg;
    double end = mono_ms() + (double)ms;
    volatile uint64_t x = 0;
    while (mono_ms() < end)
        x++;
    printf("done %ld\n", ms);
    fflush(stdout);
    return 0;
}

static intptr_t sleep_on_worker(void *arg)
{
    long ms = (long)(intptr_t)arg;
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
    return 0;
}

/* N executor calls in a row: (n << 16) | ms in arg. */
static int offloader(void *arg, intptr_t *result)
{
    (void)result;
    long n = (long)((intptr_t)arg >> 16), ms = (long)((intptr_t)arg & 0xffff);
    for (long i = 0; i < n; i++)
        co_to_thread(sleep_on_worker, (void *)(intptr_t)ms, NULL);
    printf("offloaded %ld\n", n);
    fflush(stdout);
    return 0;
}

static int reader(void *arg, intptr_t *result)
{
    (void)result;
    (void)arg;
    char buf[256];
    size_t used = 0;
    for (;;) {
        if (co_wait_fd(0, CO_READABLE, CO_NO_DEADLINE) < 0)
            return 0;
        ssize_t n = read(0, buf + used, sizeof buf - 1 - used);
        if (n <= 0) {
            /* Leave at once, from inside a task, with every task still alive: _exit, not
             * exit, so LeakSanitizer (in the ASan build) does not report the live tasks'
             * statistics blocks as leaks. */
            fflush(stdout);
            _exit(0);
        }
        used += (size_t)n;
        buf[used] = 0;
        char *nl;
        while ((nl = strchr(buf, '\n'))) {
            *nl = 0;
            long ms, ms2, count;
            if (sscanf(buf, "offload %ld %ld", &count, &ms) == 2) {
                struct co_spawn_opts o = {.name = "offloader", .flags = CO_SPAWN_DETACHED};
                co_spawn(NULL, offloader, (void *)(intptr_t)((count << 16) | (ms & 0xffff)), &o);
            } else if (sscanf(buf, "burnn %ld %ld", &count, &ms) == 2) {
                static char names[64][16];
                for (long i = 0; i < count && i < 64; i++) {
                    snprintf(names[i], sizeof names[i], "burner-%ld", i + 1);
                    struct co_spawn_opts o = {.name = names[i], .flags = CO_SPAWN_DETACHED};
                    co_spawn(NULL, burner, (void *)(intptr_t)ms, &o);
                }
            } else if (sscanf(buf, "burn2 %ld %ld", &ms, &ms2) == 2) {
                /* Both ready at once: they run back to back in one loop iteration. */
                struct co_spawn_opts a = {.name = "burner-a", .flags = CO_SPAWN_DETACHED};
                struct co_spawn_opts b = {.name = "burner-b", .flags = CO_SPAWN_DETACHED};
                co_spawn(NULL, burner, (void *)(intptr_t)ms, &a);
                co_spawn(NULL, burner, (void *)(intptr_t)ms2, &b);
            } else if (sscanf(buf, "burn %ld", &ms) == 1) {
                struct co_spawn_opts o = {.name = "burner", .flags = CO_SPAWN_DETACHED};
                co_spawn(NULL, burner, (void *)(intptr_t)ms, &o);
            }
            used -= (size_t)(nl + 1 - buf);
            memmove(buf, nl + 1, used + 1);
        }
    }
}

static int main_task(void *arg, intptr_t *result)
{
    (void)result;
    (void)arg;
    co_task *srv, *tick, *rd;
    struct co_spawn_opts s = {.name = "server"}, t = {.name = "ticker"}, r = {.name = "reader"};
    if (co_spawn(&srv, server, NULL, &s) || co_spawn(&tick, ticker, NULL, &t) ||
        co_spawn(&rd, reader, NULL, &r))
        return -1;
    co_sleep(20 * 1000000); /* every task reaches its wait */
    printf("ready\n");
    fflush(stdout);
    return co_join(srv, NULL, CO_NO_DEADLINE);
}

/* `two-loops`: a second thread runs its own loop with one task, "side", sleeping. */
static int side_main(void *arg, intptr_t *result)
{
    (void)result;
    co_task *side;
    struct co_spawn_opts o = {.name = "side"};
    if (co_spawn(&side, sleeper, NULL, &o))
        return -1;
    co_sleep(10 * 1000000);
    pthread_mutex_lock(&side_lock);
    *(int *)arg = 1;
    pthread_cond_signal(&side_ready);
    pthread_mutex_unlock(&side_lock);
    return co_join(side, NULL, CO_NO_DEADLINE);
}

static void *side_thread(void *arg)
{
    co_run(side_main, arg, NULL);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "two-loops")) {
        static int started;
        pthread_t th;
        if (pthread_create(&th, NULL, side_thread, &started))
            return 1;
        pthread_mutex_lock(&side_lock);
        while (!started)
            pthread_cond_wait(&side_ready, &side_lock);
        pthread_mutex_unlock(&side_lock);
    }
    return co_run(main_task, NULL, NULL) == 0 ? 0 : 1;
}
