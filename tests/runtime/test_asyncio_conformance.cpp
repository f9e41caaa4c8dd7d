// asyncio conformance, part 1: timeouts (test_timeouts.py), tasks, cancellation and
// gather (test_tasks.py), wait_for (test_waitfor.py). Each case asserts asyncio's
// behaviour, or libcorun's documented difference (docs/guide.md, "Where libcorun differs
// from asyncio, and why") together with the C idiom that gives asyncio's behaviour.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <string>
#include <vector>

#include "asyncio_conformance_util.h"

// ---- test_timeouts.py ----

TEST_CASE("test_timeouts: test_timeout_basic")
{
    int slept = 0, end = 0;
    int64_t took = 0;
    run_main_void([&] {
        int64_t t0 = co_now_ns();
        co_timeout scope;
        co_timeout_begin(&scope, co_deadline_in(ms_ns(10)));
        slept = co_sleep(ms_ns(10000));
        end = co_timeout_end(&scope);
        took = elapsed_ms(t0);
    });
    REQUIRE(slept == CO_ECANCELED);
    REQUIRE(end == CO_ETIMEDOUT);
    REQUIRE(took < 1000);
}

TEST_CASE("test_timeouts: test_timeout_basic, the body a loop of co_yield")
{
    int yielded = 0, end = 0;
    long yields = 0;
    int64_t took = 0;
    run_main_void([&] {
        int64_t t0 = co_now_ns();
        co_timeout scope;
        co_timeout_begin(&scope, co_deadline_in(ms_ns(10)));
        // a task that only ever yields must still be cut short by its timeout
        while (elapsed_ms(t0) < 2000 && (yielded = co_yield ()) == 0)
            yields++;
        end = co_timeout_end(&scope);
        took = elapsed_ms(t0);
    });
    REQUIRE(yielded == CO_ECANCELED);
    REQUIRE(end == CO_ETIMEDOUT);
    REQUIRE(took < 1000);
    REQUIRE(yields > 0);
}

TEST_CASE("test_timeouts: test_timeout_zero")
{
    int slept = 0, end = 0;
    int64_t took = 0;
    run_main_void([&] {
        int64_t t0 = co_now_ns();
        co_timeout scope;
        co_timeout_begin(&scope, co_deadline_in(0));
        slept = co_sleep(ms_ns(10000));
        end = co_timeout_end(&scope);
        took = elapsed_ms(t0);
    });
    REQUIRE(slept == CO_ECANCELED);
    REQUIRE(end == CO_ETIMEDOUT);
    REQUIRE(took < 1000);
}

TEST_CASE("test_timeouts: test_timeout_zero_sleep_zero")
{
    int yielded = 0, end = 0;
    run_main_void([&] {
        co_timeout scope;
        co_timeout_begin(&scope, co_deadline_in(0));
        yielded = co_yield ();
        end = co_timeout_end(&scope);
    });
    REQUIRE(yielded == CO_ECANCELED);
    REQUIRE(end == CO_ETIMEDOUT);
}

TEST_CASE("test_timeouts: test_timeout_in_the_past_sleep_zero")
{
    int yielded = 0, end = 0, slept = 0, end2 = 0;
    int64_t deadline = 0, now = 0, took = 0;
    run_main_void([&] {
        now = co_now_ns();
        deadline = co_deadline_in(-ms_ns(11)); // a "time left" that went negative
        co_timeout scope;
        co_timeout_begin(&scope, deadline);
        yielded = co_yield ();
        end = co_timeout_end(&scope);

        int64_t t0 = co_now_ns();
        co_timeout_begin(&scope, co_deadline_in(-ms_ns(11)));
        slept = co_sleep(ms_ns(10000));
        end2 = co_timeout_end(&scope);
        took = elapsed_ms(t0);
    });
    REQUIRE(deadline != CO_NO_DEADLINE);
    REQUIRE(deadline <= now);
    REQUIRE(yielded == CO_ECANCELED);
    REQUIRE(end == CO_ETIMEDOUT);
    REQUIRE(slept == CO_ECANCELED);
    REQUIRE(end2 == CO_ETIMEDOUT);
    REQUIRE(took < 1000);
}

