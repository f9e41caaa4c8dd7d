/* Non-blocking sockets on co_wait_fd: TCP (IPv4/IPv6) and Unix stream sockets.
 *
 * Every call tries the system call first and waits for readiness only on EAGAIN, so a
 * socket that already has data costs one system call. Errors come back as negative errno
 * codes; the fd is left open for the caller to co_close (or close). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "corun.h"
#include "internal.h"

int co_fd_set_nonblocking(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0)
        return -errno;
    if (!(flags & O_NONBLOCK) && fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        return -errno;
    return 0;
}

/* Parses a numeric address (no DNS: a look-up would block the loop). host NULL or ""
 * means every IPv4 address ("::" for every IPv6 address). */
static int make_inet_addr(const char *host, uint16_t port, struct sockaddr_storage *ss,
                          socklen_t *len)
{
    memset(ss, 0, sizeof *ss);
    if (!host || !*host)
        host = "0.0.0.0";
    struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons(port);
        *len = sizeof *in4;
        return 0;
    }
    if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        *len = sizeof *in6;
        return 0;
    }
    return CO_EINVAL;
}

static int make_unix_addr(const char *path, struct sockaddr_un *sun, socklen_t *len)
{
    if (!path || !*path)
        return CO_EINVAL;
    size_t n = strlen(path);
    if (n >= sizeof sun->sun_path)
        return -ENAMETOOLONG;
    memset(sun, 0, sizeof *sun);
    sun->sun_family = AF_UNIX;
    memcpy(sun->sun_path, path, n + 1);
    *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
    return 0;
}

int co_listen(const struct sockaddr *addr, socklen_t len, int backlog)
{
    if (!addr || backlog < 0)
        return CO_EINVAL;
    int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int one = 1;
    if (addr->sa_family != AF_UNIX)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, addr, len) < 0 || listen(fd, backlog ? backlog : SOMAXCONN) < 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    co__fd_adopt(co__tls_loop, fd);
    return fd;
}

int co_tcp_listen(const char *host, uint16_t port, int backlog)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int rc = make_inet_addr(host, port, &ss, &len);
    return rc ? rc : co_listen((struct sockaddr *)&ss, len, backlog);
}

int co_unix_listen(const char *path, int backlog)
{
    struct sockaddr_un sun;
    socklen_t len;
    int rc = make_unix_addr(path, &sun, &len);
    return rc ? rc : co_listen((struct sockaddr *)&sun, len, backlog);
}

int co_local_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return -errno;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return CO_EINVAL;
}

static int set_nodelay(int fd)
{
    int one = 1;
    return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

int co_accept(int listen_fd, struct sockaddr *addr, socklen_t *addr_len, int64_t deadline_ns)
{
    if (listen_fd < 0)
        return CO_EINVAL;
    for (;;) {
        int fd = accept4(listen_fd, addr, addr_len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            /* request/response traffic: do not let Nagle delay small replies */
            set_nodelay(fd); /* fails harmlessly on Unix sockets */
            co__fd_adopt(co__tls_loop, fd);
            return fd;
        }
        int err = errno;
        if (err == EINTR || err == ECONNABORTED)
            continue;
        if (err != EAGAIN && err != EWOULDBLOCK)
            return -err; /* EMFILE, ENFILE, ENOBUFS...: the caller decides */
        int rc = co__wait_fd(listen_fd, CO_READABLE, deadline_ns);
        if (rc < 0)
            return rc;
    }
}

int co_connect(const struct sockaddr *addr, socklen_t len, int64_t deadline_ns)
{
    if (!addr)
        return CO_EINVAL;
    int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    co__fd_adopt(co__tls_loop, fd);
    int err;
    for (;;) {
        if (connect(fd, addr, len) == 0) {
            err = 0;
            break;
        }
        err = errno;
        if (err == EINTR)
            continue;
        if (err == EAGAIN && addr->sa_family == AF_UNIX) {
            /* A Unix listener's backlog is full: nothing signals when it drains, so
             * retry a little later, within the deadline. */
            if (deadline_ns != CO_NO_DEADLINE && co_now_ns() >= deadline_ns) {
                err = ETIMEDOUT;
                break;
            }
            int rc = co_sleep(1000000);
            if (rc < 0) {
                co_close(fd);
                return rc;
            }
            continue;
        }
        if (err == EINPROGRESS) {
            int rc = co__wait_fd(fd, CO_WRITABLE, deadline_ns);
            if (rc < 0) {
                co_close(fd);
                return rc;
            }
            socklen_t elen = sizeof err;
            if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
                err = errno;
        }
        break;
    }
    if (err) {
        co_close(fd);
        return -err;
    }
    if (addr->sa_family != AF_UNIX)
        set_nodelay(fd);
    return fd;
}

int co_tcp_connect(const char *host, uint16_t port, int64_t deadline_ns)
{
    struct sockaddr_storage ss;
    socklen_t len;
    if (!host || !*host)
        return CO_EINVAL;
    int rc = make_inet_addr(host, port, &ss, &len);
    return rc ? rc : co_connect((struct sockaddr *)&ss, len, deadline_ns);
}

int co_unix_connect(const char *path, int64_t deadline_ns)
{
    struct sockaddr_un sun;
    socklen_t len;
    int rc = make_unix_addr(path, &sun, &len);
    return rc ? rc : co_connect((struct sockaddr *)&sun, len, deadline_ns);
}

int co_socketpair(int fds[2])
{
    if (!fds)
        return CO_EINVAL;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) < 0)
        return -errno;
    co__fd_adopt(co__tls_loop, fds[0]);
    co__fd_adopt(co__tls_loop, fds[1]);
    return 0;
}

