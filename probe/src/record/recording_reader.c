#include "recording_reader.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exit_codes.h"
#include "hist_ll.h"
#include "safe_file.h"
#include "record_cursor.h"
#include "record_encode.h"
#include "cs_sort.h"

/* Appends one element to a growable array. */
static void *grow(void **arr, size_t *n, size_t *cap, size_t elem)
{
    if (*n == *cap) {
        size_t nc = *cap ? 2 * *cap : 16;
        void *a = realloc(*arr, nc * elem);
        if (!a)
            return NULL;
        *arr = a;
        *cap = nc;
    }
    void *slot = (char *)*arr + (*n)++ * elem;
    memset(slot, 0, elem);
    return slot;
}

/* Task id -> index in r->task_stats (CS_REC_LOAD_LATEST_STATS): open addressing, id 0
 * marks a free slot. */
struct stats_index {
    struct slot {
        uint64_t id;
        size_t at;
    } * slots;
    size_t cap, n;
};

static size_t *stats_index_find(struct stats_index *x, uint64_t id, bool *found)
{
    size_t mask = x->cap - 1, i = (size_t)(id * 0x9e3779b97f4a7c15ull) & mask;
    while (x->slots[i].id && x->slots[i].id != id)
        i = (i + 1) & mask;
    *found = x->slots[i].id == id;
    x->slots[i].id = id; /* the caller fills `at` when it was not found */
    return &x->slots[i].at;
}

static bool stats_index_grow(struct stats_index *x)
{
    if (x->n * 2 < x->cap)
        return true;
    size_t cap = x->cap ? x->cap * 2 : 1024;
    struct stats_index bigger = {calloc(cap, sizeof *bigger.slots), cap, x->n};
    if (!bigger.slots)
        return false;
    for (size_t i = 0; i < x->cap; i++)
        if (x->slots[i].id) {
            bool found;
            *stats_index_find(&bigger, x->slots[i].id, &found) = x->slots[i].at;
        }
    free(x->slots);
    *x = bigger;
    return true;
}

struct parse {
    struct cs_recording *r;
    unsigned flags; /* CS_REC_LOAD_* */
    struct stats_index stats_at;
    size_t cap_loops, cap_tasks, cap_slices, cap_wakes, cap_stalls, cap_ls, cap_ts, cap_trig;
    size_t cap_slow, cap_polls;
    struct cs_rec_task_done *dones;
    size_t ndones, cap_dones;
};

#define APPEND(ps, arr, n, cap) grow((void **)&(arr), &(n), &(ps)->cap, sizeof *(arr))

static int parse_stall(struct cur *c, struct cs_stall *s)
{
    s->start_ns = get_u64(c);
    s->duration_ns = get_u64(c);
    s->tid = (int)get_u32(c);
    s->seq = get_u64(c);
    get_str(c, s->comm, sizeof s->comm);
    s->task_id = get_u64(c);
    if (!get_dup(c, &s->task))
        return -ENOMEM;
    s->on_cpu_ns = get_u64(c);
    s->off_cpu_ns = get_u64(c);
    unsigned nsys = get_u8(c);
    if (nsys > CS_MODEL_MAX_SYSCALLS)
        c->bad = true;
    for (unsigned i = 0; i < nsys && !c->bad; i++) {
        get_str(c, s->syscalls[i].name, sizeof s->syscalls[i].name);
        s->syscalls[i].count = get_u32(c);
        s->syscalls[i].total_ns = get_u64(c);
        s->nsyscalls = i + 1;
    }
    unsigned nst = get_u16(c);
    /* Each stack takes at least 6 bytes: never allocate for what cannot be there. */
    if (c->bad || (size_t)(c->end - c->p) < (size_t)nst * 6) {
        c->bad = true;
        return 0;
    }
    if (nst) {
        s->stacks = calloc(nst, sizeof *s->stacks);
        if (!s->stacks)
            return -ENOMEM;
    }
    for (unsigned i = 0; i < nst && !c->bad; i++) {
        struct cs_stack *st = &s->stacks[i];
        s->nstacks = i + 1;
        st->count = get_u32(c);
        unsigned nf = get_u16(c);
        if (c->bad || (size_t)(c->end - c->p) < (size_t)nf * 26) { /* a frame's minimum */
            c->bad = true;
            break;
        }
        st->frames = calloc(nf ? nf : 1, sizeof *st->frames);
        if (!st->frames)
            return -ENOMEM;
        for (unsigned j = 0; j < nf && !c->bad; j++) {
            struct cs_frame *f = &st->frames[j];
            st->nframes = j + 1;
            f->addr = get_u64(c);
            if (!get_dup(c, &f->symbol))
                return -ENOMEM;
            f->offset = get_u64(c);
            if (!get_dup(c, &f->module) || !get_dup(c, &f->file))
                return -ENOMEM;
            f->line = (int)get_u32(c);
        }
    }
    /* Appended later: absent in older files (a stall seen whole, from its start). */
    if (!c->bad && c->end - c->p >= 2) {
        s->unfinished = get_u8(c) != 0;
        uint8_t start = get_u8(c);
        s->start =
            start <= CS_STALL_START_ATTACH ? (enum cs_stall_start)start : CS_STALL_START_SEEN;
    }
    /* Appended later still: one kind per frame (absent: all native). */
    size_t nframes = 0;
    for (unsigned i = 0; i < s->nstacks; i++)
        nframes += s->stacks[i].nframes;
    if (!c->bad && nframes && (size_t)(c->end - c->p) >= nframes) {
        for (unsigned i = 0; i < s->nstacks; i++)
            for (unsigned j = 0; j < s->stacks[i].nframes; j++) {
                uint8_t kind = get_u8(c);
                s->stacks[i].frames[j].kind =
                    kind <= CS_FRAME_JIT ? (enum cs_frame_kind)kind : CS_FRAME_NATIVE;
            }
    }
    return 0;
}

