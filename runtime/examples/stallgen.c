/* stallgen: a libcorun program that stalls its own loop on purpose — coscope's test target.
 *
 *   stallgen [--port PORT] [--every DURATION] [--stalls LIST] [--count N] [--help]
 *
 * It serves TCP echo on 127.0.0.1:PORT (default 7100), keeps a `ticker` task waking every
 * 10 ms, and every DURATION (default 2s) runs the stalls of LIST one after the other
 * (default cpu:120ms,sleep:150ms,read:200ms,fsync), each in a fresh task named
 * stall-<kind>. Before each stall it prints (and flushes) one line:
 *   stall kind=cpu ms=120 task=stall-cpu id=42
 * At the start it also spawns `fail-unjoined`, a task that fails at once (it connects to
 * a port nobody listens on: ECONNREFUSED) and that nobody ever joins: the mistake
 * asyncio reports as "Task exception was never retrieved", and coscope top as J; and,
 * for contrast, `ok-unjoined`, which ends well and is not joined either (no warning).
 * Each stall blocks the loop thread in a function of its own, so that a profiler can name
 * it: stall_cpu_burn, stall_blocking_sleep, stall_blocking_read, stall_blocking_fsync. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "corun.h"
#include "example_args.h"

enum stall_kind { STALL_CPU, STALL_SLEEP, STALL_READ, STALL_FSYNC };
static const char *const kind_names[] = {"cpu", "sleep", "read", "fsync"};

struct stall {
    enum stall_kind kind;
    int64_t ns; /* 0 for fsync without a length: one write + fsync */
};

enum { MAX_STALLS = 64, TICK_NS = 10 * 1000 * 1000, GAP_NS = 20 * 1000 * 1000 };

struct config {
    int port;
    int64_t every_ns;
    long long count; /* rounds; -1 = forever */
    struct stall stalls[MAX_STALLS];
    int nstalls;
};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- the stalls: each blocks the calling (loop) thread ------------------------------ */

__attribute__((noinline)) void stall_cpu_burn(int64_t ns)
{
    int64_t end = now_ns() + ns;
    volatile uint64_t x = 1;
    while (now_ns() < end)
        for (int i = 0; i < 1000; i++)
            x = x * 6364136223846793005u + 1442695040888963407u;
}

__attribute__((noinline)) void stall_blocking_sleep(int64_t ns)
{
    struct timespec ts = {.tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

struct pipe_filler {
    int fd;
    int64_t ns;
};

static void *fill_pipe_later(void *arg)
{
    struct pipe_filler *f = arg;
    stall_blocking_sleep(f->ns);
    char b = 'x';
    if (write(f->fd, &b, 1) < 0)
        perror("stallgen: write");
    return NULL;
}

/* Blocks in read() on a pipe that a helper thread fills after ns. */
__attribute__((noinline)) void stall_blocking_read(int64_t ns)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0) {
        perror("stallgen: pipe");
        return;
    }
    struct pipe_filler f = {.fd = fds[1], .ns = ns};
    pthread_t th;
    if (pthread_create(&th, NULL, fill_pipe_later, &f) == 0) {
        char b;
        while (read(fds[0], &b, 1) < 0 && errno == EINTR)
            ;
        pthread_join(th, NULL);
    } else {
        fprintf(stderr, "stallgen: cannot start the pipe thread\n");
    }
    close(fds[0]);
    close(fds[1]);
}

/* Writes and fsyncs a temporary file: once, or again and again until ns have passed. */
__attribute__((noinline)) void stall_blocking_fsync(int64_t ns)
{
    const char *dir = getenv("TMPDIR");
    char path[512];
    snprintf(path, sizeof path, "%s/stallgen-XXXXXX", dir && *dir ? dir : "/var/tmp");
    int fd = mkstemp(path);
    if (fd < 0) {
        snprintf(path, sizeof path, "/tmp/stallgen-XXXXXX");
        fd = mkstemp(path);
    }
    if (fd < 0) {
        perror("stallgen: mkstemp");
        return;
    }
    unlink(path);
    static char block[64 * 1024];
    memset(block, 's', sizeof block);
    int64_t end = now_ns() + ns;
    do {
        for (int i = 0; i < 4; i++)
            if (write(fd, block, sizeof block) < 0)
                perror("stallgen: write");
        if (fsync(fd) < 0)
            perror("stallgen: fsync");
    } while (now_ns() < end);
    close(fd);
}

static int stall_task(void *arg, intptr_t *result)
{
    (void)result;
    const struct stall *s = arg;
    printf("stall kind=%s ms=%lld task=%s id=%llu\n", kind_names[s->kind],
           (long long)(s->ns / 1000000), co_task_name(NULL), (unsigned long long)co_task_id(NULL));
    fflush(stdout);
    switch (s->kind) {
    case STALL_CPU:
        stall_cpu_burn(s->ns);
        break;
    case STALL_SLEEP:
        stall_blocking_sleep(s->ns);
        break;
    case STALL_READ:
        stall_blocking_read(s->ns);
        break;
    case STALL_FSYNC:
        stall_blocking_fsync(s->ns);
        break;
    }
    return 0;
}

