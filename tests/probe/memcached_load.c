/*
 * A small bounded loopback load for memcached (text protocol): CONNS connections, each
 * with one request in flight, alternating `set` and `get` of its own key, for SECONDS.
 * Prints "requests N" and exits 0 if every connection got answers, 1 otherwise.
 *
 *   memcached-load PORT CONNS SECONDS
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 256
#define VALUE     "0123456789abcdef0123456789abcdef" /* 32 bytes */

struct conn {
    int fd;
    int id;
    int sending_get; /* the request in flight is a get (else a set) */
    size_t have;     /* bytes of the reply read so far */
    char buf[512];
    unsigned long answered;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int send_request(struct conn *c)
{
    char req[128];
    int n = c->sending_get ? snprintf(req, sizeof req, "get key-%d\r\n", c->id)
                           : snprintf(req, sizeof req, "set key-%d 0 0 %zu\r\n%s\r\n", c->id,
                                      strlen(VALUE), VALUE);
    c->have = 0;
    /* Loopback sockets take a request this small whole. */
    return send(c->fd, req, (size_t)n, MSG_NOSIGNAL) == n ? 0 : -1;
}

static int ends_with(const struct conn *c, const char *tail)
{
    size_t n = strlen(tail);
    return c->have >= n && !memcmp(c->buf + c->have - n, tail, n);
}

/* Reads what arrived; 1 when the reply is complete, 0 if more is needed, -1 on error. */
static int read_reply(struct conn *c)
{
    ssize_t got = recv(c->fd, c->buf + c->have, sizeof c->buf - c->have, 0);
    if (got <= 0)
        return got < 0 && errno == EAGAIN ? 0 : -1;
    c->have += (size_t)got;
    if (ends_with(c, c->sending_get ? "END\r\n" : "STORED\r\n"))
        return 1;
    return c->have == sizeof c->buf ? -1 : 0;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: memcached-load PORT CONNS SECONDS\n");
        return 2;
    }
    int port = atoi(argv[1]), nconns = atoi(argv[2]);
    double seconds = atof(argv[3]);
    if (port <= 0 || nconns <= 0 || nconns > MAX_CONNS || seconds <= 0) {
        fprintf(stderr, "memcached-load: bad arguments\n");
        return 2;
    }
    static struct conn conns[MAX_CONNS];
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i < nconns; i++) {
        struct conn *c = &conns[i];
        c->id = i;
        c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int one = 1;
        setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connect(c->fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
            fprintf(stderr, "memcached-load: connect to port %d: %s\n", port, strerror(errno));
            return 1;
        }
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
        if (send_request(c) != 0) {
            fprintf(stderr, "memcached-load: send: %s\n", strerror(errno));
            return 1;
        }
    }
    unsigned long requests = 0;
    double end = now_s() + seconds;
    while (now_s() < end) {
        struct epoll_event evs[64];
        int n = epoll_wait(ep, evs, 64, 100);
        for (int i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            int r = read_reply(c);
            if (r < 0) {
                fprintf(stderr, "memcached-load: connection %d: bad or no reply\n", c->id);
                return 1;
            }
            if (r == 0)
                continue;
            requests++;
            c->answered++;
            c->sending_get = !c->sending_get;
            if (send_request(c) != 0) {
                fprintf(stderr, "memcached-load: send: %s\n", strerror(errno));
                return 1;
            }
        }
    }
    int idle = 0;
    for (int i = 0; i < nconns; i++) {
        idle += conns[i].answered == 0;
        close(conns[i].fd);
    }
    close(ep);
    printf("requests %lu\n", requests);
    return idle ? 1 : 0;
}
