// co_queue: a bounded FIFO between tasks (asyncio.Queue plus close).
#include "rt_io_test_util.h"

#include <vector>

namespace
{
struct pc_state {
    co_queue q;
    std::vector<int> got;
    int producer_rc = 1, consumer_rc = 1;
    int n = 0;
};
} // namespace

TEST_CASE("a queue hands items from a producer to a consumer in order and ends on close")
{
    int rc = run_in_loop([] {
        pc_state st;
        CHECK(co_queue_init(&st.q, sizeof(int), 4) == 0);
        st.n = 100;
        co_task *prod = spawn_named(
            "producer",
            [](void *p, intptr_t *) -> int {
                auto *s = static_cast<pc_state *>(p);
                for (int i = 0; i < s->n; i++) {
                    int r = co_queue_put(&s->q, &i, CO_NO_DEADLINE);
                    if (r)
                        return s->producer_rc = r;
                }
                co_queue_close(&s->q);
                return s->producer_rc = 0;
            },
            &st);
        co_task *cons = spawn_named(
            "consumer",
            [](void *p, intptr_t *) -> int {
                auto *s = static_cast<pc_state *>(p);
                for (;;) {
                    int v;
                    int r = co_queue_get(&s->q, &v, CO_NO_DEADLINE);
                    if (r) {
                        s->consumer_rc = r;
                        return 0;
                    }
                    s->got.push_back(v);
                    if (co_queue_len(&s->q) > 4)
                        return -1; // never above capacity
                }
            },
            &st);
        co_task *both[] = {prod, cons};
        CHECK(co_gather(both, 2, nullptr, CO_NO_DEADLINE) == 0);
        CHECK(st.producer_rc == 0);
        CHECK(st.consumer_rc == CO_ECLOSED);
        REQUIRE(st.got.size() == 100);
        for (int i = 0; i < 100; i++)
            CHECK(st.got[i] == i);
        co_queue_destroy(&st.q);
        return 0;
    });
    REQUIRE(rc == 0);
}

TEST_CASE("try_put and try_get never wait; a closed queue drains and then says closed")
{
    int rc = run_in_loop([] {
        co_queue q;
        CHECK(co_queue_init(&q, sizeof(long), 2) == 0);
        long v = 7, out = 0;
        CHECK(co_queue_try_get(&q, &out) == CO_EAGAIN);
        CHECK(co_queue_try_put(&q, &v) == 0);
        v = 8;
        CHECK(co_queue_try_put(&q, &v) == 0);
        CHECK(co_queue_try_put(&q, &v) == CO_EAGAIN);
        CHECK(co_queue_put(&q, &v, co_deadline_in(ms_ns(5))) == CO_ETIMEDOUT);
        CHECK(co_queue_len(&q) == 2);
        CHECK(co_queue_close(&q) == 0);
        CHECK(co_queue_closed(&q));
        CHECK(co_queue_try_put(&q, &v) == CO_ECLOSED);
        CHECK(co_queue_put(&q, &v, CO_NO_DEADLINE) == CO_ECLOSED);
        CHECK(co_queue_get(&q, &out, CO_NO_DEADLINE) == 0);
        CHECK(out == 7);
        CHECK(co_queue_try_get(&q, &out) == 0);
        CHECK(out == 8);
        CHECK(co_queue_get(&q, &out, CO_NO_DEADLINE) == CO_ECLOSED);
        CHECK(co_queue_try_get(&q, &out) == CO_ECLOSED);
        co_queue_destroy(&q);
        return 0;
    });
    REQUIRE(rc == 0);
}

TEST_CASE("queue arguments are checked")
{
    co_queue q;
    CHECK(co_queue_init(nullptr, 4, 4) == CO_EINVAL);
    CHECK(co_queue_init(&q, 0, 4) == CO_EINVAL);
    CHECK(co_queue_init(&q, SIZE_MAX / 2, 4) == CO_EINVAL);
    CHECK(co_queue_try_put(nullptr, &q) == CO_EINVAL);
    CHECK(co_queue_close(nullptr) == CO_EINVAL);
}

namespace
{
struct getter_state {
    co_queue *q;
    int rc[3] = {1, 1, 1};
    int val[3] = {-1, -1, -1};
};
struct getter_arg {
    getter_state *st;
    int i;
};
int getter_main(void *p, intptr_t *)
{
    auto *a = static_cast<getter_arg *>(p);
    a->st->rc[a->i] = co_queue_get(a->st->q, &a->st->val[a->i], CO_NO_DEADLINE);
    return 0;
}
} // namespace

