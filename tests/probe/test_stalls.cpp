// `coscope stalls` on real processes: test targets (tests/probe/targets/) stall on cue
// in known functions; coscope, attached with real BPF, must find each stall once, with
// the right duration, cause and stack.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "stall_session.h"

namespace
{

const std::string coscope = COSCOPE_EXE;

struct target_build {
    const char *name;
    std::string path;
    const char *stack_mode;
};

std::vector<target_build> targets()
{
    return {
        {"epoll (frame pointers)", TARGET_EPOLL_FP, "auto"},
    };
}

// A target ready for commands, and coscope attached to it.
struct session {
    child_proc target;
    child_proc cs;

    void start(const std::string &target_path, std::vector<std::string> extra = {})
    {
        REQUIRE(target.start({target_path}));
        REQUIRE(target.read_line(10000) == "ready");
        std::vector<std::string> argv = {coscope,  "stalls",     "-p", std::to_string(target.pid),
                                         "--json", "--max-rate", "0"};
        argv.insert(argv.end(), extra.begin(), extra.end());
        REQUIRE(cs.start(argv));
        INFO(cs.err());
        REQUIRE(cs.wait_err("watching 1 loop thread", 20000));
    }

    // Runs one stall command in the target; returns what the target measured (ms).
    double inject(const std::string &command)
    {
        target.send(command);
        std::string done = target.read_line(20000);
        REQUIRE(done.rfind("done ", 0) == 0);
        return std::atof(done.c_str() + 5);
    }

    // Stops coscope (SIGINT) and returns everything it printed.
    std::vector<std::string> finish()
    {
        usleep(300000); // let the last wait call be entered and the event read
        kill(cs.pid, SIGINT);
        auto lines = cs.read_all(20000);
        CHECK(cs.wait_exit(10000) == 0);
        return lines;
    }
};

// The final records whose stack mentions `symbol`.
std::vector<std::string> stalls_with(const std::vector<std::string> &lines,
                                     const std::string &symbol)
{
    std::vector<std::string> out;
    for (auto &l : final_stalls(lines))
        if (json_has(l, "\"symbol\":\"" + symbol + "\""))
            out.push_back(l);
    return out;
}

// coscope's duration includes a little of the slice around the stall (reading the
// command): within 10% of what the target measured, plus 15 ms for a loaded machine.
void check_duration(const std::string &stall, double measured_ms)
{
    double got_ms = (double)json_number(stall, "duration_us") / 1e3;
    INFO("coscope " << got_ms << " ms, target measured " << measured_ms << " ms");
    CHECK(got_ms >= measured_ms * 0.9);
    CHECK(got_ms <= measured_ms * 1.1 + 15);
}

} // namespace

TEST_CASE(
    "a CPU burn in an event loop is one stall, on-CPU, with the burning function on its stack")
{
    for (auto &t : targets()) {
        SECTION(t.name)
        {
            session s;
            s.start(t.path, {"--stack=" + std::string(t.stack_mode)});
            double ms = s.inject("burn 150");
            auto lines = s.finish();
            auto found = stalls_with(lines, "stall_burn_cpu");
            INFO(s.cs.err());
            REQUIRE(found.size() == 1);
            check_duration(found[0], ms);
            // CPU, not a blocking call: no syscall holds a noticeable share of it.
            CHECK(json_has(found[0], "\"syscalls\":[]"));
            CHECK(json_has(json_main_stack(found[0]), "stall_burn_cpu"));
            CHECK(json_number(found[0], "on_cpu_us") > 0);
        }
    }
}

TEST_CASE("a blocking nanosleep in an event loop is one stall blamed on clock_nanosleep")
{
    for (auto &t : targets()) {
        SECTION(t.name)
        {
            session s;
            s.start(t.path, {"--stack=" + std::string(t.stack_mode)});
            double ms = s.inject("sleep 150");
            auto lines = s.finish();
            std::vector<std::string> found;
            for (auto &l : final_stalls(lines))
                if (json_syscall_us(l, "clock_nanosleep") > 0)
                    found.push_back(l);
            INFO(s.cs.err());
            REQUIRE(found.size() == 1);
            check_duration(found[0], ms);
            CHECK(json_syscall_us(found[0], "clock_nanosleep") >= 150000 * 0.9);
            CHECK(json_has(json_main_stack(found[0]), BLOCKING_FRAME("stall_blocking_sleep")));
        }
    }
}

