#include "record_encode.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void cs_rec_buf_free(struct cs_rec_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

uint32_t cs_crc32(uint32_t crc, const void *data, size_t len)
{
    static uint32_t table[256];
    static int ready;
    if (!ready) { /* racing threads compute the same table: harmless */
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++)
                c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
        ready = 1;
    }
    const uint8_t *p = data;
    crc = ~crc;
    while (len--)
        crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

static void put(struct cs_rec_buf *b, const void *src, size_t n)
{
    /* Nothing to copy: `src` may be NULL (an unknown frame's missing name). */
    if (b->oom || !n)
        return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n)
            cap *= 2;
        uint8_t *d = realloc(b->data, cap);
        if (!d) {
            b->oom = 1;
            return;
        }
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, src, n);
    b->len += n;
}

static void put_u8(struct cs_rec_buf *b, uint8_t v)
{
    put(b, &v, 1);
}

static void put_u16(struct cs_rec_buf *b, uint16_t v)
{
    uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    put(b, x, 2);
}

static void put_u32(struct cs_rec_buf *b, uint32_t v)
{
    uint8_t x[4];
    for (int i = 0; i < 4; i++)
        x[i] = (uint8_t)(v >> (8 * i));
    put(b, x, 4);
}

static void put_u64(struct cs_rec_buf *b, uint64_t v)
{
    uint8_t x[8];
    for (int i = 0; i < 8; i++)
        x[i] = (uint8_t)(v >> (8 * i));
    put(b, x, 8);
}

/* NULL is written as the empty string; longer than 65535 bytes is cut. */
static void put_str(struct cs_rec_buf *b, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n > 0xffff)
        n = 0xffff;
    put_u16(b, (uint16_t)n);
    put(b, s, n);
}

static void put_hist(struct cs_rec_buf *b, const uint64_t *h, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        put_u64(b, h[i]);
}

static size_t begin(struct cs_rec_buf *b, enum cs_rec_type type)
{
    size_t at = b->len;
    put_u16(b, (uint16_t)type);
    put_u16(b, 0);
    put_u32(b, 0); /* the length, filled in by end() */
    return at;
}

static int end(struct cs_rec_buf *b, size_t at)
{
    if (b->oom)
        return -ENOMEM;
    size_t payload = b->len - at - CS_REC_HEAD_LEN;
    if (payload > CS_REC_MAX_PAYLOAD) {
        b->len = at;
        return -E2BIG;
    }
    for (int i = 0; i < 4; i++)
        b->data[at + 4 + i] = (uint8_t)(payload >> (8 * i));
    put_u32(b, cs_crc32(0, b->data + at, CS_REC_HEAD_LEN + payload));
    return b->oom ? -ENOMEM : 0;
}

int cs_rec_encode_header(struct cs_rec_buf *b)
{
    put(b, CS_REC_MAGIC, CS_REC_MAGIC_LEN);
    put_u32(b, CS_REC_VERSION);
    put_u32(b, 0);
    return b->oom ? -ENOMEM : 0;
}

int cs_rec_encode_target(struct cs_rec_buf *b, const struct cs_rec_target *t)
{
    size_t at = begin(b, CS_REC_TARGET);
    put_u32(b, (uint32_t)t->pid);
    put_str(b, t->comm);
    put_str(b, t->exe);
    put_str(b, t->build_id);
    put_str(b, t->version);
    put_u64(b, t->start_realtime_ns);
    put_u64(b, t->start_mono_ns);
    put_u64(b, t->threshold_ns);
    put_u32(b, t->flags);
    return end(b, at);
}

int cs_rec_encode_loop(struct cs_rec_buf *b, const struct cs_rec_loop *l)
{
    size_t at = begin(b, CS_REC_LOOP);
    put_u64(b, l->t_ns);
    put_u32(b, (uint32_t)l->tid);
    put_str(b, l->comm);
    return end(b, at);
}

