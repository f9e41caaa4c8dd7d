#include "live_source.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cs_defs.h"
#include "hist_ll.h"
#include "model.h"
#include "model_tasks.h"
#include "mono_clock.h"
#include "proc.h"
#include "session.h"
#include "stall_collector.h"
#include "stalls.h"
#include "corun_tasks.h"
#include "spawn_symbols.h"

#define CPU_EVERY_NS     1000000000ull
#define ONGOING_EVERY_NS 100000000ull /* the collector repeats an ongoing stall this often */
#define LIVE_MAX_NOTES   8
#define ONGOING_STALE_NS 2000000000ull /* forget an ongoing record nobody refreshed */

struct live_loop {
    struct cs_view_loop v;
    /* Busy and wait counters at the last sample: the runtime's or the engine's. */
    bool have_rt, have_engine;
    uint64_t rt_busy_ns, rt_wait_ns, engine_busy_ns, engine_wait_ns;
    uint64_t cpu_ticks; /* utime + stime at the last sample */
    bool have_ticks;
    bool has_ongoing;
    struct cs_stall ongoing; /* deep copy of the latest ongoing record */
    uint64_t ongoing_seen_ns;
};

struct cs_live {
    int pid;
    bool launched;
    char comm[CS_MODEL_COMM_LEN];
    uint64_t threshold_ns;
    struct cs_session *sess;
    struct cs_model *model;               /* the session's */
    struct cs_collector *coll;            /* the session's */
    struct cs_corun_tasks *tasks;         /* the session's: NULL without libcorun */
    struct cs_spawn_symbols *spawn_names; /* the tasks' spawn sites, symbolized here */
    bool exited;
    uint64_t next_cpu_ns, last_cpu_ns;
    long clk_tck;
    struct live_loop loops[CS_VIEW_MAX_LOOPS];
    size_t nloops;
    uint64_t worst_ns;
    int worst_tid;
    /* Notes of the session (a fallback taken, a probe not attached): kept for cmd_top to
     * print, since stderr is the screen while top runs. */
    size_t nnotes;
    char notes[LIVE_MAX_NOTES][200];
};

static struct live_loop *find_loop(struct cs_live *l, int tid)
{
    for (size_t i = 0; i < l->nloops; i++)
        if (l->loops[i].v.tid == tid)
            return &l->loops[i];
    return NULL;
}

/* Every record the collector reports (after its rate limit) passes here. */
static void on_stall(const struct cs_stall *s, void *arg)
{
    struct cs_live *l = arg;
    struct live_loop *lp = find_loop(l, s->tid);
    if (!lp)
        return;
    if (s->ongoing) {
        if (l->exited)
            return;
        if (lp->has_ongoing)
            cs_stall_release(&lp->ongoing);
        lp->has_ongoing = cs_stall_copy(&lp->ongoing, s) == 0;
        lp->ongoing_seen_ns = cs_mono_ns();
        return;
    }
    if (lp->has_ongoing && lp->ongoing.seq <= s->seq) {
        cs_stall_release(&lp->ongoing);
        lp->has_ongoing = false;
    }
    lp->v.stalls++;
    lp->v.stalled_ns += s->duration_ns;
    lp->v.last_stall_end_ns = s->start_ns + s->duration_ns;
    if (s->duration_ns > lp->v.worst_ns)
        lp->v.worst_ns = s->duration_ns;
    if (s->duration_ns > l->worst_ns) {
        l->worst_ns = s->duration_ns;
        l->worst_tid = s->tid;
    }
}

static void on_note(const char *line, void *arg)
{
    struct cs_live *l = arg;
    if (l->nnotes < LIVE_MAX_NOTES)
        snprintf(l->notes[l->nnotes++], sizeof l->notes[0], "%s", line);
}

size_t cs_live_note_count(const struct cs_live *l)
{
    return l->nnotes;
}

const char *cs_live_note(const struct cs_live *l, size_t i)
{
    return i < l->nnotes ? l->notes[i] : NULL;
}