TEST_CASE("a blocking read on a pipe in an event loop is one stall blamed on read")
{
    for (auto &t : targets()) {
        SECTION(t.name)
        {
            session s;
            s.start(t.path, {"--stack=" + std::string(t.stack_mode)});
            double ms = s.inject("read 120");
            auto lines = s.finish();
            std::vector<std::string> found;
            for (auto &l : final_stalls(lines))
                if (json_syscall_us(l, "read") > 100000)
                    found.push_back(l);
            INFO(s.cs.err());
            REQUIRE(found.size() == 1);
            check_duration(found[0], ms);
            CHECK(json_has(json_main_stack(found[0]), BLOCKING_FRAME("stall_blocking_read")));
        }
    }
}

TEST_CASE("an fsync in an event loop is a stall blamed on fsync")
{
    for (auto &t : targets()) {
        SECTION(t.name)
        {
            session s;
            // fsync of 8 MiB is quick on a fast disk: a low threshold catches it.
            s.start(t.path, {"--stack=" + std::string(t.stack_mode), "-t", "2ms"});
            s.inject("fsync");
            auto lines = s.finish();
            std::vector<std::string> found;
            for (auto &l : final_stalls(lines))
                if (json_syscall_us(l, "fsync") > 0)
                    found.push_back(l);
            INFO(s.cs.err());
            REQUIRE(found.size() == 1);
            CHECK(json_has(json_main_stack(found[0]), BLOCKING_FRAME("stall_blocking_fsync")));
        }
    }
}

TEST_CASE("a busy event loop that never blocks or burns reports no stall of its own")
{
    session s;
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

TEST_CASE("coscope stalls on a process that does not exist exits 3 with a clear line")
{
    auto r = run_command(coscope + " stalls -p 999999999 --json");
    CHECK(r.status == 3);
    CHECK(r.err.find("no such process 999999999") != std::string::npos);
}

TEST_CASE("coscope stalls rejects bad options with exit code 2")
{
    CHECK(run_command(coscope + " stalls -p 1 -t 5parsecs").status == 2);
    CHECK(run_command(coscope + " stalls").status == 2);
    CHECK(run_command(coscope + " stalls -p 1 --stack=magic").status == 2);
}

TEST_CASE("coscope stalls without CAP_BPF and CAP_PERFMON exits 4 and says which")
{
    auto r = run_command("setpriv --inh-caps=-all --bounding-set=-bpf,-perfmon,-sys_admin " +
                         coscope + " stalls -p 1");
    CHECK(r.status == 4);
    CHECK(r.err.find("CAP_BPF") != std::string::npos);
    CHECK(r.err.find("CAP_PERFMON") != std::string::npos);
}

TEST_CASE("when the target exits, coscope says so and exits 3 within a second")
{
    session s;
    s.start(TARGET_EPOLL_FP);
    double t0 = mono_ms();
    s.target.send("quit");
    int rc = s.cs.wait_exit(5000);
    double took = mono_ms() - t0;
    CHECK(rc == 3);
    CHECK(took < 1000);
    CHECK(s.cs.err().find("exited") != std::string::npos);
}

TEST_CASE("SIGKILL of coscope leaves the target running and nothing of coscope attached")
{
    session s;
    s.start(TARGET_EPOLL_FP);
    int cs_pid = s.cs.pid;
    kill(cs_pid, SIGKILL);
    REQUIRE(s.cs.wait_exit(5000) == 128 + SIGKILL);
    usleep(200000);
    // The target still runs its loop and answers.
    CHECK(!s.target.exited());
    double ms = s.inject("burn 5");
    CHECK(ms > 0);
    // Links are fds of coscope: with it gone, no link of ours has an owner left, and a
    // leaked (pinned) one would show up here without owner.
    auto r = run_command("bpftool -j link show");
    CHECK(r.status == 0);
    CHECK(r.out.find("coscope(" + std::to_string(cs_pid) + ")") == std::string::npos);
    auto perf = run_command("ls -l /proc/" + std::to_string(s.target.pid) + "/fd");
    CHECK(perf.out.find("perf_event") == std::string::npos);
}
