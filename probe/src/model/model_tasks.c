#include "model_tasks.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *cs_task_outcome_name(const struct cs_task *t)
{
    if (t->state != CORUN_TASK_DONE || !t->outcome_known)
        return NULL;
    switch (t->outcome) {
    case CORUN_OUTCOME_OK:
        return "ok";
    case CORUN_OUTCOME_ERROR:
        return "failed";
    case CORUN_OUTCOME_CANCELLED:
        return "cancelled";
    default:
        return "unknown";
    }
}

const char *cs_task_error_text(int32_t err, char *buf, size_t len)
{
    const char *name = err < 0 && err > -4096 ? strerrorname_np(-err) : NULL;
    if (name)
        snprintf(buf, len, "%s (%d, %s)", name, (int)err, strerror(-err));
    else
        snprintf(buf, len, "code %d", (int)err);
    return buf;
}

const char *cs_task_state_name(uint32_t state)
{
    switch (state) {
    case CORUN_TASK_READY:
        return "ready";
    case CORUN_TASK_RUNNING:
        return "running";
    case CORUN_TASK_WAITING:
        return "waiting";
    case CORUN_TASK_DONE:
        return "done";
    default:
        return "invalid";
    }
}

const char *cs_wait_reason_name(uint32_t reason)
{
    static const char *const names[] = {
        [CORUN_WAIT_NONE] = "none",         [CORUN_WAIT_YIELD] = "yield",
        [CORUN_WAIT_SLEEP] = "sleep",       [CORUN_WAIT_FD] = "fd",
        [CORUN_WAIT_JOIN] = "join",         [CORUN_WAIT_ANY] = "wait_any",
        [CORUN_WAIT_GROUP] = "group",       [CORUN_WAIT_LOCK] = "lock",
        [CORUN_WAIT_SEM] = "sem",           [CORUN_WAIT_EVENT] = "event",
        [CORUN_WAIT_COND] = "cond",         [CORUN_WAIT_QUEUE] = "queue",
        [CORUN_WAIT_EXECUTOR] = "executor", [CORUN_WAIT_GEN] = "gen",
        [CORUN_WAIT_SIGNAL] = "signal",     [CORUN_WAIT_OTHER] = "other",
    };
    return reason < sizeof names / sizeof names[0] ? names[reason] : "other";
}

uint64_t cs_hist_total(const uint64_t hist[CS_TASK_HIST_BUCKETS])
{
    uint64_t n = 0;
    for (unsigned i = 0; i < CS_TASK_HIST_BUCKETS; i++)
        n += hist[i];
    return n;
}

uint64_t cs_hist_quantile_ns(const uint64_t hist[CS_TASK_HIST_BUCKETS], double q)
{
    uint64_t total = cs_hist_total(hist);
    if (!total)
        return 0;
    /* The rank of the quantile, 1-based: p99 of 100 samples is the 99th. */
    uint64_t rank = (uint64_t)(q * (double)total + 0.999999);
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (unsigned k = 0; k < CS_TASK_HIST_BUCKETS; k++) {
        seen += hist[k];
        if (seen >= rank)
            return k ? (k < 64 ? (1ull << k) - 1 : UINT64_MAX) : 0; /* bucket k: < 2^k */
    }
    return UINT64_MAX;
}

void cs_stat_init(struct cs_stat *st, int pid)
{
    memset(st, 0, sizeof *st);
    st->pid = pid;
}

void cs_stat_free(struct cs_stat *st)
{
    free(st->loops);
    free(st->tasks);
    memset(st, 0, sizeof *st);
}

static struct cs_stat_loop *stat_loop(struct cs_stat *st, const struct cs_corun_loop *l)
{
    for (size_t i = 0; i < st->nloops; i++)
        if (st->loops[i].id == l->id)
            return &st->loops[i];
    struct cs_stat_loop *nl = realloc(st->loops, (st->nloops + 1) * sizeof *nl);
    if (!nl)
        return NULL;
    st->loops = nl;
    struct cs_stat_loop *sl = &nl[st->nloops++];
    memset(sl, 0, sizeof *sl);
    sl->id = l->id;
    sl->tid = l->tid;
    sl->base = *l;
    sl->base.tasks = NULL;
    sl->base.ntasks = 0;
    return sl;
}

/* st->tasks is kept sorted by id (ids are process-unique and grow): binary search, and
 * new tasks - nearly always the newest - are appended. */