/* ---- the well-behaved tasks that keep the loop busy --------------------------------- */

static int ticker_task(void *arg, intptr_t *result)
{
    (void)arg;
    (void)result;
    int64_t next = co_now_ns();
    for (;;) {
        next += TICK_NS;
        int rc = co_sleep_until(next);
        if (rc < 0)
            return rc == CO_ECANCELED ? 0 : rc;
        if (next < co_now_ns())
            next = co_now_ns(); /* after a stall: do not try to catch up */
    }
}

static int echo_conn_task(void *arg, intptr_t *result)
{
    (void)result;
    int fd = (int)(intptr_t)arg;
    char buf[4096];
    for (;;) {
        ssize_t n = co_read(fd, buf, sizeof buf, CO_NO_DEADLINE);
        if (n <= 0 || co_write_all(fd, buf, (size_t)n, CO_NO_DEADLINE) < 0)
            break;
    }
    co_close(fd);
    return 0;
}

static int accept_task(void *arg, intptr_t *result)
{
    (void)result;
    int lfd = (int)(intptr_t)arg;
    struct co_spawn_opts opts = {.name = "conn", .flags = CO_SPAWN_DETACHED};
    for (;;) {
        int fd = co_accept(lfd, NULL, NULL, CO_NO_DEADLINE);
        if (fd == CO_ECANCELED)
            return 0;
        if (fd < 0) {
            fprintf(stderr, "stallgen: accept: %s\n", co_strerror(fd));
            if (co_sleep(TICK_NS) == CO_ECANCELED)
                return 0;
            continue;
        }
        if (co_spawn(NULL, echo_conn_task, (void *)(intptr_t)fd, &opts) < 0)
            co_close(fd);
    }
}

/* Connects to a port that is bound but not listening (so refused, deterministically) and
 * returns the error. Its spawner never joins it. */
static int fail_unjoined_task(void *arg, intptr_t *result)
{
    (void)arg;
    (void)result;
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (s < 0 || bind(s, (struct sockaddr *)&a, len) < 0 ||
        getsockname(s, (struct sockaddr *)&a, &len) < 0) {
        if (s >= 0)
            close(s);
        return -errno;
    }
    int fd = co_tcp_connect("127.0.0.1", ntohs(a.sin_port), co_now_ns() + 1000000000);
    close(s);
    if (fd >= 0) {
        co_close(fd);
        return CO_EINVAL; /* somebody listened after all: still a failure */
    }
    return fd;
}

static int ok_unjoined_task(void *arg, intptr_t *result)
{
    (void)arg;
    *result = 42;
    return 0;
}

/* Runs one stall in its own task and waits for it. */
static int run_stall(struct stall *s)
{
    char name[CO_TASK_NAME_MAX];
    snprintf(name, sizeof name, "stall-%s", kind_names[s->kind]);
    struct co_spawn_opts opts = {.name = name};
    co_task *t;
    int rc = co_spawn(&t, stall_task, s, &opts);
    if (rc < 0)
        return rc;
    rc = co_join(t, NULL, CO_NO_DEADLINE);
    if (rc < 0) { /* cancelled (a signal) while the stall ran: let it finish */
        co_cancel(t);
        co_join(t, NULL, CO_NO_DEADLINE);
    }
    return rc;
}

static int main_task(void *arg, intptr_t *result)
{
    (void)result;
    struct config *cfg = arg;
    int lfd = co_tcp_listen("127.0.0.1", (uint16_t)cfg->port, 128);
    if (lfd < 0) {
        fprintf(stderr, "stallgen: cannot listen on 127.0.0.1:%d: %s\n", cfg->port,
                co_strerror(lfd));
        return lfd;
    }
    co_signal_cancel(co_self());
    co_task *acceptor = NULL, *ticker = NULL, *unjoined[2];
    struct co_spawn_opts aopts = {.name = "accept"}, topts = {.name = "ticker"},
                         fopts = {.name = "fail-unjoined"}, oopts = {.name = "ok-unjoined"};
    int rc = co_spawn(&acceptor, accept_task, (void *)(intptr_t)lfd, &aopts);
    if (rc == 0)
        rc = co_spawn(&ticker, ticker_task, NULL, &topts);
    /* On purpose never joined (the loop frees them when main returns). */
    if (rc == 0)
        rc = co_spawn(&unjoined[0], fail_unjoined_task, NULL, &fopts);
    if (rc == 0)
        rc = co_spawn(&unjoined[1], ok_unjoined_task, NULL, &oopts);
    for (long long round = 0; rc == 0 && (cfg->count < 0 || round < cfg->count); round++) {
        rc = co_sleep(cfg->every_ns);
        for (int i = 0; rc == 0 && i < cfg->nstalls; i++) {
            if (i > 0)
                rc = co_sleep(GAP_NS); /* let the ticker run between two stalls */
            if (rc == 0)
                rc = run_stall(&cfg->stalls[i]);
        }
    }
    co_task *helpers[] = {acceptor, ticker};
    for (int i = 0; i < 2; i++) {
        if (!helpers[i])
            continue;
        co_cancel(helpers[i]);
        co_join(helpers[i], NULL, CO_NO_DEADLINE);
    }
    co_close(lfd);
    co_signal_restore();
    return rc == CO_ECANCELED ? 0 : rc; /* SIGINT/SIGTERM is a clean exit */
}

