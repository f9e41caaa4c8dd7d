/*
 * Stack overflow reports: a task that runs into its guard page gets SIGSEGV. The handler
 * (on an alternate signal stack, since the task's stack is exhausted) says which task
 * overflowed, then restores the previous disposition and returns: the fault repeats and
 * the process dies as it would have, with a name to look for.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

static pthread_mutex_t handler_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sigaction previous;
static __thread void *altstack_mem;

static size_t append(char *buf, size_t at, size_t cap, const char *s)
{
    while (*s && at < cap)
        buf[at++] = *s++;
    return at;
}

static size_t append_u64(char *buf, size_t at, size_t cap, uint64_t v)
{
    char digits[24];
    size_t n = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n && at < cap)
        buf[at++] = digits[--n];
    return at;
}

static void on_segv(int sig, siginfo_t *info, void *uctx)
{
    struct co_loop *loop = co__tls_loop;
    struct co_task *t = loop ? loop->current : NULL;
    char *addr = info->si_addr;
    if (t && addr >= (char *)t->map - co__page_size() && addr < (char *)t->map + co__page_size()) {
        /* Only async-signal-safe calls here: format by hand, one write(2). */
        char msg[160];
        size_t n = append(msg, 0, sizeof msg, "corun: stack overflow in task ");
        n = append_u64(msg, n, sizeof msg, t->id);
        n = append(msg, n, sizeof msg, " \"");
        n = append(msg, n, sizeof msg, t->name);
        n = append(msg, n, sizeof msg, "\" (stack of ");
        n = append_u64(msg, n, sizeof msg,
                       (uint64_t)((char *)t - (char *)t->map) - co__page_size());
        n = append(msg, n, sizeof msg, " bytes)\n");
        ssize_t w = write(STDERR_FILENO, msg, n);
        (void)w;
    }
    /* Hand the fault to whoever was there before (usually: die with SIGSEGV). */
    if ((previous.sa_flags & SA_SIGINFO) && previous.sa_sigaction) {
        previous.sa_sigaction(sig, info, uctx);
        return;
    }
    sigaction(SIGSEGV, &previous, NULL);
    if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN && previous.sa_handler)
        previous.sa_handler(sig);
}

/* (Re)installs the handler at every loop start: a framework that replaced it since (a
 * test harness, a crash reporter) becomes the one we hand faults on to. */
static void install_handler(void)
{
    struct sigaction sa, current;
    pthread_mutex_lock(&handler_lock);
    if (sigaction(SIGSEGV, NULL, &current) == 0 &&
        !((current.sa_flags & SA_SIGINFO) && current.sa_sigaction == on_segv)) {
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_segv;
        sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGSEGV, &sa, &previous);
    }
    pthread_mutex_unlock(&handler_lock);
}

int co__guard_thread_init(void)
{
    stack_t ss, old;
    /* Keep an alternate stack the thread already has (e.g. a sanitizer's). */
    if (sigaltstack(NULL, &old) == 0 && !(old.ss_flags & SS_DISABLE))
        goto install;
    size_t bytes = 64 * 1024;
    altstack_mem = malloc(bytes);
    if (!altstack_mem)
        return CO_ENOMEM;
    ss.ss_sp = altstack_mem;
    ss.ss_size = bytes;
    ss.ss_flags = 0;
    if (sigaltstack(&ss, NULL) != 0) {
        free(altstack_mem);
        altstack_mem = NULL;
        return CO_ENOMEM;
    }
install:
    install_handler();
    return 0;
}

void co__guard_thread_fini(void)
{
    if (!altstack_mem)
        return;
    stack_t ss = {.ss_flags = SS_DISABLE};
    sigaltstack(&ss, NULL);
    free(altstack_mem);
    altstack_mem = NULL;
}
