#include "record_writer.h"

#include "safe_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "recording_format.h"

/* One record held by a flight window. */
struct held {
    struct held *next;
    uint64_t t_ns;
    uint64_t records; /* whole records in data (a batch holds many) */
    size_t len;
    size_t cost; /* what it takes of the heap: the bound counts this */
    uint8_t data[];
};

struct held_list {
    struct held *head, *tail;
    size_t bytes;
};

/*
 * The flight window: entries (struct ring_entry, then the encoded records) one after the
 * other in one buffer of max_bytes, the oldest dropped to make room. One buffer, not an
 * allocation per entry, so the bound is the memory the window takes (freed small blocks
 * would leave the heap ~20% larger than what they held).
 */
struct ring_entry {
    uint64_t t_ns;
    uint64_t records;
    size_t len; /* of the records that follow */
};

struct ring {
    uint8_t *buf; /* allocated at the first entry */
    size_t cap;
    size_t head, tail; /* the oldest entry; where the next goes */
    size_t wrap;       /* while wrapped (tail before head): where the entries before it end */
    size_t count, bytes;
};

struct cs_rec_writer {
    char *path;
    int fd; /* -1 until the file exists */
    int error;
    struct cs_rec_buf buf;
    uint64_t records;
    bool flight;
    bool force; /* --force: the path may be a link */
    uint64_t window_ns;
    size_t max_bytes;
    struct held_list sticky;
    struct ring window;
};

/* Writes n bytes; `*done` says how many reached the file, even when it fails part-way. */
static int write_all(int fd, const uint8_t *p, size_t n, size_t *done)
{
    *done = 0;
    while (n) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return -errno;
        if (k == 0)
            return -ENOSPC;
        p += k;
        n -= (size_t)k;
        *done += (size_t)k;
    }
    return 0;
}

/*
 * The whole records in the first `n` bytes of encoded records. A batch cut by a full
 * disk leaves its first records whole in the file; the reader counts them, so the writer
 * must count them too.
 */
static uint64_t whole_records(const uint8_t *p, size_t n)
{
    uint64_t count = 0;
    size_t at = 0;
    while (n - at >= CS_REC_HEAD_LEN) {
        uint32_t plen = (uint32_t)p[at + 4] | (uint32_t)p[at + 5] << 8 | (uint32_t)p[at + 6] << 16 |
                        (uint32_t)p[at + 7] << 24;
        size_t len = CS_REC_HEAD_LEN + (size_t)plen + CS_REC_CRC_LEN;
        if (n - at < len)
            break;
        at += len;
        count++;
    }
    return count;
}

static int create_file(struct cs_rec_writer *w, char *why, size_t why_len)
{
    w->fd = cs_create_output(w->path, w->force, why, why_len);
    if (w->fd < 0) {
        int err = w->fd;
        w->fd = -1;
        return err;
    }
    struct cs_rec_buf h = {0};
    int err = cs_rec_encode_header(&h);
    size_t done;
    if (!err)
        err = write_all(w->fd, h.data, h.len, &done);
    cs_rec_buf_free(&h);
    if (err) {
        snprintf(why, why_len, "cannot write %.300s: %s", w->path, strerror(-err));
        w->error = err;
    }
    return err;
}

static struct cs_rec_writer *writer_new(const char *path)
{
    struct cs_rec_writer *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->fd = -1;
    w->path = strdup(path);
    if (!w->path) {
        free(w);
        return NULL;
    }
    return w;
}

int cs_rec_writer_open(const char *path, bool force, struct cs_rec_writer **out, char *why,
                       size_t why_len)
{
    struct cs_rec_writer *w = writer_new(path);
    if (!w) {
        snprintf(why, why_len, "out of memory");
        return -ENOMEM;
    }
    w->force = force;
    int err = create_file(w, why, why_len);
    if (err) {
        cs_rec_writer_close(w);
        return err;
    }
    *out = w;
    return 0;
}

