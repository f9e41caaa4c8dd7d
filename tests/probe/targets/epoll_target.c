/*
 * Test target: a plain epoll event loop. It ticks every millisecond (a loop under
 * load) and runs stall commands read from stdin (stall_actions.h). Prints "ready"
 * once the loop is running. With --workers it also runs two threads that are not
 * event loops (one computing, one blocked on a condition variable), for loop detection.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "stall_actions.h"
#include "stdin_commands.h"

static void *computing_worker(void *arg)
{
    (void)arg;
    for (;;) {
        stall_tick_work();
        stall_tick_work();
    }
    return NULL;
}

static void *waiting_worker(void *arg)
{
    (void)arg;
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    static pthread_cond_t never = PTHREAD_COND_INITIALIZER;
    pthread_mutex_lock(&mu);
    for (;;)
        pthread_cond_wait(&never, &mu);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "--workers")) {
        pthread_t t;
        pthread_create(&t, NULL, computing_worker, NULL);
        pthread_create(&t, NULL, waiting_worker, NULL);
    }
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
                    stall_loop_tick();
            } else if (stdin_commands_read()) {
                return 0;
            }
        }
    }
}
