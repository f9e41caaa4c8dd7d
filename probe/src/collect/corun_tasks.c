#include "corun_tasks.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "corun_polls.h"
#include "corun_probes.h"
#include "corun_target.h"
#include "corun_usdt.h"
#include "model.h"
#include "model_tasks.h"
#include "task_warnings.h"
#include "task_tree.h"
#include "cs_sort.h"

#define SNAPSHOT_EVERY_NS 250000000ull  /* tasks change fast; a snapshot is cheap */
#define RETRY_OPEN_NS     2000000000ull /* libcorun may be mapped later (dlopen, exec) */

#define SLICES_KEPT   256
#define GHOSTS_MAX    CS_TASK_ENDED_MAX
#define PENDING_MAX   64
#define PENDING_NS    3000000000ull /* a stall waits this long for its task's slice event */
#define LINTS_KEEP_NS 30000000000ll /* warnings of a task gone this long are forgotten */
#define ENDS_KEPT     512           /* task ends (corun:task_done) remembered, newest */
#define LIFE_RING     (256u << 10)

/* A task's end as corun:task_done saw it: its final figures, outcome, name and loop. */
struct task_end {
    int tid;
    int64_t ended_ns;
    struct cs_task task;
};

/* A task that ended: still drawn, dimmed, for CS_TASK_FADE_NS. */
struct ghost {
    uint64_t loop_id;
    int64_t ended_ns;
    struct cs_task task;
};

/* A finished stall whose off-CPU time went to a system call, waiting to be pinned on a
 * task (the slice event that names it may come after the stall's record). */
struct pending_stall {
    int tid;
    uint64_t start_ns, end_ns, task_id, syscall_ns;
    int64_t noted_ns;
    char syscall[32];
};

struct cs_corun_tasks {
    int pid;
    uint64_t threshold_ns;
    bool open;
    struct cs_corun_target target;
    struct cs_corun_probes *probes;           /* corun:stats and corun:slice_long */
    struct ring_buffer *rb;                   /* long slices, owned by the probes */
    struct cs_task_slice slices[SLICES_KEPT]; /* ring of long task slices */
    size_t slices_head, nslices;
    uint64_t slices_total;   /* ever received: slices_total - nslices is the ring's first */
    uint64_t slices_at_snap; /* slices_total when the last snapshot was taken */
    struct ghost ghosts[GHOSTS_MAX];
    size_t nghosts;
    struct pending_stall pending[PENDING_MAX];
    size_t npending;
    struct cs_lint_table *lints;
    struct cs_corun_polls *life; /* task ends with their final figures (corun_polls.h) */
    struct task_end ends[ENDS_KEPT];
    size_t ends_head, nends;
    uint64_t ends_total, ends_at_snap;
    int64_t next_expire_ns;
    bool have_snap;
    struct cs_corun_snapshot snap;
    uint64_t next_snap_ns, next_open_ns;
    char why[256];
};

struct cs_corun_tasks *cs_corun_tasks_new(int pid, uint64_t threshold_ns)
{
    struct cs_corun_tasks *s = calloc(1, sizeof *s);
    if (s) {
        s->pid = pid;
        s->threshold_ns = threshold_ns;
        s->lints = cs_lints_new(threshold_ns);
        if (!s->lints) {
            free(s);
            return NULL;
        }
    }
    return s;
}

static void drop_snapshot(struct cs_corun_tasks *s)
{
    if (s->have_snap)
        cs_corun_snapshot_free(&s->snap);
    s->have_snap = false;
}

void cs_corun_tasks_free(struct cs_corun_tasks *s)
{
    if (!s)
        return;
    drop_snapshot(s);
    cs_corun_polls_close(s->life);
    cs_corun_probes_close(s->probes);
    cs_lints_free(s->lints);
    free(s);
}

