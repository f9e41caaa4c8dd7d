/*
 * The poller: readiness of file descriptors for one loop (epoll in poller_epoll.c).
 *
 * Two kinds of registration (fd_wait.c chooses):
 *  - one-shot: an fd reports once, then must be re-armed. For fds the runtime did not
 *    create: their owner may close() them behind our back, and a one-shot registration
 *    is re-checked (MOD, then ADD if the fd is new) every time someone waits.
 *  - persistent, level-triggered: registered once and kept while the interest does not
 *    change, so a request costs no epoll_ctl. For the sockets co_accept/co_connect/
 *    co_listen/co_socketpair create, which are closed with co_close.
 * Level-triggered, never edge-triggered: co_wait_fd never reports a readiness that is
 * not there any more.
 */
#ifndef CO_POLLER_H
#define CO_POLLER_H

#include <stdint.h>

enum { CO__POLL_IN = 1u, CO__POLL_OUT = 2u, CO__POLL_ERR = 4u };

struct co__poll_event {
    int fd;
    unsigned events; /* CO__POLL_* */
};

struct co__poller {
    int epfd;
};

int co__poller_init(struct co__poller *p);
void co__poller_close(struct co__poller *p);
/* Watches fd for `events` (CO__POLL_IN/OUT) once. Returns 0 or a negative errno. */
int co__poller_arm(struct co__poller *p, int fd, unsigned events);
/*
 * Watches fd for `events` until changed or forgotten (level-triggered). `in_set` says
 * whether fd is already registered (MOD) or not (ADD). Returns 0 or a negative errno.
 */
int co__poller_watch(struct co__poller *p, int fd, unsigned events, int in_set);
/* Watches fd for readability persistently (the loop's wake-up eventfd). */
int co__poller_add_persistent(struct co__poller *p, int fd);
/* Stops watching fd (it may already be closed). */
void co__poller_forget(struct co__poller *p, int fd);
/*
 * Waits up to timeout_ns (-1 = forever, 0 = just look) and fills at most max events.
 * Returns how many, or a negative errno (EINTR is reported as 0 events).
 */
int co__poller_wait(struct co__poller *p, struct co__poll_event *evs, int max, int64_t timeout_ns);

#endif
