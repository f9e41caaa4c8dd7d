#include "record_tasks.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record_encode.h"
#include "cs_sort.h"

/* What was written about one task (parallel to nothing: cs_stat's array moves). */
struct known {
    uint64_t id;
    bool done;
    int64_t done_ns; /* when `done` was set (CLOCK_MONOTONIC) */
};

/*
 * A task ended this long ago is forgotten: its snapshot figures and its entry here. Late
 * news of it (a ghost in a snapshot, an end event still in the ring buffer) comes within
 * a few seconds (CS_TASK_FADE_NS); without forgetting, a target spawning thousands of
 * short tasks a second grows the recorder without bound.
 */
#define FORGET_NS (15 * 1000000000ll)

struct cs_rec_tasks {
    struct cs_stat stat;
    struct known *known; /* sorted by id */
    size_t nknown, cap_known;
    size_t seen;       /* tasks ever entered in `known` */
    int64_t pruned_ns; /* the last forgetting */
};

struct cs_rec_tasks *cs_rec_tasks_new(int pid)
{
    struct cs_rec_tasks *t = calloc(1, sizeof *t);
    if (t)
        cs_stat_init(&t->stat, pid);
    return t;
}

void cs_rec_tasks_free(struct cs_rec_tasks *t)
{
    if (!t)
        return;
    cs_stat_free(&t->stat);
    free(t->known);
    free(t);
}

size_t cs_rec_tasks_seen(const struct cs_rec_tasks *t)
{
    return t->seen;
}

static void mark_done(struct known *k, int64_t now_ns)
{
    k->done = true;
    k->done_ns = now_ns;
}

/* Forgets the tasks ended more than FORGET_NS before `now_ns` (at most once a second). */
static void forget_ended(struct cs_rec_tasks *t, int64_t now_ns)
{
    if (now_ns - t->pruned_ns < 1000000000ll)
        return;
    t->pruned_ns = now_ns;
    size_t keep = 0;
    for (size_t i = 0; i < t->nknown; i++)
        if (!t->known[i].done || now_ns - t->known[i].done_ns < FORGET_NS)
            t->known[keep++] = t->known[i];
    t->nknown = keep;
    if (t->cap_known > 256 && t->nknown < t->cap_known / 4) {
        size_t cap = t->cap_known / 2;
        struct known *k = realloc(t->known, cap * sizeof *k);
        if (k) {
            t->known = k;
            t->cap_known = cap;
        }
    }
    cs_stat_forget_gone(&t->stat, now_ns - FORGET_NS);
}

/* The entry for `id`, inserted (done=false, *fresh=true) if absent; NULL if out of memory. */
static struct known *known_get(struct cs_rec_tasks *t, uint64_t id, bool *fresh)
{
    size_t lo =
        cs_lower_bound_u64(t->known, t->nknown, sizeof *t->known, offsetof(struct known, id), id);
    *fresh = false;
    if (lo < t->nknown && t->known[lo].id == id)
        return &t->known[lo];
    if (t->nknown == t->cap_known) {
        size_t cap = t->cap_known ? 2 * t->cap_known : 64;
        struct known *k = realloc(t->known, cap * sizeof *k);
        if (!k)
            return NULL;
        t->known = k;
        t->cap_known = cap;
    }
    memmove(&t->known[lo + 1], &t->known[lo], (t->nknown - lo) * sizeof *t->known);
    t->nknown++;
    t->known[lo] = (struct known){.id = id};
    t->seen++;
    *fresh = true;
    return &t->known[lo];
}

static int loop_tid_of(const struct cs_stat *st, uint64_t loop_id)
{
    for (size_t i = 0; i < st->nloops; i++)
        if (st->loops[i].id == loop_id)
            return st->loops[i].tid;
    return 0;
}

