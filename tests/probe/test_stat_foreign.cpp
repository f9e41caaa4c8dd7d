// `coscope stat` on event loops without libcorun (plain epoll, libuv): the same command and
// JSON shape, with "tasks": null, figures counted in the kernel from the loop thread's
// system calls and checked against what the target itself counted and measured.
#include <catch2/catch.hpp>

#include <string>

#include "stall_session.h"

namespace
{

const std::string coscope = COSCOPE_EXE;

// Sends a command to a target and returns its reply line starting with `prefix`.
std::string ask(child_proc &target, const std::string &command, const std::string &prefix)
{
    target.send(command);
    std::string line;
    while (target.next_line(line, 20000))
        if (line.rfind(prefix, 0) == 0)
            return line;
    FAIL("no '" << prefix << "' reply to '" << command << "'");
    return "";
}

long long target_ticks(child_proc &target)
{
    return std::atoll(ask(target, "ticks", "ticks ").c_str() + 6);
}

double inject_ms(child_proc &target, const std::string &command)
{
    return std::atof(ask(target, command, "done ").c_str() + 5);
}

// The object of syscall `name` in a loop's "blocking" array, or "".
std::string blocking_entry(const std::string &json, const std::string &name)
{
    auto at = json.find("{\"syscall\":\"" + name + "\"");
    if (at == std::string::npos)
        return "";
    return json.substr(at, json.find('}', at) - at + 1);
}

// Runs `stat --json` on a fresh target while it ticks, sleeps 150 ms and blocks 100 ms
// in read; checks the figures against the target's own.
void check_foreign_stat(const std::string &target_path)
{
    child_proc target;
    REQUIRE(target.start({target_path}));
    REQUIRE(target.read_line(10000) == "ready");
    child_proc cs;
    REQUIRE(cs.start({coscope, "stat", "-p", std::to_string(target.pid), "--json"}));
    INFO(cs.err());
    REQUIRE(cs.wait_err("coscope: collecting statistics", 20000));
    CHECK(cs.err().find("no libcorun: 1 event-loop thread") != std::string::npos);

    long long ticks0 = target_ticks(target);
    double slept_ms = inject_ms(target, "sleep 150");
    double read_ms = inject_ms(target, "read 100");
    usleep(700000); // a healthy stretch of short iterations
    long long ticks = target_ticks(target) - ticks0;
    usleep(100000); // the "ticks" reply's slice ends
    kill(cs.pid, SIGINT);
    auto lines = cs.read_all(20000);
    REQUIRE(cs.wait_exit(10000) == 0);
    REQUIRE(lines.size() == 1);
    const std::string &json = lines[0];
    INFO(json);
    INFO("target: " << ticks << " ticks, slept " << slept_ms << " ms, read " << read_ms << " ms");

    CHECK(json_number(json, "pid") == target.pid);
    CHECK(json_has(json, "\"tasks\":null"));
    CHECK(json_has(json, "\"ready_depth\":null"));
    CHECK(json_number(json, "tid") == target.pid);
    // Each tick is at least one iteration; the session is only a little longer than the
    // stretch the target counted (coscope's attach line to its SIGINT), at ~1 tick per ms.
    long long iterations = json_number(json, "iterations");
    CHECK(ticks >= 100);
    CHECK(iterations >= ticks * 9 / 10);
    CHECK(iterations <= ticks * 3 / 2 + 300);
    auto hist = json.substr(json.find("\"iteration\":{"));
    CHECK(json_number(hist, "count") == iterations);
    CHECK(json_number(hist, "max_ns") >= (long long)(slept_ms * 0.9e6));
    CHECK(json_number(hist, "p50_ns") < 5000000); // most iterations are short ticks

    // The two injected stalls, and at most a few a loaded machine adds.
    CHECK(json_number(json, "stalls") >= 2);
    CHECK(json_number(json, "stalls") <= 4);
    CHECK(json_number(json, "busy_us") >= (long long)((slept_ms + read_ms) * 900));
    long long util = json_number(json, "utilisation_permille");
    CHECK(util >= 100);
    CHECK(util <= 700);

    // Known blocking calls, each with its off-CPU time.
    auto sleep = blocking_entry(json, "clock_nanosleep");
    REQUIRE(!sleep.empty());
    CHECK(json_number(sleep, "count") >= 1);
    CHECK(json_number(sleep, "max_ns") >= (long long)(slept_ms * 0.9e6));
    CHECK(json_number(sleep, "max_ns") <= (long long)(slept_ms * 1.1e6));
    CHECK(json_number(sleep, "total_us") >= (long long)(slept_ms * 900));
    auto read = blocking_entry(json, "read");
    REQUIRE(!read.empty());
    CHECK(json_number(read, "max_ns") >= (long long)(read_ms * 0.9e6));
}

} // namespace

TEST_CASE("stat on a plain epoll loop counts iterations, utilisation, blocking calls, stalls")
{
    check_foreign_stat(TARGET_EPOLL_NOFP);
}

TEST_CASE("stat on a libuv loop counts iterations, utilisation, blocking calls, stalls")
{
    check_foreign_stat(TARGET_LIBUV_NOFP);
}

TEST_CASE("stat's text summary of a foreign loop names the loop thread and its blocking calls")
{
    child_proc target;
    REQUIRE(target.start({TARGET_EPOLL_FP}));
    REQUIRE(target.read_line(10000) == "ready");
    child_proc cs;
    REQUIRE(cs.start({coscope, "stat", "-p", std::to_string(target.pid), "-d", "2s"}));
    INFO(cs.err());
    REQUIRE(cs.wait_err("coscope: collecting statistics", 20000));
    inject_ms(target, "sleep 80");
    auto lines = cs.read_all(30000);
    REQUIRE(cs.wait_exit(10000) == 0);
    std::string text;
    for (auto &l : lines)
        text += l + "\n";
    INFO(text);
    CHECK(text.find("(no libcorun: no tasks") != std::string::npos);
    CHECK(text.find("loop 1 (thread " + std::to_string(target.pid)) != std::string::npos);
    CHECK(text.find(" iterations (") != std::string::npos);
    CHECK(text.find("  iteration ") != std::string::npos);
    CHECK(text.find("  clock_nanosleep n=1 ") != std::string::npos);
}

TEST_CASE("stat -- CMD starts a command without libcorun and reports its loop from the start")
{
    // The target reads commands from stdin: `sleep 4 |` keeps it alive past coscope's
    // second, then its EOF ends it. coscope sees it in its event loop without libcorun
    // and starts counting then, not after the 5 s it gives libcorun to be mapped.
    double t0 = mono_ms();
    auto r = run_command("sleep 4 | " + coscope + " stat -d 1s --json -- " + TARGET_EPOLL_FP);
    INFO(r.out << r.err << "took " << mono_ms() - t0 << " ms");
    CHECK(r.status == 0);
    CHECK(r.err.find("no libcorun: 1 event-loop thread") != std::string::npos);
    CHECK(json_has(r.out, "\"tasks\":null"));
    CHECK(json_number(r.out, "iterations") >= 100); // ~1 tick per ms for a second
}
