#include "task_warnings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_tasks.h"

/* A record: the public warnings plus what it takes to notice a wait across snapshots. */
struct entry {
    struct cs_task_lint pub;
    bool used;
    bool ready_tracked; /* seen ready, not run since (same poll count) */
    bool done_tracked;  /* seen done, not joined since */
    int64_t ready_since_ns, done_since_ns;
    uint64_t unjoined_ns; /* since done_since_ns, as of the last snapshot that saw it */
    uint64_t ready_polls;
};

struct cs_lint_table {
    uint64_t threshold_ns;
    uint64_t join_grace_ns;
    unsigned first_long_bucket; /* the first histogram bucket whose values all exceed it */
    struct entry *slots;        /* open addressing, linear probing; size a power of two */
    size_t cap, n;
    size_t next_task; /* where the next snapshot's share of a big task list starts */
};

/* Up to this many tasks are looked at in every snapshot; beyond, a quarter of them per
 * snapshot (each task once a second at 4 snapshots a second): with 100 000 tasks a full
 * pass over a snapshot is ~68 MB of memory to walk. */
#define FULL_PASS_TASKS 20000

static size_t hash_id(uint64_t id)
{
    id ^= id >> 33;
    id *= 0xff51afd7ed558ccdull;
    id ^= id >> 33;
    return (size_t)id;
}

struct cs_lint_table *cs_lints_new(uint64_t threshold_ns)
{
    struct cs_lint_table *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->threshold_ns = threshold_ns;
    t->join_grace_ns = threshold_ns > CS_LINT_JOIN_GRACE_NS ? threshold_ns : CS_LINT_JOIN_GRACE_NS;
    /* Bucket k holds [2^(k-1), 2^k): every value in it is >= threshold when 2^(k-1) is. */
    unsigned k = 1;
    while (k < CS_TASK_HIST_BUCKETS && (1ull << (k - 1)) < threshold_ns)
        k++;
    t->first_long_bucket = k;
    return t;
}

void cs_lints_free(struct cs_lint_table *t)
{
    if (!t)
        return;
    free(t->slots);
    free(t);
}

static struct entry *lookup(const struct cs_lint_table *t, uint64_t id)
{
    if (!t->cap)
        return NULL;
    for (size_t i = hash_id(id) & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
        struct entry *e = &t->slots[i];
        if (!e->used)
            return NULL;
        if (e->pub.task_id == id)
            return e;
    }
}

static bool grow(struct cs_lint_table *t, size_t cap)
{
    struct entry *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return false;
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->slots[i].used)
            continue;
        size_t j = hash_id(t->slots[i].pub.task_id) & (cap - 1);
        while (slots[j].used)
            j = (j + 1) & (cap - 1);
        slots[j] = t->slots[i];
    }
    free(t->slots);
    t->slots = slots;
    t->cap = cap;
    return true;
}

static struct entry *get(struct cs_lint_table *t, uint64_t id)
{
    struct entry *e = lookup(t, id);
    if (e)
        return e;
    if ((t->n + 1) * 2 > t->cap && !grow(t, t->cap ? t->cap * 2 : 64))
        return NULL;
    size_t i = hash_id(id) & (t->cap - 1);
    while (t->slots[i].used)
        i = (i + 1) & (t->cap - 1);
    e = &t->slots[i];
    memset(e, 0, sizeof *e);
    e->used = true;
    e->pub.task_id = id;
    t->n++;
    return e;
}

/* The lower bound of the highest non-empty bucket at or above the threshold, or 0. */
static uint64_t long_bound_ns(const struct cs_lint_table *t, const uint64_t *hist)
{
    for (unsigned k = CS_TASK_HIST_BUCKETS; k-- > t->first_long_bucket;)
        if (hist[k])
            return 1ull << (k - 1);
    return 0;
}

static void note_task(struct cs_lint_table *t, const struct cs_task *task, int64_t now)
{
    uint64_t slice_ns = task->has_stats ? long_bound_ns(t, task->poll_hist) : 0;
    uint64_t sched_ns = task->has_stats ? long_bound_ns(t, task->sched_hist) : 0;
    bool ready = task->state == CORUN_TASK_READY, done = task->state == CORUN_TASK_DONE;
    struct entry *e =
        slice_ns || sched_ns || ready || done ? get(t, task->id) : lookup(t, task->id);
    if (!e)
        return;
    e->pub.last_seen_ns = now;
    if (slice_ns) {
        e->pub.kinds |= CS_LINT_LONG_SLICE;
        if (slice_ns > e->pub.longest_slice_ns)
            e->pub.longest_slice_ns = slice_ns;
    }
    if (sched_ns) {
        e->pub.kinds |= CS_LINT_READY_LONG;
        if (sched_ns > e->pub.ready_ns)
            e->pub.ready_ns = sched_ns;
    }
    /* Ready in two snapshots with the same poll count: it has not run in between. */
    if (ready && e->ready_tracked && task->polls == e->ready_polls) {
        uint64_t waited = (uint64_t)(now - e->ready_since_ns);
        if (waited > t->threshold_ns) {
            e->pub.kinds |= CS_LINT_READY_LONG;
            if (waited > e->pub.ready_ns)
                e->pub.ready_ns = waited;
        }
    } else if (ready) {
        e->ready_tracked = true;
        e->ready_since_ns = now;
        e->ready_polls = task->polls;
    } else {
        e->ready_tracked = false;
    }
    if (done && e->done_tracked) {
        e->unjoined_ns = (uint64_t)(now - e->done_since_ns);
        /* Without outcomes (a v1 table) every finished task is a suspect. */
        bool failed = !task->outcome_known || task->outcome == CORUN_OUTCOME_ERROR;
        if (failed && e->unjoined_ns > t->join_grace_ns) {
            e->pub.kinds |= CS_LINT_UNJOINED;
            e->pub.done_ns = e->unjoined_ns;
            e->pub.outcome_known = task->outcome_known;
        }
    } else if (done) {
        e->done_tracked = true;
        e->done_since_ns = now;
    }
}

