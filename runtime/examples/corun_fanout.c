/* corun-fanout: N concurrent echo requests, at most LIMIT at a time, each with a timeout.
 *
 *   corun-fanout [--port PORT] [--connections N] [--limit L] [--timeout DURATION]
 *                [--message TEXT]
 *
 * Connects N times to an echo server on 127.0.0.1:PORT (default 7000), sends TEXT and
 * checks that it comes back. A semaphore keeps at most L (default 10) connections open at
 * once; each request must finish within DURATION (default 1s). Prints one summary line:
 *   fanout ok=N failed=F timed_out=T
 * and exits 0 if every request succeeded, 1 otherwise (2 for a bad command line). */
#include <stdio.h>
#include <string.h>

#include "corun.h"
#include "example_args.h"

struct fanout {
    int port;
    long long connections;
    long long limit;
    int64_t timeout_ns;
    const char *message;
    struct co_sem slots; /* open connections allowed */
    int ok, failed, timed_out;
};

/* One request: take a slot, connect, send, read back, compare. */
static int request_main(void *arg, intptr_t *result)
{
    (void)result;
    struct fanout *f = arg;
    int64_t deadline = co_deadline_in(f->timeout_ns);
    int rc = co_sem_acquire(&f->slots, deadline);
    if (rc == 0) {
        int fd = co_tcp_connect("127.0.0.1", (uint16_t)f->port, deadline);
        rc = fd;
        if (fd >= 0) {
            size_t len = strlen(f->message);
            char back[1024];
            rc = (int)co_write_all(fd, f->message, len, deadline);
            if (rc >= 0)
                rc = (int)co_readn(fd, back, len, deadline);
            if (rc >= 0)
                rc = memcmp(back, f->message, len) == 0 ? 0 : -EBADMSG;
            co_close(fd);
        }
        co_sem_release(&f->slots);
    }
    if (rc == 0)
        f->ok++;
    else if (rc == CO_ETIMEDOUT)
        f->timed_out++;
    else
        f->failed++;
    return 0; /* counted: a failed request is not a failed task */
}

static int main_task(void *arg, intptr_t *result)
{
    (void)result;
    struct fanout *f = arg;
    co_sem_init(&f->slots, (unsigned)f->limit);
    co_group *g;
    int rc = co_group_create(&g);
    if (rc)
        return rc;
    struct co_spawn_opts opts = {.name = "request"};
    for (long long i = 0; i < f->connections && rc == 0; i++)
        rc = co_group_spawn(g, request_main, f, &opts);
    int wrc = co_group_wait(g, CO_NO_DEADLINE);
    co_group_destroy(g);
    printf("fanout ok=%d failed=%d timed_out=%d\n", f->ok, f->failed, f->timed_out);
    return rc ? rc : wrc;
}

int main(int argc, char **argv)
{
    static struct fanout f = {.port = 7000,
                              .connections = 100,
                              .limit = 10,
                              .timeout_ns = 1000000000,
                              .message = "hello from corun-fanout"};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0) {
            printf("usage: corun-fanout [--port PORT] [--connections N] [--limit L]\n"
                   "                    [--timeout DURATION] [--message TEXT]\n");
            return 0;
        }
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int bad = !v;
        if (v && strcmp(a, "--port") == 0)
            bad = (f.port = example_parse_port(v)) < 0;
        else if (v && strcmp(a, "--connections") == 0)
            bad = (f.connections = example_parse_count(v)) < 0;
        else if (v && strcmp(a, "--limit") == 0)
            bad = (f.limit = example_parse_count(v)) < 1 || f.limit > 100000;
        else if (v && strcmp(a, "--timeout") == 0)
            bad = (f.timeout_ns = example_parse_duration_ns(v)) < 0;
        else if (v && strcmp(a, "--message") == 0)
            bad = !*(f.message = v) || strlen(v) > 1024;
        else {
            fprintf(stderr, "corun-fanout: unknown argument '%s' (try --help)\n", a);
            return 2;
        }
        if (bad) {
            fprintf(stderr, "corun-fanout: bad value for %s\n", a);
            return 2;
        }
        i++;
    }
    int rc = co_run(main_task, &f, NULL);
    if (rc < 0)
        fprintf(stderr, "corun-fanout: %s\n", co_strerror(rc));
    return rc == 0 && f.ok == f.connections ? 0 : 1;
}