int cs_rec_encode_task_spawn(struct cs_rec_buf *b, const struct cs_rec_task_spawn *t)
{
    size_t at = begin(b, CS_REC_TASK_SPAWN);
    put_u64(b, t->t_ns);
    put_u64(b, t->id);
    put_u64(b, t->parent_id);
    put_u32(b, (uint32_t)t->loop_tid);
    put_str(b, t->name);
    return end(b, at);
}

int cs_rec_encode_task_done(struct cs_rec_buf *b, const struct cs_rec_task_done *t)
{
    size_t at = begin(b, CS_REC_TASK_DONE);
    put_u64(b, t->t_ns);
    put_u64(b, t->id);
    if (t->exact) {
        put_u32(b, t->outcome);
        put_u32(b, (uint32_t)t->error);
    }
    return end(b, at);
}

int cs_rec_encode_slice(struct cs_rec_buf *b, const struct cs_rec_slice *s)
{
    size_t at = begin(b, CS_REC_SLICE);
    put_u64(b, s->start_ns);
    put_u64(b, s->duration_ns);
    put_u32(b, (uint32_t)s->tid);
    put_u64(b, s->task_id);
    put_str(b, s->name);
    put_u32(b, s->flags);
    put_u32(b, s->wait_reason);
    return end(b, at);
}

int cs_rec_encode_wake(struct cs_rec_buf *b, const struct cs_rec_wake *w)
{
    size_t at = begin(b, CS_REC_WAKE);
    put_u64(b, w->t_ns);
    put_u64(b, w->waker_id);
    put_u64(b, w->woken_id);
    put_u32(b, (uint32_t)w->loop_tid);
    return end(b, at);
}

int cs_rec_encode_stall(struct cs_rec_buf *b, const struct cs_stall *s)
{
    size_t at = begin(b, CS_REC_STALL);
    put_u64(b, s->start_ns);
    put_u64(b, s->duration_ns);
    put_u32(b, (uint32_t)s->tid);
    put_u64(b, s->seq);
    put_str(b, s->comm);
    put_u64(b, s->task ? s->task_id : 0);
    put_str(b, s->task);
    put_u64(b, s->on_cpu_ns);
    put_u64(b, s->off_cpu_ns);
    unsigned nsys = s->nsyscalls < CS_MODEL_MAX_SYSCALLS ? s->nsyscalls : CS_MODEL_MAX_SYSCALLS;
    put_u8(b, (uint8_t)nsys);
    for (unsigned i = 0; i < nsys; i++) {
        put_str(b, s->syscalls[i].name);
        put_u32(b, s->syscalls[i].count);
        put_u64(b, s->syscalls[i].total_ns);
    }
    unsigned nst = s->nstacks < 0xffff ? s->nstacks : 0xffff;
    put_u16(b, (uint16_t)nst);
    for (unsigned i = 0; i < nst; i++) {
        const struct cs_stack *st = &s->stacks[i];
        unsigned nf = st->nframes < 0xffff ? st->nframes : 0xffff;
        put_u32(b, st->count);
        put_u16(b, (uint16_t)nf);
        for (unsigned j = 0; j < nf; j++) {
            const struct cs_frame *f = &st->frames[j];
            put_u64(b, f->addr);
            put_str(b, f->symbol);
            put_u64(b, f->offset);
            put_str(b, f->module);
            put_str(b, f->file);
            put_u32(b, (uint32_t)f->line);
        }
    }
    /* Appended fields (older readers ignore them): a stall still going when coscope
     * stopped, and how its start is known (one that began before attach). */
    put_u8(b, s->unfinished ? 1 : 0);
    put_u8(b, (uint8_t)s->start);
    /* Appended after them: each frame's kind (enum cs_frame_kind), in the order of the
     * frames above; older readers ignore it, and take every frame as native. */
    for (unsigned i = 0; i < nst; i++) {
        unsigned nf = s->stacks[i].nframes < 0xffff ? s->stacks[i].nframes : 0xffff;
        for (unsigned j = 0; j < nf; j++)
            put_u8(b, (uint8_t)s->stacks[i].frames[j].kind);
    }
    return end(b, at);
}

