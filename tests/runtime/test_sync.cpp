// Locks, semaphores, events and conditions: asyncio's semantics on libcorun.
// Inside tasks only CHECK (never REQUIRE): an exception must not unwind a coroutine stack.
#include "rt_io_test_util.h"

#include <vector>

namespace
{

struct order_log {
    std::vector<int> order;
};

struct lock_user {
    co_lock *lock;
    order_log *log;
    int id;
    int64_t hold_ns;
};

int lock_user_main(void *arg, intptr_t *)
{
    auto *u = static_cast<lock_user *>(arg);
    int rc = co_lock_acquire(u->lock, CO_NO_DEADLINE);
    if (rc)
        return rc;
    u->log->order.push_back(u->id);
    co_sleep(u->hold_ns);
    return co_lock_release(u->lock);
}

} // namespace

TEST_CASE("a lock admits one task at a time, in the order they asked")
{
    int rc = run_in_loop([] {
        co_lock lock = CO_LOCK_INIT;
        order_log log;
        lock_user users[4];
        co_task *tasks[4];
        // the main task holds the lock while the others line up
        CHECK(co_lock_acquire(&lock, CO_NO_DEADLINE) == 0);
        for (int i = 0; i < 4; i++) {
            users[i] = {&lock, &log, i, ms_ns(1)};
            tasks[i] = spawn_named("locker", lock_user_main, &users[i]);
            co_yield (); // let task i enqueue before task i+1 exists
        }
        CHECK(co_lock_locked(&lock));
        CHECK(co_lock_try_acquire(&lock) == CO_EAGAIN);
        CHECK(co_lock_release(&lock) == 0);
        CHECK(co_gather(tasks, 4, nullptr, CO_NO_DEADLINE) == 0);
        CHECK(log.order == std::vector<int>({0, 1, 2, 3}));
        CHECK(!co_lock_locked(&lock));
        return 0;
    });
    REQUIRE(rc == 0);
}

TEST_CASE("lock misuse returns errors instead of hanging or crashing")
{
    CHECK(co_lock_init(nullptr) == CO_EINVAL);
    CHECK(co_lock_release(nullptr) == CO_EINVAL);
    int rc = run_in_loop([] {
        co_lock lock;
        CHECK(co_lock_init(&lock) == 0);
        CHECK(co_lock_release(&lock) == CO_EINVAL); // not held
        CHECK(co_lock_acquire(&lock, CO_NO_DEADLINE) == 0);
        CHECK(co_lock_acquire(&lock, CO_NO_DEADLINE) == CO_EDEADLK); // not re-entrant
        CHECK(co_lock_release(&lock) == 0);
        return 0;
    });
    REQUIRE(rc == 0);
}

TEST_CASE("a lock acquire gives up at its deadline and the lock stays usable")
{
    int rc = run_in_loop([] {
        co_lock lock = CO_LOCK_INIT;
        CHECK(co_lock_acquire(&lock, CO_NO_DEADLINE) == 0);
        struct arg_t {
            co_lock *l;
            int rc;
        } a{&lock, 1};
        co_task *t = spawn_named(
            "late",
            [](void *p, intptr_t *) -> int {
                auto *a = static_cast<arg_t *>(p);
                a->rc = co_lock_acquire(a->l, co_deadline_in(ms_ns(20)));
                return 0;
            },
            &a);
        CHECK(co_join(t, nullptr, CO_NO_DEADLINE) == 0);
        CHECK(a.rc == CO_ETIMEDOUT);
        CHECK(co_lock_release(&lock) == 0);
        CHECK(co_lock_try_acquire(&lock) == 0);
        CHECK(co_lock_release(&lock) == 0);
        return 0;
    });
    REQUIRE(rc == 0);
}

namespace
{
struct cancel_pass {
    co_lock *lock;
    int rc_a = 1, rc_b = 1;
    bool b_got_it = false;
};
} // namespace