TEST_CASE("test_timeouts: test_nested_timeouts")
{
    // One deadline shared by two scopes: only the outermost reports the timeout, the
    // inner one lets the cancellation through.
    int slept = 0, inner_end = -1, outer_end = 0;
    run_main_void([&] {
        int64_t deadline = co_deadline_in(ms_ns(10));
        co_timeout outer, inner;
        co_timeout_begin(&outer, deadline);
        co_timeout_begin(&inner, deadline);
        slept = co_sleep(ms_ns(10000));
        inner_end = co_timeout_end(&inner);
        outer_end = co_timeout_end(&outer);
    });
    REQUIRE(slept == CO_ECANCELED);
    REQUIRE(inner_end == 0);
    REQUIRE(outer_end == CO_ETIMEDOUT);
}

TEST_CASE("test_timeouts: test_nested_timeouts_concurrent")
{
    // The outer scope expires first (while the loop is blocked): it reports the timeout.
    int slept = 0, inner_end = -1, outer_end = 0;
    int64_t took = 0;
    run_main_void([&] {
        int64_t t0 = co_now_ns();
        co_timeout outer, inner;
        co_timeout_begin(&outer, co_deadline_in(ms_ns(2)));
        co_timeout_begin(&inner, co_deadline_in(ms_ns(5000)));
        usleep(10000); // "pretend we crunch some numbers"
        slept = co_sleep(ms_ns(10000));
        inner_end = co_timeout_end(&inner);
        outer_end = co_timeout_end(&outer);
        took = elapsed_ms(t0);
    });
    REQUIRE(slept == CO_ECANCELED);
    REQUIRE(inner_end == 0);
    REQUIRE(outer_end == CO_ETIMEDOUT);
    REQUIRE(took < 2000);
}

TEST_CASE("test_timeouts: test_nested_timeouts_loop_busy")
{
    // The inner scope expires first; later the outer one cuts a wait after it short.
    int inner_slept = 0, inner_end = 0, outer_slept = 0, outer_end = 0;
    int64_t took = 0;
    run_main_void([&] {
        int64_t t0 = co_now_ns();
        co_timeout outer, inner;
        co_timeout_begin(&outer, co_deadline_in(ms_ns(300)));
        co_timeout_begin(&inner, co_deadline_in(ms_ns(10)));
        usleep(50000); // the loop is busy for a while
        inner_slept = co_sleep(ms_ns(1000));
        inner_end = co_timeout_end(&inner);
        outer_slept = co_sleep(ms_ns(10000));
        outer_end = co_timeout_end(&outer);
        took = elapsed_ms(t0);
    });
    REQUIRE(inner_slept == CO_ECANCELED);
    REQUIRE(inner_end == CO_ETIMEDOUT);
    REQUIRE(outer_slept == CO_ECANCELED);
    REQUIRE(outer_end == CO_ETIMEDOUT);
    REQUIRE(took < 3000);
}

TEST_CASE("test_timeouts: test_foreign_cancel_doesnt_timeout_if_not_expired")
{
    int slept = 0, end = -1;
    run_main_void([&] {
        co_timeout scope;
        co_timeout_begin(&scope, co_deadline_in(ms_ns(10000)));
        co_cancel(co_self());
        slept = co_sleep(ms_ns(10000));
        end = co_timeout_end(&scope);
    });
    REQUIRE(slept == CO_ECANCELED);
    REQUIRE(end == 0);
}

TEST_CASE("test_timeouts: test_nested_timeout_in_finally")
{
    // The expiry is delivered once: clean-up code in the scope may wait, and a timeout
    // opened there works on its own.
    int slept = 0, cleanup_sleep = -1, cleanup_scope_sleep = 0, cleanup_end = 0, end = 0;
    int64_t took = 0;
    run_main_void([&] {
        int64_t t0 = co_now_ns();
        co_timeout scope;
        co_timeout_begin(&scope, co_deadline_in(ms_ns(10)));
        slept = co_sleep(ms_ns(1000));
        // "finally:"
        cleanup_sleep = co_sleep(ms_ns(30));
        co_timeout cleanup;
        co_timeout_begin(&cleanup, co_deadline_in(ms_ns(10)));
        cleanup_scope_sleep = co_sleep(ms_ns(10000));
        cleanup_end = co_timeout_end(&cleanup);
        end = co_timeout_end(&scope);
        took = elapsed_ms(t0);
    });
    REQUIRE(slept == CO_ECANCELED);
    REQUIRE(cleanup_sleep == 0);
    REQUIRE(cleanup_scope_sleep == CO_ECANCELED);
    REQUIRE(cleanup_end == CO_ETIMEDOUT);
    REQUIRE(end == CO_ETIMEDOUT);
    REQUIRE(took < 2000);
}

