// libcorun: cancellation, deadlines, scoped timeouts, gather / wait-any, task groups.
#include <catch2/catch.hpp>

#include <unistd.h>

#include "corun_test_util.h"

TEST_CASE("cancel wakes a task blocked in co_sleep with CO_ECANCELED")
{
    int slept = 0;
    co_outcome out{};
    run_main_void([&] {
        co_task *t = spawn([&](intptr_t *) {
            slept = co_sleep(ms_ns(60000));
            return slept;
        });
        co_yield ();
        CHECK(co_cancel(t) == 0);
        CHECK(co_join(t, &out, co_deadline_in(ms_ns(10000))) == 0);
    });
    REQUIRE(slept == CO_ECANCELED);
    REQUIRE(out.error == CO_ECANCELED);
}

TEST_CASE("cancel is delivered once: the task may clean up with further suspending calls")
{
    int first = 0, cleanup = -1;
    run_main_void([&] {
        co_task *t = spawn([&](intptr_t *) {
            first = co_sleep(ms_ns(60000));
            cleanup = co_sleep(ms_ns(1));
            return CO_ECANCELED;
        });
        co_yield ();
        co_cancel(t);
        co_join(t, nullptr, CO_NO_DEADLINE);
    });
    REQUIRE(first == CO_ECANCELED);
    REQUIRE(cleanup == 0);
}

TEST_CASE("cancelling a task that is not suspended hits its next suspension")
{
    int r = 0;
    run_main_void([&] {
        co_task *t = spawn([&](intptr_t *) {
            co_cancel(co_self()); // as if someone cancelled us while we computed
            r = co_yield ();
            return 0;
        });
        co_join(t, nullptr, CO_NO_DEADLINE);
    });
    REQUIRE(r == CO_ECANCELED);
}

TEST_CASE("cancelling a finished task is a no-op that says so (returns 1)")
{
    int r = -1;
    co_outcome out{};
    run_main_void([&] {
        co_task *t = spawn([](intptr_t *res) {
            *res = 5;
            return 0;
        });
        co_yield ();
        CHECK(co_task_done(t));
        r = co_cancel(t);
        co_join(t, &out, CO_NO_DEADLINE);
    });
    REQUIRE(r == 1);
    REQUIRE(out.error == 0);
    REQUIRE(out.value == 5);
}

TEST_CASE("a shield defers cancellation until it ends")
{
    int inside = -1, after = 0;
    run_main_void([&] {
        co_task *t = spawn([&](intptr_t *) {
            co_shield_begin();
            inside = co_sleep(ms_ns(30));
            co_shield_end();
            after = co_sleep(ms_ns(60000));
            return 0;
        });
        co_yield ();
        co_cancel(t);
        co_join(t, nullptr, CO_NO_DEADLINE);
    });
    REQUIRE(inside == 0);
    REQUIRE(after == CO_ECANCELED);
}

TEST_CASE("a join with a deadline times out and leaves the task joinable")
{
    int first = 0, second = -1;
    run_main_void([&] {
        co_task *t = spawn([](intptr_t *) { return co_sleep(ms_ns(50)); });
        first = co_join(t, nullptr, co_deadline_in(ms_ns(5)));
        second = co_join(t, nullptr, co_deadline_in(ms_ns(10000)));
    });
    REQUIRE(first == CO_ETIMEDOUT);
    REQUIRE(second == 0);
}

TEST_CASE("a scoped timeout cancels what runs inside it and reports CO_ETIMEDOUT")
{
    int inner = 0, end = 0, outside = -1;
    run_main_void([&] {
        co_timeout scope;
        co_timeout_begin(&scope, co_deadline_in(ms_ns(20)));
        inner = co_sleep(ms_ns(60000));
        end = co_timeout_end(&scope);
        outside = co_sleep(ms_ns(1));
    });
    REQUIRE(inner == CO_ECANCELED);
    REQUIRE(end == CO_ETIMEDOUT);
    REQUIRE(outside == 0);
}

TEST_CASE("a scoped timeout that does not expire ends with 0, and a call deadline inside it "
          "still gives CO_ETIMEDOUT")
{
    int call = 0, end = -1;
    run_main_void([&] {
        co_timeout scope;
        co_timeout_begin(&scope, co_deadline_in(ms_ns(60000)));
        call = co_sleep_until(co_deadline_in(ms_ns(5))); // a sleep's deadline is success
        co_task *t = spawn([](intptr_t *) { return co_sleep(ms_ns(60000)); });
        call = co_join(t, nullptr, co_deadline_in(ms_ns(5)));
        co_cancel(t);
        co_join(t, nullptr, CO_NO_DEADLINE);
        end = co_timeout_end(&scope);
    });
    REQUIRE(call == CO_ETIMEDOUT);
    REQUIRE(end == 0);
}