TEST_CASE("a waiter cancelled after the lock was handed to it does not swallow the hand-off")
{
    int rc = run_in_loop([] {
        co_lock lock = CO_LOCK_INIT;
        cancel_pass st;
        st.lock = &lock;
        CHECK(co_lock_acquire(&lock, CO_NO_DEADLINE) == 0);
        co_task *a = spawn_named(
            "a",
            [](void *p, intptr_t *) -> int {
                auto *s = static_cast<cancel_pass *>(p);
                s->rc_a = co_lock_acquire(s->lock, CO_NO_DEADLINE);
                if (s->rc_a == 0) {
                    // asyncio: the acquire completed, the cancellation comes at the next wait
                    int r = co_sleep(ms_ns(1000));
                    co_lock_release(s->lock);
                    return r;
                }
                return s->rc_a;
            },
            &st);
        co_task *b = spawn_named(
            "b",
            [](void *p, intptr_t *) -> int {
                auto *s = static_cast<cancel_pass *>(p);
                s->rc_b = co_lock_acquire(s->lock, CO_NO_DEADLINE);
                s->b_got_it = s->rc_b == 0;
                if (s->rc_b == 0)
                    co_lock_release(s->lock);
                return 0;
            },
            &st);
        co_yield ();  // both wait now, a first
        co_cancel(a); // a is cancelled while still waiting: it leaves the queue
        co_yield ();
        CHECK(co_lock_release(&lock) == 0); // so the lock goes to b
        struct co_outcome oa {
        }, ob{};
        CHECK(co_join(a, &oa, CO_NO_DEADLINE) == 0);
        CHECK(co_join(b, &ob, CO_NO_DEADLINE) == 0);
        CHECK(st.rc_a == CO_ECANCELED);
        CHECK(st.b_got_it);
        CHECK(!co_lock_locked(&lock));
        return 0;
    });
    REQUIRE(rc == 0);
}

TEST_CASE("cancelling a task right after the lock was handed to it keeps the lock consistent")
{
    int rc = run_in_loop([] {
        co_lock lock = CO_LOCK_INIT;
        cancel_pass st;
        st.lock = &lock;
        CHECK(co_lock_acquire(&lock, CO_NO_DEADLINE) == 0);
        co_task *a = spawn_named(
            "a",
            [](void *p, intptr_t *) -> int {
                auto *s = static_cast<cancel_pass *>(p);
                s->rc_a = co_lock_acquire(s->lock, CO_NO_DEADLINE);
                if (s->rc_a != 0)
                    return s->rc_a;
                int r = co_sleep(ms_ns(1000)); // the pending cancellation lands here
                co_lock_release(s->lock);
                return r;
            },
            &st);
        co_task *b = spawn_named(
            "b",
            [](void *p, intptr_t *) -> int {
                auto *s = static_cast<cancel_pass *>(p);
                s->rc_b = co_lock_acquire(s->lock, CO_NO_DEADLINE);
                s->b_got_it = s->rc_b == 0;
                if (s->rc_b == 0)
                    co_lock_release(s->lock);
                return 0;
            },
            &st);
        co_yield ();
        CHECK(co_lock_release(&lock) == 0); // handed to a (woken, not yet running) ...
        co_cancel(a);                       // ... and a is cancelled before it runs
        struct co_outcome oa {
        }, ob{};
        CHECK(co_join(a, &oa, CO_NO_DEADLINE) == 0);
        CHECK(co_join(b, &ob, CO_NO_DEADLINE) == 0);
        CHECK(st.rc_a == 0);             // the acquire itself completed
        CHECK(oa.error == CO_ECANCELED); // and the cancellation came at the next wait
        CHECK(st.b_got_it);              // then b got the lock: nothing was lost
        return 0;
    });
    REQUIRE(rc == 0);
}

