// Debug mode warnings, guard-page reports and the statistics the stats semaphore turns on.
#include <catch2/catch.hpp>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "corun_test_util.h"
#include "internal.h"

namespace
{

struct child_result {
    int status; // exit code, or 128 + signal
    std::string err;
};

// Runs fn in a forked child with stderr captured.
child_result in_child(std::function<void()> fn)
{
    int errpipe[2];
    REQUIRE(pipe(errpipe) == 0);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        dup2(errpipe[1], 2);
        close(errpipe[0]);
        // The child dies like a plain program would: not through Catch's fatal handler.
        signal(SIGSEGV, SIG_DFL);
        fn();
        _exit(0);
    }
    close(errpipe[1]);
    child_result r;
    char buf[1024];
    ssize_t n;
    while ((n = read(errpipe[0], buf, sizeof buf)) > 0)
        r.err.append(buf, static_cast<size_t>(n));
    close(errpipe[0]);
    int status;
    waitpid(pid, &status, 0);
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return r;
}

__attribute__((noinline)) int recurse(int depth)
{
    volatile char pad[512];
    pad[0] = static_cast<char>(depth);
    return depth <= 0 ? pad[0] : recurse(depth - 1) + pad[0];
}

} // namespace

TEST_CASE("a task that overflows its stack is named on stderr before the process dies")
{
    child_result r = in_child([] {
        run_main_void([] {
            co_task *t = spawn(
                [](intptr_t *res) {
                    *res = recurse(1 << 20);
                    return 0;
                },
                "deep-recursion", 0, CO_STACK_MIN_BYTES);
            co_join(t, nullptr, CO_NO_DEADLINE);
        });
    });
    INFO(r.err);
    REQUIRE(r.status == 128 + SIGSEGV);
    REQUIRE(r.err.find("stack overflow in task") != std::string::npos);
    REQUIRE(r.err.find("\"deep-recursion\"") != std::string::npos);
}

TEST_CASE("debug mode warns about slow slices, unjoined failures, leftovers and held locks")
{
    child_result r = in_child([] {
        co_debug_enable(ms_ns(20));
        run_main_void([] {
            co_task *slow = spawn(
                [](intptr_t *) {
                    int64_t end = co_now_ns() + ms_ns(40);
                    while (co_now_ns() < end)
                        ;
                    return 0;
                },
                "hog");
            co_join(slow, nullptr, CO_NO_DEADLINE);
            spawn([](intptr_t *) { return CO_EINVAL; }, "failing-detached", CO_SPAWN_DETACHED);
            spawn([](intptr_t *) { return CO_ENOMEM; }, "failing-unjoined");
            spawn(
                [](intptr_t *) {
                    co__task_lock_acquired(co_self());
                    return 0;
                },
                "lock-holder", CO_SPAWN_DETACHED);
            spawn([](intptr_t *) { return co_sleep(ms_ns(60000)); }, "sleeper");
            co_yield ();
        });
    });
    INFO(r.err);
    REQUIRE(r.status == 0);
    REQUIRE(r.err.find("\"hog\" ran") != std::string::npos);
    REQUIRE(r.err.find("\"failing-detached\" failed") != std::string::npos);
    REQUIRE(r.err.find("\"failing-unjoined\" failed and was never joined") != std::string::npos);
    REQUIRE(r.err.find("\"lock-holder\" returned while holding 1 lock") != std::string::npos);
    REQUIRE(r.err.find("\"sleeper\" still alive") != std::string::npos);
}

TEST_CASE("without debug mode the runtime prints nothing")
{
    child_result r = in_child([] {
        unsetenv("CORUN_DEBUG");
        run_main_void([] { spawn([](intptr_t *) { return CO_EINVAL; }, "x", CO_SPAWN_DETACHED); });
    });
    REQUIRE(r.status == 0);
    REQUIRE(r.err.empty());
}

#if CORUN_WITH_PROBES
TEST_CASE("while the stats semaphore is set, tasks and loops keep statistics")
{
    uint64_t polls = 0, wakes = 0, busy = 0, loop_sched = 0, loop_iters = 0;
    corun_stats_semaphore = 1; // what the kernel does when a uprobe attaches to `stats`
    run_main_void([&] {
        co_task *t = spawn([](intptr_t *) {
            for (int i = 0; i < 5; i++)
                co_yield ();
            return 0;
        });
        while (!co_task_done(t))
            co_yield ();
        polls = t->stats ? t->stats->polls : 0;
        wakes = t->stats ? t->stats->wakes : 0;
        busy = t->stats ? t->stats->busy_ns : 0;
        co_loop *loop = co_loop_current();
        for (auto v : loop->sched_hist)
            loop_sched += v;
        for (auto v : loop->iter_hist)
            loop_iters += v;
        co_join(t, nullptr, CO_NO_DEADLINE);
    });
    corun_stats_semaphore = 0;
    REQUIRE(polls == 6);
    REQUIRE(wakes == 6);
    REQUIRE(busy > 0);
    REQUIRE(loop_sched >= 6);
    REQUIRE(loop_iters >= 6);
}

TEST_CASE("with no semaphore set, no task gets a stats block")
{
    bool has_stats = true;
    run_main_void([&] {
        co_task *t = spawn([](intptr_t *) { return co_yield (); });
        co_yield ();
        has_stats = t->stats != nullptr;
        co_join(t, nullptr, CO_NO_DEADLINE);
    });
    REQUIRE_FALSE(has_stats);
}
#endif

// (Not under ASan: its shadow memory does not fit an address-space limit.)
#if !defined(__SANITIZE_ADDRESS__)
TEST_CASE("out of memory for stacks returns CO_ENOMEM and leaves the loop running")
{
    if (under_emulator()) {
        WARN("skipped under qemu-user: it reserves the guest's address space up front");
        return;
    }
    child_result r = in_child([] {
        int rc = run_main([](intptr_t *) {
            // Stacks are mmap'd: a small address-space limit makes them run out.
            rlimit lim{};
            getrlimit(RLIMIT_AS, &lim);
            rlimit small = lim;
            small.rlim_cur = 1ull << 30;
            if (setrlimit(RLIMIT_AS, &small) != 0)
                return 10;
            std::vector<co_task *> tasks;
            int status = 0;
            co_spawn_opts big{"big", 64ull << 20, 0};
            while (status == 0 && tasks.size() < 1000) {
                co_task *t = nullptr;
                status = co_spawn(
                    &t, [](void *, intptr_t *) { return co_sleep(ms_ns(60000)); }, nullptr, &big);
                if (status == 0)
                    tasks.push_back(t);
            }
            if (status != CO_ENOMEM || tasks.empty())
                return 11;
            if (co_sleep(ms_ns(1)) != 0) // the loop still runs
                return 12;
            for (auto *t : tasks)
                co_cancel(t);
            if (co_gather(tasks.data(), tasks.size(), nullptr, CO_NO_DEADLINE) != CO_ECANCELED)
                return 13;
            co_task *t = nullptr; // and spawning works again
            if (co_spawn(
                    &t, [](void *, intptr_t *) { return 0; }, nullptr, &big) != 0)
                return 14;
            return co_join(t, nullptr, CO_NO_DEADLINE);
        });
        _exit(rc);
    });
    INFO(r.err);
    REQUIRE(r.status == 0);
}
#endif