static int on_slice(void *ctx, void *data, size_t len)
{
    struct cs_corun_tasks *s = ctx;
    const struct cs_corun_slice_event *e = data;
    if (len < sizeof *e)
        return 0;
    size_t slot = (s->slices_head + s->nslices) % SLICES_KEPT;
    if (s->nslices == SLICES_KEPT)
        s->slices_head = (s->slices_head + 1) % SLICES_KEPT;
    else
        s->nslices++;
    struct cs_task_slice *v = &s->slices[slot];
    s->slices_total++;
    v->tid = (int)e->tid;
    v->task_id = e->task_id;
    v->start_ns = e->start_ns;
    v->end_ns = e->start_ns + e->duration_ns;
    size_t n = sizeof v->task < sizeof e->name ? sizeof v->task - 1 : sizeof e->name;
    memcpy(v->task, e->name, n);
    v->task[n] = 0;
    cs_lints_slice(s->lints, e->task_id, e->duration_ns, (int64_t)v->end_ns);
    return 0;
}

/*
 * Attaching corun:stats raises its USDT semaphore: the runtime keeps per-task polls,
 * busy time and histograms while it is up. corun:slice_long names the task of each long
 * slice, which names the task of a stall. Without them the tree still shows, minus those.
 */
static void hold_stats(struct cs_corun_tasks *s)
{
    char why[256];
    const struct cs_corun_probe_params params = {.min_slice_ns = s->threshold_ns / 2};
    if (cs_corun_probes_open(&s->target, CS_CORUN_PROG_STATS | CS_CORUN_PROG_SLICES, 0, &params,
                             &s->probes, why, sizeof why) != 0)
        return;
    if (cs_corun_probes_attached(s->probes) & CS_CORUN_PROG_SLICES)
        s->rb = cs_corun_probes_ring(s->probes, CS_CORUN_MAP_SLICES, on_slice, s);
}

size_t cs_corun_tasks_slices(const struct cs_corun_tasks *s, struct cs_task_slice *out, size_t max)
{
    size_t n = s->nslices < max ? s->nslices : max;
    for (size_t i = 0; i < n; i++)
        out[i] = s->slices[(s->slices_head + s->nslices - n + i) % SLICES_KEPT];
    return n;
}

static void on_life(const struct cs_corun_poll_event *e, void *arg)
{
    struct cs_corun_tasks *s = arg;
    if (e->kind != CS_CORUN_EV_END)
        return;
    const struct cs_corun_life_event *l = (const struct cs_corun_life_event *)e;
    size_t slot = (s->ends_head + s->nends) % ENDS_KEPT;
    if (s->nends == ENDS_KEPT)
        s->ends_head = (s->ends_head + 1) % ENDS_KEPT;
    else
        s->nends++;
    s->ends_total++;
    struct task_end *end = &s->ends[slot];
    memset(end, 0, sizeof *end);
    end->tid = (int)e->tid;
    end->ended_ns = (int64_t)e->start_ns;
    struct cs_task *t = &end->task;
    t->id = e->task_id;
    t->state = CORUN_TASK_DONE;
    snprintf(t->name, sizeof t->name, "%.*s", (int)sizeof l->name, l->name);
    t->outcome_known = true;
    t->outcome = l->outcome;
    t->error = l->error;
    t->has_stats = l->has_stats != 0;
    t->polls = l->polls;
    t->busy_ns = l->busy_ns;
    t->wakes = l->wakes;
    for (unsigned k = 0; k < CS_TASK_HIST_BUCKETS && k < CS_CORUN_HIST; k++)
        t->sched_hist[k] = l->sched_hist[k];
}

static const struct task_end *end_of(const struct cs_corun_tasks *s, uint64_t task_id)
{
    for (size_t i = s->nends; i-- > 0;) {
        const struct task_end *e = &s->ends[(s->ends_head + i) % ENDS_KEPT];
        if (e->task.id == task_id)
            return e;
    }
    return NULL;
}

/* A ghost's figures are its end's, when corun:task_done was seen: the snapshot before the
 * end may predate the task's last slices (or all of them). */
