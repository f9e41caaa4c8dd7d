// `coscope stalls` on real event loops: test targets (tests/probe/targets/) stall on cue
// in known functions; coscope, attached with real BPF, must find each stall once, with
// the right duration, cause and stack.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "stall_session.h"

namespace
{

struct target_build {
    const char *name;
    const char *path;
    const char *stack_mode;
};

const target_build builds[] = {
    {"epoll, frame pointers, --stack=fp", TARGET_EPOLL_FP, "fp"},
    {"epoll, frame pointers, --stack=auto", TARGET_EPOLL_FP, "auto"},
    {"epoll, no frame pointers, --stack=dwarf", TARGET_EPOLL_NOFP, "dwarf"},
    {"libuv, frame pointers, --stack=auto", TARGET_LIBUV_FP, "auto"},
    {"libuv, no frame pointers, --stack=auto", TARGET_LIBUV_NOFP, "auto"},
    {"libevent, frame pointers, --stack=auto", TARGET_LIBEVENT_FP, "auto"},
    {"libevent, no frame pointers, --stack=dwarf", TARGET_LIBEVENT_NOFP, "dwarf"},
};

std::string frame(const std::string &symbol)
{
    return "\"symbol\":\"" + symbol + "\"";
}

// Injects a CPU burn, a nanosleep, a blocking read and an fsync into the target and
// checks each is found once, with its duration, cause and function.
void check_injected_stalls(const char *path, const std::string &stack_mode,
                           std::string *coscope_stderr = nullptr)
{
    stall_session s;
    // 5 ms: low enough for the fsync of 8 MiB to be a stall on a fast disk.
    s.start(path, {"--stack=" + stack_mode, "-t", "5ms"});
    double burn_ms = s.inject("burn 150");
    double sleep_ms = s.inject("sleep 150");
    double read_ms = s.inject("read 120");
    s.inject("fsync");
    auto lines = s.finish();
    if (coscope_stderr)
        *coscope_stderr = s.cs.err();
    INFO(s.cs.err());
    INFO("measured: burn " << burn_ms << " ms, sleep " << sleep_ms << " ms, read " << read_ms
                           << " ms");
    INFO(stalls_overview(lines));
    // Frame pointers alone skip the caller of a libc call (libc has none): the
    // blocking stack then names the caller's caller.
    bool fp = stack_mode == "fp";

    auto burn = stalls_with(lines, "stall_burn_cpu");
    REQUIRE(burn.size() == 1);
    INFO(burn[0]);
    check_duration(burn[0], burn_ms);
    CHECK(json_has(burn[0], "\"syscalls\":[]")); // CPU, not a blocking call
    CHECK(json_has(json_main_stack(burn[0]), frame("stall_burn_cpu")));
    CHECK(json_number(burn[0], "on_cpu_us") >= 150000 * 0.9); // it burnt 150 ms of CPU

    auto sleep = stalls_blocked_in(lines, "clock_nanosleep", 0);
    REQUIRE(sleep.size() == 1);
    INFO(sleep[0]);
    check_duration(sleep[0], sleep_ms);
    CHECK(json_syscall_us(sleep[0], "clock_nanosleep") >= 150000 * 0.9);
    CHECK(json_has(json_main_stack(sleep[0]),
                   frame(fp ? "stall_run_command" : "stall_blocking_sleep")));

    auto read = stalls_blocked_in(lines, "read", (long long)(read_ms * 500));
    REQUIRE(read.size() == 1);
    INFO(read[0]);
    check_duration(read[0], read_ms);
    // In the ASan build read() goes through libasan's interceptor (a 2 KiB frame): the
    // DWARF unwind goes through it to the caller.
    CHECK(json_has(json_main_stack(read[0]),
                   frame(fp ? "stall_run_command" : "stall_blocking_read")));

    auto fsync = stalls_blocked_in(lines, "fsync", 0);
    REQUIRE(fsync.size() == 1);
    INFO(fsync[0]);
    // 8 MiB of writes, then the fsync: on a fast disk ~15 ms, part on the CPU (copying,
    // writeback), part off it. The main stack is the blocking call's only when the stall
    // was mostly off-CPU (docs/cli.md); else it is the most frequent on-CPU sample, and a
    // stall this short past its threshold has one or two of those, anywhere in the slice.
    // The blocking stack is then among the others.
    std::string named = frame(fp ? "stall_run_command" : "stall_blocking_fsync");
    auto all = fsync[0].find("\"stacks\":["); // present when more than one stack was seen
    if (json_number(fsync[0], "off_cpu_us") >= json_number(fsync[0], "on_cpu_us") ||
        all == std::string::npos)
        CHECK(json_has(json_main_stack(fsync[0]), named));
    else
        CHECK(json_has(fsync[0].substr(all), named));
}

// Sets an environment variable for one scope (coscope, a child, inherits it).
struct scoped_env {
    const char *name;
    scoped_env(const char *n, const char *value) : name(n)
    {
        setenv(name, value, 1);
    }
    ~scoped_env()
    {
        unsetenv(name);
    }
};

size_t count_of(const std::string &text, const std::string &what)
{
    size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
        n++;
    return n;
}

} // namespace