/* The session watches a new loop thread. */
static void on_loop_added(const struct cs_session_loop *loop, void *arg)
{
    struct cs_live *l = arg;
    int tid = loop->tid;
    const char *comm = loop->comm;
    if (l->nloops == CS_VIEW_MAX_LOOPS)
        return;
    struct live_loop *lp = &l->loops[l->nloops++];
    memset(lp, 0, sizeof *lp);
    lp->v.tid = tid;
    lp->v.cpu_pct = -1;
    lp->v.util_pct = -1;
    lp->v.util_from = "CPU";
    snprintf(lp->v.comm, sizeof lp->v.comm, "%s", comm);
}

/* utime + stime of a thread, in clock ticks; false if it is gone. */
static bool thread_ticks(int pid, int tid, uint64_t *ticks)
{
    char path[96], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/task/%d/stat", pid, tid);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    /* The comm field may hold spaces and parentheses: fields resume after the last ')'. */
    char *p = strrchr(buf, ')');
    unsigned long long utime, stime;
    if (!p ||
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2)
        return false;
    *ticks = utime + stime;
    return true;
}

static const struct cs_corun_loop *corun_loop_of(const struct cs_live *l, int tid)
{
    const struct cs_corun_snapshot *snap = l->tasks ? cs_corun_tasks_snapshot(l->tasks) : NULL;
    for (size_t i = 0; snap && i < snap->nloops; i++)
        if (snap->loops[i].tid == tid)
            return &snap->loops[i];
    return NULL;
}

/* Busy share from two readings of busy/wait counters; < 0 when they did not move. */
static double busy_share(uint64_t busy_ns, uint64_t wait_ns, uint64_t last_busy_ns,
                         uint64_t last_wait_ns)
{
    uint64_t db = busy_ns > last_busy_ns ? busy_ns - last_busy_ns : 0;
    uint64_t dw = wait_ns > last_wait_ns ? wait_ns - last_wait_ns : 0;
    return db + dw ? 100.0 * (double)db / (double)(db + dw) : -1;
}

/*
 * The loop's utilisation over the last second. libcorun: the runtime's busy and
 * poll-wait counters (no progress at all means one long slice, or one long wait, is in
 * progress: the loop's state says which). Foreign loops: the engine's slice and wait
 * times, the one in progress included. Else (neither kept yet): the thread's CPU share.
 */
static void sample_util(struct cs_live *l, struct live_loop *lp, uint64_t now)
{
    double util = -1;
    const char *from = "CPU";
    const struct cs_corun_loop *cl = corun_loop_of(l, lp->v.tid);
    struct cs_loop_stat st;
    uint64_t slice_start = 0;
    if (cl && (cl->busy_ns || cl->poll_wait_ns)) {
        if (lp->have_rt) {
            util = busy_share(cl->busy_ns, cl->poll_wait_ns, lp->rt_busy_ns, lp->rt_wait_ns);
            if (util < 0)
                util = cl->state == CORUN_LOOP_RUNNING ? 100 : 0;
            from = "runtime";
        }
        lp->have_rt = true;
        lp->rt_busy_ns = cl->busy_ns;
        lp->rt_wait_ns = cl->poll_wait_ns;
    } else if (cs_collector_loop_stat(l->coll, lp->v.tid, &st, &slice_start) == 0) {
        uint64_t busy = st.busy_ns, wait = st.wait_ns;
        if (slice_start && now > slice_start)
            busy += now - slice_start;
        if (st.wait_start_ns && now > st.wait_start_ns)
            wait += now - st.wait_start_ns;
        if (lp->have_engine) {
            util = busy_share(busy, wait, lp->engine_busy_ns, lp->engine_wait_ns);
            from = "engine";
        }
        lp->have_engine = true;
        lp->engine_busy_ns = busy;
        lp->engine_wait_ns = wait;
        lp->v.has_iter_hist = true;
        uint64_t ll[CS_LL_HIST_BUCKETS]; /* the kernel's log-linear counters, folded */
        for (unsigned k = 0; k < CS_STAT_LL_BUCKETS; k++)
            ll[k] = st.slice_hist[k];
        cs_ll_to_log2(lp->v.iter_hist, ll);
    }
    if (util < 0) {
        util = lp->v.cpu_pct;
        from = "CPU";
    }
    if (util > 100)
        util = 100;
    lp->v.util_pct = util;
    lp->v.util_from = from;
    if (util < 0)
        return;
    if (lp->v.nutil == CS_VIEW_UTIL_SAMPLES) {
        memmove(lp->v.util_hist, lp->v.util_hist + 1, CS_VIEW_UTIL_SAMPLES - 1);
        lp->v.nutil--;
    }
    lp->v.util_hist[lp->v.nutil++] = (unsigned char)(util + 0.5);
}

