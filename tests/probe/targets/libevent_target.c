/* Test target: the same stall commands on a libevent loop (persistent timer, stdin event). */
#include <event2/event.h>
#include <stdio.h>

#include "stall_actions.h"
#include "stdin_commands.h"

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    stall_loop_tick();
}

static void on_stdin(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    if (stdin_commands_read())
        event_base_loopbreak(arg);
}

int main(void)
{
    struct event_base *base = event_base_new();
    struct timeval one_ms = {0, 1000};
    struct event *tick = event_new(base, -1, EV_PERSIST, on_tick, NULL);
    event_add(tick, &one_ms);
    struct event *in = event_new(base, 0, EV_READ | EV_PERSIST, on_stdin, base);
    event_add(in, NULL);
    printf("ready\n");
    fflush(stdout);
    event_base_dispatch(base);
    event_free(in);
    event_free(tick);
    event_base_free(base);
    return 0;
}