TEST_CASE("test_timeouts: test_timeout_after_cancellation")
{
    int slept = 0, cleanup = 0, end = 0;
    run_main_void([&] {
        co_cancel(co_self());
        slept = co_sleep(ms_ns(1000)); // work which will be cancelled
        co_timeout scope;
        co_timeout_begin(&scope, co_deadline_in(0));
        cleanup = co_sleep(ms_ns(1000)); // some clean-up
        end = co_timeout_end(&scope);
    });
    REQUIRE(slept == CO_ECANCELED);
    REQUIRE(cleanup == CO_ECANCELED);
    REQUIRE(end == CO_ETIMEDOUT);
}

// ---- test_tasks.py: cancellation ----

TEST_CASE("test_tasks: test_cancel")
{
    int cancel_running = -1, cancel_done = -1;
    co_outcome out{};
    run_main_void([&] {
        int rc = 0;
        co_task *t = spawn(sleeper(10000, &rc));
        co_yield ();
        cancel_running = co_cancel(t);
        co_task *one[1] = {t};
        co_wait_any(one, 1, CO_NO_DEADLINE);
        cancel_done = co_cancel(t); // asyncio: cancel() returns False once done
        co_join(t, &out, CO_NO_DEADLINE);
    });
    REQUIRE(cancel_running == 0);
    REQUIRE(out.error == CO_ECANCELED);
    REQUIRE(cancel_done == 1);
}

TEST_CASE("test_tasks: test_cancel_with_message_before_starting_task")
{
    // A task cancelled before it first ran never runs its body.
    bool ran = false;
    co_outcome out{};
    run_main_void([&] {
        co_task *t = spawn([&](intptr_t *) {
            ran = true;
            return co_sleep(ms_ns(10000));
        });
        co_cancel(t);
        co_join(t, &out, CO_NO_DEADLINE);
    });
    REQUIRE_FALSE(ran);
    REQUIRE(out.error == CO_ECANCELED);
}

TEST_CASE("test_tasks: test_cancel_current_task")
{
    // Cancelling oneself: the next suspension returns CO_ECANCELED, once.
    int first = 0, second = -1;
    co_outcome out{};
    run_main_void([&] {
        co_task *t = spawn([&](intptr_t *) {
            co_cancel(co_self());
            first = co_sleep(ms_ns(10000));
            second = co_sleep(ms_ns(1));
            return first;
        });
        co_join(t, &out, CO_NO_DEADLINE);
    });
    REQUIRE(first == CO_ECANCELED);
    REQUIRE(second == 0);
    REQUIRE(out.error == CO_ECANCELED);
}

TEST_CASE("test_tasks: test_cancel_at_end")
{
    co_outcome out{};
    int cancel_after = -1;
    run_main_void([&] {
        co_task *t = spawn([](intptr_t *res) {
            co_cancel(co_self());
            *res = 12;
            return 0; // returns with its cancellation still pending
        });
        co_task *one[1] = {t};
        co_wait_any(one, 1, CO_NO_DEADLINE);
        cancel_after = co_cancel(t);
        co_join(t, &out, CO_NO_DEADLINE);
    });
    REQUIRE(out.error == CO_ECANCELED);
    REQUIRE(cancel_after == 1);
}

TEST_CASE("test_tasks: test_cancel_awaited_task")
{
    // A task that was cancelled blocks on a sub-task: asyncio cancels the sub-task.
    // co_join leaves it running (a documented difference); co_wait_for cancels it.
    int join_rc = 0, wait_for_rc = 0, nested = 0, nested2 = 0;
    bool nested_done_after_join = true;
    co_outcome out{};
    run_main_void([&] {
        co_task *t = spawn([&](intptr_t *) {
            co_task *n = spawn(sleeper(10000, &nested));
            co_yield ();
            co_cancel(co_self());
            join_rc = co_join(n, nullptr, CO_NO_DEADLINE);
            nested_done_after_join = co_task_done(n);
            co_cancel(n); // the C idiom: cancel, then join
            co_join(n, nullptr, CO_NO_DEADLINE);

            co_task *n2 = spawn(sleeper(10000, &nested2));
            co_yield ();
            co_cancel(co_self());
            wait_for_rc = co_wait_for(n2, &out, CO_NO_DEADLINE);
            return wait_for_rc;
        });
        co_join(t, nullptr, CO_NO_DEADLINE);
    });
    REQUIRE(join_rc == CO_ECANCELED);
    REQUIRE_FALSE(nested_done_after_join);
    REQUIRE(nested == CO_ECANCELED);
    REQUIRE(wait_for_rc == CO_ECANCELED);
    REQUIRE(nested2 == CO_ECANCELED);
    REQUIRE(out.error == CO_ECANCELED);
}

