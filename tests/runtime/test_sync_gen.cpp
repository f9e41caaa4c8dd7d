// Generators (async for): a lazy producer task yielding to a consumer.
#include "rt_io_test_util.h"

#include <vector>

namespace
{

struct counter {
    int limit;
    int produced = 0; // how far the producer got: shows it is lazy
    int fail_at = -1;
};

int count_up(co_gen *g, void *arg)
{
    auto *c = static_cast<counter *>(arg);
    for (int i = 1; i <= c->limit; i++) {
        if (i == c->fail_at)
            return -EIO;
        c->produced = i;
        int rc = co_gen_yield(g, i);
        if (rc)
            return rc;
    }
    return 0;
}

} // namespace

TEST_CASE("a generator yields its values in order, lazily, then reports the end")
{
    int rc = run_in_loop([] {
        counter c{5};
        co_gen *g = nullptr;
        CHECK(co_gen_spawn(&g, count_up, &c, nullptr) == 0);
        co_sleep(ms_ns(2));
        CHECK(c.produced == 0); // nothing asked yet: nothing produced
        std::vector<intptr_t> got;
        intptr_t v;
        int r;
        while ((r = co_gen_next(g, &v, CO_NO_DEADLINE)) == 0) {
            got.push_back(v);
            CHECK(c.produced == (int)v); // never runs ahead of the consumer
        }
        CHECK(r == CO_ECLOSED);
        CHECK(got == std::vector<intptr_t>({1, 2, 3, 4, 5}));
        CHECK(co_gen_next(g, &v, CO_NO_DEADLINE) == CO_ECLOSED);
        CHECK(co_gen_close(g) == 0);
        return 0;
    });
    REQUIRE(rc == 0);
}

TEST_CASE("closing a generator early cancels its producer")
{
    int rc = run_in_loop([] {
        counter c{1000};
        co_gen *g = nullptr;
        CHECK(co_gen_spawn(&g, count_up, &c, nullptr) == 0);
        intptr_t v;
        CHECK(co_gen_next(g, &v, CO_NO_DEADLINE) == 0);
        CHECK(co_gen_next(g, &v, CO_NO_DEADLINE) == 0);
        CHECK(v == 2);
        CHECK(co_gen_close(g) == 0);
        CHECK(c.produced == 2);
        // closing one that never started
        co_gen *g2 = nullptr;
        CHECK(co_gen_spawn(&g2, count_up, &c, nullptr) == 0);
        CHECK(co_gen_close(g2) == 0);
        return 0;
    });
    REQUIRE(rc == 0);
}

TEST_CASE("a failing producer hands its error to the consumer")
{
    int rc = run_in_loop([] {
        counter c{10};
        c.fail_at = 3;
        co_gen *g = nullptr;
        co_gen_spawn(&g, count_up, &c, nullptr);
        intptr_t v;
        CHECK(co_gen_next(g, &v, CO_NO_DEADLINE) == 0);
        CHECK(co_gen_next(g, &v, CO_NO_DEADLINE) == 0);
        CHECK(co_gen_next(g, &v, CO_NO_DEADLINE) == -EIO);
        CHECK(co_gen_close(g) == -EIO);
        return 0;
    });
    REQUIRE(rc == 0);
}

namespace
{
int slow_producer(co_gen *g, void *)
{
    for (intptr_t i = 1;; i++) {
        if (co_sleep(ms_ns(30)) != 0)
            return CO_ECANCELED;
        int rc = co_gen_yield(g, i);
        if (rc)
            return rc;
    }
}
} // namespace

TEST_CASE("a consumer's deadline or cancellation does not lose the value being produced")
{
    int rc = run_in_loop([] {
        co_gen *g = nullptr;
        co_gen_spawn(&g, slow_producer, nullptr, nullptr);
        intptr_t v = 0;
        CHECK(co_gen_next(g, &v, co_deadline_in(ms_ns(5))) == CO_ETIMEDOUT);
        CHECK(co_gen_next(g, &v, CO_NO_DEADLINE) == 0);
        CHECK(v == 1); // the value produced meanwhile was kept, not skipped
        // a cancelled consumer
        struct st_t {
            co_gen *g;
            int rc = 1;
        } st{g};
        co_task *t = spawn_named(
            "consumer",
            [](void *p, intptr_t *) -> int {
                auto *s = static_cast<st_t *>(p);
                intptr_t x;
                s->rc = co_gen_next(s->g, &x, CO_NO_DEADLINE);
                return 0;
            },
            &st);
        co_sleep(ms_ns(5));
        co_cancel(t);
        co_join(t, nullptr, CO_NO_DEADLINE);
        CHECK(st.rc == CO_ECANCELED);
        CHECK(co_gen_next(g, &v, CO_NO_DEADLINE) == 0);
        CHECK(v == 2);
        CHECK(co_gen_close(g) == 0);
        return 0;
    });
    REQUIRE(rc == 0);
}

TEST_CASE("generator calls reject misuse")
{
    CHECK(co_gen_spawn(nullptr, count_up, nullptr, nullptr) == CO_EINVAL);
    CHECK(co_gen_next(nullptr, nullptr, CO_NO_DEADLINE) == CO_EINVAL);
    CHECK(co_gen_yield(nullptr, 1) == CO_EINVAL);
    CHECK(co_gen_close(nullptr) == CO_EINVAL);
    int rc = run_in_loop([] {
        counter c{3};
        co_gen *g = nullptr;
        co_gen_spawn(&g, count_up, &c, nullptr);
        CHECK(co_gen_yield(g, 1) == CO_EINVAL); // only the producer yields
        co_gen_close(g);
        return 0;
    });
    REQUIRE(rc == 0);
}