static void sample_cpu(struct cs_live *l, uint64_t now)
{
    double dt_s = l->last_cpu_ns ? (double)(now - l->last_cpu_ns) / 1e9 : 0;
    for (size_t i = 0; i < l->nloops; i++) {
        struct live_loop *lp = &l->loops[i];
        uint64_t ticks;
        if (!thread_ticks(l->pid, lp->v.tid, &ticks)) {
            lp->v.cpu_pct = -1;
            continue;
        }
        if (lp->have_ticks && dt_s > 0)
            lp->v.cpu_pct = 100.0 * (double)(ticks - lp->cpu_ticks) / (double)l->clk_tck / dt_s;
        lp->cpu_ticks = ticks;
        lp->have_ticks = true;
        sample_util(l, lp, now);
    }
    l->last_cpu_ns = now;
}

int cs_live_open(const struct cs_live_opts *o, struct cs_live **out, char *why, size_t why_len)
{
    struct cs_live *l = calloc(1, sizeof *l);
    if (!l)
        return -ENOMEM;
    l->pid = o->pid;
    l->launched = o->launched;
    l->threshold_ns = o->threshold_ns;
    l->clk_tck = sysconf(_SC_CLK_TCK);
    if (l->clk_tck <= 0)
        l->clk_tck = 100;
    cs_proc_comm(o->pid, l->comm, sizeof l->comm);
    /* The same pipeline as `stalls` and `record`: libcorun stalls are task slices that
     * name their task, ongoing ones included. */
    const struct cs_session_opts so = {
        .pid = o->pid,
        .tid = o->tid,
        .launched = o->launched,
        .at_entry = o->at_entry,
        .watch = CS_WATCH_STALLS | CS_WATCH_ATTRIB | CS_WATCH_TASKS,
        .stall =
            {
                .threshold_ns = o->threshold_ns,
                .stack_mode = CS_STACK_AUTO,
                .stack_bytes = 16384,
                .max_per_sec = 20,
                .ongoing_every_ns = ONGOING_EVERY_NS,
                .stats = true, /* iteration histograms and busy/wait of foreign loops */
            },
    };
    const struct cs_session_hooks hooks = {
        .stall = on_stall,
        .loop_added = on_loop_added,
        .note = on_note,
        .arg = l,
    };
    int err = cs_session_open(&so, &hooks, &l->sess, why, why_len);
    if (err) {
        free(l);
        return err;
    }
    l->model = cs_session_model(l->sess);
    l->coll = cs_session_collector(l->sess);
    l->tasks = cs_session_tasks(l->sess);
    l->spawn_names = cs_spawn_symbols_new(o->pid);
    if (l->tasks)
        cs_spawn_symbols_update(l->spawn_names, cs_corun_tasks_snapshot(l->tasks));
    uint64_t now = cs_mono_ns();
    sample_cpu(l, now);
    l->next_cpu_ns = now + CPU_EVERY_NS;
    *out = l;
    return 0;
}

int cs_live_start(struct cs_live *l)
{
    return cs_session_start(l->sess);
}

void cs_live_close(struct cs_live *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->nloops; i++)
        if (l->loops[i].has_ongoing)
            cs_stall_release(&l->loops[i].ongoing);
    cs_spawn_symbols_free(l->spawn_names);
    cs_session_close(l->sess);
    free(l);
}

int cs_live_event_fd(const struct cs_live *l)
{
    return cs_session_event_fd(l->sess);
}

int cs_live_exit_fd(const struct cs_live *l)
{
    return cs_session_exit_fd(l->sess);
}

bool cs_live_target_exited(const struct cs_live *l)
{
    return l->exited;
}

size_t cs_live_loop_count(const struct cs_live *l)
{
    return l->nloops;
}