/* A task's statistics: appended, or (CS_REC_LOAD_LATEST_STATS) in place of its earlier
 * ones, each record holding the task's totals so far. 0 or -ENOMEM. */
static int add_task_stats(struct parse *ps, const struct cs_rec_task_stats *ts)
{
    struct cs_recording *r = ps->r;
    size_t *at = NULL;
    if ((ps->flags & CS_REC_LOAD_LATEST_STATS) && ts->task_id) {
        if (!stats_index_grow(&ps->stats_at))
            return -ENOMEM;
        bool found;
        at = stats_index_find(&ps->stats_at, ts->task_id, &found);
        if (found) {
            r->task_stats[*at] = *ts;
            return 0;
        }
        ps->stats_at.n++;
        *at = r->ntask_stats;
    }
    struct cs_rec_task_stats *t = APPEND(ps, r->task_stats, r->ntask_stats, cap_ts);
    if (!t)
        return -ENOMEM;
    *t = *ts;
    return 0;
}

_Static_assert(CS_REC_LL_BUCKETS == CORUN_LL_BUCKETS, "recorded loop histograms are libcorun's");

/* Version 1 LOOP_STATS: nbuckets u8, then both histograms dense, log2; converted. */
static int get_log2_hists(struct cur *c, struct cs_rec_loop_stats *l)
{
    unsigned n = get_u8(c);
    if (n > CS_REC_HIST_MAX)
        return -EINVAL;
    uint64_t log2[CS_REC_HIST_MAX] = {0};
    get_hist(c, log2, n);
    cs_ll_from_log2(l->sched_hist, log2, n);
    get_hist(c, log2, n);
    cs_ll_from_log2(l->iter_hist, log2, n);
    return 0;
}

/* Version 2 LOOP_STATS: nbuckets u16 (496), then each histogram as n u16 and n times
 * (bucket u16, count u64). */
static int get_ll_hists(struct cur *c, struct cs_rec_loop_stats *l)
{
    if (get_u16(c) != CS_REC_LL_BUCKETS)
        return -EINVAL;
    uint64_t *hists[2] = {l->sched_hist, l->iter_hist};
    for (int h = 0; h < 2; h++) {
        unsigned n = get_u16(c);
        for (unsigned i = 0; i < n && !c->bad; i++) {
            unsigned b = get_u16(c);
            if (b >= CS_REC_LL_BUCKETS)
                return -EINVAL;
            hists[h][b] = get_u64(c);
        }
    }
    return 0;
}

