/* Sockets: an echo server task and a client task in one program, over TCP loopback. */
#include <stdio.h>
#include <string.h>

#include "corun.h"

static int serve_one(void *arg, intptr_t *result)
{
    (void)result;
    int lfd = (int)(intptr_t)arg;
    int fd = co_accept(lfd, NULL, NULL, co_deadline_in(5000000000LL));
    if (fd < 0)
        return fd;
    char buf[256];
    ptrdiff_t n;
    while ((n = co_read(fd, buf, sizeof buf, CO_NO_DEADLINE)) > 0) /* 0: client closed */
        co_write_all(fd, buf, (size_t)n, CO_NO_DEADLINE);
    co_close(fd);
    printf("server: client left\n");
    return 0;
}

static int main_task(void *arg, intptr_t *result)
{
    (void)arg;
    (void)result;
    int lfd = co_tcp_listen("127.0.0.1", 0, 16); /* port 0: any free port */
    if (lfd < 0)
        return lfd;
    co_task *server;
    co_spawn(&server, serve_one, (void *)(intptr_t)lfd, NULL);

    int fd =
        co_tcp_connect("127.0.0.1", (uint16_t)co_local_port(lfd), co_deadline_in(5000000000LL));
    if (fd < 0)
        return fd;
    const char *msg = "ping";
    char back[5] = {0};
    co_write_all(fd, msg, 4, CO_NO_DEADLINE);
    co_readn(fd, back, 4, co_deadline_in(5000000000LL)); /* exactly 4 bytes, or an error */
    printf("client: sent %s, got %s\n", msg, back);
    int rc = (int)co_read(fd, back, 4, co_deadline_in(10 * 1000 * 1000));
    printf("client: nothing more to read: %s\n", co_strerror(rc));
    co_close(fd);
    co_join(server, NULL, CO_NO_DEADLINE);
    co_close(lfd);
    return 0;
}

int main(void)
{
    return co_run(main_task, NULL, NULL) == 0 ? 0 : 1;
}
