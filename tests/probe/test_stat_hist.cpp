// How `coscope stat` prints histograms (stat_hist.h), the same for libcorun and foreign
// loops, and how it reads the kernel's blocking / executor maps (corun_blocking.h).
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <bpf/bpf.h>
#include <unistd.h>

extern "C" {
#include "corun_blocking.h"
#include "corun_usdt.h"
#include "json_writer.h"
#include "stat_hist.h"
}

namespace
{
// Runs `write` on a memory stream and returns what it wrote.
template <typename F> std::string written(F write)
{
    char *buf = nullptr;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    write(f);
    std::fclose(f);
    std::string s(buf, len);
    std::free(buf);
    return s;
}

// 100 values: 90 of 700 ns, 9 of 700 us, 1 of 700 ms.
struct sample_hist {
    uint64_t h[CS_LL_HIST_BUCKETS] = {};
    sample_hist()
    {
        h[corun_ll_bucket(700)] = 90;      // [640, 703] ns
        h[corun_ll_bucket(700000)] = 9;    // [655360, 720895] ns
        h[corun_ll_bucket(700000000)] = 1; // [671088640, 738197503] ns
    }
};
} // namespace

TEST_CASE("a histogram line gives the count and each percentile within its bucket")
{
    sample_hist s;
    auto line = written([&](FILE *f) { cs_stat_hist_text(f, "sched latency", s.h); });
    CHECK(line == "  sched latency   n=100      p50 675ns  p90 703ns  p99 717.3us  max <738.2ms\n");
}

TEST_CASE("with the largest value known, percentiles stop at it and it prints as is")
{
    sample_hist s;
    auto capped = written([&](FILE *f) { cs_stat_hist_text_max(f, "read", s.h, 2000, ""); });
    CHECK(capped == "  read            n=100      p50 675ns  p90 703ns  p99 2000ns  max 2000ns\n");
    auto extra = written(
        [&](FILE *f) { cs_stat_hist_text_max(f, "iteration", s.h, 700000000, " total 1.0s"); });
    CHECK(extra == "  iteration       n=100      total 1.0s p50 675ns  p90 703ns  p99 "
                   "717.3us  max 700.0ms\n");
}

TEST_CASE("an empty histogram prints zeros")
{
    uint64_t h[CS_LL_HIST_BUCKETS] = {};
    auto line = written([&](FILE *f) { cs_stat_hist_text(f, "run", h); });
    CHECK(line == "  run             n=0        p50 0ns  p90 0ns  p99 0ns  max <0ns\n");
}

TEST_CASE("a known latency distribution gives its percentiles to a few percent, not 2x")
{
    // 1000 latencies spread evenly over 1..10 ms: p50 5.5 ms, p90 9.1 ms, p99 9.91 ms. A
    // log2 bucket said "< 8.4 ms" for p50 and "< 16.8 ms" for p90 and p99.
    uint64_t h[CS_LL_HIST_BUCKETS] = {};
    for (uint64_t i = 1; i <= 1000; i++)
        h[corun_ll_bucket(1000000 + (i - 1) * 9000000 / 999)]++;
    auto json = written([&](FILE *f) {
        cs_json w;
        cs_json_init(&w, f);
        cs_json_begin_object(&w);
        cs_stat_hist_json_members_max(&w, h, 10000000);
        cs_json_end_object(&w);
    });
    auto number = [&](const char *key) {
        size_t at = json.find(std::string("\"") + key + "\":");
        REQUIRE(at != std::string::npos);
        return std::strtod(json.c_str() + at + std::strlen(key) + 3, nullptr);
    };
    CHECK(number("p50_ns") == Approx(5500000.0).epsilon(0.03));
    CHECK(number("p90_ns") == Approx(9100000.0).epsilon(0.03));
    CHECK(number("p99_ns") == Approx(9910000.0).epsilon(0.03));
    CHECK(number("max_ns") == 10000000.0);
}

TEST_CASE("durations print with a unit that keeps 3 to 4 digits")
{
    char b[24];
    cs_stat_format_ns(9999, b, sizeof b);
    CHECK(std::string(b) == "9999ns");
    cs_stat_format_ns(10000, b, sizeof b);
    CHECK(std::string(b) == "10.0us");
    cs_stat_format_ns(12345678, b, sizeof b);
    CHECK(std::string(b) == "12.3ms");
    cs_stat_format_ns(12345678901ull, b, sizeof b);
    CHECK(std::string(b) == "12.3s");
}