/* One record's payload. 0, -EINVAL (does not parse) or -ENOMEM. */
static int parse_record(struct parse *ps, unsigned type, struct cur *c)
{
    struct cs_recording *r = ps->r;
    switch (type) {
    case CS_REC_TARGET: {
        struct cs_rec_target *t = &r->target;
        memset(t, 0, sizeof *t);
        t->pid = (int)get_u32(c);
        get_str(c, t->comm, sizeof t->comm);
        get_str(c, t->exe, sizeof t->exe);
        get_str(c, t->build_id, sizeof t->build_id);
        get_str(c, t->version, sizeof t->version);
        t->start_realtime_ns = get_u64(c);
        t->start_mono_ns = get_u64(c);
        t->threshold_ns = get_u64(c);
        t->flags = get_u32(c);
        r->has_target = !c->bad;
        break;
    }
    case CS_REC_LOOP: {
        struct cs_rec_loop *l = APPEND(ps, r->loops, r->nloops, cap_loops);
        if (!l)
            return -ENOMEM;
        l->t_ns = get_u64(c);
        l->tid = (int)get_u32(c);
        get_str(c, l->comm, sizeof l->comm);
        break;
    }
    case CS_REC_TASK_SPAWN: {
        struct cs_rec_task *t = APPEND(ps, r->tasks, r->ntasks, cap_tasks);
        if (!t)
            return -ENOMEM;
        t->spawn.t_ns = get_u64(c);
        t->spawn.id = get_u64(c);
        t->spawn.parent_id = get_u64(c);
        t->spawn.loop_tid = (int)get_u32(c);
        get_str(c, t->spawn.name, sizeof t->spawn.name);
        break;
    }
    case CS_REC_TASK_DONE: {
        struct cs_rec_task_done *d = APPEND(ps, ps->dones, ps->ndones, cap_dones);
        if (!d)
            return -ENOMEM;
        d->t_ns = get_u64(c);
        d->id = get_u64(c);
        d->exact = false;
        if (!c->bad && c->end - c->p >= 8) { /* corun:task_done's outcome */
            d->exact = true;
            d->outcome = get_u32(c);
            d->error = (int32_t)get_u32(c);
        }
        break;
    }
    case CS_REC_SLICE: {
        struct cs_rec_slice s = {0};
        struct cs_rec_slice *to;
        s.start_ns = get_u64(c);
        s.duration_ns = get_u64(c);
        s.tid = (int)get_u32(c);
        s.task_id = get_u64(c);
        get_str(c, s.name, sizeof s.name);
        if (!c->bad && c->end - c->p >= 8) { /* added with record --polls */
            s.flags = get_u32(c);
            s.wait_reason = get_u32(c);
        }
        if (c->bad)
            break;
        if (s.flags & CS_REC_SLICE_POLL)
            r->polls_seen++;
        else
            r->slices_seen++;
        if (ps->flags & CS_REC_LOAD_NO_EVENTS)
            break;
        to = s.flags & CS_REC_SLICE_POLL ? APPEND(ps, r->polls, r->npolls, cap_polls)
                                         : APPEND(ps, r->slices, r->nslices, cap_slices);
        if (!to)
            return -ENOMEM;
        *to = s;
        break;
    }
    case CS_REC_WAKE: {
        struct cs_rec_wake wk = {0};
        wk.t_ns = get_u64(c);
        wk.waker_id = get_u64(c);
        wk.woken_id = get_u64(c);
        if (!c->bad && c->end - c->p >= 4) /* added with record --polls */
            wk.loop_tid = (int)get_u32(c);
        if (c->bad)
            break;
        r->wakes_seen++;
        r->wakes_from_loop += wk.waker_id == 0;
        if (ps->flags & CS_REC_LOAD_NO_EVENTS)
            break;
        struct cs_rec_wake *w = APPEND(ps, r->wakes, r->nwakes, cap_wakes);
        if (!w)
            return -ENOMEM;
        *w = wk;
        break;
    }
    case CS_REC_STALL: {
        struct cs_stall *s = APPEND(ps, r->stalls, r->nstalls, cap_stalls);
        if (!s)
            return -ENOMEM;
        int err = parse_stall(c, s);
        if (err || c->bad) {
            cs_stall_release(s);
            r->nstalls--;
            return err ? err : -EINVAL;
        }
        break;
    }
    case CS_REC_LOOP_STATS: {
        struct cs_rec_loop_stats ls = {0}, *l = &ls;
        l->t_ns = get_u64(c);
        l->loop_id = get_u64(c);
        l->tid = (int)get_u32(c);
        l->iterations = get_u64(c);
        l->busy_ns = get_u64(c);
        l->poll_wait_ns = get_u64(c);
        int err = r->version == 1 ? get_log2_hists(c, l) : get_ll_hists(c, l);
        if (err)
            return err;
        if (c->bad)
            break;
        struct cs_rec_loop_stats *to = NULL;
        if (ps->flags & CS_REC_LOAD_LATEST_STATS) /* a loop's latest holds its totals */
            for (size_t i = 0; i < r->nloop_stats && !to; i++)
                if (r->loop_stats[i].tid == ls.tid && r->loop_stats[i].loop_id == ls.loop_id)
                    to = &r->loop_stats[i];
        if (!to && !(to = APPEND(ps, r->loop_stats, r->nloop_stats, cap_ls)))
            return -ENOMEM;
        *to = ls;
        break;
    }
    case CS_REC_TASK_STATS: {
        struct cs_rec_task_stats ts = {0}, *t = &ts;
        t->t_ns = get_u64(c);
        t->task_id = get_u64(c);
        t->loop_id = get_u64(c);
        t->polls = get_u64(c);
        t->busy_ns = get_u64(c);
        t->wakes = get_u64(c);
        t->nbuckets = get_u8(c);
        if (t->nbuckets > CS_REC_HIST_MAX)
            return -EINVAL;
        get_hist(c, t->sched_hist, t->nbuckets);
        if (!c->bad && c->end - c->p >= 8) { /* added in version 1's first revision */
            t->state = get_u32(c);
            t->wait_reason = get_u32(c);
        }
        if (c->bad)
            break;
        return add_task_stats(ps, &ts);
    }
    case CS_REC_LOST:
        r->lost.t_ns = get_u64(c);
        r->lost.lost_events = get_u64(c);
        r->lost.suppressed = get_u64(c);
        break;
    case CS_REC_TRIGGER: {
        struct cs_rec_trigger *t = APPEND(ps, r->triggers, r->ntriggers, cap_trig);
        if (!t)
            return -ENOMEM;
        t->t_ns = get_u64(c);
        get_str(c, t->what, sizeof t->what);
        break;
    }
    case CS_REC_SLOW_ITER: {
        struct cs_slow_iter *it = APPEND(ps, r->slow_iters, r->nslow_iters, cap_slow);
        if (!it)
            return -ENOMEM;
        it->start_ns = get_u64(c);
        it->duration_ns = get_u64(c);
        it->tid = (int)get_u32(c);
        get_str(c, it->comm, sizeof it->comm);
        it->tasks_run = get_u64(c);
        unsigned n = get_u8(c);
        if (n > CS_SLOW_ITER_MAX_TASKS)
            return -EINVAL;
        for (unsigned i = 0; i < n && !c->bad; i++) {
            it->tasks[i].id = get_u64(c);
            get_str(c, it->tasks[i].name, sizeof it->tasks[i].name);
            it->tasks[i].duration_ns = get_u64(c);
            it->ntasks = i + 1;
        }
        break;
    }
    case CS_REC_TRAILER:
        r->trailer.end_ns = get_u64(c);
        r->trailer.records = get_u64(c);
        r->trailer.reason = get_u32(c);
        r->has_trailer = !c->bad;
        break;
    default:
        r->unknown_records++;
        return 0;
    }
    return c->bad ? -EINVAL : 0;
}

