/* SIGINT/SIGTERM as cancellation of one task (opt-in), like asyncio.run's Ctrl-C.
 *
 * A self-pipe rather than signalfd: signalfd needs the signals blocked in EVERY thread,
 * and threads the program started before us would still take them with the default
 * (fatal) action. With a handler, whichever thread receives the signal just writes one
 * byte; a watcher task of the target's loop reads it and cancels the target. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "corun.h"

static int pipe_fds[2] = {-1, -1};
static volatile sig_atomic_t last_signal;
static co_task *target;
static co_task *watcher;
static struct sigaction old_int, old_term;

static void on_signal(int signo)
{
    int saved = errno;
    last_signal = signo;
    unsigned char b = (unsigned char)signo;
    ssize_t n = write(pipe_fds[1], &b, 1); /* full pipe: a wake-up is pending anyway */
    (void)n;
    errno = saved;
}

static void restore_handlers(void)
{
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    target = NULL;
    watcher = NULL;
}

/* Ends when cancelled: by co_signal_restore, or by co_run cancelling what is left once
 * the main task returned. Either way the program's own handlers come back. */
static int watcher_main(void *arg, intptr_t *result)
{
    (void)arg;
    (void)result;
    for (;;) {
        int rc = co_wait_fd(pipe_fds[0], CO_READABLE, CO_NO_DEADLINE);
        if (rc < 0) {
            if (watcher == co_self()) /* not already restored by co_signal_restore */
                restore_handlers();
            return rc == CO_ECANCELED ? 0 : rc;
        }
        unsigned char buf[64];
        while (read(pipe_fds[0], buf, sizeof buf) > 0)
            ;
        if (target)
            co_cancel(target);
    }
}

int co_signal_cancel(co_task *t)
{
    if (!t || t != co_self())
        return CO_EINVAL; /* the watcher must live on t's loop: call it from t */
    if (target)
        return CO_EBUSY;
    if (pipe_fds[0] < 0 && pipe2(pipe_fds, O_NONBLOCK | O_CLOEXEC) < 0)
        return -errno;
    struct co_spawn_opts opts = {.name = "signal-watcher", .flags = CO_SPAWN_DETACHED};
    int rc = co_spawn(&watcher, watcher_main, NULL, &opts);
    if (rc < 0)
        return rc;
    target = t;
    last_signal = 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    return 0;
}

int co_signal_restore(void)
{
    if (!target)
        return 0;
    co_task *w = watcher;
    restore_handlers();
    if (w && co_loop_current())
        co_cancel(w);
    return 0;
}

int co_signal_received(void)
{
    return last_signal;
}
