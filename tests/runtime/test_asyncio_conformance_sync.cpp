// asyncio conformance, part 2: task groups (test_taskgroups.py), locks, semaphores and
// events (test_locks.py), queues (test_queues.py). See test_asyncio_conformance.cpp.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "asyncio_conformance_util.h"

// ---- test_taskgroups.py ----

TEST_CASE("test_taskgroups: test_taskgroup_01")
{
    int r = -1;
    intptr_t results[2] = {0, 0};
    run_main_void([&] {
        co_group *g;
        co_group_create(&g);
        group_spawn(g, [&](intptr_t *) {
            co_sleep(ms_ns(10));
            results[0] = 42;
            return 0;
        });
        group_spawn(g, [&](intptr_t *) {
            co_sleep(ms_ns(20));
            results[1] = 11;
            return 0;
        });
        r = co_group_wait(g, CO_NO_DEADLINE);
        co_group_destroy(g);
    });
    REQUIRE(r == 0);
    REQUIRE(results[0] == 42);
    REQUIRE(results[1] == 11);
}

TEST_CASE("test_taskgroups: test_taskgroup_03")
{
    // Cancelling one child explicitly: the group goes on.
    int r = -1, first = 0;
    bool second_done = false, first_cancelled = false;
    run_main_void([&] {
        co_group *g;
        co_group_create(&g);
        co_task *t1 = group_spawn_task(g, sleeper(10000, &first));
        co_sleep(ms_ns(10));
        co_cancel(t1);
        group_spawn(g, [&](intptr_t *) {
            co_sleep(ms_ns(20));
            second_done = true;
            return 0;
        });
        r = co_group_wait(g, CO_NO_DEADLINE);
        first_cancelled = co_task_done(t1); // valid until co_group_destroy
        co_group_destroy(g);
    });
    REQUIRE(r == 0);
    REQUIRE(first == CO_ECANCELED);
    REQUIRE(first_cancelled);
    REQUIRE(second_done);
}

TEST_CASE("test_taskgroups: test_cancel_children_on_child_error")
{
    // A failing child cancels its siblings and interrupts the owner's own wait in the
    // group's body; the group then reports the failure.
    int r = 0, sibling = 0, body = 0;
    int64_t took = 0;
    run_main_void([&] {
        co_task *runner = spawn([&](intptr_t *) {
            int64_t t0 = co_now_ns();
            co_group *g;
            co_group_create(&g);
            group_spawn(g, fail_after(10, -EIO));
            group_spawn(g, sleeper(5000, &sibling));
            body = co_sleep(ms_ns(1000));
            r = co_group_wait(g, CO_NO_DEADLINE);
            co_group_destroy(g);
            took = elapsed_ms(t0);
            return r;
        });
        co_join(runner, nullptr, CO_NO_DEADLINE);
    });
    REQUIRE(body == CO_ECANCELED);
    REQUIRE(sibling == CO_ECANCELED);
    REQUIRE(r == -EIO);
    REQUIRE(took < 700);
}

TEST_CASE("test_taskgroups: test_taskgroup_09, a child fails while the body computes")
{
    // The owner's cancellation that only served to interrupt the body is taken back by
    // co_group_wait when the body did not wait: it is not delivered later.
    int r = 0, after = -1;
    run_main_void([&] {
        co_group *g;
        co_group_create(&g);
        group_spawn(g, [](intptr_t *) { return -EIO; });
        // let the child run without the owner suspending in a wait it could be cut from
        co_task *helper = spawn([](intptr_t *) { return 0; });
        co_shield_begin();
        co_join(helper, nullptr, CO_NO_DEADLINE);
        co_shield_end();
        r = co_group_wait(g, CO_NO_DEADLINE);
        co_group_destroy(g);
        after = co_sleep(ms_ns(1));
    });
    REQUIRE(r == -EIO);
    REQUIRE(after == 0);
}

TEST_CASE("test_taskgroups: test_cancellation")
{
    // Cancelling the owner cancels every child; the group reports CO_ECANCELED.
    int r = 0, cancelled = 0;
    run_main_void([&] {
        co_task *runner = spawn([&](intptr_t *) {
            co_group *g;
            co_group_create(&g);
            for (int i = 0; i < 5; i++)
                group_spawn(g, [&](intptr_t *) {
                    int rc = co_sleep(ms_ns(5000));
                    cancelled += rc == CO_ECANCELED;
                    return rc;
                });
            r = co_group_wait(g, CO_NO_DEADLINE);
            co_group_destroy(g);
            return r;
        });
        co_sleep(ms_ns(10));
        co_cancel(runner);
        co_join(runner, nullptr, CO_NO_DEADLINE);
    });
    REQUIRE(r == CO_ECANCELED);
    REQUIRE(cancelled == 5);
}

