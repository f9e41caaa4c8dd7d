// The log-linear bucket function of corun_debug.h, shared by the runtime, the BPF programs
// and the recordings: every bucket's bounds hold exactly its values, buckets follow the
// values' order, and no bucket is wider than 1/8 of its lower bound, over all of uint64.
#include <catch2/catch.hpp>

#include <cstdint>
#include <random>

#include "corun_debug.h"

namespace
{

void check_value(uint64_t v)
{
    unsigned b = corun_ll_bucket(v);
    REQUIRE(b < CORUN_LL_BUCKETS);
    REQUIRE(corun_ll_lower(b) <= v);
    REQUIRE(v <= corun_ll_upper(b));
}

} // namespace

TEST_CASE("ll buckets: bounds round-trip and tile uint64", "[hist]")
{
    REQUIRE(corun_ll_lower(0) == 0);
    for (unsigned b = 0; b < CORUN_LL_BUCKETS; b++) {
        INFO("bucket " << b);
        REQUIRE(corun_ll_lower(b) <= corun_ll_upper(b));
        REQUIRE(corun_ll_bucket(corun_ll_lower(b)) == b);
        REQUIRE(corun_ll_bucket(corun_ll_upper(b)) == b);
        if (b + 1 < CORUN_LL_BUCKETS)
            REQUIRE(corun_ll_upper(b) + 1 == corun_ll_lower(b + 1));
    }
    REQUIRE(corun_ll_upper(CORUN_LL_BUCKETS - 1) == UINT64_MAX);
    REQUIRE(corun_ll_bucket(UINT64_MAX) == CORUN_LL_BUCKETS - 1);
}

TEST_CASE("ll buckets: relative width at most 1/8 up to 2^64", "[hist]")
{
    for (unsigned b = CORUN_LL_SUB; b < CORUN_LL_BUCKETS; b++) {
        uint64_t lo = corun_ll_lower(b), width = corun_ll_upper(b) - lo + 1;
        INFO("bucket " << b);
        REQUIRE(width * CORUN_LL_SUB <= lo);
    }
    // Below CORUN_LL_SUB every value is its own bucket: no error at all.
    for (unsigned v = 0; v < CORUN_LL_SUB; v++)
        REQUIRE(corun_ll_upper(corun_ll_bucket(v)) == v);
}

TEST_CASE("ll buckets: monotone, bounds contain the value", "[hist]")
{
    unsigned prev = 0;
    for (uint64_t v = 0; v < (1u << 16); v++) {
        unsigned b = corun_ll_bucket(v);
        REQUIRE(b >= prev);
        REQUIRE(b - prev <= 1);
        prev = b;
        check_value(v);
    }
    // Around every power of two and every sub-bucket edge up to 2^63.
    for (unsigned k = 3; k < 64; k++)
        for (uint64_t s = 0; s < CORUN_LL_SUB; s++) {
            uint64_t edge = (CORUN_LL_SUB + s) << (k - 3);
            for (uint64_t d : {edge - 1, edge, edge + 1}) {
                check_value(d);
                if (d > 0)
                    REQUIRE(corun_ll_bucket(d - 1) <= corun_ll_bucket(d));
            }
        }
    std::mt19937_64 rng(42);
    for (int i = 0; i < 200000; i++) {
        uint64_t a = rng() >> (rng() % 64), c = rng() >> (rng() % 64);
        check_value(a);
        if (a <= c)
            REQUIRE(corun_ll_bucket(a) <= corun_ll_bucket(c));
        else
            REQUIRE(corun_ll_bucket(a) >= corun_ll_bucket(c));
    }
}
