// libcorun core: loop, tasks, spawn/join, sleep/yield, posts, park/unpark, fds.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <fcntl.h>
#include <thread>
#include <unistd.h>

#include "corun_test_util.h"

#include "internal.h"

TEST_CASE("co_run returns main's status and result")
{
    intptr_t result = 0;
    int r = run_main(
        [](intptr_t *res) {
            *res = 42;
            return 0;
        },
        &result);
    REQUIRE(r == 0);
    REQUIRE(result == 42);
    REQUIRE(run_main([](intptr_t *) { return CO_ETIMEDOUT; }) == CO_ETIMEDOUT);
    REQUIRE(co_run(nullptr, nullptr, nullptr) == CO_EINVAL);
}

TEST_CASE("co_run refuses a second loop on the same thread")
{
    int inner = 0;
    run_main_void([&] { inner = co_run(corun_test_trampoline, nullptr, nullptr); });
    REQUIRE(inner == CO_EBUSY);
}

TEST_CASE("spawned tasks run in spawn order and join returns their outcome")
{
    std::vector<int> order;
    std::vector<co_outcome> outs(3);
    run_main_void([&] {
        co_task *t[3];
        for (int i = 0; i < 3; i++)
            t[i] = spawn([&order, i](intptr_t *res) {
                order.push_back(i);
                *res = i * 10;
                return i == 2 ? CO_EINVAL : 0;
            });
        for (int i = 0; i < 3; i++)
            CHECK(co_join(t[i], &outs[i], CO_NO_DEADLINE) == 0);
    });
    REQUIRE(order == std::vector<int>{0, 1, 2});
    REQUIRE(outs[1].value == 10);
    REQUIRE(outs[1].error == 0);
    REQUIRE(outs[2].error == CO_EINVAL);
}

TEST_CASE("tasks have unique ids, names and their spawner as parent")
{
    uint64_t main_id = 0, child_id = 0, parent_seen = 0;
    std::string name, main_name;
    run_main_void([&] {
        main_id = co_task_id(nullptr);
        main_name = co_task_name(nullptr);
        co_task *t = spawn(
            [&](intptr_t *) {
                child_id = co_task_id(co_self());
                name = co_task_name(nullptr);
                parent_seen = co_self()->parent_id;
                return 0;
            },
            "a-rather-long-task-name-that-will-be-truncated");
        co_join(t, nullptr, CO_NO_DEADLINE);
    });
    REQUIRE(main_name == "main");
    REQUIRE(main_id != 0);
    REQUIRE(child_id != main_id);
    REQUIRE(parent_seen == main_id);
    REQUIRE(name.size() == CO_TASK_NAME_MAX - 1);
    REQUIRE(name.compare(0, 10, "a-rather-l") == 0);
}

TEST_CASE("co_yield lets every task that is ready run once, in turn")
{
    std::string trace;
    run_main_void([&] {
        co_task *a = spawn([&](intptr_t *) {
            for (int i = 0; i < 3; i++) {
                trace += 'a';
                co_yield ();
            }
            return 0;
        });
        co_task *b = spawn([&](intptr_t *) {
            for (int i = 0; i < 3; i++) {
                trace += 'b';
                co_yield ();
            }
            return 0;
        });
        co_join(a, nullptr, CO_NO_DEADLINE);
        co_join(b, nullptr, CO_NO_DEADLINE);
    });
    REQUIRE(trace == "ababab");
}

TEST_CASE("co_sleep waits at least its duration and timers fire in deadline order")
{
    std::vector<int> order;
    int64_t slept = 0;
    run_main_void([&] {
        int64_t t0 = co_now_ns();
        co_task *t[3];
        int delays_ms[3] = {30, 10, 20};
        for (int i = 0; i < 3; i++)
            t[i] = spawn([&order, i, d = delays_ms[i]](intptr_t *) {
                int r = co_sleep(ms_ns(d));
                order.push_back(i);
                return r;
            });
        CHECK(co_gather(t, 3, nullptr, CO_NO_DEADLINE) == 0);
        slept = co_now_ns() - t0;
    });
    REQUIRE(order == std::vector<int>{1, 2, 0});
    REQUIRE(slept >= ms_ns(30));
    REQUIRE(run_main([](intptr_t *) { return co_sleep(-1); }) == CO_EINVAL);
}

