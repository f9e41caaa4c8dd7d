// `coscope stat` on a real libcorun process with real USDT probes: attaching raises the
// runtime's semaphores (it then keeps its own statistics), detaching - even by kill -9 -
// lowers them again, and the figures printed are the ones the runtime kept.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "corun_session.h"

extern "C" {
#include "corun_target.h"
}

namespace
{

const std::string coscope = COSCOPE_EXE;

// The value of a libcorun USDT semaphore in the target's memory (-1 if unreadable).
int semaphore(int pid, const char *probe)
{
    std::string sym = std::string("corun_") + probe + "_semaphore";
    uint64_t addr = 0;
    if (cs_corun_find_symbol(pid, sym.c_str(), &addr, nullptr, 0, nullptr, 0) != 0)
        return -1;
    unsigned short v = 0;
    if (cs_corun_read(pid, addr, &v, sizeof v) != 0)
        return -1;
    return v;
}

// The JSON object of the task named `name` in stat's "tasks" array.
std::string stat_task(const std::string &json, const std::string &name)
{
    auto at = json.find("\"name\":\"" + name + "\"");
    if (at == std::string::npos)
        return "";
    auto start = json.rfind("{\"id\":", at);
    auto end = json.find("}", json.find("\"longest_slice_us\"", at));
    return json.substr(start, end - start + 1);
}

} // namespace

TEST_CASE("stat raises the runtime's semaphores while attached and leaves them at 0")
{
    tree_target t;
    t.start();
    REQUIRE(semaphore(t.proc.pid, "stats") == 0);
    REQUIRE(semaphore(t.proc.pid, "slice_long") == 0);

    child_proc cs;
    REQUIRE(cs.start({coscope, "stat", "-p", std::to_string(t.proc.pid), "-d", "2s"}));
    INFO(cs.err());
    REQUIRE(cs.wait_err("coscope: collecting statistics", 20000));
    CHECK(semaphore(t.proc.pid, "stats") == 1);
    CHECK(semaphore(t.proc.pid, "slice_long") == 1);
    REQUIRE(cs.wait_exit(30000) == 0);
    CHECK(semaphore(t.proc.pid, "stats") == 0);
    CHECK(semaphore(t.proc.pid, "slice_long") == 0);
}

TEST_CASE("stat killed with SIGKILL still leaves the semaphores at 0")
{
    tree_target t;
    t.start();
    child_proc cs;
    REQUIRE(cs.start({coscope, "stat", "-p", std::to_string(t.proc.pid)}));
    INFO(cs.err());
    REQUIRE(cs.wait_err("coscope: collecting statistics", 20000));
    REQUIRE(semaphore(t.proc.pid, "stats") == 1);
    kill(cs.pid, SIGKILL);
    REQUIRE(cs.wait_exit(10000) == 128 + SIGKILL);
    // The kernel drops the uprobes when the last reference to their perf events goes.
    double deadline = mono_ms() + 10000;
    while (semaphore(t.proc.pid, "stats") != 0 && mono_ms() < deadline)
        usleep(20000);
    CHECK(semaphore(t.proc.pid, "stats") == 0);
    CHECK(semaphore(t.proc.pid, "slice_long") == 0);
}

TEST_CASE("stat reports the loop's iterations and each task's polls, wakes and busy time")
{
    tree_target t;
    t.start();
    auto r = run_command(coscope + " stat -p " + std::to_string(t.proc.pid) + " -d 1s --json");
    INFO(r.out << r.err);
    REQUIRE(r.status == 0);
    CHECK(json_number(r.out, "pid") == t.proc.pid);
    CHECK(json_number(r.out, "duration_us") >= 900000);
    // The ticker sleeps 2 ms at a time: a few hundred iterations in a second, and it is
    // the only task that runs.
    long long iterations = json_number(r.out, "iterations");
    CHECK(iterations >= 50);
    CHECK(iterations <= 1000);
    long long util = json_number(r.out, "utilisation_permille");
    CHECK(util >= 0);
    CHECK(util < 500); // the target sleeps nearly all the time
    auto ticker = stat_task(r.out, "ticker");
    REQUIRE(!ticker.empty());
    CHECK(json_number(ticker, "polls") >= 50);
    CHECK(json_number(ticker, "wakes") >= 50);
    CHECK(json_number(ticker, "polls") <= iterations + 1);
    CHECK(json_has(ticker, "\"finished\":false"));
    CHECK(json_number(ticker, "alive_us") >= 1000000);
    for (auto name : {"conn-a", "conn-b", "reader", "server", "main"}) {
        auto task = stat_task(r.out, name);
        REQUIRE(!task.empty());
        CHECK(json_number(task, "polls") == 0);
        CHECK(json_number(task, "wakes") == 0);
    }
    // The loop's sched-latency histogram counts one sample per ticker resume.
    auto loop_sched = r.out.substr(r.out.find("\"sched_latency\":{"));
    CHECK(json_number(loop_sched, "count") >= 50);
}

