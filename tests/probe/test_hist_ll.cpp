// Percentiles of log-linear histograms (hist_ll.h): a known latency comes back within a
// few percent, and a log2 histogram of an older table or recording reads as before.
#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

extern "C" {
#include "hist_ll.h"
#include "model_tasks.h"
}

namespace
{

std::vector<uint64_t> ll_hist()
{
    return std::vector<uint64_t>(CORUN_LL_BUCKETS, 0);
}

void add(std::vector<uint64_t> &h, uint64_t v_ns, uint64_t n = 1)
{
    h[corun_ll_bucket(v_ns)] += n;
}

} // namespace

TEST_CASE("ll quantile: empty histogram", "[hist]")
{
    auto h = ll_hist();
    REQUIRE(cs_ll_quantile_ns(h.data(), 0.5) == 0);
}

TEST_CASE("ll quantile: a fixed latency comes back within 1/8, its median within 1/16", "[hist]")
{
    // 30 ms and 131 us: the two values a log2 p99 used to jump between.
    for (uint64_t v : {30000000ull, 131072ull, 134000000ull, 7ull, 1000ull}) {
        auto h = ll_hist();
        add(h, v, 1000);
        for (double q : {0.5, 0.99, 1.0}) {
            uint64_t p = cs_ll_quantile_ns(h.data(), q);
            INFO("v " << v << " q " << q << " p " << p);
            REQUIRE(p >= corun_ll_lower(corun_ll_bucket(v)));
            REQUIRE(p <= corun_ll_upper(corun_ll_bucket(v)));
            REQUIRE((double)p == Approx((double)v).epsilon(1.0 / 8 + 1e-9));
            if (q == 0.5)
                REQUIRE((double)p == Approx((double)v).epsilon(1.0 / 16 + 1e-9));
        }
    }
}

TEST_CASE("ll quantile: spread samples give their percentiles to a few %", "[hist]")
{
    auto h = ll_hist();
    for (uint64_t v = 1000; v <= 1000000; v += 1000)
        add(h, v);
    CHECK((double)cs_ll_quantile_ns(h.data(), 0.5) == Approx(500000.0).epsilon(0.01));
    CHECK((double)cs_ll_quantile_ns(h.data(), 0.9) == Approx(900000.0).epsilon(0.01));
    // The samples stop at 1 ms, two thirds into p99's bucket, which interpolation takes
    // as evenly filled: a bit high.
    CHECK((double)cs_ll_quantile_ns(h.data(), 0.99) == Approx(990000.0).epsilon(0.03));
    // Quantiles never go down as q goes up.
    uint64_t prev = 0;
    for (int i = 1; i <= 100; i++) {
        uint64_t p = cs_ll_quantile_ns(h.data(), i / 100.0);
        REQUIRE(p >= prev);
        prev = p;
    }
}

TEST_CASE("ll quantile: a converted log2 histogram keeps the old rule's value to 1/8", "[hist]")
{
    uint64_t old[CS_TASK_HIST_BUCKETS] = {};
    old[0] = 3;
    old[10] = 50; // [512, 1024) ns
    old[25] = 40; // [16.7, 33.5) ms
    old[31] = 7;  // the last bucket: the rest
    auto h = ll_hist();
    cs_ll_add_log2(h.data(), old, CS_TASK_HIST_BUCKETS);
    uint64_t total = 0;
    for (uint64_t c : h)
        total += c;
    REQUIRE(total == 100);
    for (double q : {0.01, 0.03, 0.04, 0.5, 0.53, 0.9, 0.93, 0.94, 0.99, 1.0}) {
        uint64_t was = cs_hist_quantile_ns(old, q), now = cs_ll_quantile_ns(h.data(), q);
        INFO("q " << q << " was " << was << " now " << now);
        REQUIRE(now <= was);
        REQUIRE((double)now >= (double)was * 7.0 / 8.0);
    }
}