/* A log-linear histogram, its non-empty buckets only: most of the 496 are empty. */
static void put_sparse_hist(struct cs_rec_buf *b, const uint64_t *h)
{
    unsigned n = 0;
    for (unsigned i = 0; i < CS_REC_LL_BUCKETS; i++)
        n += h[i] != 0;
    put_u16(b, (uint16_t)n);
    for (unsigned i = 0; i < CS_REC_LL_BUCKETS; i++) {
        if (!h[i])
            continue;
        put_u16(b, (uint16_t)i);
        put_u64(b, h[i]);
    }
}

int cs_rec_encode_loop_stats(struct cs_rec_buf *b, const struct cs_rec_loop_stats *l)
{
    size_t at = begin(b, CS_REC_LOOP_STATS);
    put_u64(b, l->t_ns);
    put_u64(b, l->loop_id);
    put_u32(b, (uint32_t)l->tid);
    put_u64(b, l->iterations);
    put_u64(b, l->busy_ns);
    put_u64(b, l->poll_wait_ns);
    put_u16(b, CS_REC_LL_BUCKETS);
    put_sparse_hist(b, l->sched_hist);
    put_sparse_hist(b, l->iter_hist);
    return end(b, at);
}

int cs_rec_encode_task_stats(struct cs_rec_buf *b, const struct cs_rec_task_stats *t)
{
    unsigned n = t->nbuckets < CS_REC_HIST_MAX ? t->nbuckets : CS_REC_HIST_MAX;
    size_t at = begin(b, CS_REC_TASK_STATS);
    put_u64(b, t->t_ns);
    put_u64(b, t->task_id);
    put_u64(b, t->loop_id);
    put_u64(b, t->polls);
    put_u64(b, t->busy_ns);
    put_u64(b, t->wakes);
    put_u8(b, (uint8_t)n);
    put_hist(b, t->sched_hist, n);
    put_u32(b, t->state);
    put_u32(b, t->wait_reason);
    return end(b, at);
}

int cs_rec_encode_lost(struct cs_rec_buf *b, const struct cs_rec_lost *l)
{
    size_t at = begin(b, CS_REC_LOST);
    put_u64(b, l->t_ns);
    put_u64(b, l->lost_events);
    put_u64(b, l->suppressed);
    return end(b, at);
}

int cs_rec_encode_trigger(struct cs_rec_buf *b, const struct cs_rec_trigger *t)
{
    size_t at = begin(b, CS_REC_TRIGGER);
    put_u64(b, t->t_ns);
    put_str(b, t->what);
    return end(b, at);
}

int cs_rec_encode_slow_iter(struct cs_rec_buf *b, const struct cs_slow_iter *it)
{
    unsigned n = it->ntasks < CS_SLOW_ITER_MAX_TASKS ? it->ntasks : CS_SLOW_ITER_MAX_TASKS;
    size_t at = begin(b, CS_REC_SLOW_ITER);
    put_u64(b, it->start_ns);
    put_u64(b, it->duration_ns);
    put_u32(b, (uint32_t)it->tid);
    put_str(b, it->comm);
    put_u64(b, it->tasks_run);
    put_u8(b, (uint8_t)n);
    for (unsigned i = 0; i < n; i++) {
        put_u64(b, it->tasks[i].id);
        put_str(b, it->tasks[i].name);
        put_u64(b, it->tasks[i].duration_ns);
    }
    return end(b, at);
}

int cs_rec_encode_trailer(struct cs_rec_buf *b, const struct cs_rec_trailer *t)
{
    size_t at = begin(b, CS_REC_TRAILER);
    put_u64(b, t->end_ns);
    put_u64(b, t->records);
    put_u32(b, t->reason);
    return end(b, at);
}