int cs_live_process(struct cs_live *l)
{
    int err = cs_session_poll(l->sess, 0);
    if (err)
        return err;
    uint64_t now = cs_mono_ns();
    for (size_t i = 0; i < l->nloops; i++) {
        struct live_loop *lp = &l->loops[i];
        /* A final record can be lost (ring buffer full): do not show a stall forever. */
        if (lp->has_ongoing && now - lp->ongoing_seen_ns > ONGOING_STALE_NS) {
            cs_stall_release(&lp->ongoing);
            lp->has_ongoing = false;
        }
    }
    if (!l->exited && cs_session_exited(l->sess)) {
        l->exited = true;
        /* A slice cut short by the exit is not a stall: nothing is in progress now. */
        for (size_t i = 0; i < l->nloops; i++) {
            if (l->loops[i].has_ongoing)
                cs_stall_release(&l->loops[i].ongoing);
            l->loops[i].has_ongoing = false;
        }
    }
    if (l->exited)
        return 0;
    if (l->tasks)
        cs_spawn_symbols_update(l->spawn_names, cs_corun_tasks_snapshot(l->tasks));
    if (now >= l->next_cpu_ns) {
        sample_cpu(l, now);
        l->next_cpu_ns = now + CPU_EVERY_NS;
    }
    return 0;
}

void cs_live_view(const struct cs_live *l, struct cs_view *v)
{
    memset(v, 0, sizeof *v);
    v->pid = l->pid;
    memcpy(v->comm, l->comm, sizeof v->comm);
    v->attach_mode = cs_collector_uses_fallback(l->coll)      ? "global syscall tracepoints"
                     : cs_collector_uses_corun_edges(l->coll) ? "libcorun poll probes"
                                                              : "per-thread tracepoints";
    v->launched = l->launched;
    v->target_exited = l->exited;
    v->tasks = l->tasks ? cs_corun_tasks_snapshot(l->tasks) : NULL;
    v->has_tasks = v->tasks != NULL;
    v->spawn_sites = cs_spawn_symbols_sites(l->spawn_names); /* SPAWN SITE names */
    v->tasks_stats = l->tasks && cs_corun_tasks_has_stats(l->tasks);
    snprintf(v->tasks_why, sizeof v->tasks_why, "%s",
             l->tasks ? cs_corun_tasks_why(l->tasks) : "out of memory");
    v->nslices = l->tasks ? cs_corun_tasks_slices(l->tasks, v->slices, CS_TASK_SLICES_MAX) : 0;
    v->nended = l->tasks ? cs_corun_tasks_ended(l->tasks, v->ended, CS_TASK_ENDED_MAX) : 0;
    v->lints = l->tasks ? cs_corun_tasks_lints(l->tasks) : NULL;
    v->threshold_ns = l->threshold_ns;
    v->now_ns = cs_mono_ns();
    v->now_wall = time(NULL);
    v->stalls = cs_model_stalls(l->model);
    v->worst_ns = l->worst_ns;
    v->worst_tid = l->worst_tid;
    v->lost = cs_model_lost(l->model);
    v->suppressed = cs_model_suppressed(l->model);
    v->nloops = l->nloops;
    for (size_t i = 0; i < l->nloops; i++) {
        v->loops[i] = l->loops[i].v;
        v->loops[i].in_stall = l->loops[i].has_ongoing;
        /* libcorun loops: the runtime's own histograms, as of the latest snapshot. */
        const struct cs_corun_loop *cl = corun_loop_of(l, v->loops[i].tid);
        if (cl && cs_ll_total(cl->iter_hist) + cs_ll_total(cl->sched_hist)) {
            v->loops[i].has_iter_hist = v->loops[i].has_sched_hist = true;
            cs_ll_to_log2(v->loops[i].iter_hist, cl->iter_hist);
            cs_ll_to_log2(v->loops[i].sched_hist, cl->sched_hist);
        }
    }
    /* Ongoing stalls, newest first (shallow: they live in `l` until the next process). */
    for (size_t i = 0; i < l->nloops && v->nongoing < CS_VIEW_MAX_ONGOING; i++) {
        if (!l->loops[i].has_ongoing)
            continue;
        size_t j = v->nongoing++;
        while (j > 0 && v->ongoing[j - 1].start_ns < l->loops[i].ongoing.start_ns) {
            v->ongoing[j] = v->ongoing[j - 1];
            j--;
        }
        v->ongoing[j] = l->loops[i].ongoing;
    }
    v->model = l->model;
    v->model_stalls_at = cs_model_stalls(l->model);
}