static void apply_end(const struct cs_corun_tasks *s, struct ghost *g)
{
    const struct task_end *e = end_of(s, g->task.id);
    if (!e)
        return;
    struct cs_task t = g->task;
    t.state = CORUN_TASK_DONE;
    t.outcome_known = true;
    t.outcome = e->task.outcome;
    t.error = e->task.error;
    if (e->task.has_stats) {
        t.has_stats = true;
        t.polls = e->task.polls;
        t.busy_ns = e->task.busy_ns;
        t.wakes = e->task.wakes;
        memcpy(t.sched_hist, e->task.sched_hist, sizeof t.sched_hist);
    }
    g->task = t;
    g->ended_ns = e->ended_ns;
}

static void try_open(struct cs_corun_tasks *s)
{
    char why[256] = "";
    int err = cs_corun_open(s->pid, &s->target, why, sizeof why);
    if (err) {
        if (err == -ENOENT)
            snprintf(s->why, sizeof s->why, "process %d does not use libcorun", s->pid);
        else
            snprintf(s->why, sizeof s->why, "%s", why);
        return;
    }
    s->open = true;
    s->why[0] = 0;
    hold_stats(s);
    /* Without it ended tasks keep the figures of the last snapshot that saw them alive. */
    cs_corun_polls_open(s->pid, LIFE_RING, false, on_life, s, &s->life, why, sizeof why);
}

static const struct cs_corun_loop *loop_by_id(const struct cs_corun_snapshot *snap, uint64_t id)
{
    for (size_t i = 0; i < snap->nloops; i++)
        if (snap->loops[i].id == id)
            return &snap->loops[i];
    return NULL;
}

static long task_index_in(const struct cs_corun_snapshot *snap, uint64_t loop_id, uint64_t id)
{
    const struct cs_corun_loop *loop = loop_by_id(snap, loop_id);
    return loop ? cs_task_index(loop, id) : -1;
}

static bool is_ghost(const struct cs_corun_tasks *s, uint64_t task_id)
{
    for (size_t i = 0; i < s->nghosts; i++)
        if (s->ghosts[i].task.id == task_id)
            return true;
    return false;
}

static void add_ghost(struct cs_corun_tasks *s, uint64_t loop_id, const struct cs_task *t,
                      int64_t ended_ns)
{
    if (s->nghosts == GHOSTS_MAX) { /* the oldest goes first */
        memmove(&s->ghosts[0], &s->ghosts[1], (GHOSTS_MAX - 1) * sizeof s->ghosts[0]);
        s->nghosts--;
    }
    struct ghost *g = &s->ghosts[s->nghosts++];
    g->loop_id = loop_id;
    g->ended_ns = ended_ns;
    g->task = *t;
}

/* The loop of thread `tid` in `next` if task `task_id` ran there and neither snapshot nor
 * a ghost shows it (born and gone between the two), else NULL. */
static const struct cs_corun_loop *unseen_loop(const struct cs_corun_tasks *s,
                                               const struct cs_corun_snapshot *next, int tid,
                                               uint64_t task_id)
{
    const struct cs_corun_loop *loop = NULL;
    for (size_t i = 0; i < next->nloops; i++)
        if (next->loops[i].tid == tid)
            loop = &next->loops[i];
    if (!loop || !task_id || cs_task_index(loop, task_id) >= 0 || is_ghost(s, task_id) ||
        (s->have_snap && task_index_in(&s->snap, loop->id, task_id) >= 0))
        return NULL;
    return loop;
}

/*
 * Tasks of the previous snapshot missing from `next` have ended; so have tasks that only
 * a long-slice event ever showed (born and gone between two snapshots). Both are kept as
 * ghosts for a few seconds; ghosts older than that are dropped.
 */
