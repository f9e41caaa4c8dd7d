#include "replay_source.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "exit_codes.h"
#include "keys.h"
#include "hist_ll.h"
#include "model.h"
#include "model_tasks.h"
#include "mono_clock.h"
#include "recording_reader.h"
#include "screens.h"
#include "task_warnings.h"
#include "term.h"
#include "cs_sort.h"

#define TICK_MS   20
#define SPEED_MAX 64.0
#define SPEED_MIN (1.0 / 16)

struct cs_replay {
    struct cs_recording rec;
    char path[256];
    char mode[192]; /* the header's "how" phrase: replay, speed, paused */
    uint64_t t_begin, t_end, vt;
    double speed;
    bool paused;
    uint64_t last_real_ns;

    struct cs_model *model;         /* finished stalls up to vt */
    const struct cs_stall **by_end; /* stalls by end time */
    size_t nstalls, next_stall;
    struct cs_view_loop loops[CS_VIEW_MAX_LOOPS];
    size_t nloops;
    uint64_t worst_ns;
    int worst_tid;

    uint64_t *events; /* every recorded moment, sorted: where a step stops */
    size_t nevents;
    const struct cs_rec_task_stats **ts_sorted; /* by task id, then time */
    const struct cs_rec_slice **slices_by_end;

    bool have_snap;
    uint64_t snap_vt;
    struct cs_corun_snapshot snap;
    struct cs_task_ended ended[CS_TASK_ENDED_MAX];
    size_t nended;
    struct cs_lint_table *lints; /* the warnings live would show, from the snapshots */
};

static uint64_t stall_end(const struct cs_stall *s)
{
    return s->start_ns + s->duration_ns;
}

