#include "foreign_stat.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_sort.h"
#include "mono_clock.h"
#include "session.h"
#include "stall_collector.h"
#include "syscall_names.h"

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
int cs_foreign_stat_read(struct cs_foreign_stat *st, const struct cs_session *sess)
{
    struct cs_collector *coll = cs_session_collector(sess);
    size_t n = cs_session_loop_count(sess);
    free(st->loops);
    st->nloops = 0;
    st->loops = calloc(n ? n : 1, sizeof *st->loops);
    if (!st->loops)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        struct cs_foreign_loop *l = &st->loops[st->nloops++];
        const struct cs_session_loop *sl = cs_session_loop(sess, i);
        l->tid = sl->tid;
        snprintf(l->comm, sizeof l->comm, "%s", sl->comm);
    }
    st->end_ns = (int64_t)cs_mono_ns();
    for (size_t i = 0; i < st->nloops; i++) {
        struct cs_foreign_loop *l = &st->loops[i];
        uint64_t slice_start = 0;
        if (cs_collector_loop_stat(coll, l->tid, &l->stat, &slice_start) != 0)
            continue;
        uint64_t end = (uint64_t)st->end_ns;
        /* Busy time inside the window only: a slice stuck since before attach began
         * before the statistics did. */
        uint64_t from = slice_start > (uint64_t)st->start_ns ? slice_start : (uint64_t)st->start_ns;
        l->busy_ns = l->stat.busy_ns + (slice_start && end > from ? end - from : 0);
        l->stall_in_progress_ns = 0;
        if (slice_start && end > slice_start && end - slice_start >= st->threshold_ns)
            l->stall_in_progress_ns = end - slice_start;
        l->stalls = l->stat.stalls + (l->stall_in_progress_ns ? 1 : 0);
        uint64_t ws = l->stat.wait_start_ns;
        l->wait_ns = l->stat.wait_ns + (ws && end > ws ? end - ws : 0);
    }
    uint64_t cursor = 0;
    struct cs_block_key key;
    struct cs_block_stat bs;
    while (cs_collector_next_block_stat(coll, &cursor, &key, &bs) == 1) {
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
    st->lost_events = cs_model_lost(cs_session_model(sess));
    return 0;
}