TEST_CASE("a histogram in JSON has the same figures and its non-empty buckets")
{
    sample_hist s;
    std::string buckets = "[[640,90],[655360,9],[671088640,1]]";
    auto obj = written([&](FILE *f) {
        cs_json w;
        cs_json_init(&w, f);
        cs_json_begin_object(&w);
        cs_stat_hist_json(&w, "run", s.h);
        cs_json_end_object(&w);
    });
    CHECK(obj == "{\"run\":{\"count\":100,\"p50_ns\":675,\"p90_ns\":703,\"p99_ns\":717255,"
                 "\"max_ns\":738197503,\"buckets\":" +
                     buckets + "}}");
    auto members = written([&](FILE *f) {
        cs_json w;
        cs_json_init(&w, f);
        cs_json_begin_object(&w);
        cs_stat_hist_json_members_max(&w, s.h, 2000);
        cs_json_end_object(&w);
    });
    CHECK(members == "{\"count\":100,\"p50_ns\":675,\"p90_ns\":703,\"p99_ns\":2000,"
                     "\"max_ns\":2000,\"buckets\":" +
                         buckets + "}");
}

TEST_CASE("the blocking and executor maps are read whole, sorted by task")
{
    int bfd = bpf_map_create(BPF_MAP_TYPE_HASH, "cs_test_blk", sizeof(cs_corun_block_key),
                             sizeof(cs_corun_block_val), 16, nullptr);
    int efd = bpf_map_create(BPF_MAP_TYPE_HASH, "cs_test_exec", sizeof(__u64),
                             sizeof(cs_corun_exec_val), 16, nullptr);
    if (bfd < 0 || efd < 0) {
        WARN("not run: cannot create BPF maps here (needs CAP_BPF)");
        if (bfd >= 0)
            close(bfd);
        if (efd >= 0)
            close(efd);
        return;
    }
    struct {
        unsigned long long task;
        int nr;
        unsigned long long calls;
    } entries[] = {{7, 0 /* read */, 3}, {2, 1 /* write */, 5}, {7, 1, 1}, {2, 0, 2}};
    for (auto &e : entries) {
        cs_corun_block_key k = {};
        k.task_id = e.task;
        k.nr = e.nr;
        cs_corun_block_val v = {};
        v.calls = e.calls;
        v.blocked = 1;
        v.off_ns = 1000 * e.calls;
        v.off_hist[4] = e.calls;
        REQUIRE(bpf_map_update_elem(bfd, &k, &v, BPF_ANY) == 0);
    }
    for (__u64 task : {9ull, 4ull}) {
        cs_corun_exec_val v = {};
        v.calls = task;
        v.queue_ns = 10 * task;
        v.run_ns = 100 * task;
        v.run_hist[3] = 1;
        REQUIRE(bpf_map_update_elem(efd, &task, &v, BPF_ANY) == 0);
    }
    cs_blocking_stat b = {};
    REQUIRE(cs_blocking_read(&b, bfd, efd) == 0);
    REQUIRE(b.nrows == 4);
    CHECK(b.rows[0].task_id == 2);
    CHECK(std::string(b.rows[0].syscall) == "read");
    CHECK(b.rows[0].calls == 2);
    CHECK(b.rows[1].task_id == 2);
    CHECK(std::string(b.rows[1].syscall) == "write");
    CHECK(b.rows[1].off_ns == 5000);
    CHECK(b.rows[1].off_hist[corun_ll_bucket(15)] == 5); // the kernel's log2 [8, 16) ns
    CHECK(b.rows[2].task_id == 7);
    CHECK(std::string(b.rows[2].syscall) == "read");
    CHECK(b.rows[3].task_id == 7);
    REQUIRE(b.nexec == 2);
    CHECK(b.exec[0].task_id == 4);
    CHECK(b.exec[0].queue_ns == 40);
    CHECK(b.exec[0].run_hist[corun_ll_bucket(7)] == 1); // [4, 8) ns
    CHECK(b.exec[1].task_id == 9);
    CHECK(b.exec[1].run_ns == 900);
    cs_blocking_free(&b);

    cs_blocking_stat none = {};
    REQUIRE(cs_blocking_read(&none, -1, -1) == 0); // nothing collected: nothing read
    CHECK(none.nrows == 0);
    CHECK(none.nexec == 0);
    close(bfd);
    close(efd);
}
