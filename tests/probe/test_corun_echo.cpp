// `coscope stalls` against the runtime's echo server under load (bench/echo/loadgen): a clean
// run reports no stall, and attaching and detaching again and again never costs the server a
// request (loadgen fails a run on any connection error, wrong echo, or a stop of progress).
#include <catch2/catch.hpp>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "corun_session.h"

namespace
{

const std::string coscope = COSCOPE_EXE;

struct echo_server {
    child_proc proc;
    std::string port;

    void start()
    {
        port = std::to_string(22000 + getpid() % 20000);
        REQUIRE(proc.start({CORUN_ECHO_EXE, "--port", port}));
        REQUIRE(proc.read_line(20000).find("listening") != std::string::npos);
    }

    // One closed-loop run of loadgen; its exit status (0: every request echoed).
    command_result load(double seconds)
    {
        return run_command(std::string(LOADGEN_EXE) + " --port " + port +
                           " --conns 16 --warmup 0.2 --timeout 10 --duration " +
                           std::to_string(seconds));
    }
};

// Stalls the loop itself caused: a stall that is only the thread waiting for a CPU (no
// blocking call, under the threshold on the CPU) is the shared test machine's, not the
// server's. Every stall line is printed on failure.
std::vector<std::string> own_stalls(const std::vector<std::string> &lines)
{
    std::vector<std::string> out;
    for (auto &l : final_stalls(lines)) {
        UNSCOPED_INFO(l);
        bool preempted_only =
            json_has(l, "\"syscalls\":[]") && json_number(l, "on_cpu_us") < 50000;
        if (!preempted_only)
            out.push_back(l);
    }
    return out;
}

} // namespace

TEST_CASE("no stall is reported in a clean run of the echo benchmark")
{
    echo_server srv;
    srv.start();
    child_proc cs;
    REQUIRE(cs.start({coscope, "stalls", "-p", std::to_string(srv.proc.pid), "--json"}));
    INFO(cs.err());
    REQUIRE(cs.wait_err("watching 1 loop thread", 30000));
    auto r = srv.load(3.0);
    INFO(r.out << r.err);
    REQUIRE(r.status == 0);
    CHECK(json_number(r.out, "requests") > 1000);
    kill(cs.pid, SIGINT);
    auto lines = cs.read_all(20000);
    REQUIRE(cs.wait_exit(20000) == 0);
    CHECK(own_stalls(lines).empty());
    for (auto &l : lines)
        if (json_has(l, "\"type\":\"slow_iteration\""))
            UNSCOPED_INFO(l);
    bool summary = false;
    for (auto &l : lines)
        if (json_has(l, "\"type\":\"summary\"")) {
            summary = true;
            CHECK(json_number(l, "lost_events") == 0);
        }
    CHECK(summary);
}

TEST_CASE("attaching and detaching coscope stalls 50 times never fails a request of the echo "
          "server under load")
{
    echo_server srv;
    srv.start();
    std::string pid = std::to_string(srv.proc.pid);
    // Load all the time: loadgen runs back to back until the attach cycles are over.
    std::atomic<bool> done{false};
    std::atomic<int> runs{0};
    std::vector<std::string> failures;
    std::thread load([&] {
        while (!done) {
            auto r = srv.load(2.0);
            runs++;
            if (r.status != 0)
                failures.push_back(r.err);
        }
    });
    int attached = 0;
    for (int i = 0; i < 50; i++) {
        child_proc cs;
        if (!cs.start({coscope, "stalls", "-p", pid, "-T", pid, "--json"}))
            break;
        if (!cs.wait_err("watching 1 loop thread", 30000)) {
            UNSCOPED_INFO("attach " << i << ": " << cs.err());
            break;
        }
        usleep(50000);
        kill(cs.pid, SIGINT);
        cs.read_all(20000);
        if (cs.wait_exit(20000) != 0) {
            UNSCOPED_INFO("detach " << i << ": " << cs.err());
            break;
        }
        attached++;
    }
    done = true;
    load.join();
    CHECK(attached == 50);
    CHECK(runs >= 1);
    for (auto &f : failures)
        UNSCOPED_INFO("loadgen: " << f);
    CHECK(failures.empty());
    // The server still serves.
    auto r = srv.load(0.5);
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(!srv.proc.exited());
}
