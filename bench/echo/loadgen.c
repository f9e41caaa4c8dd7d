/*
 * loadgen: a closed-loop echo load generator.
 *
 * N connections to 127.0.0.1:PORT, each with exactly one request in flight: write a
 * fixed-size message, wait until the same bytes come back, record the round trip,
 * write the next one. After a warm-up, it counts the requests that complete in a fixed
 * window and prints one JSON line: requests/s and a latency histogram (p50/p99/max).
 *
 * With --pid PID it also reads the server's utime+stime from /proc/PID/stat at the
 * start and end of the measured window, so the server CPU time per request covers
 * exactly the requests counted.
 *
 * Bounded run time: connecting has a deadline, and if no connection makes progress for
 * --timeout seconds the run fails with one line on stderr and exit code 1.
 * Exit codes: 0 ok, 1 the run failed (connect, server stopped, bad echo), 2 usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "latency_histogram.h"

enum { EXIT_RUN_FAILED = 1, EXIT_USAGE = 2 };

struct options {
    int port;
    int conns;
    int size_bytes;
    double duration_s;
    double warmup_s;
    double timeout_s;
    int cpu;  /* -1: not pinned */
    long pid; /* 0: no server CPU accounting */
};

struct conn {
    int fd;
    int index;
    size_t wr_off_bytes;
    size_t rd_off_bytes;
    uint64_t sent_at_ns;
    bool want_out; /* EPOLLOUT registered: a write was partial */
};

static const char *prog = "loadgen";

static void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", prog);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(EXIT_RUN_FAILED);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: %s [--port PORT] [--conns N] [--size BYTES] [--duration S] [--warmup S]\n"
            "               [--timeout S] [--cpu N] [--pid SERVER_PID]\n"
            "Closed-loop echo load against 127.0.0.1:PORT (default 7000): N connections\n"
            "(default 50), one BYTES-sized message (default 64) in flight on each.\n"
            "Measures for --duration seconds (default 5) after --warmup (default 1);\n"
            "fails if the server makes no progress for --timeout seconds (default 5).\n"
            "Prints one JSON line; with --pid, also the server's CPU time per request.\n",
            prog);
}

static long parse_long(const char *name, const char *s, long lo, long hi)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < lo || v > hi) {
        fprintf(stderr, "%s: --%s wants an integer in [%ld, %ld], not '%s'\n", prog, name, lo, hi,
                s);
        exit(EXIT_USAGE);
    }
    return v;
}

static double parse_seconds(const char *name, const char *s, double lo, double hi)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || end == s || !(v >= lo && v <= hi)) {
        fprintf(stderr, "%s: --%s wants seconds in [%g, %g], not '%s'\n", prog, name, lo, hi, s);
        exit(EXIT_USAGE);
    }
    return v;
}

static void parse_options(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        {"port", required_argument, NULL, 'p'},   {"conns", required_argument, NULL, 'c'},
        {"size", required_argument, NULL, 's'},   {"duration", required_argument, NULL, 'd'},
        {"warmup", required_argument, NULL, 'w'}, {"timeout", required_argument, NULL, 't'},
        {"cpu", required_argument, NULL, 'C'},    {"pid", required_argument, NULL, 'P'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    *o = (struct options){.port = 7000,
                          .conns = 50,
                          .size_bytes = 64,
                          .duration_s = 5.0,
                          .warmup_s = 1.0,
                          .timeout_s = 5.0,
                          .cpu = -1,
                          .pid = 0};
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'p':
            o->port = (int)parse_long("port", optarg, 1, 65535);
            break;
        case 'c':
            o->conns = (int)parse_long("conns", optarg, 1, 10000);
            break;
        case 's':
            o->size_bytes = (int)parse_long("size", optarg, 1, 1 << 20);
            break;
        case 'd':
            o->duration_s = parse_seconds("duration", optarg, 0.01, 3600);
            break;
        case 'w':
            o->warmup_s = parse_seconds("warmup", optarg, 0, 3600);
            break;
        case 't':
            o->timeout_s = parse_seconds("timeout", optarg, 0.1, 3600);
            break;
        case 'C':
            o->cpu = (int)parse_long("cpu", optarg, 0, CPU_SETSIZE - 1);
            break;
        case 'P':
            o->pid = parse_long("pid", optarg, 1, 1L << 30);
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            exit(EXIT_USAGE);
        }
    }
    if (optind != argc) {
        fprintf(stderr, "%s: unexpected argument '%s'\n", prog, argv[optind]);
        exit(EXIT_USAGE);
    }
}

