// The debug table reader (probe/src/corun_target.c): it reads version 3 (log-linear
// histograms), still reads version 2 (log2 histograms) and version 1 (no task outcomes),
// from real tasks of the libcorun linked in here.
#include <catch2/catch.hpp>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "corun.h"

extern "C" {
#include "corun_target.h"
}

namespace
{

void set_u32(std::vector<unsigned char> &raw, size_t at, uint32_t v)
{
    std::memcpy(raw.data() + at, &v, sizeof v);
}

// Our table as a version 2 libcorun lays it out: the same, with log2 histograms.
std::vector<unsigned char> v2_image()
{
    std::vector<unsigned char> raw(sizeof corun_debug);
    std::memcpy(raw.data(), &corun_debug, sizeof corun_debug);
    set_u32(raw, offsetof(struct corun_debug, version), 2);
    set_u32(raw, offsetof(struct corun_debug, hist_buckets), CORUN_HIST_BUCKETS);
    return raw;
}

// Our table as a version 1 libcorun lays it out: without task.outcome and task.error.
std::vector<unsigned char> v1_image()
{
    const size_t stats_at =
        offsetof(struct corun_debug, task) + offsetof(corun_debug_task_offsets, outcome);
    std::vector<unsigned char> raw((stats_at + sizeof(corun_debug_stats_offsets) + 7) & ~7ul);
    std::memcpy(raw.data(), &corun_debug, stats_at);
    std::memcpy(raw.data() + stats_at, &corun_debug.stats, sizeof corun_debug.stats);
    uint32_t version = 1, size = (uint32_t)raw.size();
    std::memcpy(raw.data() + offsetof(struct corun_debug, version), &version, sizeof version);
    std::memcpy(raw.data() + offsetof(struct corun_debug, size), &size, sizeof size);
    set_u32(raw, offsetof(struct corun_debug, hist_buckets), CORUN_HIST_BUCKETS);
    return raw;
}

int fail_refused(void *, intptr_t *)
{
    return -ECONNREFUSED;
}

// Runs a task that fails, and decodes it (finished, not joined) through `table`.
cs_task decode_failed_task(const struct corun_debug &table)
{
    struct ctx {
        const struct corun_debug *table;
        cs_task out;
    } c{&table, {}};
    int rc = co_run(
        [](void *arg, intptr_t *) {
            auto *c = static_cast<ctx *>(arg);
            co_spawn_opts opts{"refused", 0, 0};
            co_task *t;
            int r = co_spawn(&t, fail_refused, nullptr, &opts);
            if (r != 0)
                return r;
            co_yield (); // it runs and fails
            cs_corun_decode_task(c->table, reinterpret_cast<const unsigned char *>(t),
                                 reinterpret_cast<uintptr_t>(t), &c->out);
            return co_join(t, nullptr, CO_NO_DEADLINE);
        },
        &c, nullptr);
    REQUIRE(rc == 0);
    return c.out;
}

} // namespace

TEST_CASE("the reader reads a version 3 table's outcome and error of a finished task")
{
    struct corun_debug d {
    };
    char why[256] = "";
    REQUIRE(cs_corun_parse_table(&corun_debug, sizeof corun_debug, &d, why, sizeof why) == 0);
    CHECK(d.version == 3);
    CHECK(d.hist_buckets == CORUN_LL_BUCKETS);
    CHECK(d.stats_hist_buckets == CORUN_HIST_BUCKETS);
    cs_task t = decode_failed_task(d);
    CHECK(std::string(t.name) == "refused");
    CHECK(t.state == CORUN_TASK_DONE);
    CHECK(t.outcome_known);
    CHECK(t.outcome == CORUN_OUTCOME_ERROR);
    CHECK(t.error == -ECONNREFUSED);
}

TEST_CASE("the reader still reads a version 2 table: log2 histograms, outcomes known")
{
    std::vector<unsigned char> raw = v2_image();
    struct corun_debug d {
    };
    char why[256] = "";
    REQUIRE(cs_corun_parse_table(raw.data(), raw.size(), &d, why, sizeof why) == 0);
    CHECK(d.version == 2);
    CHECK(d.hist_buckets == CORUN_HIST_BUCKETS);
    CHECK(d.stats_hist_buckets == CORUN_HIST_BUCKETS); // one kind of histogram
    CHECK(d.loop_iter_max_ns == corun_debug.loop_iter_max_ns);
    cs_task t = decode_failed_task(d);
    CHECK(t.outcome_known);
    CHECK(t.error == -ECONNREFUSED);
    // A version's histograms are its own kind: log-linear ones in a version 2 table are not.
    set_u32(raw, offsetof(struct corun_debug, hist_buckets), CORUN_LL_BUCKETS);
    CHECK(cs_corun_parse_table(raw.data(), raw.size(), &d, why, sizeof why) == -EPROTO);
}

TEST_CASE("the reader still reads a version 1 table: the same tasks, their outcome unknown")
{
    std::vector<unsigned char> raw = v1_image();
    struct corun_debug d {
    };
    char why[256] = "";
    REQUIRE(cs_corun_parse_table(raw.data(), raw.size(), &d, why, sizeof why) == 0);
    CHECK(d.version == 1);
    // What follows the task offsets (the stats offsets) is found where v1 put it.
    CHECK(std::memcmp(&d.stats, &corun_debug.stats, sizeof d.stats) == 0);
    CHECK(d.task.next_task == corun_debug.task.next_task);
    cs_task t = decode_failed_task(d);
    CHECK(std::string(t.name) == "refused");
    CHECK(t.state == CORUN_TASK_DONE);
    CHECK(!t.outcome_known);
    CHECK(t.error == 0);
}

TEST_CASE("the reader refuses a table of another version, or too short, with one line")
{
    std::vector<unsigned char> raw(sizeof corun_debug);
    std::memcpy(raw.data(), &corun_debug, sizeof corun_debug);
    struct corun_debug d {
    };
    char why[256] = "";
    for (uint32_t version : {0u, 4u}) {
        std::memcpy(raw.data() + offsetof(struct corun_debug, version), &version, sizeof version);
        CHECK(cs_corun_parse_table(raw.data(), raw.size(), &d, why, sizeof why) == -EPROTO);
        CHECK(std::string(why) == "libcorun debug table version " + std::to_string(version) +
                                      " not supported (this coscope reads version 1 to 3)");
    }
    std::vector<unsigned char> v1 = v1_image();
    CHECK(cs_corun_parse_table(v1.data(), v1.size() - 16, &d, why, sizeof why) == -EPROTO);
    CHECK(std::string(why).find("too small") != std::string::npos);
    // Version 3 without its stats_hist_buckets: a version 2 length.
    std::memcpy(raw.data(), &corun_debug, sizeof corun_debug);
    size_t v2_len = offsetof(struct corun_debug, stats_hist_buckets);
    CHECK(cs_corun_parse_table(raw.data(), v2_len, &d, why, sizeof why) == -EPROTO);
    CHECK(std::string(why).find("too small") != std::string::npos);
    raw[0] = 'X';
    CHECK(cs_corun_parse_table(raw.data(), raw.size(), &d, why, sizeof why) == -EPROTO);
    CHECK(std::string(why).find("not a libcorun debug table") != std::string::npos);
}