static void note_ended(struct cs_corun_tasks *s, const struct cs_corun_snapshot *next)
{
    size_t keep = 0;
    for (size_t i = 0; i < s->nghosts; i++)
        if (next->taken_ns - s->ghosts[i].ended_ns < CS_TASK_FADE_NS &&
            task_index_in(next, s->ghosts[i].loop_id, s->ghosts[i].task.id) < 0)
            s->ghosts[keep++] = s->ghosts[i];
    s->nghosts = keep;
    if (s->have_snap) {
        for (size_t i = 0; i < s->snap.nloops; i++) {
            const struct cs_corun_loop *old = &s->snap.loops[i];
            const struct cs_corun_loop *now = loop_by_id(next, old->id);
            if (!now)
                continue; /* a loop that stopped takes its tasks with it */
            for (size_t k = 0; k < old->ntasks; k++)
                if (cs_task_index(now, old->tasks[k].id) < 0 && !is_ghost(s, old->tasks[k].id))
                    add_ghost(s, old->id, &old->tasks[k], next->taken_ns);
        }
    }
    /* Slices received since the last snapshot, of tasks no snapshot has shown. */
    uint64_t first = s->slices_total - s->nslices;
    for (uint64_t q = s->slices_at_snap > first ? s->slices_at_snap : first; q < s->slices_total;
         q++) {
        const struct cs_task_slice *sl = &s->slices[(s->slices_head + (q - first)) % SLICES_KEPT];
        const struct cs_corun_loop *loop = unseen_loop(s, next, sl->tid, sl->task_id);
        if (!loop)
            continue;
        struct cs_task t = {.id = sl->task_id, .state = CORUN_TASK_DONE};
        t.created_ns = (int64_t)sl->start_ns;
        snprintf(t.name, sizeof t.name, "%s", sl->task);
        add_ghost(s, loop->id, &t, (int64_t)sl->end_ns);
    }
    s->slices_at_snap = s->slices_total;
    /* Ends received since the last snapshot, of tasks no snapshot and no slice showed. */
    uint64_t first_end = s->ends_total - s->nends;
    for (uint64_t q = s->ends_at_snap > first_end ? s->ends_at_snap : first_end; q < s->ends_total;
         q++) {
        const struct task_end *e = &s->ends[(s->ends_head + (q - first_end)) % ENDS_KEPT];
        const struct cs_corun_loop *loop = unseen_loop(s, next, e->tid, e->task.id);
        if (loop)
            add_ghost(s, loop->id, &e->task, e->ended_ns);
    }
    s->ends_at_snap = s->ends_total;
    for (size_t i = 0; i < s->nghosts && s->nends; i++)
        apply_end(s, &s->ghosts[i]);
}

