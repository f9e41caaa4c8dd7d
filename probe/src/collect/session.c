#include "session.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "corun_attribution.h"
#include "corun_stat.h"
#include "corun_target.h"
#include "launch.h"
#include "link_teardown.h"
#include "loop_detect.h"
#include "mono_clock.h"
#include "proc.h"
#include "syscall_names.h"
#include "corun_tasks.h"

#define SCAN_ROUNDS      20          /* /proc samples per loop-thread verdict */
#define SCAN_INTERVAL_MS 10          /* between two samples of the first scan */
#define SCAN_EVERY_NS    50000000ull /* one round of the background scan this often */
#define MAX_LOOPS        256
/* A thread not yet watched that makes this many wait calls between two scan rounds is a
 * busy loop (an idle one is found in its wait call). */
#define BUSY_MIN_WAITS 4
/* Calls a process's main thread parks in when it is not a loop (a launcher, a runtime
 * that runs its loops elsewhere): never taken for a stuck loop. */
static bool parked_call(int nr)
{
    return nr == 202 /* futex */ || nr == 61 /* wait4 */ || nr == 247 /* waitid */ ||
           nr == 34 /* pause */ || nr == 130 /* rt_sigsuspend */ || nr == 128 /* rt_sigtimedwait */;
}
/* A launched command not held at its entry point maps libcorun once its dynamic loader has
 * run: wait this long at most for it, so that its first stalls already name their tasks
 * (the attribution finds a runtime mapped later too) — and, for `stat`, which must know
 * whether there is one before it starts, longer. */
#define RUNTIME_WAIT_NS      1000000000ull
#define RUNTIME_WAIT_STAT_NS 5000000000ull

struct cs_session {
    struct cs_session_opts opts;
    struct cs_session_hooks hooks;
    struct cs_model *model;
    struct cs_collector *coll;
    struct cs_corun_attrib *attrib;
    struct cs_corun_tasks *tasks;
    struct cs_corun_target corun;
    struct cs_corun_stat *cstat;
    struct cs_loop_scan *scan;
    int pidfd;
    bool exited, released, finished;
    uint64_t next_scan_ns;
    size_t nloops;
    struct cs_session_loop loops[MAX_LOOPS];
};

static void note(const struct cs_session *s, const char *fmt, const char *arg)
{
    if (!s->hooks.note)
        return;
    char line[400];
    snprintf(line, sizeof line, fmt, arg);
    s->hooks.note(line, s->hooks.arg);
}

/* Notes of the session's parts go to the verb's hook. */
static void note_hook(const char *line, void *arg)
{
    note(arg, "note: %s", line);
}

/* The collector's callback: every stall after attribution and the rate limit. */
static void on_stall(const struct cs_stall *st, void *arg)
{
    struct cs_session *s = arg;
    if (st->ongoing && s->exited)
        return; /* a slice cut short by the exit is not a stall */
    if (!st->ongoing && s->tasks)
        cs_corun_tasks_note_stall(s->tasks, st, cs_mono_ns());
    if (s->hooks.stall)
        s->hooks.stall(st, s->hooks.arg);
}

static void on_slow_iter(const struct cs_slow_iter *it, void *arg)
{
    struct cs_session *s = arg;
    if (s->hooks.slow_iter)
        s->hooks.slow_iter(it, s->hooks.arg);
}

static void add_loop(struct cs_session *s, int tid, const char *found_by)
{
    if (cs_collector_has_thread(s->coll, tid) || s->nloops == MAX_LOOPS)
        return;
    char why[256] = "";
    int err = cs_collector_add_thread(s->coll, tid, why, sizeof why);
    if (err) {
        if (err != -ESRCH) /* gone already: the next scan may find another */
            note(s, "%s", why);
        return;
    }
    struct cs_session_loop *l = &s->loops[s->nloops++];
    l->tid = tid;
    l->found_by = found_by;
    cs_thread_comm(s->opts.pid, tid, l->comm, sizeof l->comm);
    cs_model_add_loop(s->model, tid, l->comm);
    if (s->hooks.loop_added)
        s->hooks.loop_added(l, s->hooks.arg);
}

/* libcorun knows its loop threads: its debug table lists them, stalled or not (a loop
 * busy most of the time is rarely seen in a wait call). Returns how many were added. */