TEST_CASE("a suspending call outside a task returns CO_EPERM")
{
    REQUIRE(co_sleep(1) == CO_EPERM);
    REQUIRE(co_yield () == CO_EPERM);
    REQUIRE(co_self() == nullptr);
    REQUIRE(co_loop_current() == nullptr);
    co_task *t = nullptr;
    REQUIRE(co_spawn(&t, corun_test_trampoline, nullptr, nullptr) == CO_EPERM);
}

TEST_CASE("invalid arguments return CO_EINVAL")
{
    run_main_void([] {
        co_task *t = nullptr;
        co_spawn_opts tiny{"tiny", CO_STACK_MIN_BYTES - 1, 0};
        CHECK(co_spawn(&t, corun_test_trampoline, nullptr, &tiny) == CO_EINVAL);
        CHECK(co_spawn(&t, nullptr, nullptr, nullptr) == CO_EINVAL);
        CHECK(co_spawn(nullptr, corun_test_trampoline, nullptr, nullptr) == CO_EINVAL);
        CHECK(co_join(nullptr, nullptr, CO_NO_DEADLINE) == CO_EINVAL);
        CHECK(co_join(co_self(), nullptr, CO_NO_DEADLINE) == CO_EINVAL);
        CHECK(co_cancel(nullptr) == CO_EINVAL);
        CHECK(co_detach(nullptr) == CO_EINVAL);
        CHECK(co_wait_fd(-1, CO_READABLE, CO_NO_DEADLINE) == CO_EINVAL);
        CHECK(co_wait_fd(0, 0, CO_NO_DEADLINE) == CO_EINVAL);
        CHECK(co_loop_post(
                  nullptr, [](void *) {}, nullptr) == CO_EINVAL);
        CHECK(co_shield_end() == CO_EINVAL);
        CHECK(co_timeout_end(nullptr) == CO_EINVAL);
    });
    REQUIRE(std::string(co_strerror(CO_ECANCELED)) == "cancelled");
    REQUIRE(std::string(co_strerror(-ENOENT)) == std::strerror(ENOENT));
}

TEST_CASE("a task with the minimum stack size runs, and a big stack can be used deeply")
{
    int small_ok = 0, big_ok = 0;
    run_main_void([&] {
        co_task *a = spawn(
            [&](intptr_t *) {
                volatile char buf[8 * 1024];
                memset((char *)buf, 1, sizeof buf);
                small_ok = buf[100];
                return 0;
            },
            "small", 0, CO_STACK_MIN_BYTES);
        co_task *b = spawn(
            [&](intptr_t *) {
                volatile char buf[900 * 1024];
                memset((char *)buf, 2, sizeof buf);
                big_ok = buf[sizeof buf - 1];
                return 0;
            },
            "big", 0, 1024 * 1024);
        REQUIRE(a);
        REQUIRE(b);
        co_join(a, nullptr, CO_NO_DEADLINE);
        co_join(b, nullptr, CO_NO_DEADLINE);
    });
    REQUIRE(small_ok == 1);
    REQUIRE(big_ok == 2);
}

TEST_CASE("detached tasks run to completion and need no join")
{
    int ran = 0;
    run_main_void([&] {
        for (int i = 0; i < 100; i++)
            spawn(
                [&](intptr_t *) {
                    co_yield ();
                    ran++;
                    return 0;
                },
                "detached", CO_SPAWN_DETACHED);
        co_task *t = spawn([](intptr_t *) { return co_sleep(ms_ns(1)); });
        CHECK(co_detach(t) == 0);
        while (ran < 100)
            co_yield ();
    });
    REQUIRE(ran == 100);
}

TEST_CASE("many tasks reuse pooled stacks")
{
    int done = 0;
    run_main_void([&] {
        for (int round = 0; round < 50; round++) {
            co_task *t[20];
            for (auto &x : t)
                x = spawn([&](intptr_t *) {
                    done++;
                    return 0;
                });
            co_gather(t, 20, nullptr, CO_NO_DEADLINE);
        }
        CHECK(co_loop_current()->stacks.count > 0);
    });
    REQUIRE(done == 1000);
}