TEST_CASE("scoped timeouts must be ended innermost first")
{
    int wrong = 0, right = -1;
    run_main_void([&] {
        co_timeout outer, inner;
        co_timeout_begin(&outer, CO_NO_DEADLINE);
        co_timeout_begin(&inner, CO_NO_DEADLINE);
        wrong = co_timeout_end(&outer);
        co_timeout_end(&inner);
        right = co_timeout_end(&outer);
    });
    REQUIRE(wrong == CO_EINVAL);
    REQUIRE(right == 0);
}

TEST_CASE("co_gather returns every outcome and the first failure in array order")
{
    co_outcome outs[3];
    int r = 0;
    run_main_void([&] {
        co_task *t[3];
        t[0] = spawn([](intptr_t *res) {
            co_sleep(ms_ns(20));
            *res = 1;
            return 0;
        });
        t[1] = spawn([](intptr_t *) { return CO_ENOMEM; });
        t[2] = spawn([](intptr_t *res) {
            *res = 3;
            return CO_EINVAL;
        });
        r = co_gather(t, 3, outs, co_deadline_in(ms_ns(10000)));
    });
    REQUIRE(r == CO_ENOMEM);
    REQUIRE(outs[0].error == 0);
    REQUIRE(outs[0].value == 1);
    REQUIRE(outs[2].error == CO_EINVAL);
    REQUIRE(outs[2].value == 3);
}

TEST_CASE("co_gather cut short by its deadline cancels, waits for and joins every task")
{
    int r = 0, sleeper = 0;
    co_outcome outs[2]{};
    run_main_void([&] {
        co_task *t[2];
        t[0] = spawn([](intptr_t *) { return 0; });
        t[1] = spawn([&](intptr_t *) {
            sleeper = co_sleep(ms_ns(60000));
            return sleeper;
        });
        r = co_gather(t, 2, outs, co_deadline_in(ms_ns(5)));
    });
    REQUIRE(r == CO_ETIMEDOUT);
    REQUIRE(sleeper == CO_ECANCELED);
    REQUIRE(outs[0].error == 0);
    REQUIRE(outs[1].error == CO_ECANCELED);
}

TEST_CASE("co_wait_any returns the first task to finish")
{
    int idx = -1, timeout = 0;
    run_main_void([&] {
        co_task *t[3];
        t[0] = spawn([](intptr_t *) { return co_sleep(ms_ns(200)); });
        t[1] = spawn([](intptr_t *) { return co_sleep(ms_ns(10)); });
        t[2] = spawn([](intptr_t *) { return co_sleep(ms_ns(100)); });
        idx = co_wait_any(t, 3, co_deadline_in(ms_ns(10000)));
        co_task *rest[2] = {t[0], t[2]};
        timeout = co_wait_any(rest, 2, co_deadline_in(ms_ns(1)));
        for (auto *x : t)
            co_cancel(x);
        co_gather(t, 3, nullptr, CO_NO_DEADLINE);
    });
    REQUIRE(idx == 1);
    REQUIRE(timeout == CO_ETIMEDOUT);
}

TEST_CASE("a task group waits for all its children")
{
    int done = 0, r = -1;
    run_main_void([&] {
        co_group *g;
        REQUIRE(co_group_create(&g) == 0);
        for (int i = 0; i < 5; i++)
            group_spawn(g, [&, i](intptr_t *) {
                co_sleep(ms_ns(i));
                done++;
                return 0;
            });
        r = co_group_wait(g, CO_NO_DEADLINE);
        co_group_destroy(g);
    });
    REQUIRE(r == 0);
    REQUIRE(done == 5);
}

TEST_CASE("the first failure in a group cancels the siblings and is returned to the owner")
{
    int r = 0, sibling = 0;
    run_main_void([&] {
        co_group *g;
        co_group_create(&g);
        group_spawn(g, [&](intptr_t *) {
            sibling = co_sleep(ms_ns(60000));
            return sibling;
        });
        group_spawn(g, [](intptr_t *) {
            co_sleep(ms_ns(5));
            return CO_ENOMEM;
        });
        r = co_group_wait(g, co_deadline_in(ms_ns(10000)));
        co_group_destroy(g);
    });
    REQUIRE(r == CO_ENOMEM);
    REQUIRE(sibling == CO_ECANCELED);
}

TEST_CASE("cancelling a group's owner reaches the children")
{
    int child = 0, owner = 0;
    run_main_void([&] {
        co_task *t = spawn([&](intptr_t *) {
            co_group *g;
            co_group_create(&g);
            group_spawn(g, [&](intptr_t *) {
                child = co_sleep(ms_ns(60000));
                return child;
            });
            owner = co_group_wait(g, CO_NO_DEADLINE);
            co_group_destroy(g);
            return owner;
        });
        co_sleep(ms_ns(5));
        co_cancel(t);
        co_join(t, nullptr, co_deadline_in(ms_ns(10000)));
    });
    REQUIRE(child == CO_ECANCELED);
    REQUIRE(owner == CO_ECANCELED);
}