static int cmp_task(const void *a, const void *b)
{
    uint64_t x = ((const struct cs_rec_task *)a)->spawn.id;
    uint64_t y = ((const struct cs_rec_task *)b)->spawn.id;
    return x < y ? -1 : x > y;
}

const struct cs_rec_task *cs_recording_task(const struct cs_recording *r, uint64_t id)
{
    struct cs_rec_task key = {.spawn.id = id};
    if (!r->ntasks)
        return NULL;
    return bsearch(&key, r->tasks, r->ntasks, sizeof key, cmp_task);
}

/* Poll slices are written without their task's name (it is in TASK_SPAWN). */
static void name_polls(struct cs_recording *r)
{
    for (size_t i = 0; i < r->npolls; i++) {
        struct cs_rec_slice *s = &r->polls[i];
        if (s->name[0] || !s->task_id)
            continue;
        const struct cs_rec_task *t = cs_recording_task(r, s->task_id);
        if (t)
            memcpy(s->name, t->spawn.name, sizeof s->name);
    }
}

/* Tasks sorted by id (a task seen twice keeps its first spawn); done records joined. */
static void finish_tasks(struct parse *ps)
{
    struct cs_recording *r = ps->r;
    if (r->ntasks) {
        cs_qsort(r->tasks, r->ntasks, sizeof *r->tasks, cmp_task);
        size_t w = 1;
        for (size_t i = 1; i < r->ntasks; i++)
            if (r->tasks[i].spawn.id != r->tasks[w - 1].spawn.id)
                r->tasks[w++] = r->tasks[i];
        r->ntasks = w;
    }
    for (size_t i = 0; i < ps->ndones; i++) {
        struct cs_rec_task *t = (struct cs_rec_task *)cs_recording_task(r, ps->dones[i].id);
        if (t && !t->done) {
            t->done = true;
            t->done_ns = ps->dones[i].t_ns;
            t->outcome_known = ps->dones[i].exact;
            t->outcome = ps->dones[i].outcome;
            t->error = ps->dones[i].error;
        }
    }
}

