// Test target: a C++ epoll loop whose stall is in a namespaced class template's member
// (a mangled name to demangle) through a helper the compiler must inline (an inline
// frame to expand from DWARF). Commands on stdin: "sleep MS" (answers "done MS"), "quit".
// Prints "ready" once the loop runs.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <sys/epoll.h>
#include <unistd.h>

namespace ns
{

static double now_ms()
{
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

// Always inlined into its caller: the blocking call's return address is in its code.
static inline __attribute__((always_inline)) void pace_rows(int ms)
{
    timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, nullptr);
}

template <typename T> struct Worker {
    T rows = 0;
    __attribute__((noinline)) void block(int ms)
    {
        pace_rows(ms);
        rows = rows + 1; // work after the call: the call is not a tail call
    }
};

} // namespace ns

int main()
{
    int ep = epoll_create1(0);
    epoll_event ev = {};
    ev.events = EPOLLIN;
    ev.data.fd = 0;
    epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev);
    printf("ready\n");
    fflush(stdout);
    ns::Worker<int> worker;
    char line[256];
    size_t have = 0;
    for (;;) {
        epoll_event evs[1];
        if (epoll_wait(ep, evs, 1, 1) <= 0) // a 1 ms tick: a loop under load
            continue;
        ssize_t n = read(0, line + have, sizeof line - 1 - have);
        if (n <= 0)
            return 0;
        have += (size_t)n;
        line[have] = '\0';
        char *nl;
        while ((nl = strchr(line, '\n'))) {
            *nl = '\0';
            int ms;
            if (!strcmp(line, "quit"))
                return 0;
            if (sscanf(line, "sleep %d", &ms) == 1) {
                double t0 = ns::now_ms();
                worker.block(ms);
                printf("done %.3f ms: %s\n", ns::now_ms() - t0, line);
                fflush(stdout);
            }
            have -= (size_t)(nl + 1 - line);
            memmove(line, nl + 1, have + 1);
        }
    }
}