// `stat --json` on the tree target while one task burns the CPU for `ms`: its one line.
static std::vector<std::string> stat_over_burn(int ms)
{
    tree_target t;
    t.start();
    child_proc cs;
    REQUIRE(cs.start({coscope, "stat", "-p", std::to_string(t.proc.pid), "--json"}));
    INFO(cs.err());
    REQUIRE(cs.wait_err("coscope: collecting statistics", 20000));
    t.proc.send("burn " + std::to_string(ms));
    REQUIRE(t.proc.read_line(ms + 20000) == "done " + std::to_string(ms));
    usleep(300000); // at least one more sample
    kill(cs.pid, SIGINT);
    auto lines = cs.read_all(20000);
    REQUIRE(cs.wait_exit(20000) == 0);
    REQUIRE(lines.size() == 1);
    return lines;
}

TEST_CASE("stat counts a task's long slice and its busy time")
{
    auto lines = stat_over_burn(300);
    auto burner = stat_task(lines[0], "burner");
    INFO(lines[0]);
    REQUIRE(!burner.empty());
    CHECK(json_number(burner, "long_slices") == 1);
    CHECK(json_number(burner, "longest_slice_us") >= 290000);
    CHECK(json_number(burner, "longest_slice_us") <= 2000000);
    CHECK(json_has(burner, "\"finished\":true"));
    CHECK(json_number(lines[0], "long_slices") >= 1);
}

TEST_CASE("stat gives an iteration over 2.1 s its real length in 64 bits")
{
    // The runtime's iteration histogram ends in an open bucket (2^30 ns and up); the
    // maximum comes from the runtime's exact longest iteration, never that bucket's bound.
    auto lines = stat_over_burn(2600);
    INFO(lines[0]);
    auto iter = lines[0].substr(lines[0].find("\"iteration\":{"));
    long long max_ns = json_number(iter, "max_ns");
    CHECK(max_ns >= 2550000000LL);
    CHECK(max_ns < 60000000000LL);
    CHECK(json_number(iter, "p99_ns") <= max_ns);
}

TEST_CASE("stat on a process with no libcorun and no event loop says so, on no process 3")
{
    // Without libcorun stat watches foreign event loops (test_stat_foreign.cpp).
    child_proc sleeper;
    REQUIRE(sleeper.start({"/bin/sleep", "100"}));
    usleep(100000);
    auto r = run_command(coscope + " stat -p " + std::to_string(sleeper.pid) + " -d 1s");
    CHECK(r.status == 0);
    CHECK(r.err.find("coscope: no event-loop thread found in process " +
                     std::to_string(sleeper.pid)) != std::string::npos);
    auto gone = run_command(coscope + " stat -p " + std::to_string(unused_pid()) + " -d 1s");
    CHECK(gone.status == 3);
    CHECK(run_command(coscope + " stat").status == 2);
    CHECK(run_command(coscope + " stat -p 1 -d never").status == 2);
}

TEST_CASE("stat -- CMD starts a libcorun command and reports on it")
{
    // The command reads commands from stdin: `sleep 3 |` keeps it alive past coscope's
    // one second, then its EOF ends it.
    auto r = run_command("sleep 3 | " + coscope + " stat -d 1s --json -- " + TARGET_CORUN_TREE);
    INFO(r.out << r.err);
    CHECK(r.status == 0);
    auto ticker = stat_task(r.out, "ticker");
    REQUIRE(!ticker.empty());
    CHECK(json_number(ticker, "polls") >= 10);
}

TEST_CASE("stat on a process that exits prints what it read and exits 3")
{
    tree_target t;
    t.start();
    child_proc cs;
    REQUIRE(cs.start({coscope, "stat", "-p", std::to_string(t.proc.pid), "--json"}));
    INFO(cs.err());
    REQUIRE(cs.wait_err("coscope: collecting statistics", 20000));
    usleep(500000);
    close(t.proc.in_fd); // EOF on its stdin: the target exits
    t.proc.in_fd = -1;
    REQUIRE(t.proc.wait_exit(10000) == 0);
    auto lines = cs.read_all(20000);
    CHECK(cs.wait_exit(20000) == 3);
    REQUIRE(lines.size() == 1);
    CHECK(json_number(stat_task(lines[0], "ticker"), "polls") >= 10);
    CHECK(cs.err().find("coscope: process " + std::to_string(t.proc.pid) + " exited") !=
          std::string::npos);
}