static int verdict(struct cs_recording *r, enum cs_rec_status st, uint64_t offset, const char *why)
{
    r->status = st;
    r->bad_offset = offset;
    switch (st) {
    case CS_REC_OK:
        r->message[0] = 0;
        break;
    case CS_REC_TRUNCATED:
        snprintf(r->message, sizeof r->message,
                 "truncated after %" PRIu64 " records at offset %" PRIu64
                 " (the recorder was stopped before it closed the file)",
                 r->nrecords, offset);
        break;
    case CS_REC_NOT_RECORDING:
        snprintf(r->message, sizeof r->message, "not a coscope recording");
        break;
    case CS_REC_BAD_VERSION:
        snprintf(r->message, sizeof r->message,
                 "version %" PRIu32 " not supported (this coscope reads version %d to %d)",
                 r->version, CS_REC_MIN_VERSION, CS_REC_VERSION);
        break;
    case CS_REC_CORRUPT:
        snprintf(r->message, sizeof r->message,
                 "corrupt record at offset %" PRIu64 " (%s) after %" PRIu64 " good records", offset,
                 why, r->nrecords);
        break;
    case CS_REC_IO_ERROR:
        snprintf(r->message, sizeof r->message, "%s", why);
        break;
    }
    return st;
}

/* The 16-byte header: CS_REC_OK or the verdict (NOT_RECORDING, TRUNCATED, BAD_VERSION). */
static int check_header(const uint8_t *data, size_t len, struct cs_recording *r)
{
    if (len < CS_REC_MAGIC_LEN || memcmp(data, CS_REC_MAGIC, CS_REC_MAGIC_LEN))
        return verdict(r, CS_REC_NOT_RECORDING, 0, "");
    if (len < CS_REC_HEADER_LEN)
        return verdict(r, CS_REC_TRUNCATED, CS_REC_MAGIC_LEN, "");
    struct cur hc = {data + CS_REC_MAGIC_LEN, data + CS_REC_HEADER_LEN, false};
    r->version = get_u32(&hc);
    if (r->version < CS_REC_MIN_VERSION || r->version > CS_REC_VERSION)
        return verdict(r, CS_REC_BAD_VERSION, CS_REC_MAGIC_LEN, "");
    r->valid_bytes = CS_REC_HEADER_LEN;
    return CS_REC_OK;
}

/*
 * A record's head (8 bytes at `head`): its payload length, or a verdict (CORRUPT) through
 * *rc. Returns false when the record cannot be read.
 */
static bool check_head(const uint8_t *head, uint64_t off, struct cs_recording *r, unsigned *type,
                       uint32_t *plen, int *rc)
{
    struct cur c = {head, head + CS_REC_HEAD_LEN, false};
    *type = get_u16(&c);
    (void)get_u16(&c); /* flags, reserved: version 1 writes 0 and reads any */
    *plen = get_u32(&c);
    if (*plen > CS_REC_MAX_PAYLOAD || *type == 0) {
        *rc = verdict(r, CS_REC_CORRUPT, off, *type ? "impossible length" : "type 0");
        return false;
    }
    return true;
}

