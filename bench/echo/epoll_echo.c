/*
 * epoll_echo: the raw epoll echo server, the floor the other servers are compared with.
 * One thread, level-triggered epoll, non-blocking sockets, no allocation per request:
 * read what is there, write it back, and only if the write is short keep the rest and
 * wait for EPOLLOUT (never with a 64-byte echo, but a peer must be correct).
 *
 * usage: epoll_echo [--port PORT]   (serves 127.0.0.1:PORT, default 7000)
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "echo_listen.h"

enum { BUF_BYTES = 16384 };

struct client {
    int fd;
    size_t pending_off; /* start of bytes read but not yet written back */
    size_t pending_len; /* how many */
    char buf[BUF_BYTES];
};

static void close_client(int epfd, struct client *c)
{
    epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c);
}

/* Writes pending bytes; returns 1 if all written, 0 if it would block, -1 on error. */
static int flush_client(struct client *c)
{
    while (c->pending_len > 0) {
        ssize_t n = write(c->fd, c->buf + c->pending_off, c->pending_len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno == EAGAIN ? 0 : -1;
        }
        c->pending_off += (size_t)n;
        c->pending_len -= (size_t)n;
    }
    return 1;
}

static void on_client(int epfd, struct client *c, uint32_t events)
{
    if (c->pending_len > 0) {
        /* Waiting for EPOLLOUT: do not read more until what we owe is written. */
        int r = flush_client(c);
        if (r < 0) {
            close_client(epfd, c);
        } else if (r > 0) {
            struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
            epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
        }
        return;
    }
    if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
        return;
    ssize_t n = read(c->fd, c->buf, sizeof c->buf);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        close_client(epfd, c);
        return;
    }
    c->pending_off = 0;
    c->pending_len = (size_t)n;
    int r = flush_client(c);
    if (r < 0) {
        close_client(epfd, c);
    } else if (r == 0) {
        struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
        epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
    }
}

static void on_accept(int epfd, int lfd)
{
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                perror("epoll_echo: accept4");
            return;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct client *c = malloc(sizeof *c);
        if (!c) {
            close(fd);
            continue;
        }
        c->fd = fd;
        c->pending_off = c->pending_len = 0;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
            close(fd);
            free(c);
        }
    }
}

int main(int argc, char **argv)
{
    int port = echo_parse_port(argc, argv, "epoll_echo");
    signal(SIGPIPE, SIG_IGN);
    int lfd = echo_listen(port, "epoll_echo");
    int epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0) {
        perror("epoll_echo: epoll_create1");
        return 1;
    }
    /* The listener is told apart from clients by a NULL data pointer. */
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &lev);

    struct epoll_event evs[256];
    for (;;) {
        int n = epoll_wait(epfd, evs, 256, -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            perror("epoll_echo: epoll_wait");
            return 1;
        }
        for (int i = 0; i < n; i++) {
            if (evs[i].data.ptr == NULL)
                on_accept(epfd, lfd);
            else
                on_client(epfd, evs[i].data.ptr, evs[i].events);
        }
    }
}
