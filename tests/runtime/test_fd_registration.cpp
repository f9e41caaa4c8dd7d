// How the loop registers fds with epoll (fd_wait.c): sockets the runtime created stay
// registered between waits; other fds are armed one-shot. What the kernel holds is read
// from /proc/self/fdinfo of the loop's epoll fd.
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <sys/epoll.h>
#include <unistd.h>

#include "corun_test_util.h"

#include "internal.h"

namespace
{

// The event mask the loop's epoll set holds for fd, or -1 if fd is not in the set.
long epoll_mask_of(int fd)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fdinfo/%d", co_loop_current()->poller.epfd);
    FILE *f = fopen(path, "r");
    if (!f)
        return -2;
    char line[256];
    long mask = -1;
    while (fgets(line, sizeof line, f)) {
        int tfd;
        unsigned events;
        if (sscanf(line, "tfd: %d events: %x", &tfd, &events) == 2 && tfd == fd)
            mask = (long)events;
    }
    fclose(f);
    return mask;
}

bool watches_in(long mask)
{
    return mask >= 0 && (mask & EPOLLIN) && !(mask & EPOLLONESHOT);
}

} // namespace

TEST_CASE("a socket the runtime created stays registered for reading between requests")
{
    int received = 0;
    long mask_between = 0, mask_after_close = 0;
    bool stayed = true;
    run_main_void([&] {
        int sv[2];
        REQUIRE(co_socketpair(sv) == 0);
        co_task *reader = spawn([&](intptr_t *) {
            char c;
            for (int i = 0; i < 100; i++) {
                if (co_read(sv[0], &c, 1, co_deadline_in(ms_ns(10000))) != 1)
                    return 1;
                received++;
                // Between two waits the registration is still there, watching for input:
                // the next wait needs no epoll_ctl.
                if (i > 0 && !watches_in(epoll_mask_of(sv[0])))
                    stayed = false;
            }
            mask_between = epoll_mask_of(sv[0]);
            return 0;
        });
        for (int i = 0; i < 100; i++) {
            CHECK(co_write(sv[1], "x", 1, CO_NO_DEADLINE) == 1);
            co_sleep(10000); // let the reader wait again before the next byte
        }
        CHECK(co_join(reader, nullptr, CO_NO_DEADLINE) == 0);
        co_close(sv[0]);
        mask_after_close = epoll_mask_of(sv[0]);
        co_close(sv[1]);
    });
    REQUIRE(received == 100);
    REQUIRE(stayed);
    REQUIRE(watches_in(mask_between));
    REQUIRE(mask_after_close == -1);
}

TEST_CASE("a readable socket nobody waits for any more does not keep waking the loop")
{
    uint64_t iterations = 0;
    long mask_idle = 0;
    run_main_void([&] {
        int sv[2];
        REQUIRE(co_socketpair(sv) == 0);
        char c;
        co_task *reader = spawn([&](intptr_t *) {
            return co_read(sv[0], &c, 1, co_deadline_in(ms_ns(10000))) == 1 ? 0 : 1;
        });
        co_yield (); // the reader finds nothing and waits: the socket is registered
        CHECK(co_write(sv[1], "a", 1, CO_NO_DEADLINE) == 1);
        CHECK(co_join(reader, nullptr, CO_NO_DEADLINE) == 0);
        // Data arrives while nobody reads: level-triggered, it would be reported at every
        // iteration if the loop kept watching it.
        CHECK(co_write(sv[1], "bcd", 3, CO_NO_DEADLINE) == 3);
        uint64_t before = co_loop_current()->iterations;
        co_sleep(ms_ns(100));
        iterations = co_loop_current()->iterations - before;
        mask_idle = epoll_mask_of(sv[0]);
        // A new wait watches it again and sees the data at once.
        char buf[8];
        CHECK(co_read(sv[0], buf, sizeof buf, co_deadline_in(ms_ns(10000))) == 3);
        co_close(sv[0]);
        co_close(sv[1]);
    });
    // A handful of timer wake-ups, not one iteration per poll of a ready fd.
    REQUIRE(iterations < 100);
    REQUIRE_FALSE(watches_in(mask_idle));
}

