/*
 * co_wait_fd: readiness of any fd, through the loop's poller. Each fd has at most one
 * waiting reader and one waiting writer (a second one gets CO_EBUSY).
 *
 * Registrations (poller.h):
 *  - fds the runtime created (co__fd_adopt) stay registered, level-triggered, for what
 *    their waiters wanted last. A reader that waits again for the same thing costs no
 *    system call: a request on a connection is read + write, as in libuv. A direction
 *    nobody waits for any more is dropped lazily, the first time the poller reports it
 *    with no waiter (so a readable socket whose task is busy elsewhere does not wake the
 *    loop at every iteration).
 *  - other fds (pipes, the user's own sockets) are armed one-shot each time someone
 *    waits: their owner may close() them without telling us, and a one-shot arm checks
 *    the registration every time.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static __attribute__((noinline)) int grow_slots(struct co_loop *loop, int fd)
{
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

static inline int ensure_slot(struct co_loop *loop, int fd)
{
    return (size_t)fd < loop->fds_cap ? 0 : grow_slots(loop, fd);
}

static unsigned interest_of(const struct co__fd_slot *s)
{
    return (s->reader ? CO__POLL_IN : 0u) | (s->writer ? CO__POLL_OUT : 0u);
}

void co__fd_adopt(struct co_loop *loop, int fd)
{
    if (!loop || fd < 0 || ensure_slot(loop, fd) != 0)
        return; /* no slot: the fd is simply armed one-shot when waited for */
    struct co__fd_slot *s = &loop->fds[fd];
    /* A new fd of this number: the kernel dropped the old one's registration with it
     * (unless a dup kept it, which co_close's DEL would have ended). */
    memset(s, 0, sizeof *s);
    s->persistent = 1;
}

/* Makes the poller watch fd for `want` (which holds every current waiter's interest). */
static int watch(struct co_loop *loop, int fd, struct co__fd_slot *s, unsigned want)
{
    if (!s->persistent) {
        int r = co__poller_arm(&loop->poller, fd, want);
        if (r == 0)
            s->in_set = 1;
        return r;
    }
    if ((want & ~(unsigned)s->watched) == 0)
        return 0; /* the registration already covers it: the common case */
    int r = co__poller_watch(&loop->poller, fd, want, s->in_set);
    if (r != 0)
        return r;
    s->in_set = 1;
    s->watched = (uint8_t)want;
    return 0;
}

int co__wait_fd(int fd, unsigned events, int64_t deadline_ns)
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
    r = watch(loop, fd, s, want);
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

/* A persistent registration reported `dirs` that nobody waited for: stop watching them
 * (all of fd when nothing is left, since errors and hang-ups are reported regardless of
 * the mask). */
static void drop_idle(struct co_loop *loop, int fd, struct co__fd_slot *s, unsigned dirs)
{
    unsigned keep = s->watched & ~dirs;
    if (keep == s->watched)
        return;
    if (keep == 0) {
        co__poller_forget(&loop->poller, fd);
        s->in_set = 0;
    } else if (co__poller_watch(&loop->poller, fd, keep, 1) != 0) {
        co__poller_forget(&loop->poller, fd);
        s->in_set = 0;
        keep = 0;
    }
    s->watched = (uint8_t)keep;
}

int co_wait_fd(int fd, unsigned events, int64_t deadline_ns)
{
    return co__wait_fd(fd, events, deadline_ns);
}

void co__fd_ready(struct co_loop *loop, int fd, unsigned events)
{
    if (fd < 0 || (size_t)fd >= loop->fds_cap)
        return;
    struct co__fd_slot *s = &loop->fds[fd];
    int err = (events & CO__POLL_ERR) != 0;
    unsigned rd = (err || (events & CO__POLL_IN)) ? (unsigned)CO_READABLE : 0u;
    unsigned wr = (err || (events & CO__POLL_OUT)) ? (unsigned)CO_WRITABLE : 0u;
    unsigned waited = interest_of(s);
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
    if (s->persistent) {
        /* The woken waiters usually wait again for the same thing: keep their part. */
        unsigned dirs = (rd ? CO__POLL_IN : 0u) | (wr ? CO__POLL_OUT : 0u);
        if (dirs & ~waited)
            drop_idle(loop, fd, s, dirs & ~waited);
        return;
    }
    unsigned again = interest_of(s);
    if (again)
        co__poller_arm(&loop->poller, fd, again);
}

void co__fd_forget(struct co_loop *loop, int fd)
{
    if (!loop || fd < 0 || (size_t)fd >= loop->fds_cap)
        return; /* never waited for: not in the poller's set */
    struct co__fd_slot *s = &loop->fds[fd];
    struct co_task *reader = s->reader, *writer = s->writer;
    int in_set = s->in_set;
    memset(s, 0, sizeof *s);
    if (reader)
        co__unpark(reader, CO_ECLOSED);
    if (writer && writer != reader)
        co__unpark(writer, CO_ECLOSED);
    if (in_set)
        co__poller_forget(&loop->poller, fd);
}