static int cmp_end(const void *a, const void *b)
{
    uint64_t x = stall_end(*(const struct cs_stall *const *)a);
    uint64_t y = stall_end(*(const struct cs_stall *const *)b);
    return x < y ? -1 : x > y;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int cmp_ts(const void *a, const void *b)
{
    const struct cs_rec_task_stats *x = *(const struct cs_rec_task_stats *const *)a;
    const struct cs_rec_task_stats *y = *(const struct cs_rec_task_stats *const *)b;
    if (x->task_id != y->task_id)
        return x->task_id < y->task_id ? -1 : 1;
    return x->t_ns < y->t_ns ? -1 : x->t_ns > y->t_ns;
}

static int cmp_slice_end(const void *a, const void *b)
{
    const struct cs_rec_slice *x = *(const struct cs_rec_slice *const *)a;
    const struct cs_rec_slice *y = *(const struct cs_rec_slice *const *)b;
    uint64_t ex = x->start_ns + x->duration_ns, ey = y->start_ns + y->duration_ns;
    return ex < ey ? -1 : ex > ey;
}

static struct cs_view_loop *loop_of(struct cs_replay *r, int tid, const char *comm)
{
    for (size_t i = 0; i < r->nloops; i++)
        if (r->loops[i].tid == tid)
            return &r->loops[i];
    if (r->nloops == CS_VIEW_MAX_LOOPS)
        return NULL;
    struct cs_view_loop *l = &r->loops[r->nloops++];
    memset(l, 0, sizeof *l);
    l->tid = tid;
    l->cpu_pct = -1; /* a recording has no thread CPU figures */
    if (comm)
        snprintf(l->comm, sizeof l->comm, "%s", comm);
    cs_model_add_loop(r->model, tid, comm);
    return l;
}

static int build_indexes(struct cs_replay *r)
{
    const struct cs_recording *rec = &r->rec;
    r->nstalls = rec->nstalls;
    size_t nev = 2 * rec->nstalls + rec->nslices + 2 * rec->ntasks + 1;
    r->by_end = calloc(rec->nstalls + 1, sizeof *r->by_end);
    r->events = calloc(nev, sizeof *r->events);
    r->ts_sorted = calloc(rec->ntask_stats + 1, sizeof *r->ts_sorted);
    r->slices_by_end = calloc(rec->nslices + 1, sizeof *r->slices_by_end);
    if (!r->by_end || !r->events || !r->ts_sorted || !r->slices_by_end)
        return -ENOMEM;
    uint64_t end = r->t_begin;
    for (size_t i = 0; i < rec->nstalls; i++) {
        const struct cs_stall *s = &rec->stalls[i];
        r->by_end[i] = s;
        r->events[r->nevents++] = s->start_ns;
        r->events[r->nevents++] = stall_end(s);
        if (stall_end(s) > end)
            end = stall_end(s);
    }
    for (size_t i = 0; i < rec->nslices; i++) {
        r->slices_by_end[i] = &rec->slices[i];
        r->events[r->nevents++] = rec->slices[i].start_ns + rec->slices[i].duration_ns;
    }
    for (size_t i = 0; i < rec->ntasks; i++) {
        r->events[r->nevents++] = rec->tasks[i].spawn.t_ns;
        if (rec->tasks[i].done)
            r->events[r->nevents++] = rec->tasks[i].done_ns;
    }
    for (size_t i = 0; i < rec->ntask_stats; i++)
        r->ts_sorted[i] = &rec->task_stats[i];
    cs_qsort(r->by_end, rec->nstalls, sizeof *r->by_end, cmp_end);
    cs_qsort(r->events, r->nevents, sizeof *r->events, cmp_u64);
    cs_qsort(r->ts_sorted, rec->ntask_stats, sizeof *r->ts_sorted, cmp_ts);
    cs_qsort(r->slices_by_end, rec->nslices, sizeof *r->slices_by_end, cmp_slice_end);
    if (rec->has_trailer && rec->trailer.end_ns > end)
        end = rec->trailer.end_ns;
    r->t_end = end;
    for (size_t i = 0; i < rec->nloops; i++)
        loop_of(r, rec->loops[i].tid, rec->loops[i].comm);
    return 0;
}

int cs_replay_open(const char *path, struct cs_replay **out)
{
    struct cs_replay *r = calloc(1, sizeof *r);
    if (!r) {
        fprintf(stderr, "coscope: out of memory\n");
        return CS_EXIT_FAILURE;
    }
    snprintf(r->path, sizeof r->path, "%s", path);
    int st = cs_recording_load(path, &r->rec);
    bool go_on = false;
    int rc = st == -ENOMEM ? CS_EXIT_FAILURE : cs_recording_status_exit(&r->rec, path, &go_on);
    if (st == -ENOMEM)
        fprintf(stderr, "coscope: out of memory reading %s\n", path);
    if (!go_on) {
        cs_replay_close(r);
        return rc;
    }
    r->speed = 1.0;
    r->t_begin = r->rec.has_target ? r->rec.target.start_mono_ns
                 : r->rec.nstalls  ? r->rec.stalls[0].start_ns
                                   : 0;
    r->vt = r->t_begin;
    r->model = cs_model_new(r->rec.has_target ? r->rec.target.pid : 0);
    r->lints = cs_lints_new(r->rec.has_target ? r->rec.target.threshold_ns : 0);
    if (!r->model || !r->lints || build_indexes(r)) {
        fprintf(stderr, "coscope: out of memory\n");
        cs_replay_close(r);
        return CS_EXIT_FAILURE;
    }
    *out = r;
    return CS_EXIT_OK; /* a corrupt tail still replays what came before it */
}

void cs_replay_close(struct cs_replay *r)
{
    if (!r)
        return;
    if (r->have_snap)
        cs_corun_snapshot_free(&r->snap);
    cs_model_free(r->model);
    cs_lints_free(r->lints);
    free(r->by_end);
    free(r->events);
    free(r->ts_sorted);
    free(r->slices_by_end);
    cs_recording_free(&r->rec);
    free(r);
}

/* Finished stalls up to the clock go into the model, in the order they ended. */
static void feed(struct cs_replay *r)
{
    while (r->next_stall < r->nstalls && stall_end(r->by_end[r->next_stall]) <= r->vt) {
        const struct cs_stall *s = r->by_end[r->next_stall++];
        cs_model_add_stall(r->model, s);
        struct cs_view_loop *l = loop_of(r, s->tid, s->comm);
        if (l) {
            l->stalls++;
            l->stalled_ns += s->duration_ns;
            l->last_stall_end_ns = stall_end(s);
            if (s->duration_ns > l->worst_ns)
                l->worst_ns = s->duration_ns;
        }
        if (s->duration_ns > r->worst_ns) {
            r->worst_ns = s->duration_ns;
            r->worst_tid = s->tid;
        }
    }
}

void cs_replay_tick(struct cs_replay *r, uint64_t now)
{
    if (r->last_real_ns && !r->paused) {
        double adv = (double)(now - r->last_real_ns) * r->speed;
        r->vt += (uint64_t)adv;
        if (r->vt >= r->t_end) {
            r->vt = r->t_end;
            r->paused = true; /* the end: the last picture stays */
        }
    }
    r->last_real_ns = now;
    feed(r);
}

bool cs_replay_key(struct cs_replay *r, int ch, enum cs_screen screen)
{
    bool tasks = screen == CS_SCREEN_TASKS; /* + - . are that screen's fold and sort keys */
    switch (ch) {
    case ' ':
    case 'p':
    case 'P':
        r->paused = !r->paused;
        return true;
    case '.':
        if (tasks)
            return false;
        /* fall through */
    case 'n': {
        r->paused = true;
        size_t lo = 0, hi = r->nevents; /* the first event after the clock */
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (r->events[mid] <= r->vt)
                lo = mid + 1;
            else
                hi = mid;
        }
        r->vt = lo < r->nevents && r->events[lo] < r->t_end ? r->events[lo] : r->t_end;
        feed(r);
        return true;
    }
    case '+':
    case '-':
        if (tasks)
            return false;
        /* fall through */
    case ']':
    case '[':
        if (ch == '+' || ch == ']')
            r->speed = r->speed * 2 > SPEED_MAX ? SPEED_MAX : r->speed * 2;
        else
            r->speed = r->speed / 2 < SPEED_MIN ? SPEED_MIN : r->speed / 2;
        return true;
    }
    return false;
}