/* utime+stime of every thread of the process, in clock ticks (man 5 proc). */
static bool read_cpu_ticks(long pid, uint64_t *ticks)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* comm (field 2) may hold spaces and parentheses: fields restart after the last ')'. */
    char *p = strrchr(buf, ')');
    if (!p)
        return false;
    unsigned long long utime, stime;
    /* After ')': state(3) ppid pgrp session tty_nr tpgid flags minflt cminflt majflt
     * cmajflt utime(14) stime(15). */
    if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) !=
        2)
        return false;
    *ticks = utime + stime;
    return true;
}

static void pin_to_cpu(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) < 0)
        fail("cannot pin to CPU %d: %s", cpu, strerror(errno));
}

/* Opens every connection without blocking and waits for all of them, up to timeout. */
static void connect_all(const struct options *o, struct conn *conns, int epfd)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)o->port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    for (int i = 0; i < o->conns; i++) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
            fail("socket: %s", strerror(errno));
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0 && errno != EINPROGRESS)
            fail("cannot connect to 127.0.0.1:%d: %s", o->port, strerror(errno));
        conns[i] = (struct conn){.fd = fd, .index = i};
        struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = &conns[i]};
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
            fail("epoll_ctl: %s", strerror(errno));
    }

    uint64_t deadline_ns = now_ns() + (uint64_t)(o->timeout_s * 1e9);
    int pending = o->conns;
    struct epoll_event evs[256];
    while (pending > 0) {
        uint64_t now = now_ns();
        if (now >= deadline_ns)
            fail("cannot connect to 127.0.0.1:%d: %d of %d connections not established "
                 "after %.1f s",
                 o->port, pending, o->conns, o->timeout_s);
        int wait_ms = (int)((deadline_ns - now) / 1000000) + 1;
        int n = epoll_wait(epfd, evs, 256, wait_ms);
        if (n < 0 && errno != EINTR)
            fail("epoll_wait: %s", strerror(errno));
        for (int i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            int err = 0;
            socklen_t len = sizeof err;
            getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
            if (err)
                fail("cannot connect to 127.0.0.1:%d: %s", o->port, strerror(err));
            struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
            if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0)
                fail("epoll_ctl: %s", strerror(errno));
            pending--;
        }
    }
}

static void set_want_out(int epfd, struct conn *c, bool want)
{
    if (c->want_out == want)
        return;
    struct epoll_event ev = {.events = EPOLLIN | (want ? EPOLLOUT : 0), .data.ptr = c};
    if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0)
        fail("epoll_ctl: %s", strerror(errno));
    c->want_out = want;
}

/* Writes what is left of the current message; registers for EPOLLOUT if it would block. */
static void write_more(int epfd, struct conn *c, const char *msg, size_t size, int port)
{
    while (c->wr_off_bytes < size) {
        /* MSG_NOSIGNAL: a server that went away is an error line, not a silent SIGPIPE. */
        ssize_t n = send(c->fd, msg + c->wr_off_bytes, size - c->wr_off_bytes, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                break;
            fail("write to 127.0.0.1:%d failed: %s", port, strerror(errno));
        }
        c->wr_off_bytes += (size_t)n;
    }
    set_want_out(epfd, c, c->wr_off_bytes < size);
}

static void start_request(int epfd, struct conn *c, const char *msg, size_t size, int port)
{
    c->wr_off_bytes = 0;
    c->rd_off_bytes = 0;
    c->sent_at_ns = now_ns();
    write_more(epfd, c, msg, size, port);
}