int cs_rec_writer_open_flight(const char *path, uint64_t window_ns, size_t max_bytes,
                              struct cs_rec_writer **out)
{
    struct cs_rec_writer *w = writer_new(path);
    if (!w)
        return -ENOMEM;
    w->flight = true;
    w->window_ns = window_ns;
    w->max_bytes = max_bytes;
    *out = w;
    return 0;
}

void cs_rec_writer_set_force(struct cs_rec_writer *w, bool force)
{
    w->force = force;
}

struct cs_rec_buf *cs_rec_writer_begin(struct cs_rec_writer *w)
{
    w->buf.len = 0;
    w->buf.oom = 0;
    return &w->buf;
}

/* Drops the oldest entry; returns the records it held. */
static uint64_t held_drop_head(struct held_list *l)
{
    struct held *h = l->head;
    uint64_t n = h->records;
    l->head = h->next;
    if (!l->head)
        l->tail = NULL;
    l->bytes -= h->cost;
    free(h);
    return n;
}

static int hold(struct held_list *l, uint64_t t_ns, uint64_t records, const struct cs_rec_buf *b)
{
    struct held *h = malloc(sizeof *h + b->len);
    if (!h)
        return -ENOMEM;
    h->next = NULL;
    h->t_ns = t_ns;
    h->records = records;
    h->len = b->len;
    memcpy(h->data, b->data, b->len);
    if (l->tail)
        l->tail->next = h;
    else
        l->head = h;
    l->tail = h;
    h->cost = sizeof *h + h->len;
    l->bytes += h->cost;
    return 0;
}

static size_t entry_size(size_t len)
{
    return (sizeof(struct ring_entry) + len + 7) & ~(size_t)7;
}

static struct ring_entry *ring_oldest(const struct ring *r)
{
    return r->count ? (struct ring_entry *)(r->buf + r->head) : NULL;
}

/* Drops the oldest entry; returns the records it held. */
static uint64_t ring_drop(struct ring *r)
{
    struct ring_entry *e = ring_oldest(r);
    size_t size = entry_size(e->len);
    uint64_t n = e->records;
    r->head += size;
    r->bytes -= size;
    if (--r->count == 0)
        r->head = r->tail = 0, r->wrap = r->cap;
    else if (r->head == r->wrap)
        r->head = 0, r->wrap = r->cap;
    return n;
}

/* Room for `size` contiguous bytes at the tail, the oldest entries dropped as needed; the
 * records they held are added to *dropped. False if `size` is over the whole buffer. */
static bool ring_room(struct ring *r, size_t size, uint64_t *dropped)
{
    if (size > r->cap)
        return false;
    for (;;) {
        if (!r->count) {
            r->head = r->tail = 0;
            r->wrap = r->cap;
            return true;
        }
        bool wrapped = r->tail < r->head || r->tail == r->head;
        if (!wrapped && r->cap - r->tail >= size)
            return true;
        if (!wrapped && r->head >= size) { /* wrap to the start */
            r->wrap = r->tail;
            r->tail = 0;
            return true;
        }
        if (wrapped && r->head - r->tail >= size)
            return true;
        *dropped += ring_drop(r);
    }
}

/* 0, or -ENOMEM; a batch larger than the whole window is not held (as if aged out). */
static int ring_hold(struct cs_rec_writer *w, uint64_t t_ns, uint64_t records,
                     const struct cs_rec_buf *b)
{
    struct ring *r = &w->window;
    if (!r->buf) {
        r->cap = w->max_bytes & ~(size_t)7;
        r->wrap = r->cap;
        if (!(r->buf = malloc(r->cap ? r->cap : 8)))
            return -ENOMEM;
    }
    size_t size = entry_size(b->len);
    uint64_t dropped = 0;
    bool fits = ring_room(r, size, &dropped);
    w->records -= dropped;
    if (!fits)
        return 0;
    struct ring_entry *e = (struct ring_entry *)(r->buf + r->tail);
    e->t_ns = t_ns;
    e->records = records;
    e->len = b->len;
    memcpy(e + 1, b->data, b->len);
    r->tail += size;
    r->count++;
    r->bytes += size;
    w->records += records;
    return 0;
}