/* The latest statistics of task `id` at or before the clock, or NULL. */
static const struct cs_rec_task_stats *task_stats_at(const struct cs_replay *r, uint64_t id)
{
    size_t lo = 0, hi = r->rec.ntask_stats;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->ts_sorted[mid]->task_id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    const struct cs_rec_task_stats *best = NULL;
    for (; lo < r->rec.ntask_stats && r->ts_sorted[lo]->task_id == id; lo++)
        if (r->ts_sorted[lo]->t_ns <= r->vt)
            best = r->ts_sorted[lo];
    return best;
}

static void copy_hist(uint64_t *dst, const uint64_t *src, unsigned n)
{
    memset(dst, 0, CS_TASK_HIST_BUCKETS * sizeof *dst);
    for (unsigned k = 0; k < n; k++)
        dst[k < CS_TASK_HIST_BUCKETS ? k : CS_TASK_HIST_BUCKETS - 1] += src[k];
}

static struct cs_corun_loop *snap_loop(struct cs_corun_snapshot *s, int tid, uint64_t id)
{
    for (size_t i = 0; i < s->nloops; i++)
        if (s->loops[i].tid == tid)
            return &s->loops[i];
    struct cs_corun_loop *l = &s->loops[s->nloops++];
    memset(l, 0, sizeof *l);
    l->tid = tid;
    l->id = id ? id : s->nloops;
    return l;
}