int main(int argc, char **argv)
{
    struct options o;
    parse_options(argc, argv, &o);
    if (o.cpu >= 0)
        pin_to_cpu(o.cpu);
    if (o.pid) {
        uint64_t t;
        if (!read_cpu_ticks(o.pid, &t))
            fail("cannot read /proc/%ld/stat: no such process?", o.pid);
    }

    size_t size = (size_t)o.size_bytes;
    char *msg = malloc(size), *rbuf = malloc(size);
    struct conn *conns = calloc((size_t)o.conns, sizeof *conns);
    struct cs_latency_histogram *hist = calloc(1, sizeof *hist);
    if (!msg || !rbuf || !conns || !hist)
        fail("out of memory");
    for (size_t i = 0; i < size; i++)
        msg[i] = (char)('a' + i % 26);

    int epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0)
        fail("epoll_create1: %s", strerror(errno));
    connect_all(&o, conns, epfd);

    uint64_t start_ns = now_ns();
    uint64_t measure_start_ns = start_ns + (uint64_t)(o.warmup_s * 1e9);
    uint64_t measure_end_ns = measure_start_ns + (uint64_t)(o.duration_s * 1e9);
    uint64_t timeout_ns = (uint64_t)(o.timeout_s * 1e9);
    uint64_t last_progress_ns = start_ns;
    bool measuring = false;
    uint64_t requests = 0, cpu_ticks_start = 0, cpu_ticks_end = 0;

    for (int i = 0; i < o.conns; i++)
        start_request(epfd, &conns[i], msg, size, o.port);

    struct epoll_event evs[256];
    for (;;) {
        uint64_t now = now_ns();
        if (!measuring && now >= measure_start_ns) {
            measuring = true;
            measure_start_ns = now;
            measure_end_ns = now + (uint64_t)(o.duration_s * 1e9);
            if (o.pid && !read_cpu_ticks(o.pid, &cpu_ticks_start))
                fail("server (pid %ld) exited during the run", o.pid);
        }
        if (measuring && now >= measure_end_ns) {
            if (o.pid && !read_cpu_ticks(o.pid, &cpu_ticks_end))
                fail("server (pid %ld) exited during the run", o.pid);
            measure_end_ns = now;
            break;
        }
        if (now - last_progress_ns > timeout_ns)
            fail("server on 127.0.0.1:%d stopped answering: no reply for %.1f s", o.port,
                 o.timeout_s);
        /* Wake at least every 100 ms to check the window and the progress timeout. */
        int n = epoll_wait(epfd, evs, 256, 100);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            fail("epoll_wait: %s", strerror(errno));
        }
        for (int i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            if (evs[i].events & EPOLLOUT)
                write_more(epfd, c, msg, size, o.port);
            if (!(evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
                continue;
            ssize_t r = read(c->fd, rbuf, size - c->rd_off_bytes);
            if (r < 0) {
                if (errno == EAGAIN || errno == EINTR)
                    continue;
                fail("read from 127.0.0.1:%d failed: %s", o.port, strerror(errno));
            }
            if (r == 0)
                fail("server on 127.0.0.1:%d closed connection %d", o.port, c->index);
            if (memcmp(rbuf, msg + c->rd_off_bytes, (size_t)r) != 0)
                fail("server on 127.0.0.1:%d echoed different bytes on connection %d", o.port,
                     c->index);
            c->rd_off_bytes += (size_t)r;
            if (c->rd_off_bytes < size)
                continue;
            uint64_t done_ns = now_ns();
            last_progress_ns = done_ns;
            if (measuring && done_ns < measure_end_ns) {
                requests++;
                cs_latency_histogram_add(hist, done_ns - c->sent_at_ns);
            }
            start_request(epfd, c, msg, size, o.port);
        }
    }

    double window_s = (double)(measure_end_ns - measure_start_ns) / 1e9;
    printf("{\"port\":%d,\"conns\":%d,\"size_bytes\":%d,\"warmup_s\":%.3f,\"duration_s\":%.3f,"
           "\"requests\":%" PRIu64 ",\"rps\":%.1f,\"p50_us\":%.2f,\"p90_us\":%.2f,"
           "\"p99_us\":%.2f,\"max_us\":%.2f",
           o.port, o.conns, o.size_bytes, o.warmup_s, window_s, requests,
           (double)requests / window_s, cs_latency_histogram_quantile_ns(hist, 0.50) / 1e3,
           cs_latency_histogram_quantile_ns(hist, 0.90) / 1e3,
           cs_latency_histogram_quantile_ns(hist, 0.99) / 1e3, (double)hist->max_ns / 1e3);
    if (o.pid) {
        long hz = sysconf(_SC_CLK_TCK);
        double cpu_us = (double)(cpu_ticks_end - cpu_ticks_start) * 1e6 / (double)hz;
        printf(",\"server_pid\":%ld,\"server_cpu_us\":%.0f,\"server_cpu_us_per_req\":%.3f", o.pid,
               cpu_us, requests ? cpu_us / (double)requests : 0.0);
    }
    printf("}\n");

    for (int i = 0; i < o.conns; i++)
        close(conns[i].fd);
    close(epfd);
    free(hist);
    free(conns);
    free(rbuf);
    free(msg);
    return requests > 0 ? 0 : EXIT_RUN_FAILED;
}