static int add_corun_loops(struct cs_session *s)
{
    struct cs_corun_target t;
    struct cs_corun_snapshot snap;
    char why[256];
    if (cs_corun_open(s->opts.pid, &t, why, sizeof why) || cs_corun_snapshot(&t, &snap))
        return 0;
    int n = 0;
    for (size_t i = 0; i < snap.nloops; i++, n++)
        add_loop(s, snap.loops[i].tid, "debug_table");
    cs_corun_snapshot_free(&snap);
    return n;
}

/* Threads that made many wait calls since the last look (busy loops). */
static void add_busy_loops(struct cs_session *s)
{
    int tids[MAX_LOOPS];
    int n = cs_collector_busy_waiters(s->coll, BUSY_MIN_WAITS, tids, MAX_LOOPS);
    for (int i = 0; i < n; i++)
        add_loop(s, tids[i], "wait_calls");
}

/*
 * Nothing waits and nothing is busy waiting: a process with an event fd whose main thread
 * is blocked outside a wait call (or running) is a loop stuck since before attach.
 */
static void add_stuck_main(struct cs_session *s)
{
    int nr = cs_thread_syscall(s->opts.pid, s->opts.pid);
    if (nr == -2 || cs_syscall_is_wait(nr) || parked_call(nr) || !cs_proc_has_event_fd(s->opts.pid))
        return;
    add_loop(s, s->opts.pid, "stuck");
}

/* The loop threads to watch from the start: -T, the launched command's only thread, the
 * loops of libcorun's table, the threads found in a wait call most of the time or making
 * many of them, or a stuck main thread. -ESRCH if the process is gone, -EMEDIUMTYPE if it
 * is not an event loop (Go). */
static int find_loops(struct cs_session *s)
{
    if (s->opts.tid) {
        add_loop(s, s->opts.tid, "given");
        return 0;
    }
    if (cs_proc_is_go(s->opts.pid))
        return -EMEDIUMTYPE;
    if (s->opts.launched) {
        add_loop(s, s->opts.pid, "launched"); /* the only thread so far */
    } else if (!add_corun_loops(s)) {
        int tids[MAX_LOOPS];
        int n = cs_loop_detect(s->opts.pid, SCAN_ROUNDS, SCAN_INTERVAL_MS, tids, MAX_LOOPS);
        if (n < 0)
            return -ESRCH;
        for (int i = 0; i < n; i++)
            add_loop(s, tids[i], "waiting");
        add_busy_loops(s);
        if (!s->nloops)
            add_stuck_main(s);
    }
    s->scan = cs_loop_scan_new(s->opts.pid, SCAN_ROUNDS);
    s->next_scan_ns = cs_mono_ns() + SCAN_EVERY_NS;
    return 0;
}

/* Has our launched command exited? Asked without reaping it (the commands reap it). */
static bool launched_exited(int pid)
{
    siginfo_t info = {0};
    return waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid;
}

/* Until libcorun is mapped, the command is in an event loop without it, it exited (a
 * zombie has no mappings: no reason to wait the whole time), or the wait is up. */
static void wait_for_runtime(int pid, uint64_t wait_ns)
{
    uint64_t deadline = cs_mono_ns() + wait_ns;
    uint64_t addr;
    while (cs_corun_find_symbol(pid, "corun_debug", &addr, NULL, 0, NULL, 0) == -ENOENT &&
           cs_mono_ns() < deadline && !cs_loop_waiting_now(pid) && !launched_exited(pid))
        usleep(2000);
}

/* CS_WATCH_CORUN_STAT: libcorun's statistics, or -ENOENT when the target has no libcorun. */
static int open_corun_stat(struct cs_session *s, char *why, size_t why_len)
{
    int err = cs_corun_open(s->opts.pid, &s->corun, why, why_len);
    if (err)
        return err;
    err = cs_corun_stat_open(&s->corun, s->opts.all_syscalls, &s->cstat, why, why_len);
    if (err)
        return err == -ENOENT ? -EINVAL : err; /* -ENOENT means "no libcorun" here */
    for (unsigned i = 0; cs_corun_stat_note(s->cstat, i); i++)
        note(s, "note: %s", cs_corun_stat_note(s->cstat, i));
    return 0;
}

