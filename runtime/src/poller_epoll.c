/* The epoll poller (see poller.h). */
#include <errno.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "poller.h"

int co__poller_init(struct co__poller *p)
{
    p->epfd = epoll_create1(EPOLL_CLOEXEC);
    return p->epfd < 0 ? -errno : 0;
}

void co__poller_close(struct co__poller *p)
{
    if (p->epfd >= 0)
        close(p->epfd);
    p->epfd = -1;
}

int co__poller_arm(struct co__poller *p, int fd, unsigned events)
{
    struct epoll_event ev = {.events = EPOLLONESHOT, .data.fd = fd};
    if (events & CO__POLL_IN)
        ev.events |= EPOLLIN | EPOLLRDHUP;
    if (events & CO__POLL_OUT)
        ev.events |= EPOLLOUT;
    /* A one-shot registration stays in the set after it fired: MOD is the usual case. A
     * closed fd leaves the set by itself, so a new fd of that number needs ADD. */
    if (epoll_ctl(p->epfd, EPOLL_CTL_MOD, fd, &ev) == 0)
        return 0;
    if (errno != ENOENT)
        return -errno;
    if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, fd, &ev) == 0)
        return 0;
    return -errno;
}

int co__poller_watch(struct co__poller *p, int fd, unsigned events, int in_set)
{
    struct epoll_event ev = {.events = 0, .data.fd = fd};
    if (events & CO__POLL_IN)
        ev.events |= EPOLLIN | EPOLLRDHUP;
    if (events & CO__POLL_OUT)
        ev.events |= EPOLLOUT;
    if (epoll_ctl(p->epfd, in_set ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev) == 0)
        return 0;
    /* Our idea of the set was wrong (an fd closed and reopened behind our back): the
     * other operation is the right one. */
    if (errno != (in_set ? ENOENT : EEXIST))
        return -errno;
    if (epoll_ctl(p->epfd, in_set ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev) == 0)
        return 0;
    return -errno;
}

int co__poller_add_persistent(struct co__poller *p, int fd)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    return epoll_ctl(p->epfd, EPOLL_CTL_ADD, fd, &ev) == 0 ? 0 : -errno;
}

void co__poller_forget(struct co__poller *p, int fd)
{
    epoll_ctl(p->epfd, EPOLL_CTL_DEL, fd, NULL);
}

int co__poller_wait(struct co__poller *p, struct co__poll_event *evs, int max, int64_t timeout_ns)
{
    struct epoll_event raw[64];
    if (max > 64)
        max = 64;
    int n;
    static int no_pwait2;
    if (timeout_ns <= 0 || no_pwait2) {
        /* epoll_wait counts milliseconds: round up so a timer never fires early. */
        int ms = timeout_ns < 0 ? -1 : (int)((timeout_ns + 999999) / 1000000);
        n = epoll_wait(p->epfd, raw, max, ms);
    } else {
        struct timespec ts = {.tv_sec = timeout_ns / 1000000000,
                              .tv_nsec = timeout_ns % 1000000000};
        n = epoll_pwait2(p->epfd, raw, max, &ts, NULL);
        if (n < 0 && errno == ENOSYS) {
            no_pwait2 = 1;
            return co__poller_wait(p, evs, max, timeout_ns);
        }
    }
    if (n < 0)
        return errno == EINTR ? 0 : -errno;
    for (int i = 0; i < n; i++) {
        unsigned e = 0;
        if (raw[i].events & (EPOLLIN | EPOLLRDHUP))
            e |= CO__POLL_IN;
        if (raw[i].events & EPOLLOUT)
            e |= CO__POLL_OUT;
        if (raw[i].events & (EPOLLERR | EPOLLHUP))
            e |= CO__POLL_ERR;
        evs[i].fd = raw[i].data.fd;
        evs[i].events = e;
    }
    return n;
}
