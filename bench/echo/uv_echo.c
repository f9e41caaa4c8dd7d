/*
 * uv_echo: the libuv echo server peer. One loop, one buffer per client; the reply goes
 * out with uv_try_write (a plain write(2), as a tuned libuv server does) and only a short
 * write falls back to a queued uv_write, during which reading stops so replies keep order.
 *
 * usage: uv_echo [--port PORT]   (serves 127.0.0.1:PORT, default 7000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "echo_listen.h"

enum { BUF_BYTES = 16384 };

struct client {
    uv_tcp_t tcp; /* first: the handle pointer is the client pointer */
    char buf[BUF_BYTES];
};

struct pending_write {
    uv_write_t req;
    size_t len;
    char data[];
};

static void alloc_cb(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    struct client *c = (struct client *)handle;
    *buf = uv_buf_init(c->buf, sizeof c->buf);
}

static void close_cb(uv_handle_t *handle)
{
    free(handle);
}

static void read_cb(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf);

static void write_cb(uv_write_t *req, int status)
{
    struct pending_write *w = (struct pending_write *)req;
    uv_stream_t *stream = req->handle;
    free(w);
    if (status < 0) {
        if (!uv_is_closing((uv_handle_t *)stream))
            uv_close((uv_handle_t *)stream, close_cb);
        return;
    }
    uv_read_start(stream, alloc_cb, read_cb);
}

static void read_cb(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    if (nread == 0)
        return;
    if (nread < 0) {
        uv_close((uv_handle_t *)stream, close_cb);
        return;
    }
    uv_buf_t out = uv_buf_init(buf->base, (unsigned)nread);
    int n = uv_try_write(stream, &out, 1);
    if (n == nread)
        return;
    if (n < 0 && n != UV_EAGAIN) {
        uv_close((uv_handle_t *)stream, close_cb);
        return;
    }
    size_t done = n > 0 ? (size_t)n : 0, left = (size_t)nread - done;
    struct pending_write *w = malloc(sizeof *w + left);
    if (!w) {
        uv_close((uv_handle_t *)stream, close_cb);
        return;
    }
    w->len = left;
    memcpy(w->data, buf->base + done, left);
    uv_buf_t rest = uv_buf_init(w->data, (unsigned)left);
    uv_read_stop(stream);
    if (uv_write(&w->req, stream, &rest, 1, write_cb) < 0) {
        free(w);
        uv_close((uv_handle_t *)stream, close_cb);
    }
}

static void on_connection(uv_stream_t *server, int status)
{
    if (status < 0)
        return;
    struct client *c = malloc(sizeof *c);
    if (!c)
        return;
    uv_tcp_init(server->loop, &c->tcp);
    if (uv_accept(server, (uv_stream_t *)&c->tcp) < 0) {
        uv_close((uv_handle_t *)&c->tcp, close_cb);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb);
}

int main(int argc, char **argv)
{
    int port = echo_parse_port(argc, argv, "uv_echo");
    uv_loop_t *loop = uv_default_loop();
    uv_tcp_t server;
    struct sockaddr_in addr;
    uv_tcp_init(loop, &server);
    uv_ip4_addr("127.0.0.1", port, &addr);
    int r = uv_tcp_bind(&server, (const struct sockaddr *)&addr, 0);
    if (r == 0)
        r = uv_listen((uv_stream_t *)&server, 1024, on_connection);
    if (r < 0) {
        fprintf(stderr, "uv_echo: cannot listen on 127.0.0.1:%d: %s\n", port, uv_strerror(r));
        return 1;
    }
    return uv_run(loop, UV_RUN_DEFAULT);
}