TEST_CASE("a hung-up socket nobody waits for leaves the poller's set")
{
    uint64_t iterations = 0;
    long mask = 0;
    run_main_void([&] {
        int sv[2];
        REQUIRE(co_socketpair(sv) == 0);
        co_task *reader = spawn([&](intptr_t *) {
            char c;
            return co_read(sv[0], &c, 1, co_deadline_in(ms_ns(10000))) == 1 ? 0 : 1;
        });
        co_yield ();
        CHECK(co_write(sv[1], "a", 1, CO_NO_DEADLINE) == 1);
        CHECK(co_join(reader, nullptr, CO_NO_DEADLINE) == 0);
        co_close(sv[1]); // errors and hang-ups are reported whatever the mask says
        uint64_t before = co_loop_current()->iterations;
        co_sleep(ms_ns(50));
        iterations = co_loop_current()->iterations - before;
        mask = epoll_mask_of(sv[0]);
        char c;
        CHECK(co_read(sv[0], &c, 1, co_deadline_in(ms_ns(10000))) == 0);
        co_close(sv[0]);
    });
    REQUIRE(iterations < 100);
    REQUIRE(mask == -1);
}

TEST_CASE("a writer blocked on a full socket is woken when the reader drains it")
{
    constexpr size_t total = 1 << 20;
    size_t written = 0, drained = 0;
    run_main_void([&] {
        int sv[2];
        REQUIRE(co_socketpair(sv) == 0);
        static char big[total];
        co_task *writer = spawn([&](intptr_t *) {
            ptrdiff_t n = co_write_all(sv[0], big, sizeof big, co_deadline_in(ms_ns(20000)));
            written = n > 0 ? (size_t)n : 0;
            return n == (ptrdiff_t)sizeof big ? 0 : 1;
        });
        static char buf[65536];
        while (drained < sizeof big) {
            ptrdiff_t n = co_read(sv[1], buf, sizeof buf, co_deadline_in(ms_ns(20000)));
            if (n <= 0)
                break;
            drained += (size_t)n;
        }
        CHECK(co_join(writer, nullptr, CO_NO_DEADLINE) == 0);
        co_close(sv[0]);
        co_close(sv[1]);
    });
    REQUIRE(written == total);
    REQUIRE(drained == written);
}

TEST_CASE("fds closed with close(2) and reopened under the same number are waited for afresh")
{
    int ready[2] = {0, 0};
    long mask = 0;
    run_main_void([&] {
        for (int round = 0; round < 2; round++) {
            int p[2];
            REQUIRE(pipe2(p, O_NONBLOCK | O_CLOEXEC) == 0);
            co_task *w = spawn([&](intptr_t *) {
                co_sleep(ms_ns(5));
                return write(p[1], "x", 1) == 1 ? 0 : 1;
            });
            ready[round] = co_wait_fd(p[0], CO_READABLE, co_deadline_in(ms_ns(10000)));
            co_join(w, nullptr, CO_NO_DEADLINE);
            if (round == 0)
                mask = epoll_mask_of(p[0]);
            // Closed behind the loop's back: the next pipe gets the same numbers.
            close(p[0]);
            close(p[1]);
        }
    });
    REQUIRE(ready[0] == CO_READABLE);
    REQUIRE(ready[1] == CO_READABLE);
    // A pipe is not the runtime's: armed one-shot, so a fired registration watches nothing.
    REQUIRE(mask >= 0);
    REQUIRE((mask & EPOLLONESHOT));
    REQUIRE_FALSE((mask & (EPOLLIN | EPOLLOUT)));
}

TEST_CASE("a socket number reused after co_close is registered for the new socket")
{
    int got[2] = {0, 0};
    run_main_void([&] {
        for (int round = 0; round < 2; round++) {
            int sv[2];
            REQUIRE(co_socketpair(sv) == 0);
            co_task *w = spawn([&](intptr_t *) {
                co_sleep(ms_ns(5));
                return co_write(sv[1], "y", 1, CO_NO_DEADLINE) == 1 ? 0 : 1;
            });
            char c = 0;
            got[round] = (int)co_read(sv[0], &c, 1, co_deadline_in(ms_ns(10000)));
            co_join(w, nullptr, CO_NO_DEADLINE);
            co_close(sv[0]);
            co_close(sv[1]);
        }
    });
    REQUIRE(got[0] == 1);
    REQUIRE(got[1] == 1);
}