static int commit(struct cs_rec_writer *w, uint64_t t_ns, bool sticky, uint64_t records)
{
    if (w->error)
        return w->error;
    if (w->buf.oom)
        return -ENOMEM; /* this record is lost; the next may fit */
    if (!records)
        return 0;
    if (w->fd >= 0) {
        size_t done;
        int err = write_all(w->fd, w->buf.data, w->buf.len, &done);
        if (err) {
            w->error = err;
            w->records += whole_records(w->buf.data, done);
            return err;
        }
        w->records += records;
        return 0;
    }
    if (sticky) {
        int err = hold(&w->sticky, t_ns, records, &w->buf);
        if (!err)
            w->records += records;
        return err;
    }
    int err = ring_hold(w, t_ns, records, &w->buf);
    /* Records arrive roughly in time order: age out from the front. */
    const struct ring_entry *e;
    while ((e = ring_oldest(&w->window)) && t_ns > w->window_ns && e->t_ns < t_ns - w->window_ns)
        w->records -= ring_drop(&w->window);
    return err;
}

int cs_rec_writer_commit(struct cs_rec_writer *w, uint64_t t_ns, bool sticky)
{
    return commit(w, t_ns, sticky, 1);
}

int cs_rec_writer_commit_batch(struct cs_rec_writer *w, uint64_t t_ns, uint64_t records)
{
    return commit(w, t_ns, false, records);
}

/* Writes held records to the file, counting those that reach it whole. */
static int write_held(struct cs_rec_writer *w, const uint8_t *data, size_t len, uint64_t records,
                      uint64_t *written, char *why, size_t why_len)
{
    size_t done;
    int err = write_all(w->fd, data, len, &done);
    *written += err ? whole_records(data, done) : records;
    if (err) {
        w->error = err;
        snprintf(why, why_len, "cannot write %.300s: %s", w->path, strerror(-err));
    }
    return err;
}

int cs_rec_writer_fire(struct cs_rec_writer *w, char *why, size_t why_len)
{
    if (w->fd >= 0)
        return 0;
    int err = create_file(w, why, why_len);
    uint64_t written = 0;    /* held records counted so far; from now on, those in the file */
    while (w->sticky.head) { /* target and loops first, then the window, oldest first */
        struct held *h = w->sticky.head;
        if (!err)
            err = write_held(w, h->data, h->len, h->records, &written, why, why_len);
        held_drop_head(&w->sticky);
    }
    const struct ring_entry *e;
    while ((e = ring_oldest(&w->window))) {
        if (!err)
            err =
                write_held(w, (const uint8_t *)(e + 1), e->len, e->records, &written, why, why_len);
        ring_drop(&w->window);
    }
    free(w->window.buf);
    memset(&w->window, 0, sizeof w->window);
    w->records = written;
    return err;
}

bool cs_rec_writer_fired(const struct cs_rec_writer *w)
{
    return w->fd >= 0;
}

uint64_t cs_rec_writer_records(const struct cs_rec_writer *w)
{
    return w->records;
}

size_t cs_rec_writer_window_bytes(const struct cs_rec_writer *w)
{
    return w->sticky.bytes + w->window.bytes;
}

int cs_rec_writer_error(const struct cs_rec_writer *w)
{
    return w->error;
}

void cs_rec_writer_close(struct cs_rec_writer *w)
{
    if (!w)
        return;
    while (w->sticky.head)
        held_drop_head(&w->sticky);
    free(w->window.buf);
    if (w->fd >= 0)
        close(w->fd);
    cs_rec_buf_free(&w->buf);
    free(w->path);
    free(w);
}