TEST_CASE("getters are served in arrival order and a cancelled getter loses no item")
{
    int rc = run_in_loop([] {
        co_queue q;
        co_queue_init(&q, sizeof(int), 8);
        getter_state st;
        st.q = &q;
        getter_arg args[3] = {{&st, 0}, {&st, 1}, {&st, 2}};
        co_task *t[3];
        for (int i = 0; i < 3; i++) {
            t[i] = spawn_named("getter", getter_main, &args[i]);
            co_yield ();
        }
        // getter 0 is handed item 10 and cancelled before it runs: it still gets it
        int v = 10;
        CHECK(co_queue_put(&q, &v, CO_NO_DEADLINE) == 0);
        co_cancel(t[0]);
        // getter 1 is cancelled while waiting: it must not take an item
        co_cancel(t[1]);
        co_yield ();
        v = 11;
        CHECK(co_queue_put(&q, &v, CO_NO_DEADLINE) == 0);
        // getter 0 returns 0 with its cancellation still pending: it ends cancelled
        co_outcome outs[3];
        CHECK(co_gather(t, 3, outs, CO_NO_DEADLINE) == CO_ECANCELED);
        CHECK(outs[0].error == CO_ECANCELED);
        CHECK(outs[1].error == 0);
        CHECK(outs[2].error == 0);
        CHECK(st.rc[0] == 0);
        CHECK(st.val[0] == 10);
        CHECK(st.rc[1] == CO_ECANCELED);
        CHECK(st.rc[2] == 0);
        CHECK(st.val[2] == 11);
        CHECK(co_queue_len(&q) == 0);
        co_queue_destroy(&q);
        return 0;
    });
    REQUIRE(rc == 0);
}

TEST_CASE("closing a queue wakes blocked putters with CO_ECLOSED")
{
    int rc = run_in_loop([] {
        co_queue q;
        co_queue_init(&q, sizeof(int), 1);
        int v = 1;
        co_queue_put(&q, &v, CO_NO_DEADLINE);
        struct st_t {
            co_queue *q;
            int rc = 1;
        } st{&q};
        co_task *t = spawn_named(
            "putter",
            [](void *p, intptr_t *) -> int {
                auto *s = static_cast<st_t *>(p);
                int x = 2;
                s->rc = co_queue_put(s->q, &x, CO_NO_DEADLINE);
                return 0;
            },
            &st);
        co_yield ();
        co_queue_close(&q);
        CHECK(co_join(t, nullptr, CO_NO_DEADLINE) == 0);
        CHECK(st.rc == CO_ECLOSED);
        int out = 0;
        CHECK(co_queue_get(&q, &out, CO_NO_DEADLINE) == 0);
        CHECK(out == 1);
        co_queue_destroy(&q);
        return 0;
    });
    REQUIRE(rc == 0);
}

TEST_CASE("co_queue_join waits for task_done, and returns CO_ECLOSED when the queue is destroyed")
{
    int rc = run_in_loop([] {
        co_queue q;
        CHECK(co_queue_init(&q, sizeof(int), 1) == 0);
        int v = 1;
        CHECK(co_queue_put(&q, &v, CO_NO_DEADLINE) == 0);
        CHECK(co_queue_join(&q, co_deadline_in(ms_ns(5))) == CO_ETIMEDOUT);
        CHECK(co_queue_get(&q, &v, CO_NO_DEADLINE) == 0);
        CHECK(co_queue_join(&q, co_deadline_in(ms_ns(5))) == CO_ETIMEDOUT); // got, not done
        CHECK(co_queue_task_done(&q) == 0);
        CHECK(co_queue_join(&q, CO_NO_DEADLINE) == 0);
        CHECK(co_queue_task_done(&q) == CO_EINVAL);

        CHECK(co_queue_put(&q, &v, CO_NO_DEADLINE) == 0);
        static int joined;
        joined = 1;
        co_task *t = spawn_named(
            "joiner",
            [](void *p, intptr_t *) -> int {
                joined = co_queue_join(static_cast<co_queue *>(p), CO_NO_DEADLINE);
                return 0;
            },
            &q);
        co_yield ();
        co_queue_destroy(&q);
        CHECK(co_join(t, nullptr, CO_NO_DEADLINE) == 0);
        CHECK(joined == CO_ECLOSED);
        CHECK(co_queue_task_done(nullptr) == CO_EINVAL);
        CHECK(co_queue_join(nullptr, 0) == CO_EINVAL);
        return 0;
    });
    REQUIRE(rc == 0);
}