/* The libcorun picture at the clock: loops with their figures, tasks alive (or fading). */
static void build_snapshot(struct cs_replay *r, const struct cs_view *v)
{
    const struct cs_recording *rec = &r->rec;
    if (r->have_snap && r->snap_vt == r->vt)
        return;
    if (r->have_snap)
        cs_corun_snapshot_free(&r->snap);
    r->have_snap = false;
    r->nended = 0;
    if (!rec->ntasks) /* a foreign loop's LOOP_STATS (loop_id 0) make no task model */
        return;
    struct cs_corun_snapshot *s = &r->snap;
    memset(s, 0, sizeof *s);
    s->pid = rec->has_target ? rec->target.pid : 0;
    s->taken_ns = (int64_t)r->vt;
    size_t maxloops = rec->nloop_stats + rec->ntasks + 1;
    s->loops = calloc(maxloops, sizeof *s->loops);
    struct cs_task *tasks = calloc(rec->ntasks + 1, sizeof *tasks);
    size_t *loop_of_task = calloc(rec->ntasks + 1, sizeof *loop_of_task);
    if (!s->loops || !tasks || !loop_of_task) {
        free(s->loops);
        free(tasks);
        free(loop_of_task);
        return;
    }
    for (size_t i = 0; i < rec->nloop_stats; i++) { /* in file order: the latest wins */
        const struct cs_rec_loop_stats *ls = &rec->loop_stats[i];
        if (ls->t_ns > r->vt || !ls->loop_id)
            continue;
        struct cs_corun_loop *l = snap_loop(s, ls->tid, ls->loop_id);
        l->iterations = ls->iterations;
        l->busy_ns = ls->busy_ns;
        l->poll_wait_ns = ls->poll_wait_ns;
        memcpy(l->sched_hist, ls->sched_hist, sizeof l->sched_hist); /* both log-linear */
        memcpy(l->iter_hist, ls->iter_hist, sizeof l->iter_hist);
    }
    size_t n = 0;
    for (size_t i = 0; i < rec->ntasks; i++) {
        const struct cs_rec_task *t = &rec->tasks[i];
        if (t->spawn.t_ns > r->vt)
            continue;
        bool ended = t->done && t->done_ns <= r->vt;
        if (ended && r->vt - t->done_ns >= (uint64_t)CS_TASK_FADE_NS)
            continue;
        struct cs_task *o = &tasks[n];
        o->id = t->spawn.id;
        o->parent_id = t->spawn.parent_id;
        snprintf(o->name, sizeof o->name, "%s", t->spawn.name);
        o->created_ns = (int64_t)t->spawn.t_ns;
        o->state = CORUN_TASK_WAITING;
        o->wait_obj_unknown = true; /* the file has why a task waits, not on what */
        const struct cs_rec_task_stats *ts = task_stats_at(r, o->id);
        if (ts) {
            o->has_stats = true;
            o->polls = ts->polls;
            o->busy_ns = ts->busy_ns;
            o->wakes = ts->wakes;
            copy_hist(o->sched_hist, ts->sched_hist, ts->nbuckets);
            if (ts->state)
                o->state = ts->state;
            o->wait_reason = ts->wait_reason;
        }
        for (size_t k = 0; k < v->nongoing; k++)
            if (v->ongoing[k].task && v->ongoing[k].task_id == o->id)
                o->state = CORUN_TASK_RUNNING; /* it holds the loop right now */
        if (ended) {
            o->state = CORUN_TASK_DONE;
            o->outcome_known = t->outcome_known; /* "failed" as live marks it */
            o->outcome = t->outcome;
            o->error = t->error;
            if (r->nended < CS_TASK_ENDED_MAX) /* tasks are sorted by id */
                r->ended[r->nended++] =
                    (struct cs_task_ended){.task_id = o->id, .ended_ns = (int64_t)t->done_ns};
        }
        struct cs_corun_loop *l = snap_loop(s, t->spawn.loop_tid, 0);
        loop_of_task[n] = (size_t)(l - s->loops);
        n++;
    }
    for (size_t i = 0; i < s->nloops; i++) { /* each loop gets its tasks, in id order */
        struct cs_corun_loop *l = &s->loops[i];
        size_t cnt = 0;
        for (size_t j = 0; j < n; j++)
            cnt += loop_of_task[j] == i;
        l->tasks = cnt ? calloc(cnt, sizeof *l->tasks) : NULL;
        for (size_t j = 0; j < n && l->tasks; j++)
            if (loop_of_task[j] == i) {
                l->tasks[l->ntasks++] = tasks[j];
                if (tasks[j].state == CORUN_TASK_RUNNING)
                    l->current_task_id = tasks[j].id;
            }
        l->task_count = l->ntasks;
    }
    free(tasks);
    free(loop_of_task);
    r->have_snap = true;
    r->snap_vt = r->vt;
    /* The clock only goes forward: the table sees the snapshots in order, as live. */
    if (r->lints)
        cs_lints_snapshot(r->lints, s);
}

/* A loop's figures at the clock from its latest LOOP_STATS (and the one before it, for
 * the utilisation): the histograms the loops screen and the header show. */
static void loop_stats_at(const struct cs_replay *r, struct cs_view_loop *l)
{
    const struct cs_rec_loop_stats *last = NULL, *prev = NULL;
    for (size_t i = 0; i < r->rec.nloop_stats; i++) { /* in file order: time order */
        const struct cs_rec_loop_stats *ls = &r->rec.loop_stats[i];
        if (ls->tid == l->tid && ls->t_ns <= r->vt)
            last = ls;
    }
    if (!last)
        return;
    /* The utilisation over the last second, as live: from the sample a second before (or
     * the first one), so a quiet last sample or two say 0%, not "not known". */
    for (size_t i = 0; i < r->rec.nloop_stats; i++) {
        const struct cs_rec_loop_stats *ls = &r->rec.loop_stats[i];
        if (ls->tid == l->tid && ls != last && (!prev || ls->t_ns + 1000000000ull <= last->t_ns))
            prev = ls;
        if (ls == last)
            break;
    }
    l->has_iter_hist = true;
    cs_ll_to_log2(l->iter_hist, last->iter_hist); /* the view's: one bar per power of two */
    if (last->loop_id) { /* libcorun: the runtime's scheduling latency too */
        l->has_sched_hist = true;
        cs_ll_to_log2(l->sched_hist, last->sched_hist);
    }
    if (prev && last->busy_ns >= prev->busy_ns && last->poll_wait_ns >= prev->poll_wait_ns) {
        uint64_t busy = last->busy_ns - prev->busy_ns,
                 wait = last->poll_wait_ns - prev->poll_wait_ns;
        l->util_pct = busy + wait ? 100.0 * (double)busy / (double)(busy + wait) : 0;
        l->util_from = last->loop_id ? "runtime" : "engine";
    }
}

