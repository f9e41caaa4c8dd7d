#include "foreign_stat.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "corun_errors.h"
#include "exit_codes.h"
#include "loop_detect.h"
#include "model.h"
#include "stall_collector.h"
#include "syscall_names.h"
#include "cs_sort.h"

#define POLL_MS       10 /* drain the ring buffer (stall events) this often */
#define RESCAN_ROUNDS 20 /* /proc samples per loop-thread scan */
#define MAX_TIDS      256

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

struct session {
    struct cs_foreign_stat st;
    struct cs_collector *coll;
    struct cs_model *model;
};

static void add_loop(struct session *s, int tid)
{
    if (cs_collector_has_thread(s->coll, tid) || s->st.nloops >= MAX_TIDS)
        return;
    char why[256] = "";
    int err = cs_collector_add_thread(s->coll, tid, why, sizeof why);
    if (err) {
        if (err != -ESRCH)
            fprintf(stderr, "coscope: %s\n", why);
        return;
    }
    struct cs_foreign_loop *l = &s->st.loops[s->st.nloops++];
    memset(l, 0, sizeof *l);
    l->tid = tid;
    char path[96];
    snprintf(path, sizeof path, "/proc/%d/task/%d/comm", s->st.pid, tid);
    FILE *f = fopen(path, "re");
    if (f) {
        if (fgets(l->comm, sizeof l->comm, f))
            l->comm[strcspn(l->comm, "\n")] = 0;
        fclose(f);
    }
}

static struct cs_foreign_loop *loop_of(struct cs_foreign_stat *st, int tid)
{
    for (size_t i = 0; i < st->nloops; i++)
        if (st->loops[i].tid == tid)
            return &st->loops[i];
    return NULL;
}

static int by_total_desc(const void *a, const void *b)
{
    const struct cs_foreign_blocking *x = a, *y = b;
    return x->stat.total_ns < y->stat.total_ns ? 1 : x->stat.total_ns > y->stat.total_ns ? -1 : 0;
}

/* The figures at the end: what the kernel counted, plus the slice or wait in progress. */
static void read_final(struct session *s)
{
    struct cs_foreign_stat *st = &s->st;
    st->end_ns = now_ns();
    for (size_t i = 0; i < st->nloops; i++) {
        struct cs_foreign_loop *l = &st->loops[i];
        uint64_t slice_start = 0;
        if (cs_collector_loop_stat(s->coll, l->tid, &l->stat, &slice_start) != 0)
            continue;
        uint64_t end = (uint64_t)st->end_ns;
        l->busy_ns = l->stat.busy_ns + (slice_start && end > slice_start ? end - slice_start : 0);
        uint64_t ws = l->stat.wait_start_ns;
        l->wait_ns = l->stat.wait_ns + (ws && end > ws ? end - ws : 0);
    }
    uint64_t cursor = 0;
    struct cs_block_key key;
    struct cs_block_stat bs;
    while (cs_collector_next_block_stat(s->coll, &cursor, &key, &bs) == 1) {
        struct cs_foreign_loop *l = loop_of(st, (int)key.tid);
        if (!l || l->nblocking >= CS_FOREIGN_MAX_BLOCKING)
            continue;
        struct cs_foreign_blocking *b = &l->blocking[l->nblocking++];
        char buf[32];
        snprintf(b->name, sizeof b->name, "%s", cs_syscall_name(key.nr, buf, sizeof buf));
        b->stat = bs;
    }
    for (size_t i = 0; i < st->nloops; i++)
        cs_qsort(st->loops[i].blocking, st->loops[i].nblocking, sizeof st->loops[i].blocking[0],
                 by_total_desc);
    cs_collector_poll(s->coll, 0);
    st->lost_events = cs_model_lost(s->model);
}

