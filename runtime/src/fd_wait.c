/*
 * co_wait_fd: readiness of any fd, through the loop's poller. Each fd has at most one
 * waiting reader and one waiting writer (a second one gets CO_EBUSY). Registrations are
 * one-shot: re-armed while someone still waits.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int ensure_slot(struct co_loop *loop, int fd)
{
    if ((size_t)fd < loop->fds_cap)
        return 0;
    size_t cap = loop->fds_cap ? loop->fds_cap : 64;
    while (cap <= (size_t)fd)
        cap *= 2;
    struct co__fd_slot *s = realloc(loop->fds, cap * sizeof *s);
    if (!s)
        return CO_ENOMEM;
    memset(s + loop->fds_cap, 0, (cap - loop->fds_cap) * sizeof *s);
    loop->fds = s;
    loop->fds_cap = cap;
    return 0;
}

static unsigned interest_of(const struct co__fd_slot *s)
{
    return (s->reader ? CO__POLL_IN : 0u) | (s->writer ? CO__POLL_OUT : 0u);
}

int co_wait_fd(int fd, unsigned events, int64_t deadline_ns)
{
    struct co_task *t = co__current();
    if (fd < 0 || !events || (events & ~(unsigned)(CO_READABLE | CO_WRITABLE)))
        return CO_EINVAL;
    if (!t)
        return CO_EPERM;
    struct co_loop *loop = t->loop;
    int r = ensure_slot(loop, fd);
    if (r != 0)
        return r;
    struct co__fd_slot *s = &loop->fds[fd];
    if (((events & CO_READABLE) && s->reader) || ((events & CO_WRITABLE) && s->writer))
        return CO_EBUSY;
    unsigned want = interest_of(s) | ((events & CO_READABLE) ? CO__POLL_IN : 0u) |
                    ((events & CO_WRITABLE) ? CO__POLL_OUT : 0u);
    r = co__poller_arm(&loop->poller, fd, want);
    if (r == -EPERM)
        return (int)events; /* a regular file: always ready, as poll(2) says */
    if (r != 0)
        return r;
    if (events & CO_READABLE)
        s->reader = t;
    if (events & CO_WRITABLE)
        s->writer = t;
    loop->fd_waiters++;
    r = co__park(CORUN_WAIT_FD, (const void *)(intptr_t)fd, deadline_ns);
    loop->fd_waiters--;
    s = &loop->fds[fd]; /* the table may have moved */
    if (s->reader == t)
        s->reader = NULL;
    if (s->writer == t)
        s->writer = NULL;
    return r;
}

void co__fd_ready(struct co_loop *loop, int fd, unsigned events)
{
    if (fd < 0 || (size_t)fd >= loop->fds_cap)
        return;
    struct co__fd_slot *s = &loop->fds[fd];
    int err = (events & CO__POLL_ERR) != 0;
    unsigned rd = (err || (events & CO__POLL_IN)) ? (unsigned)CO_READABLE : 0u;
    unsigned wr = (err || (events & CO__POLL_OUT)) ? (unsigned)CO_WRITABLE : 0u;
    struct co_task *reader = s->reader, *writer = s->writer;
    if (reader && reader == writer) {
        if (rd | wr) {
            s->reader = s->writer = NULL;
            co__unpark(reader, (int)(rd | wr));
        }
    } else {
        if (reader && rd) {
            s->reader = NULL;
            co__unpark(reader, (int)rd);
        }
        if (writer && wr) {
            s->writer = NULL;
            co__unpark(writer, (int)wr);
        }
    }
    unsigned again = interest_of(s);
    if (again)
        co__poller_arm(&loop->poller, fd, again);
}

void co__fd_forget(struct co_loop *loop, int fd)
{
    if (!loop || fd < 0)
        return;
    if ((size_t)fd < loop->fds_cap) {
        struct co__fd_slot *s = &loop->fds[fd];
        struct co_task *reader = s->reader, *writer = s->writer;
        s->reader = s->writer = NULL;
        if (reader)
            co__unpark(reader, CO_ECLOSED);
        if (writer && writer != reader)
            co__unpark(writer, CO_ECLOSED);
    }
    co__poller_forget(&loop->poller, fd);
}