static int write_spawn(struct cs_rec_tasks *t, struct cs_rec_writer *w,
                       const struct cs_stat_task *s, uint64_t now_ns)
{
    struct cs_rec_task_spawn r = {
        .t_ns = s->created_ns > 0 ? (uint64_t)s->created_ns : now_ns,
        .id = s->id,
        .parent_id = s->parent_id,
        .loop_tid = loop_tid_of(&t->stat, s->loop_id),
    };
    memcpy(r.name, s->name, sizeof r.name);
    r.name[sizeof r.name - 1] = 0;
    int err = cs_rec_encode_task_spawn(cs_rec_writer_begin(w), &r);
    return err ? err : cs_rec_writer_commit(w, r.t_ns, false);
}

static uint64_t sub(uint64_t a, uint64_t b)
{
    return a > b ? a - b : 0;
}

static int write_task_stats(struct cs_rec_writer *w, const struct cs_stat_task *s, uint64_t now_ns)
{
    if (!s->last.has_stats)
        return 0;
    struct cs_rec_task_stats r = {
        .t_ns = now_ns,
        .task_id = s->id,
        .loop_id = s->loop_id,
        .polls = sub(s->last.polls, s->base_polls),
        .busy_ns = sub(s->last.busy_ns, s->base_busy_ns),
        .wakes = sub(s->last.wakes, s->base_wakes),
        .nbuckets = CS_TASK_HIST_BUCKETS,
        .state = s->gone ? CORUN_TASK_DONE : s->last.state,
        .wait_reason = s->gone ? 0 : s->last.wait_reason,
    };
    for (unsigned k = 0; k < CS_TASK_HIST_BUCKETS; k++)
        r.sched_hist[k] = sub(s->last.sched_hist[k], s->base_sched_hist[k]);
    int err = cs_rec_encode_task_stats(cs_rec_writer_begin(w), &r);
    return err ? err : cs_rec_writer_commit(w, now_ns, false);
}

static int write_loop_stats(struct cs_rec_writer *w, const struct cs_stat_loop *l, uint64_t now_ns)
{
    struct cs_rec_loop_stats r = {
        .t_ns = now_ns,
        .loop_id = l->id,
        .tid = l->tid,
        .iterations = sub(l->last.iterations, l->base.iterations),
        .busy_ns = sub(l->last.busy_ns, l->base.busy_ns),
        .poll_wait_ns = sub(l->last.poll_wait_ns, l->base.poll_wait_ns),
    };
    for (unsigned k = 0; k < CS_LL_HIST_BUCKETS; k++) {
        r.sched_hist[k] = sub(l->last.sched_hist[k], l->base.sched_hist[k]);
        r.iter_hist[k] = sub(l->last.iter_hist[k], l->base.iter_hist[k]);
    }
    int err = cs_rec_encode_loop_stats(cs_rec_writer_begin(w), &r);
    return err ? err : cs_rec_writer_commit(w, now_ns, false);
}

int cs_rec_tasks_add(struct cs_rec_tasks *t, struct cs_rec_writer *w,
                     const struct cs_corun_snapshot *snap, bool stats)
{
    int err = cs_stat_add(&t->stat, snap);
    if (err)
        return err;
    uint64_t now = (uint64_t)snap->taken_ns;
    for (size_t i = 0; i < t->stat.ntasks && !err; i++) {
        const struct cs_stat_task *s = &t->stat.tasks[i];
        bool fresh;
        struct known *k = known_get(t, s->id, &fresh);
        if (!k)
            return -ENOMEM;
        if (fresh && s->gone) {
            mark_done(k, now); /* never seen alive by a snapshot: nothing to say */
            continue;
        }
        if (fresh)
            err = write_spawn(t, w, s, now);
        if (!err && s->gone && !k->done) {
            mark_done(k, now);
            err = write_task_stats(w, s, now); /* its last figures */
            struct cs_rec_task_done d = {.t_ns = now, .id = s->id};
            if (!err)
                err = cs_rec_encode_task_done(cs_rec_writer_begin(w), &d);
            if (!err)
                err = cs_rec_writer_commit(w, now, false);
        } else if (!err && stats && !s->gone && !k->done) { /* done: its end event came first */
            err = write_task_stats(w, s, now);
        }
    }
    for (size_t i = 0; stats && i < t->stat.nloops && !err; i++)
        err = write_loop_stats(w, &t->stat.loops[i], now);
    forget_ended(t, (int64_t)now);
    return err;
}

