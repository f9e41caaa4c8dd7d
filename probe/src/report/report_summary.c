#include "report_summary.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "hist_ll.h"
#include "model_tasks.h"
#include "cs_sort.h"

/* A task's recorded histogram is log2, of the bucket count the record says. */
static uint64_t quantile(const uint64_t *h, unsigned n, double q)
{
    return cs_log2_quantile_ns(h, n, q);
}

void cs_report_frame_name(const struct cs_frame *f, char *buf, size_t len)
{
    if (f->symbol && f->kind == CS_FRAME_INLINE)
        snprintf(buf, len, "%s (inlined)", f->symbol);
    else if (f->symbol)
        snprintf(buf, len, "%s", f->symbol);
    else if (f->kind == CS_FRAME_JIT) /* JIT code its runtime did not name */
        snprintf(buf, len, "[jit] 0x%" PRIx64, f->addr);
    else if (f->module) {
        const char *base = strrchr(f->module, '/');
        snprintf(buf, len, "%s+0x%" PRIx64, base ? base + 1 : f->module, f->offset);
    } else
        snprintf(buf, len, "0x%" PRIx64, f->addr);
}

const char *cs_report_stall_owner(const struct cs_stall *s)
{
    return s->task ? s->task : s->comm[0] ? s->comm : "?";
}

static struct cs_report_loop *loop_of(struct cs_report *r, int tid)
{
    for (size_t i = 0; i < r->nloops; i++)
        if (r->loops[i].tid == tid)
            return &r->loops[i];
    return NULL;
}

static int cmp_duration(const void *a, const void *b)
{
    const struct cs_stall *x = *(const struct cs_stall *const *)a;
    const struct cs_stall *y = *(const struct cs_stall *const *)b;
    if (x->duration_ns != y->duration_ns)
        return x->duration_ns < y->duration_ns ? 1 : -1;
    return x->start_ns < y->start_ns ? -1 : x->start_ns > y->start_ns;
}

static int cmp_start(const void *a, const void *b)
{
    const struct cs_stall *x = *(const struct cs_stall *const *)a;
    const struct cs_stall *y = *(const struct cs_stall *const *)b;
    if (x->start_ns != y->start_ns)
        return x->start_ns < y->start_ns ? -1 : 1;
    return x->tid - y->tid;
}

static int cmp_task(const void *a, const void *b)
{
    const struct cs_report_task *x = a, *y = b;
    if (x->has_stats != y->has_stats)
        return x->has_stats ? -1 : 1;
    if (x->sched_p99_ns != y->sched_p99_ns)
        return x->sched_p99_ns < y->sched_p99_ns ? 1 : -1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static int cmp_call(const void *a, const void *b)
{
    const struct cs_report_call *x = a, *y = b;
    if (x->total_ns != y->total_ns)
        return x->total_ns < y->total_ns ? 1 : -1;
    return strcmp(x->name, y->name);
}

static int build_loops(struct cs_report *r)
{
    const struct cs_recording *rec = r->rec;
    /* Loops named by LOOP records, then any thread a stall or statistics name. */
    size_t cap = rec->nloops + rec->nstalls + rec->nloop_stats + 1;
    r->loops = calloc(cap, sizeof *r->loops);
    if (!r->loops)
        return -ENOMEM;
    for (size_t i = 0; i < rec->nloops; i++)
        if (!loop_of(r, rec->loops[i].tid)) {
            struct cs_report_loop *l = &r->loops[r->nloops++];
            l->tid = rec->loops[i].tid;
            memcpy(l->comm, rec->loops[i].comm, sizeof l->comm);
        }
    for (size_t i = 0; i < rec->nstalls; i++) {
        const struct cs_stall *s = &rec->stalls[i];
        struct cs_report_loop *l = loop_of(r, s->tid);
        if (!l) {
            l = &r->loops[r->nloops++];
            l->tid = s->tid;
            memcpy(l->comm, s->comm, sizeof l->comm);
        }
        l->stalls++;
        l->stalled_ns += s->duration_ns;
        if (s->duration_ns > l->worst_ns)
            l->worst_ns = s->duration_ns;
    }
    /* The last LOOP_STATS of each loop holds its totals. */
    for (size_t i = 0; i < rec->nloop_stats; i++) {
        const struct cs_rec_loop_stats *ls = &rec->loop_stats[i];
        struct cs_report_loop *l = loop_of(r, ls->tid);
        if (!l) {
            l = &r->loops[r->nloops++];
            l->tid = ls->tid;
        }
        l->has_stats = true;
        l->engine = ls->loop_id == 0; /* a foreign loop: the stall engine's figures */
        l->loop_id = ls->loop_id;
        l->iterations = ls->iterations;
        l->busy_ns = ls->busy_ns;
        l->poll_wait_ns = ls->poll_wait_ns;
        l->sched_p50_ns = cs_ll_quantile_ns(ls->sched_hist, 0.50); /* log-linear */
        l->sched_p99_ns = cs_ll_quantile_ns(ls->sched_hist, 0.99);
        l->iter_p99_ns = cs_ll_quantile_ns(ls->iter_hist, 0.99);
    }
    return 0;
}

static int build_tasks(struct cs_report *r)
{
    const struct cs_recording *rec = r->rec;
    if (!rec->ntasks)
        return 0;
    r->tasks = calloc(rec->ntasks, sizeof *r->tasks);
    if (!r->tasks)
        return -ENOMEM;
    for (size_t i = 0; i < rec->ntasks; i++) {
        const struct cs_rec_task *t = &rec->tasks[i];
        struct cs_report_task *o = &r->tasks[i];
        o->id = t->spawn.id;
        o->parent_id = t->spawn.parent_id;
        memcpy(o->name, t->spawn.name, sizeof o->name);
        o->loop_tid = t->spawn.loop_tid;
        o->spawn_ns = t->spawn.t_ns > r->t0_ns ? t->spawn.t_ns - r->t0_ns : 0;
        o->done = t->done;
        o->done_ns = t->done && t->done_ns > r->t0_ns ? t->done_ns - r->t0_ns : 0;
        o->outcome_known = t->done && t->outcome_known;
        o->outcome = t->outcome;
        o->error = t->error;
    }
    r->ntasks = rec->ntasks;
    /* Tasks are sorted by id (recording_reader.h): the latest TASK_STATS of each wins. */
    for (size_t i = 0; i < rec->ntask_stats; i++) {
        const struct cs_rec_task_stats *ts = &rec->task_stats[i];
        size_t lo = 0, hi = r->ntasks;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (r->tasks[mid].id < ts->task_id)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo == r->ntasks || r->tasks[lo].id != ts->task_id)
            continue;
        struct cs_report_task *o = &r->tasks[lo];
        o->has_stats = true;
        o->polls = ts->polls;
        o->busy_ns = ts->busy_ns;
        o->wakes = ts->wakes;
        o->sched_p50_ns = quantile(ts->sched_hist, ts->nbuckets, 0.50);
        o->sched_p99_ns = quantile(ts->sched_hist, ts->nbuckets, 0.99);
        o->sched_max_ns = quantile(ts->sched_hist, ts->nbuckets, 1.0);
    }
    for (size_t i = 0; i < r->ntasks; i++)
        r->ntasks_with_stats += r->tasks[i].has_stats;
    cs_qsort(r->tasks, r->ntasks, sizeof *r->tasks, cmp_task);
    return 0;
}