TEST_CASE("test_taskgroups: test_taskgroup_15")
{
    // The owner is cancelled in the body and cleans up (waiting) before the group's wait:
    // the group must not report success. (libcorun cancels the children at once, so the
    // child below does not get to fail as it does in asyncio: CO_ECANCELED, not -EIO.)
    int r = 0, body = 0, cleanup = -1;
    run_main_void([&] {
        co_task *runner = spawn([&](intptr_t *) {
            co_group *g;
            co_group_create(&g);
            group_spawn(g, fail_after(30, -EIO));
            body = co_sleep(ms_ns(10000));
            if (body == CO_ECANCELED)
                cleanup = co_sleep(ms_ns(50));
            r = co_group_wait(g, CO_NO_DEADLINE);
            co_group_destroy(g);
            return r;
        });
        co_sleep(ms_ns(10));
        co_cancel(runner);
        co_join(runner, nullptr, CO_NO_DEADLINE);
    });
    REQUIRE(body == CO_ECANCELED);
    REQUIRE(cleanup == 0);
    REQUIRE(r == CO_ECANCELED);
}

TEST_CASE("test_timeouts: test_timeout_taskgroup")
{
    // A timeout around a group: its expiry in the body cancels the group's children.
    int r = 0, child = 0, end = 0, body = 0;
    run_main_void([&] {
        co_timeout scope;
        co_timeout_begin(&scope, co_deadline_in(ms_ns(10)));
        co_group *g;
        co_group_create(&g);
        group_spawn(g, sleeper(5000, &child));
        body = co_sleep(ms_ns(5000));
        r = co_group_wait(g, CO_NO_DEADLINE);
        co_group_destroy(g);
        end = co_timeout_end(&scope);
    });
    REQUIRE(body == CO_ECANCELED);
    REQUIRE(child == CO_ECANCELED);
    REQUIRE(r == CO_ECANCELED);
    REQUIRE(end == CO_ETIMEDOUT);
}

// ---- test_locks.py ----

TEST_CASE("test_locks: test_acquire (lock FIFO order, no barging)")
{
    std::string order;
    int barged = 0;
    run_main_void([&] {
        co_lock lock = CO_LOCK_INIT;
        co_lock_acquire(&lock, CO_NO_DEADLINE);
        std::vector<co_task *> t;
        for (char c : std::string("abc")) {
            t.push_back(spawn([&, c](intptr_t *) {
                co_lock_acquire(&lock, CO_NO_DEADLINE);
                order += c;
                co_yield ();
                return co_lock_release(&lock);
            }));
            co_yield (); // each queues up in turn
        }
        co_lock_release(&lock); // hands the lock to "a"
        barged = co_lock_try_acquire(&lock);
        co_gather(t.data(), t.size(), nullptr, CO_NO_DEADLINE);
    });
    REQUIRE(order == "abc");
    REQUIRE(barged == CO_EAGAIN);
}

TEST_CASE("test_locks: test_acquire_fifo_order (semaphore)")
{
    std::string order;
    run_main_void([&] {
        co_sem sem;
        co_sem_init(&sem, 1);
        co_sem_acquire(&sem, CO_NO_DEADLINE);
        std::vector<co_task *> t;
        for (char c : std::string("abcd")) {
            t.push_back(spawn([&, c](intptr_t *) {
                co_sem_acquire(&sem, CO_NO_DEADLINE);
                order += c;
                co_sleep(ms_ns(1));
                return co_sem_release(&sem);
            }));
            co_yield ();
        }
        co_sem_release(&sem);
        co_gather(t.data(), t.size(), nullptr, CO_NO_DEADLINE);
    });
    REQUIRE(order == "abcd");
}

TEST_CASE("test_locks: test_wait (event)")
{
    int woken = 0, late = -1;
    run_main_void([&] {
        co_event ev = CO_EVENT_INIT;
        std::vector<co_task *> t;
        for (int i = 0; i < 3; i++)
            t.push_back(spawn([&](intptr_t *) {
                int rc = co_event_wait(&ev, co_deadline_in(ms_ns(10000)));
                woken += rc == 0;
                return rc;
            }));
        co_yield ();
        co_event_set(&ev);
        co_gather(t.data(), t.size(), nullptr, CO_NO_DEADLINE);
        late = co_event_wait(&ev, co_deadline_in(0)); // set: passes at once
    });
    REQUIRE(woken == 3);
    REQUIRE(late == 0);
}