TEST_CASE("test_tasks: test_shield_effect")
{
    // A shielded section finishes its wait; the cancellation is delivered after it.
    int inside = -1, after = 0;
    run_main_void([&] {
        co_task *t = spawn([&](intptr_t *) {
            co_shield_begin();
            inside = co_sleep(ms_ns(30));
            co_shield_end();
            after = co_sleep(ms_ns(10000));
            return after;
        });
        co_yield ();
        co_cancel(t);
        co_join(t, nullptr, CO_NO_DEADLINE);
    });
    REQUIRE(inside == 0);
    REQUIRE(after == CO_ECANCELED);
}

TEST_CASE("test_base_events: test_call_soon, co_yield runs ready tasks in FIFO order")
{
    std::string order;
    run_main_void([&] {
        std::vector<co_task *> t;
        for (char c : std::string("abc"))
            t.push_back(spawn([&order, c](intptr_t *) {
                for (int i = 0; i < 2; i++) {
                    order += c;
                    co_yield ();
                }
                return 0;
            }));
        co_gather(t.data(), t.size(), nullptr, CO_NO_DEADLINE);
    });
    REQUIRE(order == "abcabc");
}

// ---- test_tasks.py: gather and wait ----

TEST_CASE("test_tasks: test_one_exception")
{
    // asyncio.gather's default: the first failure (in time) ends the gather at once.
    int gathered = 0, sleeper_rc = 0;
    int64_t took = 0;
    co_outcome outs[3]{};
    run_main_void([&] {
        int64_t t0 = co_now_ns();
        co_task *t[3];
        t[0] = spawn(sleeper(300, &sleeper_rc));
        t[1] = spawn(fail_after(60, CO_EINVAL)); // fails second, first in the array
        t[2] = spawn(fail_after(10, CO_ENOMEM)); // fails first
        gathered = co_gather_fail_fast(t, 3, outs, CO_NO_DEADLINE);
        took = elapsed_ms(t0);
    });
    REQUIRE(gathered == CO_ENOMEM);
    REQUIRE(took < 250);
    REQUIRE(sleeper_rc == CO_ECANCELED); // libcorun cancels the rest (asyncio leaves them)
    REQUIRE(outs[0].error == CO_ECANCELED);
    REQUIRE(outs[2].error == CO_ENOMEM);
}

TEST_CASE("test_tasks: test_return_exceptions")
{
    // co_gather is gather(return_exceptions=True): it waits for all, errors in array order.
    int gathered = 0;
    int64_t took = 0;
    co_outcome outs[3]{};
    run_main_void([&] {
        int64_t t0 = co_now_ns();
        co_task *t[3];
        int rc = 0;
        t[0] = spawn(sleeper(100, &rc));
        t[1] = spawn(fail_after(40, CO_EINVAL));
        t[2] = spawn(fail_after(10, CO_ENOMEM));
        gathered = co_gather(t, 3, outs, CO_NO_DEADLINE);
        took = elapsed_ms(t0);
    });
    REQUIRE(gathered == CO_EINVAL);
    REQUIRE(took >= 90);
    REQUIRE(outs[0].error == 0);
    REQUIRE(outs[1].error == CO_EINVAL);
    REQUIRE(outs[2].error == CO_ENOMEM);
}

TEST_CASE("test_tasks: test_gather_shield")
{
    // Cancelling a task blocked in a gather cancels the gathered tasks (each of them may
    // shield a section of its own, which then finishes).
    int gathered = 0, plain = 0, shielded_rc = -1, after_shield = 0;
    int64_t took = 0;
    co_outcome outs[2]{};
    run_main_void([&] {
        int64_t t0 = co_now_ns();
        co_task *g = spawn([&](intptr_t *) {
            co_task *t[2];
            t[0] = spawn(sleeper(10000, &plain));
            t[1] = spawn([&](intptr_t *) {
                co_shield_begin();
                shielded_rc = co_sleep(ms_ns(30));
                co_shield_end();
                after_shield = co_sleep(ms_ns(10000));
                return after_shield;
            });
            gathered = co_gather(t, 2, outs, CO_NO_DEADLINE);
            return gathered;
        });
        co_sleep(ms_ns(5));
        co_cancel(g);
        co_join(g, nullptr, CO_NO_DEADLINE);
        took = elapsed_ms(t0);
    });
    REQUIRE(gathered == CO_ECANCELED);
    REQUIRE(plain == CO_ECANCELED);
    REQUIRE(shielded_rc == 0);
    REQUIRE(after_shield == CO_ECANCELED);
    REQUIRE(outs[0].error == CO_ECANCELED);
    REQUIRE(took < 2000);
}