static struct cs_stat_task *stat_task(struct cs_stat *st, const struct cs_task *t, bool first)
{
    size_t lo = 0, hi = st->ntasks;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (st->tasks[mid].id < t->id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < st->ntasks && st->tasks[lo].id == t->id)
        return &st->tasks[lo];
    if (st->ntasks == st->cap_tasks) {
        size_t cap = st->cap_tasks ? st->cap_tasks * 2 : 64;
        struct cs_stat_task *nt = realloc(st->tasks, cap * sizeof *nt);
        if (!nt)
            return NULL;
        st->tasks = nt;
        st->cap_tasks = cap;
    }
    memmove(&st->tasks[lo + 1], &st->tasks[lo], (st->ntasks - lo) * sizeof *st->tasks);
    st->ntasks++;
    struct cs_stat_task *s = &st->tasks[lo];
    memset(s, 0, sizeof *s);
    s->id = t->id;
    s->parent_id = t->parent_id;
    memcpy(s->name, t->name, sizeof s->name);
    s->created_ns = t->created_ns;
    /* Tasks alive when the session began count from their first reading; tasks born
     * later count from zero (what they did before we saw them was in this session). */
    if (first && t->has_stats) {
        s->base_polls = t->polls;
        s->base_busy_ns = t->busy_ns;
        s->base_wakes = t->wakes;
        memcpy(s->base_sched_hist, t->sched_hist, sizeof s->base_sched_hist);
    }
    return s;
}

int cs_stat_add(struct cs_stat *st, const struct cs_corun_snapshot *snap)
{
    bool first = st->start_ns == 0;
    if (first)
        st->start_ns = snap->taken_ns;
    st->end_ns = snap->taken_ns;
    for (size_t i = 0; i < st->ntasks; i++)
        st->tasks[i].gone = true;
    for (size_t i = 0; i < snap->nloops; i++) {
        const struct cs_corun_loop *l = &snap->loops[i];
        struct cs_stat_loop *sl = stat_loop(st, l);
        if (!sl)
            return -ENOMEM;
        sl->last = *l;
        sl->last.tasks = NULL;
        sl->last.ntasks = 0;
        sl->ready_samples++;
        sl->ready_sum += l->ready_count;
        if (l->ready_count > sl->ready_max)
            sl->ready_max = l->ready_count;
        for (size_t j = 0; j < l->ntasks; j++) {
            const struct cs_task *t = &l->tasks[j];
            struct cs_stat_task *s = stat_task(st, t, first);
            if (!s)
                return -ENOMEM;
            s->loop_id = l->id;
            s->gone = false;
            s->last_seen_ns = snap->taken_ns;
            if (t->has_stats || !s->last.has_stats)
                s->last = *t;
        }
    }
    return 0;
}

void cs_stat_forget_gone(struct cs_stat *st, int64_t seen_before_ns)
{
    size_t keep = 0;
    for (size_t i = 0; i < st->ntasks; i++)
        if (!st->tasks[i].gone || st->tasks[i].last_seen_ns >= seen_before_ns)
            st->tasks[keep++] = st->tasks[i];
    st->ntasks = keep;
    /* The array shrinks too once mostly empty: a burst's peak is not kept for good. */
    if (st->cap_tasks > 256 && st->ntasks < st->cap_tasks / 4) {
        size_t cap = st->cap_tasks / 2;
        struct cs_stat_task *nt = realloc(st->tasks, cap * sizeof *nt);
        if (nt) {
            st->tasks = nt;
            st->cap_tasks = cap;
        }
    }
}

int cs_stat_add_long_slice(struct cs_stat *st, int tid, uint64_t task_id, const char *name,
                           uint64_t duration_ns)
{
    uint64_t loop_id = 0;
    for (size_t i = 0; i < st->nloops; i++)
        if (st->loops[i].tid == tid) {
            st->loops[i].long_slices++;
            loop_id = st->loops[i].id;
        }
    struct cs_task seen = {.id = task_id};
    snprintf(seen.name, sizeof seen.name, "%s", name);
    struct cs_stat_task *t = stat_task(st, &seen, false);
    if (!t)
        return -ENOMEM;
    if (!t->loop_id) {
        t->loop_id = loop_id;
        t->gone = true; /* unless a later snapshot shows it */
    }
    t->long_slices++;
    if (duration_ns > t->longest_slice_ns)
        t->longest_slice_ns = duration_ns;
    return 0;
}

void cs_corun_snapshot_free(struct cs_corun_snapshot *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nloops; i++)
        free(s->loops[i].tasks);
    free(s->loops);
    s->loops = NULL;
    s->nloops = 0;
}

int cs_corun_snapshot_dup(struct cs_corun_snapshot *dst, const struct cs_corun_snapshot *src)
{
    *dst = *src;
    dst->loops = calloc(src->nloops ? src->nloops : 1, sizeof *dst->loops);
    if (!dst->loops)
        return -ENOMEM;
    for (size_t i = 0; i < src->nloops; i++) {
        dst->loops[i] = src->loops[i];
        dst->loops[i].tasks = NULL;
        size_t n = src->loops[i].ntasks;
        if (!n)
            continue;
        dst->loops[i].tasks = malloc(n * sizeof *dst->loops[i].tasks);
        if (!dst->loops[i].tasks) {
            dst->nloops = i;
            cs_corun_snapshot_free(dst);
            return -ENOMEM;
        }
        memcpy(dst->loops[i].tasks, src->loops[i].tasks, n * sizeof *dst->loops[i].tasks);
    }
    return 0;
}