TEST_CASE("co_loop_post from another thread runs the callback on the loop thread")
{
    struct shared {
        co_loop *loop = nullptr;
        co_task *waiter = nullptr;
        std::thread::id ran_on;
        std::atomic<bool> ready{false};
    } s;
    std::thread::id loop_thread;
    int woke = -1;
    run_main_void([&] {
        loop_thread = std::this_thread::get_id();
        s.loop = co_loop_current();
        s.waiter = co_self();
        std::thread poster([&] {
            while (!s.ready.load())
                std::this_thread::yield();
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            co_loop_post(
                s.loop,
                [](void *arg) {
                    auto *sp = static_cast<shared *>(arg);
                    sp->ran_on = std::this_thread::get_id();
                    co__unpark(sp->waiter, 7);
                },
                &s);
        });
        s.ready = true;
        woke = co__park(CORUN_WAIT_OTHER, &s, co_deadline_in(ms_ns(10000)));
        poster.join();
    });
    REQUIRE(woke == 7);
    REQUIRE(s.ran_on == loop_thread);
}

TEST_CASE("several loops run side by side in several threads")
{
    std::atomic<int> total{0};
    std::vector<std::thread> threads;
    std::vector<uint64_t> loop_ids(4);
    for (int i = 0; i < 4; i++)
        threads.emplace_back([&, i] {
            run_main_void([&] {
                loop_ids[i] = co_loop_id(co_loop_current());
                co_task *t[10];
                for (auto &x : t)
                    x = spawn([&](intptr_t *) {
                        for (int k = 0; k < 10; k++) {
                            co_sleep(100000);
                            total++;
                        }
                        return 0;
                    });
                co_gather(t, 10, nullptr, CO_NO_DEADLINE);
            });
        });
    for (auto &t : threads)
        t.join();
    REQUIRE(total == 400);
    std::sort(loop_ids.begin(), loop_ids.end());
    REQUIRE(std::unique(loop_ids.begin(), loop_ids.end()) == loop_ids.end());
}

TEST_CASE("co__park returns what co__unpark gives, and the first wake-up wins")
{
    int got = 0, second = -1, late = -1;
    run_main_void([&] {
        co_task *self = co_self();
        co_task *waker = spawn([&](intptr_t *) {
            CHECK(co__unpark(self, -123) == 1);
            second = co__unpark(self, -456);
            return 0;
        });
        got = co__park(CORUN_WAIT_OTHER, nullptr, CO_NO_DEADLINE);
        late = co__park(CORUN_WAIT_OTHER, nullptr, co_deadline_in(ms_ns(5)));
        co_join(waker, nullptr, CO_NO_DEADLINE);
    });
    REQUIRE(got == -123);
    REQUIRE(second == 0);
    REQUIRE(late == CO_ETIMEDOUT);
}

TEST_CASE("co_wait_fd reports readability of a pipe and times out on a silent one")
{
    int fds[2];
    REQUIRE(pipe2(fds, O_NONBLOCK) == 0);
    int ready = 0, timed_out = 0, writable = 0;
    run_main_void([&] {
        co_task *writer = spawn([&](intptr_t *) {
            co_sleep(ms_ns(10));
            CHECK(write(fds[1], "x", 1) == 1);
            return 0;
        });
        ready = co_wait_fd(fds[0], CO_READABLE, co_deadline_in(ms_ns(10000)));
        char c;
        CHECK(read(fds[0], &c, 1) == 1);
        timed_out = co_wait_fd(fds[0], CO_READABLE, co_deadline_in(ms_ns(20)));
        writable = co_wait_fd(fds[1], CO_WRITABLE, co_deadline_in(ms_ns(10000)));
        co_join(writer, nullptr, CO_NO_DEADLINE);
    });
    close(fds[0]);
    close(fds[1]);
    REQUIRE(ready == CO_READABLE);
    REQUIRE(timed_out == CO_ETIMEDOUT);
    REQUIRE(writable == CO_WRITABLE);
}

TEST_CASE("a second reader of the same fd gets CO_EBUSY, and co__fd_forget wakes waiters")
{
    int fds[2];
    REQUIRE(pipe2(fds, O_NONBLOCK) == 0);
    int busy = 0, closed = 0;
    run_main_void([&] {
        co_task *reader = spawn([&](intptr_t *) {
            closed = co_wait_fd(fds[0], CO_READABLE, co_deadline_in(ms_ns(10000)));
            return 0;
        });
        co_yield ();
        busy = co_wait_fd(fds[0], CO_READABLE, co_deadline_in(ms_ns(10)));
        co__fd_forget(co_loop_current(), fds[0]);
        co_join(reader, nullptr, CO_NO_DEADLINE);
    });
    close(fds[0]);
    close(fds[1]);
    REQUIRE(busy == CO_EBUSY);
    REQUIRE(closed == CO_ECLOSED);
}
