/* Test target: the same stall commands on a libuv loop (uv_timer ticks, uv_poll on stdin). */
#include <stdio.h>
#include <uv.h>

#include "stall_actions.h"
#include "stdin_commands.h"

static void on_tick(uv_timer_t *t)
{
    (void)t;
    stall_loop_tick();
}

static void on_stdin(uv_poll_t *p, int status, int events)
{
    (void)status;
    (void)events;
    if (stdin_commands_read())
        uv_stop(p->loop);
}

int main(void)
{
    uv_loop_t *loop = uv_default_loop();
    uv_timer_t tick;
    uv_timer_init(loop, &tick);
    uv_timer_start(&tick, on_tick, 1, 1);
    uv_poll_t in;
    uv_poll_init(loop, &in, 0);
    uv_poll_start(&in, UV_READABLE, on_stdin);
    printf("ready\n");
    fflush(stdout);
    uv_run(loop, UV_RUN_DEFAULT);
    return 0;
}
