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

// The log2 rule of debug tables before version 3: the upper bound of the quantile's bucket.
uint64_t log2_rule_quantile_ns(const uint64_t *h, unsigned n, double q)
{
    uint64_t total = 0, seen = 0;
    for (unsigned k = 0; k < n; k++)
        total += h[k];
    uint64_t rank = (uint64_t)(q * (double)total + 0.999999);
    for (unsigned k = 0; k < n; k++) {
        seen += h[k];
        if (seen >= rank)
            return k ? (1ull << k) - 1 : 0;
    }
    return UINT64_MAX;
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
    uint64_t old[CORUN_HIST_BUCKETS] = {};
    old[0] = 3;
    old[10] = 50; // [512, 1024) ns
    old[25] = 40; // [16.7, 33.5) ms
    old[31] = 7;  // the last bucket: the rest
    auto h = ll_hist();
    cs_ll_add_log2(h.data(), old, CORUN_HIST_BUCKETS);
    uint64_t total = 0;
    for (uint64_t c : h)
        total += c;
    REQUIRE(total == 100);
    for (double q : {0.01, 0.03, 0.04, 0.5, 0.53, 0.9, 0.93, 0.94, 0.99, 1.0}) {
        uint64_t was = log2_rule_quantile_ns(old, CORUN_HIST_BUCKETS, q);
        uint64_t now = cs_ll_quantile_ns(h.data(), q);
        INFO("q " << q << " was " << was << " now " << now);
        REQUIRE(now <= was);
        REQUIRE((double)now >= (double)was * 7.0 / 8.0);
    }
}

TEST_CASE("ll to log2 and back: counts land in their power of two", "[hist]")
{
    auto h = ll_hist();
    add(h, 0, 2);
    add(h, 700, 5);      // [512, 1024): log2 bucket 10
    add(h, 1000, 1);     // also 10
    add(h, 30000000, 3); // [16.7, 33.5) ms: 25
    add(h, ~0ull, 1);    // the last log2 bucket takes the rest
    uint64_t log2[CORUN_HIST_BUCKETS];
    cs_ll_to_log2(log2, h.data());
    CHECK(log2[0] == 2);
    CHECK(log2[10] == 6);
    CHECK(log2[25] == 3);
    CHECK(log2[CORUN_HIST_BUCKETS - 1] == 1);
    CHECK(cs_ll_top_ns(h.data()) == UINT64_MAX);
    // A table's histogram: log-linear ones are copied, log2 ones converted.
    auto copy = ll_hist();
    cs_ll_from_table(copy.data(), h.data(), CORUN_LL_BUCKETS);
    CHECK(copy == h);
    cs_ll_from_table(copy.data(), log2, CORUN_HIST_BUCKETS);
    CHECK(copy[corun_ll_bucket(1023)] == 6);
    CHECK(cs_log2_quantile_ns(log2, CORUN_HIST_BUCKETS, 0.5) ==
          cs_ll_quantile_ns(copy.data(), 0.5));
}
