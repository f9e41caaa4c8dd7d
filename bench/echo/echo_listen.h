/* What every C echo peer shares: the --port flag and a listening socket on 127.0.0.1. */
#ifndef CS_ECHO_LISTEN_H
#define CS_ECHO_LISTEN_H

#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>

/* Parses `[--port PORT]` (default 7000); a bad flag exits with status 2. */
static inline int echo_parse_port(int argc, char **argv, const char *name)
{
    static const struct option longopts[] = {
        {"port", required_argument, NULL, 'p'}, {"help", no_argument, NULL, 'h'}, {0, 0, 0, 0}};
    int port = 7000, c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        if (c == 'p') {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || end == optarg || v < 1 || v > 65535) {
                fprintf(stderr, "%s: --port wants 1..65535, not '%s'\n", name, optarg);
                exit(2);
            }
            port = (int)v;
        } else if (c == 'h') {
            printf("usage: %s [--port PORT]   echo server on 127.0.0.1:PORT (default 7000)\n",
                   name);
            exit(0);
        } else {
            fprintf(stderr, "usage: %s [--port PORT]\n", name);
            exit(2);
        }
    }
    if (optind != argc) {
        fprintf(stderr, "%s: unexpected argument '%s'\n", name, argv[optind]);
        exit(2);
    }
    return port;
}

/* A non-blocking listening socket on 127.0.0.1:port; exits with status 1 on failure. */
static inline int echo_listen(int port, const char *name)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        fprintf(stderr, "%s: socket: %s\n", name, strerror(errno));
        exit(1);
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(fd, 1024) < 0) {
        fprintf(stderr, "%s: cannot listen on 127.0.0.1:%d: %s\n", name, port, strerror(errno));
        exit(1);
    }
    return fd;
}

#endif