// ---- test_queues.py ----

TEST_CASE("test_queues: test_maxsize and test_order")
{
    int full = 0;
    std::vector<int> got;
    run_main_void([&] {
        co_queue q;
        co_queue_init(&q, sizeof(int), 2);
        for (int v : {3, 1})
            co_queue_try_put(&q, &v);
        int v = 2;
        full = co_queue_try_put(&q, &v);
        int x;
        while (co_queue_try_get(&q, &x) == 0)
            got.push_back(x);
        co_queue_destroy(&q);
    });
    REQUIRE(full == CO_EAGAIN);
    REQUIRE(got == std::vector<int>{3, 1});
}

TEST_CASE("test_queues: test_nonblocking_put, an unbounded queue")
{
    int puts_ok = 0;
    size_t len = 0;
    bool in_order = true;
    run_main_void([&] {
        co_queue q;
        REQUIRE(co_queue_init(&q, sizeof(int), CO_QUEUE_UNBOUNDED) == 0);
        for (int i = 0; i < 1000; i++) {
            if (co_queue_try_put(&q, &i) == 0)
                puts_ok++;
            if (i % 3 == 0) { // wrap the ring around while it grows
                int x;
                co_queue_try_get(&q, &x);
                co_queue_try_put(&q, &x);
            }
        }
        len = co_queue_len(&q);
        int prev = -1, x;
        while (co_queue_get(&q, &x, co_deadline_in(0)) == 0) {
            (void)prev;
            prev = x;
        }
        co_queue_destroy(&q);
        co_queue_init(&q, sizeof(int), CO_QUEUE_UNBOUNDED);
        for (int i = 0; i < 100; i++)
            co_queue_put(&q, &i, CO_NO_DEADLINE);
        for (int i = 0; i < 100; i++) {
            co_queue_get(&q, &x, CO_NO_DEADLINE);
            in_order = in_order && x == i;
        }
        co_queue_destroy(&q);
    });
    REQUIRE(puts_ok == 1000);
    REQUIRE(len == 1000);
    REQUIRE(in_order);
}

TEST_CASE("test_queues: test_cancelled_puts_not_being_held_in_self_putters")
{
    int put_rc = 0;
    size_t len = 0;
    run_main_void([&] {
        co_queue q;
        co_queue_init(&q, sizeof(int), 1);
        int v = 1;
        co_queue_put(&q, &v, CO_NO_DEADLINE);
        co_task *t = spawn([&](intptr_t *) {
            int w = 2;
            put_rc = co_queue_put(&q, &w, CO_NO_DEADLINE);
            return put_rc;
        });
        co_yield ();
        co_cancel(t);
        co_join(t, nullptr, CO_NO_DEADLINE);
        int x;
        co_queue_get(&q, &x, CO_NO_DEADLINE);
        len = co_queue_len(&q);
        co_queue_destroy(&q);
    });
    REQUIRE(put_rc == CO_ECANCELED);
    REQUIRE(len == 0);
}

TEST_CASE("test_queues: test_task_done")
{
    int joined = -1, consumed = 0, underflow = 0, join_empty = -1;
    run_main_void([&] {
        co_queue q;
        co_queue_init(&q, sizeof(int), CO_QUEUE_UNBOUNDED);
        join_empty = co_queue_join(&q, co_deadline_in(0)); // nothing unfinished
        std::vector<co_task *> workers;
        for (int w = 0; w < 2; w++)
            workers.push_back(spawn([&](intptr_t *) {
                int x;
                while (co_queue_get(&q, &x, CO_NO_DEADLINE) == 0) {
                    co_sleep(ms_ns(1));
                    consumed++;
                    co_queue_task_done(&q);
                }
                return 0;
            }));
        for (int i = 0; i < 20; i++)
            co_queue_put(&q, &i, CO_NO_DEADLINE);
        joined = co_queue_join(&q, co_deadline_in(ms_ns(10000)));
        underflow = co_queue_task_done(&q); // more task_done than items: ValueError
        co_queue_close(&q);
        co_gather(workers.data(), workers.size(), nullptr, CO_NO_DEADLINE);
        co_queue_destroy(&q);
    });
    REQUIRE(join_empty == 0);
    REQUIRE(joined == 0);
    REQUIRE(consumed == 20);
    REQUIRE(underflow == CO_EINVAL);
}