static int build_calls(struct cs_report *r)
{
    const struct cs_recording *rec = r->rec;
    size_t cap = 0;
    for (size_t i = 0; i < rec->nstalls; i++)
        cap += rec->stalls[i].nsyscalls;
    if (!cap)
        return 0;
    r->calls = calloc(cap, sizeof *r->calls);
    if (!r->calls)
        return -ENOMEM;
    for (size_t i = 0; i < rec->nstalls; i++) {
        const struct cs_stall *s = &rec->stalls[i];
        for (unsigned j = 0; j < s->nsyscalls; j++) {
            const struct cs_syscall_time *c = &s->syscalls[j];
            struct cs_report_call *o = NULL;
            for (size_t k = 0; k < r->ncalls && !o; k++)
                if (!strcmp(r->calls[k].name, c->name))
                    o = &r->calls[k];
            if (!o) {
                o = &r->calls[r->ncalls++];
                snprintf(o->name, sizeof o->name, "%s", c->name);
            }
            o->count += c->count;
            o->total_ns += c->total_ns;
            o->stalls++;
        }
    }
    cs_qsort(r->calls, r->ncalls, sizeof *r->calls, cmp_call);
    return 0;
}

int cs_report_build(struct cs_report *r, const struct cs_recording *rec)
{
    memset(r, 0, sizeof *r);
    r->rec = rec;
    r->t0_ns = rec->has_target ? rec->target.start_mono_ns : 0;
    uint64_t end = rec->has_trailer ? rec->trailer.end_ns : 0;
    for (size_t i = 0; i < rec->nstalls; i++) {
        uint64_t e = rec->stalls[i].start_ns + rec->stalls[i].duration_ns;
        if (e > end)
            end = e;
        r->stalled_ns += rec->stalls[i].duration_ns;
    }
    if (!r->t0_ns && rec->nstalls) /* no TARGET record: count from the first stall */
        r->t0_ns = rec->stalls[0].start_ns;
    r->duration_ns = end > r->t0_ns ? end - r->t0_ns : 0;
    r->polls = rec->polls_seen;
    r->wakes = rec->wakes_seen;
    r->wakes_by_loop = rec->wakes_from_loop;
    r->nstalls = rec->nstalls;
    if (r->nstalls) {
        r->by_duration = malloc(r->nstalls * sizeof *r->by_duration);
        r->by_start = malloc(r->nstalls * sizeof *r->by_start);
        if (!r->by_duration || !r->by_start)
            goto oom;
        for (size_t i = 0; i < r->nstalls; i++)
            r->by_duration[i] = r->by_start[i] = &rec->stalls[i];
        cs_qsort(r->by_duration, r->nstalls, sizeof *r->by_duration, cmp_duration);
        cs_qsort(r->by_start, r->nstalls, sizeof *r->by_start, cmp_start);
    }
    if (build_loops(r) || build_tasks(r) || build_calls(r))
        goto oom;
    return 0;
oom:
    cs_report_free(r);
    return -ENOMEM;
}

void cs_report_free(struct cs_report *r)
{
    free(r->loops);
    free(r->by_duration);
    free(r->by_start);
    free(r->tasks);
    free(r->calls);
    memset(r, 0, sizeof *r);
}