/* ---- command line ------------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f, "usage: stallgen [--port PORT] [--every DURATION] [--stalls LIST] [--count N]\n"
               "  Serves echo on 127.0.0.1:PORT (default 7100) and every DURATION (default 2s)\n"
               "  runs the stalls of LIST one after the other, each in a task stall-<kind>:\n"
               "    cpu:D    burn the CPU for D            sleep:D  nanosleep for D\n"
               "    read:D   block in read() for D         fsync[:D] write+fsync a file (for D)\n"
               "  default LIST: cpu:120ms,sleep:150ms,read:200ms,fsync\n"
               "  Durations take a unit: ns, us, ms, s (e.g. 150ms, 1.5s).\n"
               "  --count N stops after N rounds (default: run until SIGINT/SIGTERM).\n"
               "  Also spawns fail-unjoined (fails with ECONNREFUSED) and ok-unjoined (returns\n"
               "  0), which nobody ever joins: coscope top marks the first one J.\n");
}

/* Parses "kind[:duration],..." into cfg->stalls; prints the reason and returns -1. */
static int parse_stalls(const char *list, struct config *cfg)
{
    cfg->nstalls = 0;
    char *copy = strdup(list);
    if (!copy)
        return -1;
    int ok = *list != '\0';
    for (char *save = NULL, *item = strtok_r(copy, ",", &save); ok && item;
         item = strtok_r(NULL, ",", &save)) {
        char *colon = strchr(item, ':');
        if (colon)
            *colon = '\0';
        int kind = -1;
        for (int k = 0; k < 4; k++)
            if (strcmp(item, kind_names[k]) == 0)
                kind = k;
        if (kind < 0) {
            fprintf(stderr, "stallgen: unknown stall '%s' (cpu, sleep, read, fsync)\n", item);
            ok = 0;
            break;
        }
        int64_t ns = 0;
        if (colon) {
            ns = example_parse_duration_ns(colon + 1);
            if (ns < 0) {
                fprintf(stderr, "stallgen: bad duration '%s' in --stalls (e.g. 120ms)\n",
                        colon + 1);
                ok = 0;
                break;
            }
        } else if (kind != STALL_FSYNC) {
            fprintf(stderr, "stallgen: stall '%s' needs a duration (e.g. %s:100ms)\n", item, item);
            ok = 0;
            break;
        }
        if (cfg->nstalls == MAX_STALLS) {
            fprintf(stderr, "stallgen: at most %d stalls in --stalls\n", MAX_STALLS);
            ok = 0;
            break;
        }
        cfg->stalls[cfg->nstalls++] = (struct stall){.kind = kind, .ns = ns};
    }
    if (ok && cfg->nstalls == 0) {
        fprintf(stderr, "stallgen: --stalls is empty\n");
        ok = 0;
    }
    free(copy);
    return ok ? 0 : -1;
}

int main(int argc, char **argv)
{
    static struct config cfg = {.port = 7100, .every_ns = 2000000000, .count = -1};
    const char *stalls = "cpu:120ms,sleep:150ms,read:200ms,fsync";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        }
        int takes_value = strcmp(a, "--port") == 0 || strcmp(a, "--every") == 0 ||
                          strcmp(a, "--stalls") == 0 || strcmp(a, "--count") == 0;
        if (!takes_value) {
            fprintf(stderr, "stallgen: unknown argument '%s' (try --help)\n", a);
            return 2;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "stallgen: %s needs a value\n", a);
            return 2;
        }
        const char *v = argv[++i];
        if (strcmp(a, "--port") == 0 && (cfg.port = example_parse_port(v)) < 0) {
            fprintf(stderr, "stallgen: bad port '%s' (1-65535)\n", v);
            return 2;
        }
        if (strcmp(a, "--every") == 0 && (cfg.every_ns = example_parse_duration_ns(v)) < 0) {
            fprintf(stderr, "stallgen: bad duration '%s' (e.g. 2s, 500ms)\n", v);
            return 2;
        }
        if (strcmp(a, "--count") == 0 && (cfg.count = example_parse_count(v)) < 0) {
            fprintf(stderr, "stallgen: bad count '%s' (a number >= 0)\n", v);
            return 2;
        }
        if (strcmp(a, "--stalls") == 0)
            stalls = v;
    }
    if (parse_stalls(stalls, &cfg) < 0)
        return 2;
    int rc = co_run(main_task, &cfg, NULL);
    return rc == 0 ? 0 : 1;
}