/* co_read without the argument checks (direct calls inside the library, not the PLT). */
static ssize_t read_some(int fd, void *buf, size_t len, int64_t deadline_ns)
{
    for (;;) {
        ssize_t n = read(fd, buf, len);
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return -errno;
        int rc = co__wait_fd(fd, CO_READABLE, deadline_ns);
        if (rc < 0)
            return rc;
    }
}

ssize_t co_read(int fd, void *buf, size_t len, int64_t deadline_ns)
{
    if (fd < 0 || (!buf && len))
        return CO_EINVAL;
    return read_some(fd, buf, len, deadline_ns);
}

/* send() with MSG_NOSIGNAL so a closed peer is an EPIPE status, not a SIGPIPE; write()
 * for what is not a socket (pipes, ttys). */
static ssize_t write_once(int fd, const void *buf, size_t len)
{
    ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
    if (n < 0 && errno == ENOTSOCK)
        n = write(fd, buf, len);
    return n;
}

static ssize_t write_some(int fd, const void *buf, size_t len, int64_t deadline_ns)
{
    for (;;) {
        ssize_t n = write_once(fd, buf, len);
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return -errno;
        int rc = co__wait_fd(fd, CO_WRITABLE, deadline_ns);
        if (rc < 0)
            return rc;
    }
}

ssize_t co_write(int fd, const void *buf, size_t len, int64_t deadline_ns)
{
    if (fd < 0 || (!buf && len))
        return CO_EINVAL;
    return write_some(fd, buf, len, deadline_ns);
}

ssize_t co_readn(int fd, void *buf, size_t len, int64_t deadline_ns)
{
    if (fd < 0 || (!buf && len))
        return CO_EINVAL;
    size_t done = 0;
    while (done < len) {
        ssize_t n = read_some(fd, (char *)buf + done, len - done, deadline_ns);
        if (n < 0)
            return n;
        if (n == 0)
            return CO_ECLOSED; /* the peer closed before len bytes came */
        done += (size_t)n;
    }
    return (ssize_t)done;
}

ssize_t co_write_all(int fd, const void *buf, size_t len, int64_t deadline_ns)
{
    if (fd < 0 || (!buf && len))
        return CO_EINVAL;
    size_t done = 0;
    while (done < len) {
        ssize_t n = write_some(fd, (const char *)buf + done, len - done, deadline_ns);
        if (n < 0)
            return n;
        done += (size_t)n;
    }
    return (ssize_t)done;
}

int co_close(int fd)
{
    if (fd < 0)
        return CO_EINVAL;
    if (co__tls_loop)
        co__fd_forget(co__tls_loop, fd); /* waiters get CO_ECLOSED, epoll forgets it */
    return close(fd) < 0 && errno != EINTR ? -errno : 0;
}
