/*
 * Test target: a plain epoll event loop. It ticks every millisecond (a loop under
 * load) and runs stall commands read from stdin (stall_actions.h). Prints "ready"
 * once the loop is running.
 */
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "stall_actions.h"
#include "stdin_commands.h"

int main(void)
{
    int ep = epoll_create1(0);
    int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
    struct itimerspec its = {{0, 1000000}, {0, 1000000}};
    timerfd_settime(tfd, 0, &its, NULL);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = tfd};
    epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev);
    ev.data.fd = 0;
    epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev);
    printf("ready\n");
    fflush(stdout);

    for (;;) {
        struct epoll_event evs[4];
        int n = epoll_wait(ep, evs, 4, -1);
        for (int i = 0; i < n; i++) {
            if (evs[i].data.fd == tfd) {
                unsigned long long ticks;
                if (read(tfd, &ticks, sizeof ticks) > 0)
                    stall_tick_work();
            } else if (stdin_commands_read()) {
                return 0;
            }
        }
    }
}