TEST_CASE("a semaphore lets N holders in and queues the rest fairly")
{
    int rc = run_in_loop([] {
        co_sem sem;
        CHECK(co_sem_init(&sem, 2) == 0);
        CHECK(co_sem_try_acquire(&sem) == 0);
        CHECK(co_sem_try_acquire(&sem) == 0);
        CHECK(co_sem_try_acquire(&sem) == CO_EAGAIN);
        CHECK(co_sem_value(&sem) == 0);
        struct st_t {
            co_sem *s;
            std::vector<int> order;
        } st{&sem, {}};
        struct w_t {
            st_t *st;
            int id;
        } ws[3] = {{&st, 0}, {&st, 1}, {&st, 2}};
        co_task *t[3];
        for (int i = 0; i < 3; i++) {
            t[i] = spawn_named(
                "sem-waiter",
                [](void *p, intptr_t *) -> int {
                    auto *w = static_cast<w_t *>(p);
                    int r = co_sem_acquire(w->st->s, CO_NO_DEADLINE);
                    if (r == 0)
                        w->st->order.push_back(w->id);
                    return r;
                },
                &ws[i]);
            co_yield ();
        }
        for (int i = 0; i < 3; i++)
            CHECK(co_sem_release(&sem) == 0);
        CHECK(co_gather(t, 3, nullptr, CO_NO_DEADLINE) == 0);
        CHECK(st.order == std::vector<int>({0, 1, 2}));
        CHECK(co_sem_value(&sem) == 0); // every release went straight to a waiter
        CHECK(co_sem_acquire(&sem, co_deadline_in(ms_ns(5))) == CO_ETIMEDOUT);
        return 0;
    });
    REQUIRE(rc == 0);
}

TEST_CASE("a bounded semaphore refuses to be released above its initial value")
{
    int rc = run_in_loop([] {
        co_sem sem;
        CHECK(co_sem_init_bounded(&sem, 1) == 0);
        CHECK(co_sem_release(&sem) == CO_EINVAL);
        CHECK(co_sem_acquire(&sem, CO_NO_DEADLINE) == 0);
        CHECK(co_sem_release(&sem) == 0);
        CHECK(co_sem_value(&sem) == 1);
        co_sem plain;
        CHECK(co_sem_init(&plain, 0) == 0);
        CHECK(co_sem_release(&plain) == 0);
        CHECK(co_sem_value(&plain) == 1);
        return 0;
    });
    REQUIRE(rc == 0);
}

TEST_CASE("an event wakes every waiter and lets later waits through until cleared")
{
    int rc = run_in_loop([] {
        co_event ev = CO_EVENT_INIT;
        struct st_t {
            co_event *e;
            int woke = 0;
        } st{&ev};
        co_task *t[3];
        for (int i = 0; i < 3; i++)
            t[i] = spawn_named(
                "ev-waiter",
                [](void *p, intptr_t *) -> int {
                    auto *s = static_cast<st_t *>(p);
                    int r = co_event_wait(s->e, CO_NO_DEADLINE);
                    if (r == 0)
                        s->woke++;
                    return r;
                },
                &st);
        co_yield ();
        CHECK(st.woke == 0);
        CHECK(!co_event_is_set(&ev));
        CHECK(co_event_set(&ev) == 0);
        CHECK(co_gather(t, 3, nullptr, CO_NO_DEADLINE) == 0);
        CHECK(st.woke == 3);
        CHECK(co_event_wait(&ev, CO_NO_DEADLINE) == 0); // set: passes at once
        CHECK(co_event_clear(&ev) == 0);
        CHECK(co_event_wait(&ev, co_deadline_in(ms_ns(5))) == CO_ETIMEDOUT);
        return 0;
    });
    REQUIRE(rc == 0);
}