/* One whole record (head, payload, CRC: `rec`) at `off`: 0 when read, else the verdict or
 * -ENOMEM. */
static int take_record(struct parse *ps, const uint8_t *rec, unsigned type, uint32_t plen,
                       uint64_t off)
{
    struct cs_recording *r = ps->r;
    struct cur tail = {rec + CS_REC_HEAD_LEN + plen, rec + CS_REC_HEAD_LEN + plen + CS_REC_CRC_LEN,
                       false};
    uint32_t crc = get_u32(&tail);
    if (crc != cs_crc32(0, rec, CS_REC_HEAD_LEN + plen))
        return verdict(r, CS_REC_CORRUPT, off, "bad CRC");
    struct cur c = {rec + CS_REC_HEAD_LEN, rec + CS_REC_HEAD_LEN + plen, false};
    int err = parse_record(ps, type, &c);
    if (err == -ENOMEM)
        return -ENOMEM;
    if (err)
        return verdict(r, CS_REC_CORRUPT, off, "a field runs past the record's end");
    r->nrecords++;
    r->valid_bytes = off + CS_REC_HEAD_LEN + plen + CS_REC_CRC_LEN;
    return 0;
}

static void finish(struct parse *ps)
{
    finish_tasks(ps);
    name_polls(ps->r);
    free(ps->dones);
    free(ps->stats_at.slots);
}

int cs_recording_parse_opts(const uint8_t *data, size_t len, struct cs_recording *r, unsigned flags)
{
    memset(r, 0, sizeof *r);
    int rc = check_header(data, len, r);
    if (rc != CS_REC_OK)
        return rc;
    struct parse ps = {.r = r, .flags = flags};
    size_t off = CS_REC_HEADER_LEN;
    while (off < len) {
        size_t left = len - off;
        if (left < CS_REC_HEAD_LEN) {
            rc = verdict(r, CS_REC_TRUNCATED, off, "");
            break;
        }
        unsigned type;
        uint32_t plen;
        if (!check_head(data + off, off, r, &type, &plen, &rc))
            break;
        if (left < CS_REC_HEAD_LEN + (size_t)plen + CS_REC_CRC_LEN) {
            rc = verdict(r, CS_REC_TRUNCATED, off, "");
            break;
        }
        rc = take_record(&ps, data + off, type, plen, off);
        if (rc)
            break;
        off += CS_REC_HEAD_LEN + plen + CS_REC_CRC_LEN;
    }
    finish(&ps);
    return rc;
}

int cs_recording_parse(const uint8_t *data, size_t len, struct cs_recording *r)
{
    return cs_recording_parse_opts(data, len, r, 0);
}

/* The file through a fixed buffer: records are small, a read(2) each would be slow. */
struct in {
    int fd;
    size_t pos, len;
    uint8_t buf[64 * 1024];
};

/* Reads up to n bytes (fewer only at the end of the file); -errno on a read error. */
static ssize_t read_full(struct in *f, uint8_t *p, size_t n)
{
    size_t got = 0;
    while (got < n) {
        if (f->pos == f->len) {
            ssize_t k = read(f->fd, f->buf, sizeof f->buf);
            if (k < 0 && errno == EINTR)
                continue;
            if (k < 0)
                return -errno;
            if (k == 0)
                break;
            f->pos = 0;
            f->len = (size_t)k;
        }
        size_t k = f->len - f->pos < n - got ? f->len - f->pos : n - got;
        memcpy(p + got, f->buf + f->pos, k);
        f->pos += k;
        got += k;
    }
    return (ssize_t)got;
}