static int release(struct cs_session *s, char *why, size_t why_len)
{
    if (!s->opts.launched || s->released)
        return 0;
    s->released = true;
    if (cs_launch_release(s->opts.pid) != 0) {
        int err = -errno;
        snprintf(why, why_len, "cannot start the command: %s", strerror(-err));
        return err;
    }
    return 0;
}

int cs_session_open(const struct cs_session_opts *opts, const struct cs_session_hooks *hooks,
                    struct cs_session **out, char *why, size_t why_len)
{
    *out = NULL;
    struct cs_session *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(why, why_len, "out of memory");
        return -ENOMEM;
    }
    s->opts = *opts;
    s->opts.stall.pid = opts->pid;
    s->opts.stall.note = note_hook;
    s->opts.stall.note_arg = s;
    if (hooks)
        s->hooks = *hooks;
    s->pidfd = -1;
    int err = -ENOMEM;
    snprintf(why, why_len, "out of memory");
    s->model = cs_model_new(opts->pid);
    if (!s->model)
        goto fail;
    s->pidfd = (int)syscall(SYS_pidfd_open, opts->pid, 0);
    if (s->pidfd < 0) {
        err = -ESRCH;
        snprintf(why, why_len, "no such process %d", opts->pid);
        goto fail;
    }
    bool engine = opts->watch & CS_WATCH_STALLS;
    /* A launched command held at its entry point has its runtime mapped: the probes below
     * are on before its first task runs. Otherwise it must run to map the runtime; the
     * stall engine, when asked for, is on before it runs. */
    if (opts->launched && !opts->at_entry && !engine) {
        err = release(s, why, why_len);
        if (err)
            goto fail;
        wait_for_runtime(opts->pid, opts->watch & CS_WATCH_CORUN_STAT ? RUNTIME_WAIT_STAT_NS
                                                                      : RUNTIME_WAIT_NS);
    }
    if (opts->watch & CS_WATCH_CORUN_STAT) {
        err = open_corun_stat(s, why, why_len);
        if (err == -ENOENT)
            engine = true; /* no libcorun: the stall engine's loop statistics */
        else if (err)
            goto fail;
    }
    if (engine) {
        err = cs_collector_open(&s->opts.stall, s->model, on_stall, s, &s->coll, why, why_len);
        if (err)
            goto fail;
        err = find_loops(s);
        if (err == -EMEDIUMTYPE) {
            snprintf(why, why_len,
                     "process %d is a Go program: its goroutines run on threads that park in "
                     "futex, none of them an event loop coscope can watch (give -T TID to watch "
                     "one thread anyway)",
                     opts->pid);
            goto fail;
        }
        if (err) {
            err = -ESRCH;
            snprintf(why, why_len, "no such process %d", opts->pid);
            goto fail;
        }
    }
    if (opts->launched && !opts->at_entry && !s->released) {
        err = release(s, why, why_len);
        if (err)
            goto fail;
        wait_for_runtime(opts->pid, opts->watch & CS_WATCH_CORUN_STAT ? RUNTIME_WAIT_STAT_NS
                                                                      : RUNTIME_WAIT_NS);
    }
    if (opts->watch & CS_WATCH_ATTRIB) {
        s->attrib =
            cs_corun_attrib_new(opts->pid, opts->launched, opts->stall.threshold_ns, note_hook, s);
        if (s->attrib && s->coll) {
            cs_collector_set_annotator(s->coll, cs_corun_attrib_annotate, s->attrib);
            cs_corun_attrib_on_slow_iter(s->attrib, opts->stall.max_per_sec, s->model, on_slow_iter,
                                         s);
        }
    }
    if (opts->watch & CS_WATCH_TASKS) {
        s->tasks = cs_corun_tasks_new(opts->pid, opts->stall.threshold_ns);
        if (s->tasks)
            cs_corun_tasks_process(s->tasks, cs_mono_ns());
    }
    *out = s;
    return 0;
fail:
    if (opts->launched && launched_exited(opts->pid)) {
        /* whatever failed, this is why */
        err = -ESRCH;
        snprintf(why, why_len, "the command exited before coscope could attach");
    }
    cs_session_close(s);
    return err;
}