static int open_collector(struct session *s, int pid)
{
    struct cs_stall_opts opts = {
        .pid = pid,
        .threshold_ns = CS_DEFAULT_THRESHOLD_NS,
        .stack_mode = CS_STACK_FP, /* stat prints no stacks: no stack windows copied */
        .stack_bytes = 16384,
        .max_per_sec = 10,
        .stats = true,
    };
    char why[256] = "";
    s->st.threshold_ns = opts.threshold_ns;
    int err = cs_collector_open(&opts, s->model, NULL, NULL, &s->coll, why, sizeof why);
    if (err) {
        fprintf(stderr, "coscope: %s\n", why);
        return err == -EPERM || err == -EACCES ? CS_EXIT_PERMISSION
               : err == -ESRCH                 ? CS_EXIT_NO_PROCESS
                                               : CS_EXIT_KERNEL;
    }
    s->st.global_tracepoints = cs_collector_uses_fallback(s->coll);
    return CS_EXIT_OK;
}

int cs_foreign_stat_run(int pid, int pidfd, bool launched, uint64_t duration_ns, bool json)
{
    struct session s = {0};
    struct cs_loop_scan *scan = NULL;
    int rc = CS_EXIT_OK;
    s.st.pid = pid;
    s.st.loops = calloc(MAX_TIDS, sizeof *s.st.loops);
    s.model = cs_model_new(pid);
    if (!s.st.loops || !s.model) {
        fprintf(stderr, "coscope: out of memory\n");
        rc = CS_EXIT_FAILURE;
        goto cleanup;
    }
    rc = open_collector(&s, pid);
    if (rc != CS_EXIT_OK)
        goto cleanup;
    int tids[MAX_TIDS];
    int n = cs_loop_detect(pid, RESCAN_ROUNDS, 10, tids, MAX_TIDS);
    if (n < 0) {
        rc = cs_corun_report_error("stat", pid, -ESRCH, "");
        goto cleanup;
    }
    for (int i = 0; i < n; i++)
        add_loop(&s, tids[i]);
    if (!s.st.nloops)
        fprintf(stderr, "coscope: no event-loop thread found in process %d yet; watching for one\n",
                pid);
    scan = cs_loop_scan_new(pid, RESCAN_ROUNDS);
    s.st.start_ns = now_ns();
    /* Tools and tests wait for this line (the same as for a libcorun process). */
    fprintf(stderr,
            "coscope: collecting statistics of process %d (no libcorun: %zu event-loop "
            "thread%s, from its system calls)\n",
            pid, s.st.nloops, s.st.nloops == 1 ? "" : "s");

    struct sigaction sa = {0};
    sa.sa_handler = on_stop_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);

    int64_t next_scan_ns = s.st.start_ns + 1000000000;
    bool exited = false;
    while (!stop_requested) {
        if (duration_ns && now_ns() - s.st.start_ns >= (int64_t)duration_ns)
            break;
        int err = cs_collector_poll(s.coll, POLL_MS);
        if (err) {
            fprintf(stderr, "coscope: reading BPF events: %s\n", strerror(-err));
            rc = CS_EXIT_FAILURE;
            break;
        }
        struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
        if (poll(&pfd, 1, 0) > 0) {
            exited = true;
            break;
        }
        /* Threads may become loops later: one scan round per tick, a verdict every 20. */
        if (scan && now_ns() >= next_scan_ns && cs_loop_scan_round(scan) > 0) {
            n = cs_loop_scan_result(scan, tids, MAX_TIDS);
            for (int i = 0; i < n; i++)
                add_loop(&s, tids[i]);
            next_scan_ns = now_ns() + 1000000000;
        }
    }
    read_final(&s);
    if (json)
        cs_foreign_stat_write_json(stdout, &s.st);
    else
        cs_foreign_stat_write_text(stdout, &s.st);
    if (exited) {
        if (launched) {
            waitpid(pid, NULL, 0);
        } else {
            fprintf(stderr, "coscope: process %d exited\n", pid);
            rc = CS_EXIT_NO_PROCESS;
        }
    }
cleanup:
    cs_loop_scan_free(scan);
    cs_collector_close(s.coll);
    cs_model_free(s.model);
    free(s.st.loops);
    return rc;
}