int cs_recording_load_opts(const char *path, struct cs_recording *r, unsigned flags)
{
    memset(r, 0, sizeof *r);
    char why[256]; /* the size of r->message */
    /* a FIFO or a device must not hang the open; only regular files pass */
    int fd = cs_open_input(path, why, sizeof why);
    if (fd < 0)
        return verdict(r, CS_REC_IO_ERROR, 0, why);
    /* The header first: a file that is not a recording is refused before anything more
     * is read. Then one record at a time, so memory holds the largest record, never the
     * file (a file still being written may grow: what was there is read). */
    struct in *f = malloc(sizeof *f);
    if (!f) {
        close(fd);
        return -ENOMEM;
    }
    f->fd = fd;
    f->pos = f->len = 0;
    uint8_t header[CS_REC_HEADER_LEN];
    ssize_t n = read_full(f, header, sizeof header);
    int rc = n < 0 ? verdict(r, CS_REC_IO_ERROR, 0, strerror((int)-n))
                   : check_header(header, (size_t)n, r);
    if (rc != CS_REC_OK) {
        free(f);
        close(fd);
        return rc;
    }
    struct parse ps = {.r = r, .flags = flags};
    uint8_t *buf = NULL;
    size_t cap = 0;
    uint64_t off = CS_REC_HEADER_LEN;
    for (;;) {
        uint8_t head[CS_REC_HEAD_LEN];
        n = read_full(f, head, sizeof head);
        if (n == 0)
            break;
        if (n < 0) {
            snprintf(why, sizeof why, "reading %.150s: %s", path, strerror((int)-n));
            rc = verdict(r, CS_REC_IO_ERROR, off, why);
            break;
        }
        if ((size_t)n < sizeof head) {
            rc = verdict(r, CS_REC_TRUNCATED, off, "");
            break;
        }
        unsigned type;
        uint32_t plen;
        if (!check_head(head, off, r, &type, &plen, &rc))
            break;
        size_t whole = CS_REC_HEAD_LEN + (size_t)plen + CS_REC_CRC_LEN;
        if (whole > cap) {
            uint8_t *b = realloc(buf, whole);
            if (!b) {
                rc = -ENOMEM;
                break;
            }
            buf = b;
            cap = whole;
        }
        memcpy(buf, head, sizeof head);
        n = read_full(f, buf + CS_REC_HEAD_LEN, whole - CS_REC_HEAD_LEN);
        if (n < 0) {
            snprintf(why, sizeof why, "reading %.150s: %s", path, strerror((int)-n));
            rc = verdict(r, CS_REC_IO_ERROR, off, why);
            break;
        }
        if ((size_t)n < whole - CS_REC_HEAD_LEN) {
            rc = verdict(r, CS_REC_TRUNCATED, off, "");
            break;
        }
        rc = take_record(&ps, buf, type, plen, off);
        if (rc)
            break;
        off += whole;
    }
    free(buf);
    free(f);
    close(fd);
    finish(&ps);
    return rc;
}

int cs_recording_load(const char *path, struct cs_recording *r)
{
    return cs_recording_load_opts(path, r, 0);
}

void cs_recording_free(struct cs_recording *r)
{
    for (size_t i = 0; i < r->nstalls; i++)
        cs_stall_release(&r->stalls[i]);
    free(r->stalls);
    free(r->loops);
    free(r->tasks);
    free(r->slices);
    free(r->polls);
    free(r->wakes);
    free(r->loop_stats);
    free(r->task_stats);
    free(r->triggers);
    free(r->slow_iters);
    memset(r, 0, sizeof *r);
}

/* What a reader's verdict means for the command: an exit code, and whether to go on. */
int cs_recording_status_exit(const struct cs_recording *rec, const char *path, bool *go_on)
{
    *go_on = true;
    switch (rec->status) {
    case CS_REC_OK:
        return CS_EXIT_OK;
    case CS_REC_TRUNCATED:
        fprintf(stderr, "coscope: warning: %s: %s\n", path, rec->message);
        return CS_EXIT_OK;
    case CS_REC_CORRUPT:
        fprintf(stderr, "coscope: %s: %s\n", path, rec->message);
        return CS_EXIT_REC_CORRUPT;
    case CS_REC_NOT_RECORDING:
        *go_on = false;
        fprintf(stderr, "coscope: %s: %s\n", path, rec->message);
        return CS_EXIT_NOT_RECORDING;
    case CS_REC_BAD_VERSION:
        *go_on = false;
        fprintf(stderr, "coscope: %s: %s\n", path, rec->message);
        return CS_EXIT_REC_VERSION;
    case CS_REC_IO_ERROR:
        break;
    }
    *go_on = false;
    fprintf(stderr, "coscope: %s\n", rec->message);
    return CS_EXIT_USAGE;
}