TEST_CASE("cancelling a task blocked on an event returns CO_ECANCELED to it")
{
    int rc = run_in_loop([] {
        co_event ev = CO_EVENT_INIT;
        struct st_t {
            co_event *e;
            int rc = 1;
        } st{&ev};
        co_task *t = spawn_named(
            "ev-waiter",
            [](void *p, intptr_t *) -> int {
                auto *s = static_cast<st_t *>(p);
                s->rc = co_event_wait(s->e, CO_NO_DEADLINE);
                return s->rc;
            },
            &st);
        co_yield ();
        CHECK(co_cancel(t) == 0);
        struct co_outcome out {
        };
        CHECK(co_join(t, &out, CO_NO_DEADLINE) == 0);
        CHECK(st.rc == CO_ECANCELED);
        CHECK(out.error == CO_ECANCELED);
        return 0;
    });
    REQUIRE(rc == 0);
}

namespace
{
struct cond_state {
    co_lock lock = CO_LOCK_INIT;
    co_cond cond;
    int items = 0;
    int consumed = 0;
    int wait_rc = 1;
    bool held_after = false;
};

int has_items(void *p)
{
    return static_cast<cond_state *>(p)->items > 0;
}
} // namespace

TEST_CASE("a condition waits for a predicate under its lock and re-takes the lock")
{
    int rc = run_in_loop([] {
        cond_state st;
        CHECK(co_cond_init(&st.cond, &st.lock) == 0);
        CHECK(co_cond_wait(&st.cond, CO_NO_DEADLINE) == CO_EPERM); // lock not held
        co_task *consumers[2];
        for (int i = 0; i < 2; i++)
            consumers[i] = spawn_named(
                "consumer",
                [](void *p, intptr_t *) -> int {
                    auto *s = static_cast<cond_state *>(p);
                    co_lock_acquire(&s->lock, CO_NO_DEADLINE);
                    int r = co_cond_wait_for(&s->cond, has_items, s, CO_NO_DEADLINE);
                    if (r == 0) {
                        s->items--;
                        s->consumed++;
                    }
                    s->held_after = co_lock_locked(&s->lock);
                    co_lock_release(&s->lock);
                    return r;
                },
                &st);
        co_yield ();
        co_lock_acquire(&st.lock, CO_NO_DEADLINE);
        st.items = 1;
        CHECK(co_cond_notify(&st.cond, 1) == 1);
        co_lock_release(&st.lock);
        co_sleep(ms_ns(2));
        CHECK(st.consumed == 1);
        co_lock_acquire(&st.lock, CO_NO_DEADLINE);
        st.items = 1;
        CHECK(co_cond_notify_all(&st.cond) == 1); // one waiter left
        co_lock_release(&st.lock);
        CHECK(co_gather(consumers, 2, nullptr, CO_NO_DEADLINE) == 0);
        CHECK(st.consumed == 2);
        CHECK(st.held_after);
        return 0;
    });
    REQUIRE(rc == 0);
}

TEST_CASE("a condition wait cut short by its deadline still returns holding the lock")
{
    int rc = run_in_loop([] {
        cond_state st;
        co_cond_init(&st.cond, &st.lock);
        co_lock_acquire(&st.lock, CO_NO_DEADLINE);
        CHECK(co_cond_wait(&st.cond, co_deadline_in(ms_ns(5))) == CO_ETIMEDOUT);
        CHECK(co_lock_locked(&st.lock));
        CHECK(co_lock_release(&st.lock) == 0);
        return 0;
    });
    REQUIRE(rc == 0);
}

TEST_CASE("sync calls outside a task are refused")
{
    co_lock lock = CO_LOCK_INIT;
    co_sem sem;
    co_sem_init(&sem, 0);
    co_event ev = CO_EVENT_INIT;
    CHECK(co_lock_acquire(&lock, CO_NO_DEADLINE) < 0);
    CHECK(co_sem_acquire(&sem, CO_NO_DEADLINE) < 0);
    CHECK(co_event_wait(&ev, CO_NO_DEADLINE) < 0);
}