TEST_CASE("a group wait cut short by a scoped timeout cancels the children")
{
    int r = 0, end = 0, child = 0;
    run_main_void([&] {
        co_timeout scope;
        co_timeout_begin(&scope, co_deadline_in(ms_ns(10)));
        co_group *g;
        co_group_create(&g);
        group_spawn(g, [&](intptr_t *) {
            child = co_sleep(ms_ns(60000));
            return child;
        });
        r = co_group_wait(g, CO_NO_DEADLINE);
        co_group_destroy(g);
        end = co_timeout_end(&scope);
    });
    REQUIRE(r == CO_ECANCELED);
    REQUIRE(end == CO_ETIMEDOUT);
    REQUIRE(child == CO_ECANCELED);
}

TEST_CASE("co_run cancels and joins the tasks still alive when main returns")
{
    int child = 0, never_ran = 1;
    int r = run_main([&](intptr_t *) {
        spawn([&](intptr_t *) {
            child = co_sleep(ms_ns(60000));
            return child;
        });
        co_yield (); // the child starts and parks
        // cancelled before it first runs: its body never runs (asyncio's rule)
        spawn([&](intptr_t *) {
            never_ran = 0;
            return 0;
        });
        return 0;
    });
    REQUIRE(r == 0);
    REQUIRE(child == CO_ECANCELED);
    REQUIRE(never_ran == 1);
}

TEST_CASE("cancel wakes a task waiting on an fd")
{
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    int r = 0;
    run_main_void([&] {
        co_task *t = spawn([&](intptr_t *) {
            r = co_wait_fd(fds[0], CO_READABLE, CO_NO_DEADLINE);
            return r;
        });
        co_yield ();
        co_cancel(t);
        co_join(t, nullptr, CO_NO_DEADLINE);
    });
    close(fds[0]);
    close(fds[1]);
    REQUIRE(r == CO_ECANCELED);
}

TEST_CASE("a group child's handle cancels that child alone and outlives it until the group "
          "is destroyed")
{
    int r = -1, cancelled = 0, other = -1, refused = 0;
    bool done = false;
    run_main_void([&] {
        co_group *g;
        co_group_create(&g);
        co_task *t = group_spawn_task(g, [&](intptr_t *) {
            cancelled = co_sleep(ms_ns(60000));
            return cancelled;
        });
        group_spawn(g, [&](intptr_t *) {
            other = co_sleep(ms_ns(5));
            return other;
        });
        co_yield ();
        CHECK(co_cancel(t) == 0);
        refused = co_join(t, nullptr, CO_NO_DEADLINE); // the group owns it
        r = co_group_wait(g, CO_NO_DEADLINE);
        done = co_task_done(t);
        CHECK(co_cancel(t) == 1);
        co_group_destroy(g);
    });
    REQUIRE(refused == CO_EINVAL);
    REQUIRE(cancelled == CO_ECANCELED);
    REQUIRE(other == 0);
    REQUIRE(r == 0);
    REQUIRE(done);
}

TEST_CASE("destroying a group with a kept child still running cancels it and frees it when it "
          "ends")
{
    int child = 0;
    run_main_void([&] {
        co_group *g;
        co_group_create(&g);
        group_spawn_task(g, [&](intptr_t *) {
            child = co_sleep(ms_ns(60000));
            return child;
        });
        co_yield ();
        co_group_destroy(g);
        co_sleep(ms_ns(5));
    });
    REQUIRE(child == CO_ECANCELED);
}

TEST_CASE("co_gather_fail_fast with no failure waits for all and joins them")
{
    int r = -1;
    co_outcome outs[2]{};
    run_main_void([&] {
        co_task *t[2];
        t[0] = spawn([](intptr_t *res) {
            co_sleep(ms_ns(5));
            *res = 1;
            return 0;
        });
        t[1] = spawn([](intptr_t *res) {
            *res = 2;
            return 0;
        });
        r = co_gather_fail_fast(t, 2, outs, co_deadline_in(ms_ns(10000)));
    });
    REQUIRE(r == 0);
    REQUIRE(outs[0].value == 1);
    REQUIRE(outs[1].value == 2);
}

TEST_CASE("co_deadline_in: past for a negative duration, none beyond the clock's range")
{
    int64_t now = co_now_ns();
    int64_t past = co_deadline_in(-1), later = co_now_ns();
    REQUIRE(past != CO_NO_DEADLINE);
    REQUIRE(past <= later);
    REQUIRE(co_deadline_in(INT64_MIN) == 0);
    REQUIRE(co_deadline_in(INT64_MAX) == CO_NO_DEADLINE);
    REQUIRE(co_deadline_in(ms_ns(1000)) > now);
}
