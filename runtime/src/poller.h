/*
 * The poller: readiness of file descriptors for one loop (epoll in poller_epoll.c).
 * Registrations are one-shot: an fd reports once, then must be re-armed. That keeps a
 * level-triggered fd nobody waits for from waking the loop again and again.
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
