#include "stall_actions.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

volatile unsigned long stall_sink;

static double thread_cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Burns `ms` of this thread's CPU time (not wall time: on a busy machine it takes longer). */
NOINLINE void stall_burn_cpu(int ms)
{
    double end = thread_cpu_ms() + ms;
    /* Reading the CPU clock is a system call (in libc): do it rarely, so that samples
     * land in this function itself. */
    while (thread_cpu_ms() < end)
        for (int i = 0; i < 100000; i++)
            stall_sink += (unsigned long)i * 2654435761u;
}

NOINLINE void stall_blocking_sleep(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

struct delayed_write {
    int fd;
    int ms;
    pid_t reader; /* the loop thread */
};

/* Is thread `tid` of this process blocked in read(2) now? */
static int blocked_in_read(pid_t tid)
{
    char path[64], buf[64] = "";
    snprintf(path, sizeof path, "/proc/self/task/%d/syscall", (int)tid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    int in_read = fgets(buf, sizeof buf, f) && !strncmp(buf, "0 ", 2);
    fclose(f);
    return in_read;
}

/*
 * Writes once the loop thread has blocked in read and `ms` more have passed, so the
 * read blocks for at least `ms` even when the machine is too busy to run it at once.
 */
static void *write_later(void *arg)
{
    struct delayed_write *dw = arg;
    for (int i = 0; i < 10000 && !blocked_in_read(dw->reader); i++)
        usleep(200);
    struct timespec ts = {dw->ms / 1000, (long)(dw->ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    char c = 'x';
    if (write(dw->fd, &c, 1) != 1)
        perror("write");
    return NULL;
}

NOINLINE void stall_blocking_read(int ms)
{
    int p[2];
    if (pipe(p) != 0)
        return;
    struct delayed_write dw = {p[1], ms, gettid()};
    pthread_t th;
    pthread_create(&th, NULL, write_later, &dw);
    char c;
    if (read(p[0], &c, 1) != 1)
        perror("read");
    pthread_join(th, NULL);
    close(p[0]);
    close(p[1]);
}

NOINLINE void stall_blocking_fsync(void)
{
    char path[] = "/var/tmp/cs-stall-fsync-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return;
    unlink(path);
    static char block[1 << 20];
    memset(block, 'f', sizeof block);
    for (int i = 0; i < 8; i++)
        if (write(fd, block, sizeof block) < 0)
            break;
    fsync(fd);
    close(fd);
}

void stall_tick_work(void)
{
    for (int i = 0; i < 2000; i++)
        stall_sink += (unsigned long)i;
}

/* Timer callbacks the loop ran: each is (at least) one iteration of the loop, so
 * tests can hold coscope's iteration count against it. */
static unsigned long loop_ticks;

void stall_loop_tick(void)
{
    loop_ticks++;
    stall_tick_work();
}

int stall_run_command(const char *line)
{
    int ms = 0;
    if (!strncmp(line, "ticks", 5)) {
        printf("ticks %lu\n", loop_ticks);
        fflush(stdout);
        return 0;
    }
    double t0 = now_ms();
    if (sscanf(line, "burn %d", &ms) == 1)
        stall_burn_cpu(ms);
    else if (sscanf(line, "sleep %d", &ms) == 1)
        stall_blocking_sleep(ms);
    else if (sscanf(line, "read %d", &ms) == 1)
        stall_blocking_read(ms);
    else if (!strncmp(line, "fsync", 5))
        stall_blocking_fsync();
    else if (!strncmp(line, "quit", 4))
        return 1;
    else
        return 0;
    /* The test compares coscope's figures with what the target itself measured. */
    printf("done %.3f ms: %s\n", now_ms() - t0, line);
    fflush(stdout);
    return 0;
}