TEST_CASE("test_tasks: test_wait_first_completed")
{
    int first = -1;
    run_main_void([&] {
        co_task *t[2];
        int a = 0, b = 0;
        t[0] = spawn(sleeper(10000, &a));
        t[1] = spawn(sleeper(10, &b));
        first = co_wait_any(t, 2, CO_NO_DEADLINE);
        co_cancel(t[0]);
        co_gather(t, 2, nullptr, CO_NO_DEADLINE);
    });
    REQUIRE(first == 1);
}

// ---- test_waitfor.py ----

TEST_CASE("test_waitfor: test_wait_for")
{
    // wait_for cancels its target on timeout. co_join with a deadline does not (a
    // documented difference: the target keeps running, the handle stays valid).
    int join_rc = 0, wait_for_rc = 0, target = 0, target2 = 0;
    bool running_after_join = false;
    int64_t took = 0;
    co_outcome out{};
    run_main_void([&] {
        co_task *t = spawn(sleeper(10000, &target));
        join_rc = co_join(t, nullptr, co_deadline_in(ms_ns(10)));
        running_after_join = !co_task_done(t);
        co_cancel(t);
        co_join(t, nullptr, CO_NO_DEADLINE);

        int64_t t0 = co_now_ns();
        co_task *t2 = spawn(sleeper(10000, &target2));
        wait_for_rc = co_wait_for(t2, &out, co_deadline_in(ms_ns(10)));
        took = elapsed_ms(t0);
    });
    REQUIRE(join_rc == CO_ETIMEDOUT);
    REQUIRE(running_after_join);
    REQUIRE(wait_for_rc == CO_ETIMEDOUT);
    REQUIRE(target2 == CO_ECANCELED);
    REQUIRE(out.error == CO_ECANCELED);
    REQUIRE(took < 1000);
}

TEST_CASE("test_waitfor: test_cancel_wait_for")
{
    // Cancelling a task blocked in wait_for cancels the awaited task too.
    int waited = 0, target = 0;
    run_main_void([&] {
        co_task *w = spawn([&](intptr_t *) {
            co_task *t = spawn(sleeper(10000, &target));
            waited = co_wait_for(t, nullptr, co_deadline_in(ms_ns(60000)));
            return waited;
        });
        co_sleep(ms_ns(5));
        co_cancel(w);
        co_join(w, nullptr, CO_NO_DEADLINE);
    });
    REQUIRE(waited == CO_ECANCELED);
    REQUIRE(target == CO_ECANCELED);
}

TEST_CASE("test_tasks: test_wait_for_timeout_less_then_0_or_0_future_done")
{
    int joined = -1, waited = -1;
    co_outcome out{}, out2{};
    run_main_void([&] {
        co_task *t = spawn([](intptr_t *res) {
            *res = 7;
            return 0;
        });
        co_yield ();
        joined = co_join(t, &out, co_deadline_in(0));
        co_task *t2 = spawn([](intptr_t *res) {
            *res = 8;
            return 0;
        });
        co_yield ();
        waited = co_wait_for(t2, &out2, co_deadline_in(-ms_ns(1)));
    });
    REQUIRE(joined == 0);
    REQUIRE(out.value == 7);
    REQUIRE(waited == 0);
    REQUIRE(out2.value == 8);
}

TEST_CASE("test_tasks: test_wait_for_timeout_less_then_0_or_0_coroutine_do_not_started")
{
    bool started = false;
    int waited = 0;
    run_main_void([&] {
        co_task *t = spawn([&](intptr_t *) {
            started = true;
            return 0;
        });
        waited = co_wait_for(t, nullptr, co_deadline_in(0));
    });
    REQUIRE(waited == CO_ETIMEDOUT);
    REQUIRE_FALSE(started);
}
