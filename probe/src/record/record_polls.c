#include "record_polls.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "mono_clock.h"
#include "corun_polls.h"
#include "record_tasks.h"

/* At corun-echo rates (~100k events/s) a drain every 5 ms takes ~50 KB: 4 MB rides out a
 * recorder busy for ~0.5 s (symbolizing a stall); what overflows is counted lost. */
#define RING_BYTES (4u << 20)
/* Lifecycle events only (376 bytes each): ~11,000 spawns and ends per drain. A burst of
 * 1,000 tasks is 2,000 events within a few ms; a recorder kept off the CPU by a loaded
 * machine (or symbolizing a stall) must not lose them: 1 MB lost one in a test. */
#define LIFE_RING_BYTES (4u << 20)
#define RETRY_EVERY_NS  50000000ull
#define RETRY_FOR_NS    5000000000ull

struct cs_rec_polls {
    int pid;
    struct cs_rec_writer *w;
    struct cs_rec_tasks *tasks;
    struct cs_corun_polls *coll;
    bool polls_on; /* --polls: every poll and wake too */
    bool retry;
    uint64_t first_try_ns, last_try_ns;
    /* the batch being encoded */
    struct cs_rec_buf *buf;
    uint64_t batch_records, batch_t_ns;
    uint64_t polls, wakes;
    uint64_t dropped; /* encoded, but the batch could not be kept (out of memory) */
};

static void on_event(const struct cs_corun_poll_event *e, void *arg)
{
    struct cs_rec_polls *p = arg;
    uint64_t t_ns;
    int err;
    if (e->kind == CS_CORUN_EV_POLL) {
        struct cs_rec_slice s = {
            .start_ns = e->start_ns,
            .duration_ns = e->duration_ns,
            .tid = (int)e->tid,
            .task_id = e->task_id,
            .flags = CS_REC_SLICE_POLL,
            .wait_reason = e->wait_reason == CS_CORUN_POLL_DONE ? CS_REC_WAIT_DONE : e->wait_reason,
        };
        t_ns = e->start_ns + e->duration_ns;
        err = cs_rec_encode_slice(p->buf, &s);
        p->polls += !err;
    } else if (e->kind == CS_CORUN_EV_WAKE) {
        struct cs_rec_wake w = {
            .t_ns = e->start_ns,
            .waker_id = e->waker_id,
            .woken_id = e->task_id,
            .loop_tid = (int)e->tid,
        };
        t_ns = e->start_ns;
        err = cs_rec_encode_wake(p->buf, &w);
        p->wakes += !err;
    } else if (e->kind == CS_CORUN_EV_SPAWN || e->kind == CS_CORUN_EV_END) {
        const struct cs_corun_life_event *l = (const struct cs_corun_life_event *)e;
        int n = e->kind == CS_CORUN_EV_SPAWN ? cs_rec_tasks_spawned(p->tasks, p->buf, l)
                                             : cs_rec_tasks_ended(p->tasks, p->buf, l);
        if (n > 0) {
            p->batch_records += (uint64_t)n;
            if (e->start_ns > p->batch_t_ns)
                p->batch_t_ns = e->start_ns;
        }
        return;
    } else {
        return;
    }
    if (!err) {
        p->batch_records++;
        if (t_ns > p->batch_t_ns)
            p->batch_t_ns = t_ns;
    }
}

static void try_attach(struct cs_rec_polls *p)
{
    p->last_try_ns = cs_mono_ns();
    char why[300] = "";
    int err = cs_corun_polls_open(p->pid, p->polls_on ? RING_BYTES : LIFE_RING_BYTES, p->polls_on,
                                  on_event, p, &p->coll, why, sizeof why);
    if (!err) {
        p->retry = false;
        return;
    }
    if (err == -ENOENT && p->retry && p->last_try_ns - p->first_try_ns < RETRY_FOR_NS)
        return; /* not mapped yet */
    p->retry = false;
    if (p->polls_on)
        fprintf(stderr, "coscope: note: --polls: %s; no polls or wakes recorded\n", why);
    else if (err != -ENOENT)
        fprintf(stderr, "coscope: note: %s; tasks are recorded from snapshots only\n", why);
}

struct cs_rec_polls *cs_rec_polls_new(int pid, struct cs_rec_writer *w, struct cs_rec_tasks *tasks,
                                      bool polls, bool retry)
{
    struct cs_rec_polls *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->pid = pid;
    p->w = w;
    p->tasks = tasks;
    p->polls_on = polls;
    p->retry = retry;
    p->first_try_ns = cs_mono_ns();
    try_attach(p);
    return p;
}

void cs_rec_polls_tick(struct cs_rec_polls *p)
{
    if (!p)
        return;
    if (!p->coll) {
        if (p->retry && cs_mono_ns() - p->last_try_ns >= RETRY_EVERY_NS)
            try_attach(p);
        return;
    }
    p->buf = cs_rec_writer_begin(p->w);
    p->batch_records = 0;
    p->batch_t_ns = 0;
    cs_corun_polls_consume(p->coll);
    if (cs_rec_writer_commit_batch(p->w, p->batch_t_ns, p->batch_records) == -ENOMEM)
        p->dropped += p->batch_records;
    p->buf = NULL;
}

uint64_t cs_rec_polls_lost(const struct cs_rec_polls *p)
{
    return p ? cs_corun_polls_lost(p->coll) + p->dropped : 0;
}

uint64_t cs_rec_polls_polls(const struct cs_rec_polls *p)
{
    return p ? p->polls : 0;
}

uint64_t cs_rec_polls_wakes(const struct cs_rec_polls *p)
{
    return p ? p->wakes : 0;
}

void cs_rec_polls_free(struct cs_rec_polls *p)
{
    if (!p)
        return;
    cs_corun_polls_close(p->coll);
    free(p);
}
