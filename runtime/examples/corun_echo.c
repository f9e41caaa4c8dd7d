/* corun-echo: a TCP echo server on 127.0.0.1 (the benchmark's libcorun contender).
 *
 *   corun-echo [--port PORT]      (default 7000)
 *
 * One loop, one task per connection. A connection task reads what is there and writes it
 * back; its buffer lives on its (pooled) stack, so a request allocates nothing. */
#include <stdio.h>
#include <string.h>

#include "corun.h"
#include "example_args.h"

enum { ECHO_BUF_BYTES = 16 * 1024 };

static int connection_main(void *arg, intptr_t *result)
{
    (void)result;
    int fd = (int)(intptr_t)arg;
    char buf[ECHO_BUF_BYTES];
    int drained = 0;
    for (;;) {
        /* A short read emptied the socket: wait for readiness first instead of paying
         * for a read that would only say EAGAIN (libuv does the same). */
        if (drained && co_wait_fd(fd, CO_READABLE, CO_NO_DEADLINE) < 0)
            break;
        ssize_t n = co_read(fd, buf, sizeof buf, CO_NO_DEADLINE);
        if (n <= 0)
            break;
        drained = (size_t)n < sizeof buf;
        if (co_write_all(fd, buf, (size_t)n, CO_NO_DEADLINE) < 0)
            break;
    }
    co_close(fd);
    return 0;
}

static int accept_main(void *arg, intptr_t *result)
{
    (void)result;
    int lfd = (int)(intptr_t)arg;
    struct co_spawn_opts opts = {.name = "echo-conn", .flags = CO_SPAWN_DETACHED};
    for (;;) {
        int fd = co_accept(lfd, NULL, NULL, CO_NO_DEADLINE);
        if (fd == CO_ECANCELED)
            return 0;
        if (fd < 0) {
            /* Out of fds or memory: report, back off, keep serving the others. */
            fprintf(stderr, "corun-echo: accept: %s\n", co_strerror(fd));
            co_sleep(10 * 1000 * 1000);
            continue;
        }
        if (co_spawn(NULL, connection_main, (void *)(intptr_t)fd, &opts) < 0)
            co_close(fd);
    }
}

static int main_task(void *arg, intptr_t *result)
{
    (void)result;
    int port = *(int *)arg;
    int lfd = co_tcp_listen("127.0.0.1", (uint16_t)port, 1024);
    if (lfd < 0) {
        fprintf(stderr, "corun-echo: cannot listen on 127.0.0.1:%d: %s\n", port, co_strerror(lfd));
        return lfd;
    }
    co_signal_cancel(co_self());
    printf("corun-echo listening on 127.0.0.1:%d\n", port);
    fflush(stdout);
    co_task *acceptor;
    struct co_spawn_opts opts = {.name = "accept"};
    int rc = co_spawn(&acceptor, accept_main, (void *)(intptr_t)lfd, &opts);
    if (rc == 0) {
        rc = co_join(acceptor, NULL, CO_NO_DEADLINE);
        if (rc == CO_ECANCELED) { /* SIGINT/SIGTERM: stop accepting, exit cleanly */
            co_cancel(acceptor);
            co_join(acceptor, NULL, CO_NO_DEADLINE);
            rc = 0;
        }
    }
    co_close(lfd);
    co_signal_restore();
    return rc;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: corun-echo [--port PORT]\n"
               "  TCP echo server on 127.0.0.1:PORT (default 7000). SIGINT/SIGTERM stop it.\n");
}

int main(int argc, char **argv)
{
    int port = 7000;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
            port = example_parse_port(argv[++i]);
            if (port < 0) {
                fprintf(stderr, "corun-echo: bad port '%s' (1-65535)\n", argv[i]);
                return 2;
            }
            continue;
        }
        fprintf(stderr, "corun-echo: unknown argument '%s' (try --help)\n", argv[i]);
        return 2;
    }
    int rc = co_run(main_task, &port, NULL);
    return rc == 0 ? 0 : 1;
}
