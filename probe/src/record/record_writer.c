#include "record_writer.h"

#include "safe_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One record held by a flight window. */
struct held {
    struct held *next;
    uint64_t t_ns;
    uint64_t records; /* whole records in data (a batch holds many) */
    size_t len;
    uint8_t data[];
};

struct held_list {
    struct held *head, *tail;
    size_t bytes;
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
    struct held_list sticky, window;
};

static int write_all(int fd, const uint8_t *p, size_t n)
{
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
    }
    return 0;
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
    if (!err)
        err = write_all(w->fd, h.data, h.len);
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
    l->bytes -= sizeof *h + h->len;
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
    l->bytes += sizeof *h + h->len; /* the bound counts our bookkeeping too */
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
        int err = write_all(w->fd, w->buf.data, w->buf.len);
        if (err) {
            w->error = err;
            return err;
        }
        w->records += records;
        return 0;
    }
    int err = hold(sticky ? &w->sticky : &w->window, t_ns, records, &w->buf);
    if (err)
        return err;
    w->records += records;
    /* Records arrive roughly in time order: age out from the front. */
    while (w->window.head && (w->window.bytes > w->max_bytes ||
                              (t_ns > w->window_ns && w->window.head->t_ns < t_ns - w->window_ns)))
        w->records -= held_drop_head(&w->window);
    return 0;
}

int cs_rec_writer_commit(struct cs_rec_writer *w, uint64_t t_ns, bool sticky)
{
    return commit(w, t_ns, sticky, 1);
}

int cs_rec_writer_commit_batch(struct cs_rec_writer *w, uint64_t t_ns, uint64_t records)
{
    return commit(w, t_ns, false, records);
}

int cs_rec_writer_fire(struct cs_rec_writer *w, char *why, size_t why_len)
{
    if (w->fd >= 0)
        return 0;
    int err = create_file(w, why, why_len);
    struct held_list *lists[2] = {&w->sticky, &w->window};
    for (int i = 0; i < 2; i++)
        while (lists[i]->head) {
            if (!err) {
                err = write_all(w->fd, lists[i]->head->data, lists[i]->head->len);
                if (err) {
                    w->error = err;
                    snprintf(why, why_len, "cannot write %.300s: %s", w->path, strerror(-err));
                }
            }
            held_drop_head(lists[i]);
        }
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
    while (w->window.head)
        held_drop_head(&w->window);
    if (w->fd >= 0)
        close(w->fd);
    cs_rec_buf_free(&w->buf);
    free(w->path);
    free(w);
}