/* An ongoing stall at the clock: the part of it that has happened. The recording has
 * the whole stall's CPU and system call times; shown whole, ON-CPU would exceed the
 * duration so far. They are scaled to the share of the stall elapsed. */
static void stall_so_far(struct cs_stall *s, uint64_t whole_ns, uint64_t so_far_ns)
{
    if (!whole_ns || so_far_ns >= whole_ns)
        return;
    double k = (double)so_far_ns / (double)whole_ns;
    s->on_cpu_ns = (uint64_t)((double)s->on_cpu_ns * k);
    s->off_cpu_ns = (uint64_t)((double)s->off_cpu_ns * k);
    if (s->on_cpu_ns > so_far_ns)
        s->on_cpu_ns = so_far_ns;
    if (s->on_cpu_ns + s->off_cpu_ns > so_far_ns)
        s->off_cpu_ns = so_far_ns - s->on_cpu_ns;
    for (unsigned i = 0; i < s->nsyscalls && i < CS_MODEL_MAX_SYSCALLS; i++)
        s->syscalls[i].total_ns = (uint64_t)((double)s->syscalls[i].total_ns * k);
}

void cs_replay_view(struct cs_replay *r, struct cs_view *v)
{
    const struct cs_recording *rec = &r->rec;
    memset(v, 0, sizeof *v);
    v->pid = rec->has_target ? rec->target.pid : 0;
    if (rec->has_target)
        memcpy(v->comm, rec->target.comm, sizeof v->comm);
    /* The header says "replay STATE +clock of FILE": a narrow one drops the file name. */
    char state[32];
    if (r->paused)
        snprintf(state, sizeof state, "%s", r->vt >= r->t_end ? "END" : "PAUSED");
    else
        snprintf(state, sizeof state, "x%g", r->speed);
    snprintf(r->mode, sizeof r->mode, "%s +%.1fs/%.1fs", state, (double)(r->vt - r->t_begin) / 1e9,
             (double)(r->t_end - r->t_begin) / 1e9);
    v->attach_mode = r->mode;
    v->replay_of = r->path;
    v->target_exited =
        r->vt >= r->t_end && rec->has_trailer && rec->trailer.reason == CS_REC_END_EXITED;
    v->threshold_ns = rec->has_target ? rec->target.threshold_ns : 0;
    v->now_ns = r->vt;
    v->now_wall =
        rec->has_target
            ? (time_t)((rec->target.start_realtime_ns + (r->vt - rec->target.start_mono_ns)) /
                       1000000000ull)
            : 0;
    v->stalls = cs_model_stalls(r->model);
    v->worst_ns = r->worst_ns;
    v->worst_tid = r->worst_tid;
    if (rec->lost.t_ns <= r->vt) {
        v->lost = rec->lost.lost_events;
        v->suppressed = rec->lost.suppressed;
    }
    v->nloops = r->nloops;
    memcpy(v->loops, r->loops, r->nloops * sizeof *v->loops);
    for (size_t k = 0; k < v->nloops; k++)
        loop_stats_at(r, &v->loops[k]);
    /* Stalls in progress at the clock grow on screen as they did live (newest first). */
    for (size_t i = 0; i < rec->nstalls; i++) {
        const struct cs_stall *s = &rec->stalls[i];
        if (s->start_ns > r->vt || stall_end(s) <= r->vt)
            continue;
        for (size_t k = 0; k < v->nloops; k++)
            if (v->loops[k].tid == s->tid)
                v->loops[k].in_stall = true;
        if (v->nongoing == CS_VIEW_MAX_ONGOING)
            continue;
        size_t j = v->nongoing++;
        while (j > 0 && v->ongoing[j - 1].start_ns < s->start_ns) {
            v->ongoing[j] = v->ongoing[j - 1];
            j--;
        }
        v->ongoing[j] = *s; /* shallow: it points into the recording */
        v->ongoing[j].ongoing = true;
        v->ongoing[j].duration_ns = r->vt - s->start_ns;
        stall_so_far(&v->ongoing[j], s->duration_ns, r->vt - s->start_ns);
    }
    /* Long task slices that ended by now, the most recent ones. */
    size_t lo = 0, hi = rec->nslices;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct cs_rec_slice *sl = r->slices_by_end[mid];
        if (sl->start_ns + sl->duration_ns <= r->vt)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t from = lo > CS_TASK_SLICES_MAX ? lo - CS_TASK_SLICES_MAX : 0;
    for (size_t i = from; i < lo; i++) {
        const struct cs_rec_slice *sl = r->slices_by_end[i];
        struct cs_task_slice *o = &v->slices[v->nslices++];
        o->tid = sl->tid;
        o->task_id = sl->task_id;
        o->start_ns = sl->start_ns;
        o->end_ns = sl->start_ns + sl->duration_ns;
        snprintf(o->task, sizeof o->task, "%.*s", (int)sizeof o->task - 1, sl->name);
    }
    build_snapshot(r, v);
    v->tasks = r->have_snap ? &r->snap : NULL;
    v->has_tasks = r->have_snap;
    v->tasks_stats = rec->ntask_stats > 0;
    if (!r->have_snap)
        snprintf(v->tasks_why, sizeof v->tasks_why, "the recording has no libcorun tasks");
    v->lints = r->have_snap ? r->lints : NULL;
    v->nended = r->nended;
    memcpy(v->ended, r->ended, r->nended * sizeof *v->ended);
    v->model = r->model;
    v->model_stalls_at = cs_model_stalls(r->model);
}