int cs_session_start(struct cs_session *s)
{
    char why[128];
    return release(s, why, sizeof why);
}

int cs_session_poll(struct cs_session *s, int timeout_ms)
{
    int err = 0;
    if (s->coll) {
        err = cs_collector_poll(s->coll, timeout_ms);
    } else if (!s->exited) { /* nothing but the target's exit to wait for */
        struct pollfd pfd = {.fd = s->pidfd, .events = POLLIN};
        if (poll(&pfd, 1, timeout_ms) > 0)
            s->exited = true;
    }
    if (s->attrib)
        cs_corun_attrib_poll(s->attrib);
    if (err)
        return err;
    if (!s->exited) {
        struct pollfd pfd = {.fd = s->pidfd, .events = POLLIN};
        if (poll(&pfd, 1, 0) > 0)
            s->exited = true;
    }
    uint64_t now = cs_mono_ns();
    if (s->tasks)
        cs_corun_tasks_process(s->tasks, now);
    if (s->exited)
        return 0;
    /* New threads may become loops: one scan round per tick, a verdict every SCAN_ROUNDS. */
    if (s->scan && now >= s->next_scan_ns) {
        s->next_scan_ns = now + SCAN_EVERY_NS;
        add_busy_loops(s);
        if (cs_loop_scan_round(s->scan) > 0) {
            int tids[MAX_LOOPS];
            int n = cs_loop_scan_result(s->scan, tids, MAX_LOOPS);
            for (int i = 0; i < n; i++)
                add_loop(s, tids[i], "waiting");
        }
    }
    return 0;
}

int cs_session_run(struct cs_session *s, uint64_t duration_ns, int poll_ms,
                   const volatile sig_atomic_t *stop)
{
    uint64_t t0 = cs_mono_ns();
    int err = 0;
    while (!*stop && !s->exited && !err) {
        if (duration_ns && cs_mono_ns() - t0 >= duration_ns)
            break;
        err = cs_session_poll(s, poll_ms);
    }
    cs_session_poll(s, 0); /* what the kernel already produced */
    cs_session_finish(s);
    return err;
}

void cs_session_finish(struct cs_session *s)
{
    if (s->coll && !s->exited && !s->finished) {
        s->finished = true;
        cs_collector_finish(s->coll);
    }
}

bool cs_session_exited(const struct cs_session *s)
{
    return s->exited;
}

int cs_session_exit_fd(const struct cs_session *s)
{
    return s->pidfd;
}

int cs_session_event_fd(const struct cs_session *s)
{
    return s->coll ? cs_collector_fd(s->coll) : -1;
}

struct cs_model *cs_session_model(const struct cs_session *s)
{
    return s->model;
}

struct cs_collector *cs_session_collector(const struct cs_session *s)
{
    return s->coll;
}

struct cs_corun_tasks *cs_session_tasks(const struct cs_session *s)
{
    return s->tasks;
}

struct cs_corun_attrib *cs_session_attrib(const struct cs_session *s)
{
    return s->attrib;
}

struct cs_corun_stat *cs_session_corun_stat(const struct cs_session *s)
{
    return s->cstat;
}

const struct cs_corun_target *cs_session_corun_target(const struct cs_session *s)
{
    return s->cstat ? &s->corun : NULL;
}

const struct cs_session_loop *cs_session_loop(const struct cs_session *s, size_t i)
{
    return i < s->nloops ? &s->loops[i] : NULL;
}

size_t cs_session_loop_count(const struct cs_session *s)
{
    return s->nloops;
}

static void free_attrib(void *attrib)
{
    cs_corun_attrib_free(attrib);
}

void cs_session_close(struct cs_session *s)
{
    if (!s)
        return;
    /* Both detach uprobes and perf events, each waiting for RCU: overlap them. */
    struct cs_teardown *td = cs_teardown_start(free_attrib, s->attrib);
    cs_corun_tasks_free(s->tasks);
    cs_corun_stat_free(s->cstat);
    cs_loop_scan_free(s->scan);
    cs_collector_close(s->coll);
    cs_teardown_join(td);
    if (s->pidfd >= 0)
        close(s->pidfd);
    cs_model_free(s->model);
    free(s);
}