TEST_CASE("each stall injected in an event loop is found once, with its duration, cause and "
          "function")
{
    for (auto &t : builds) {
        SECTION(t.name)
        {
            check_injected_stalls(t.path, t.stack_mode);
        }
    }
}

TEST_CASE("without per-thread tracepoints the global raw syscall tracepoints find the same "
          "stalls, and coscope says it uses the costly path once")
{
    scoped_env force("COSCOPE_FORCE_RAW_TP", "syscalls");
    std::string err;
    check_injected_stalls(TARGET_LIBUV_NOFP, "auto", &err);
    INFO(err);
    CHECK(count_of(err, "using the global syscall tracepoints, which cost every system call") == 1);
    CHECK(count_of(err, "sched_switch through raw_tp") == 0);
}

TEST_CASE("with tp_btf refused, sched_switch through raw_tp finds the same stalls")
{
    scoped_env force("COSCOPE_FORCE_RAW_TP", "sched_switch");
    std::string err;
    check_injected_stalls(TARGET_EPOLL_NOFP, "dwarf", &err);
    INFO(err);
    CHECK(count_of(err, "coscope: note: sched_switch through raw_tp (COSCOPE_FORCE_RAW_TP)") == 1);
    CHECK(count_of(err, "global syscall tracepoints") == 0);
}

TEST_CASE("a busy event loop that never blocks or burns reports no stall of its own")
{
    stall_session s;
    s.start(TARGET_EPOLL_FP);
    usleep(2000000); // 2 s of 1 ms ticks
    auto lines = s.finish();
    // On a shared, loaded machine the loop may be preempted for long (an off-CPU stall
    // with no blocking call, which is real): only blocking or burning counts here.
    for (auto &l : final_stalls(lines)) {
        INFO(l);
        CHECK(json_has(l, "\"syscalls\":[]"));
        CHECK(json_number(l, "on_cpu_us") < 50000);
    }
    REQUIRE(!lines.empty());
    CHECK(json_has(lines.back(), "\"type\":\"summary\""));
    CHECK(json_has(lines.back(), "\"lost_events\":0"));
}

TEST_CASE("a stall still in progress is reported while it lasts, then once with its full "
          "duration")
{
    stall_session s;
    s.start(TARGET_EPOLL_NOFP, {"-t", "50ms"});
    s.target.send("sleep 1500");
    double sent = mono_ms();
    std::string ongoing;
    while (mono_ms() - sent < 1400) {
        std::string l = s.cs.read_line(100);
        if (json_has(l, "\"ongoing\":true") && json_syscall_us(l, "clock_nanosleep") > 0) {
            ongoing = l;
            break;
        }
    }
    double seen_after_ms = mono_ms() - sent;
    REQUIRE(!ongoing.empty());
    // Reported shortly after crossing the threshold, long before the stall ends.
    CHECK(json_number(ongoing, "duration_us") < 50000 + 40000);
    CHECK(seen_after_ms < 1000);
    CHECK(json_has(json_main_stack(ongoing), "\"symbol\":\"stall_blocking_sleep\""));
    std::string done = s.target.read_line(20000);
    REQUIRE(done.rfind("done ", 0) == 0);
    auto lines = s.finish();
    auto final = stalls_blocked_in(lines, "clock_nanosleep", 1000000);
    REQUIRE(final.size() == 1);
    check_duration(final[0], std::atof(done.c_str() + 5));
}