static int by_task_id(const void *a, const void *b)
{
    const struct cs_task *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* The ghosts join the new snapshot's task arrays (kept sorted by id) to be drawn. */
static void merge_ghosts(struct cs_corun_tasks *s)
{
    for (size_t i = 0; i < s->snap.nloops; i++) {
        struct cs_corun_loop *loop = &s->snap.loops[i];
        size_t add = 0;
        for (size_t g = 0; g < s->nghosts; g++)
            add += s->ghosts[g].loop_id == loop->id;
        if (!add)
            continue;
        struct cs_task *tasks = realloc(loop->tasks, (loop->ntasks + add) * sizeof *tasks);
        if (!tasks)
            continue;
        loop->tasks = tasks;
        bool sorted = true;
        for (size_t g = 0; g < s->nghosts; g++) {
            if (s->ghosts[g].loop_id != loop->id)
                continue;
            if (loop->ntasks && tasks[loop->ntasks - 1].id > s->ghosts[g].task.id)
                sorted = false;
            tasks[loop->ntasks++] = s->ghosts[g].task;
        }
        if (!sorted)
            cs_qsort(tasks, loop->ntasks, sizeof *tasks, by_task_id);
    }
}

/* Pins pending stalls on tasks: by the collector's attribution or an overlapping slice. */
static void resolve_pending(struct cs_corun_tasks *s, uint64_t now_ns)
{
    size_t keep = 0;
    for (size_t i = 0; i < s->npending; i++) {
        struct pending_stall *p = &s->pending[i];
        uint64_t id = p->task_id, best_ns = 0;
        for (size_t k = 0; !id && k < s->nslices; k++) {
            const struct cs_task_slice *sl = &s->slices[(s->slices_head + k) % SLICES_KEPT];
            if (sl->tid != p->tid || sl->end_ns <= p->start_ns || sl->start_ns >= p->end_ns)
                continue;
            uint64_t lo = sl->start_ns > p->start_ns ? sl->start_ns : p->start_ns;
            uint64_t hi = sl->end_ns < p->end_ns ? sl->end_ns : p->end_ns;
            if (hi - lo > best_ns) {
                best_ns = hi - lo;
                id = sl->task_id;
            }
        }
        if (id)
            cs_lints_blocking(s->lints, id, p->syscall, p->syscall_ns, (int64_t)now_ns);
        else if (now_ns - (uint64_t)p->noted_ns < PENDING_NS)
            s->pending[keep++] = *p;
    }
    s->npending = keep;
}

void cs_corun_tasks_note_stall(struct cs_corun_tasks *s, const struct cs_stall *st, uint64_t now_ns)
{
    /* The call the loop thread was blocked in longest, if it matters against the stall. */
    const struct cs_syscall_time *top = NULL;
    for (unsigned i = 0; i < st->nsyscalls; i++)
        if (!top || st->syscalls[i].total_ns > top->total_ns)
            top = &st->syscalls[i];
    if (st->ongoing || !top || top->total_ns * 4 < st->duration_ns)
        return;
    if (s->npending == PENDING_MAX)
        return;
    struct pending_stall *p = &s->pending[s->npending++];
    p->tid = st->tid;
    p->start_ns = st->start_ns;
    p->end_ns = st->start_ns + st->duration_ns;
    p->task_id = st->task ? st->task_id : 0;
    p->syscall_ns = top->total_ns;
    p->noted_ns = (int64_t)now_ns;
    snprintf(p->syscall, sizeof p->syscall, "%s", top->name);
}

size_t cs_corun_tasks_ended(const struct cs_corun_tasks *s, struct cs_task_ended *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < s->nghosts && n < max; i++) {
        struct cs_task_ended e = {s->ghosts[i].task.id, s->ghosts[i].ended_ns};
        size_t j = n++;
        while (j > 0 && out[j - 1].task_id > e.task_id) {
            out[j] = out[j - 1];
            j--;
        }
        out[j] = e;
    }
    return n;
}

const struct cs_lint_table *cs_corun_tasks_lints(const struct cs_corun_tasks *s)
{
    return s->lints;
}

void cs_corun_tasks_process(struct cs_corun_tasks *s, uint64_t now_ns)
{
    if (s->rb)
        ring_buffer__poll(s->rb, 0);
    cs_corun_polls_consume(s->life);
    if (s->npending)
        resolve_pending(s, now_ns);
    if (!s->open) {
        if (now_ns < s->next_open_ns)
            return;
        s->next_open_ns = now_ns + RETRY_OPEN_NS;
        try_open(s);
        if (!s->open)
            return;
    }
    if (now_ns < s->next_snap_ns)
        return;
    s->next_snap_ns = now_ns + SNAPSHOT_EVERY_NS;
    struct cs_corun_snapshot snap;
    int err = cs_corun_snapshot(&s->target, &snap);
    if (err) {
        /* Keep the last good picture; a moving target can make one read fail. */
        if (err == -ESRCH)
            snprintf(s->why, sizeof s->why, "process %d is gone", s->pid);
        return;
    }
    cs_lints_snapshot(s->lints, &snap);
    note_ended(s, &snap);
    drop_snapshot(s);
    s->snap = snap;
    s->have_snap = true;
    merge_ghosts(s);
    if ((int64_t)now_ns >= s->next_expire_ns) {
        cs_lints_expire(s->lints, (int64_t)now_ns - LINTS_KEEP_NS);
        s->next_expire_ns = (int64_t)now_ns + 5000000000ll;
    }
}

const struct cs_corun_snapshot *cs_corun_tasks_snapshot(const struct cs_corun_tasks *s)
{
    return s->have_snap ? &s->snap : NULL;
}

bool cs_corun_tasks_has_stats(const struct cs_corun_tasks *s)
{
    return (cs_corun_probes_attached(s->probes) & CS_CORUN_PROG_STATS) != 0;
}

const char *cs_corun_tasks_why(const struct cs_corun_tasks *s)
{
    return s->why;
}