int cs_rec_tasks_write_live(struct cs_rec_tasks *t, struct cs_rec_writer *w, uint64_t now_ns)
{
    int err = 0;
    for (size_t i = 0; i < t->stat.ntasks && !err; i++) {
        const struct cs_stat_task *s = &t->stat.tasks[i];
        if (s->gone)
            continue;
        err = write_spawn(t, w, s, now_ns);
        if (!err)
            err = write_task_stats(w, s, now_ns);
    }
    for (size_t i = 0; i < t->stat.nloops && !err; i++)
        err = write_loop_stats(w, &t->stat.loops[i], now_ns);
    return err;
}

/* The task's figures in `stat`, or NULL if no snapshot saw it. */
static const struct cs_stat_task *stat_of(const struct cs_rec_tasks *t, uint64_t id)
{
    size_t lo = 0, hi = t->stat.ntasks;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->stat.tasks[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < t->stat.ntasks && t->stat.tasks[lo].id == id ? &t->stat.tasks[lo] : NULL;
}

static int encode_spawn(struct cs_rec_buf *b, const struct cs_corun_life_event *e,
                        uint64_t parent_id)
{
    struct cs_rec_task_spawn r = {
        .t_ns = e->head.start_ns,
        .id = e->head.task_id,
        .parent_id = parent_id,
        .loop_tid = (int)e->head.tid,
    };
    snprintf(r.name, sizeof r.name, "%.*s", (int)sizeof e->name, e->name);
    return cs_rec_encode_task_spawn(b, &r) ? -1 : 1;
}

int cs_rec_tasks_spawned(struct cs_rec_tasks *t, struct cs_rec_buf *b,
                         const struct cs_corun_life_event *e)
{
    bool fresh;
    struct known *k = known_get(t, e->head.task_id, &fresh);
    if (!k)
        return -ENOMEM;
    return fresh ? encode_spawn(b, e, e->parent_id) : 0;
}

int cs_rec_tasks_ended(struct cs_rec_tasks *t, struct cs_rec_buf *b,
                       const struct cs_corun_life_event *e)
{
    bool fresh;
    struct known *k = known_get(t, e->head.task_id, &fresh);
    if (!k)
        return -ENOMEM;
    if (k->done)
        return 0;
    mark_done(k, (int64_t)e->head.start_ns);
    int n = 0;
    /* Born before the programs were attached and never in a snapshot: named at its end. */
    if (fresh && encode_spawn(b, e, 0) == 1)
        n++;
    const struct cs_stat_task *s = stat_of(t, e->head.task_id);
    if (e->has_stats) {
        /* Counted as the snapshots count: from the task's first reading if it was alive when
         * the recording began (base), else from zero. */
        struct cs_rec_task_stats r = {
            .t_ns = e->head.start_ns,
            .task_id = e->head.task_id,
            .loop_id = s ? s->loop_id : 0,
            .polls = sub(e->polls, s ? s->base_polls : 0),
            .busy_ns = sub(e->busy_ns, s ? s->base_busy_ns : 0),
            .wakes = sub(e->wakes, s ? s->base_wakes : 0),
            .nbuckets = CS_TASK_HIST_BUCKETS,
            .state = CORUN_TASK_DONE,
        };
        for (unsigned i = 0; i < CS_TASK_HIST_BUCKETS && i < CS_CORUN_HIST; i++)
            r.sched_hist[i] = sub(e->sched_hist[i], s ? s->base_sched_hist[i] : 0);
        if (cs_rec_encode_task_stats(b, &r) == 0)
            n++;
    }
    struct cs_rec_task_done d = {
        .t_ns = e->head.start_ns,
        .id = e->head.task_id,
        .outcome = e->outcome,
        .error = e->error,
        .exact = true,
    };
    if (cs_rec_encode_task_done(b, &d) == 0)
        n++;
    return n;
}