static volatile sig_atomic_t replay_stop;

static void on_replay_signal(int sig)
{
    (void)sig;
    replay_stop = 1;
}

int cs_replay_top(const char *path, uint64_t interval_ns, uint64_t duration_ns,
                  cs_replay_draw_fn draw)
{
    struct cs_replay *r = NULL;
    int rc = cs_replay_open(path, &r);
    if (rc != CS_EXIT_OK)
        return rc;
    char why[256];
    if (cs_term_open(why, sizeof why)) {
        fprintf(stderr, "coscope: %s\n", why);
        cs_replay_close(r);
        return CS_EXIT_USAGE;
    }
    atexit(cs_term_close);
    struct sigaction sa = {0};
    sa.sa_handler = on_replay_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);

    struct cs_ui ui = {.screen = CS_SCREEN_STALLS, .interval_ms = (int)(interval_ns / 1000000)};
    static struct cs_view view;
    uint64_t t0 = cs_mono_ns(), next_frame_ns = 0;
    while (!replay_stop && !ui.quit) {
        uint64_t now = cs_mono_ns();
        if (duration_ns && now - t0 >= duration_ns)
            break;
        struct pollfd pfd = {.fd = STDIN_FILENO, .events = POLLIN};
        if (poll(&pfd, 1, TICK_MS) < 0 && errno != EINTR)
            break;
        cs_replay_tick(r, cs_mono_ns());
        cs_replay_view(r, &view);
        bool dirty = false;
        int ch;
        while ((ch = cs_term_key()) != -1) {
            if (!(ui.filter_editing ? false : cs_replay_key(r, ch, ui.screen)))
                cs_keys_handle(&ui, ch, &view);
            else
                cs_replay_view(r, &view);
            dirty = true;
        }
        now = cs_mono_ns();
        if (ui.quit || (!dirty && now < next_frame_ns))
            continue;
        draw(&view, &ui);
        if (now >= next_frame_ns)
            next_frame_ns = now + interval_ns;
    }
    cs_term_close();
    if (ui.have_detail)
        cs_stall_release(&ui.detail);
    free(ui.task_detail);
    cs_tasks_rows_free(&ui);
    fprintf(stderr, "coscope: replayed %s up to +%.1f s of %.1f s\n", path,
            (double)(r->vt - r->t_begin) / 1e9, (double)(r->t_end - r->t_begin) / 1e9);
    cs_replay_close(r);
    return CS_EXIT_OK;
}