void cs_lints_snapshot(struct cs_lint_table *t, const struct cs_corun_snapshot *snap)
{
    size_t total = 0;
    for (size_t i = 0; i < snap->nloops; i++)
        total += snap->loops[i].ntasks;
    if (!total)
        return;
    size_t share = total <= FULL_PASS_TASKS ? total : (total + 3) / 4;
    size_t from = total <= FULL_PASS_TASKS ? 0 : t->next_task % total;
    t->next_task = from + share;
    /* Tasks [from, from + share) of the loops laid end to end, wrapping around. */
    size_t i = 0, k = from;
    while (k >= snap->loops[i].ntasks) {
        k -= snap->loops[i].ntasks;
        i++;
    }
    for (size_t done = 0; done < share; done++) {
        while (k >= snap->loops[i].ntasks) { /* next loop, wrapping to the first */
            k = 0;
            i = (i + 1) % snap->nloops;
        }
        /* Task records are 680 bytes apart: fetch the lines note_task reads a few
         * tasks ahead (the hardware prefetcher loses the stride at every page). */
        if (k + 12 < snap->loops[i].ntasks) {
            const struct cs_task *ahead = &snap->loops[i].tasks[k + 12];
            __builtin_prefetch(&ahead->id);
            __builtin_prefetch(&ahead->state);
            __builtin_prefetch(&ahead->polls);
            __builtin_prefetch(&ahead->poll_hist[CS_TASK_HIST_BUCKETS - 1]);
            __builtin_prefetch(&ahead->poll_hist[t->first_long_bucket]);
            __builtin_prefetch(&ahead->sched_hist[CS_TASK_HIST_BUCKETS - 1]);
            __builtin_prefetch(&ahead->sched_hist[t->first_long_bucket]);
        }
        note_task(t, &snap->loops[i].tasks[k++], snap->taken_ns);
    }
}

void cs_lints_slice(struct cs_lint_table *t, uint64_t task_id, uint64_t duration_ns, int64_t now_ns)
{
    if (!task_id || duration_ns < t->threshold_ns)
        return;
    struct entry *e = get(t, task_id);
    if (!e)
        return;
    e->pub.kinds |= CS_LINT_LONG_SLICE;
    if (duration_ns > e->pub.longest_slice_ns)
        e->pub.longest_slice_ns = duration_ns;
    e->pub.last_seen_ns = now_ns;
}

void cs_lints_blocking(struct cs_lint_table *t, uint64_t task_id, const char *syscall, uint64_t ns,
                       int64_t now_ns)
{
    if (!task_id || !syscall || !syscall[0])
        return;
    struct entry *e = get(t, task_id);
    if (!e)
        return;
    e->pub.kinds |= CS_LINT_BLOCKING;
    if (ns >= e->pub.syscall_ns) {
        e->pub.syscall_ns = ns;
        snprintf(e->pub.syscall, sizeof e->pub.syscall, "%s", syscall);
    }
    e->pub.last_seen_ns = now_ns;
}

void cs_lints_expire(struct cs_lint_table *t, int64_t before_ns)
{
    size_t kept = 0;
    for (size_t i = 0; i < t->cap; i++) {
        struct entry *e = &t->slots[i];
        if (e->used && e->pub.last_seen_ns < before_ns)
            e->used = false;
        kept += e->used;
    }
    if (kept == t->n)
        return;
    /* Rebuild: linear probing cannot simply punch holes in its chains. */
    t->n = kept;
    size_t cap = t->cap;
    while (cap > 64 && kept * 8 < cap)
        cap /= 2;
    struct entry *old = t->slots;
    size_t old_cap = t->cap;
    t->slots = NULL;
    t->cap = 0;
    if (!grow(t, cap)) {
        t->slots = old; /* keep the table as it was, holes and all: lookups may miss */
        t->cap = old_cap;
        return;
    }
    for (size_t i = 0; i < old_cap; i++) {
        if (!old[i].used)
            continue;
        size_t j = hash_id(old[i].pub.task_id) & (cap - 1);
        while (t->slots[j].used)
            j = (j + 1) & (cap - 1);
        t->slots[j] = old[i];
    }
    free(old);
}

const struct cs_task_lint *cs_lints_find(const struct cs_lint_table *t, uint64_t task_id)
{
    const struct entry *e = t ? lookup(t, task_id) : NULL;
    return e && e->pub.kinds ? &e->pub : NULL;
}

uint64_t cs_lints_unjoined_ns(const struct cs_lint_table *t, uint64_t task_id)
{
    const struct entry *e = t ? lookup(t, task_id) : NULL;
    return e && e->done_tracked ? e->unjoined_ns : 0;
}

unsigned cs_lint_count(const struct cs_task_lint *l)
{
    return l ? (unsigned)__builtin_popcount(l->kinds) : 0;
}

char cs_lint_letter(const struct cs_task_lint *l)
{
    if (!l)
        return ' ';
    if (l->kinds & CS_LINT_BLOCKING)
        return 'B';
    if (l->kinds & CS_LINT_LONG_SLICE)
        return 'Y';
    if (l->kinds & CS_LINT_READY_LONG)
        return 'R';
    if (l->kinds & CS_LINT_UNJOINED)
        return 'J';
    return ' ';
}
