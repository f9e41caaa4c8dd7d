// `coscope stat` on libcorun: blocking calls (every system call a loop thread makes inside
// a task's slice, with its off-CPU time, per call and per task) and executor calls (queue
// wait + run time), on real targets with real BPF.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "corun_session.h"

namespace
{

const std::string coscope = COSCOPE_EXE;

// The JSON value (object or array) that starts at the first '{' or '[' at or after `at`.
std::string json_value_at(const std::string &json, size_t at)
{
    at = json.find_first_of("{[", at);
    if (at == std::string::npos)
        return "";
    int depth = 0;
    bool in_string = false;
    for (size_t i = at; i < json.size(); i++) {
        char c = json[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if ((c == '}' || c == ']') && --depth == 0) {
            return json.substr(at, i + 1 - at);
        }
    }
    return "";
}

std::string member(const std::string &json, const std::string &key)
{
    auto at = json.find("\"" + key + "\":");
    return at == std::string::npos ? "" : json_value_at(json, at + key.size() + 3);
}

// The entry of `name` in a by_syscall / syscalls array: {"name":"read","calls":…}.
std::string call_entry(const std::string &array, const std::string &name)
{
    auto at = array.find("{\"name\":\"" + name + "\"");
    return at == std::string::npos ? "" : json_value_at(array, at);
}

// The syscalls of every task named `task` (stallgen starts a fresh one per round).
std::vector<std::string> all_task_calls(const std::string &blocking, const std::string &task)
{
    std::string by_task = member(blocking, "by_task");
    std::string key = "\"name\":\"" + task + "\",\"syscalls\":";
    std::vector<std::string> out;
    for (auto at = by_task.find(key); at != std::string::npos; at = by_task.find(key, at + 1))
        out.push_back(json_value_at(by_task, at));
    return out;
}

// The largest `field` of `syscall` over the tasks named `task`. The first such task may
// have made its call before coscope attached: any of them will do.
long most_of(const std::string &blocking, const std::string &task, const std::string &syscall,
             const std::string &field)
{
    long most = -1;
    for (auto &calls : all_task_calls(blocking, task))
        most = std::max(most, (long)json_number(call_entry(calls, syscall), field));
    return most;
}

} // namespace

TEST_CASE("stat shows the system calls stallgen's tasks blocked in, per call and per task, "
          "with p50/p90/p99/max")
{
    child_proc gen;
    std::string port = std::to_string(21000 + getpid() % 20000);
    REQUIRE(gen.start({STALLGEN_EXE, "--port", port, "--every", "300ms", "--stalls",
                       "sleep:60ms,read:60ms,fsync"}));
    REQUIRE(gen.read_line(20000).rfind("stall kind=", 0) == 0); // it runs
    auto r = run_command(coscope + " stat -p " + std::to_string(gen.pid) + " -d 3s --json");
    INFO(r.out << r.err);
    REQUIRE(r.status == 0);
    std::string blocking = member(r.out, "blocking_calls");
    REQUIRE(!blocking.empty());
    std::string by_call = member(blocking, "by_syscall");
    auto sleep = call_entry(by_call, "clock_nanosleep");
    auto read = call_entry(by_call, "read");
    REQUIRE(!sleep.empty());
    REQUIRE(!read.empty());
    CHECK(json_has(blocking, "\"all_calls\":false")); // by default: the calls that blocked
    CHECK(json_number(sleep, "blocked") >= 2);
    CHECK(json_number(sleep, "off_cpu_us") >= 2 * 50000);
    CHECK(json_number(read, "blocked") >= 2);
    CHECK(json_number(read, "off_cpu_us") >= 2 * 50000);
    // A histogram of the off-CPU time in each call, with its quantiles.
    std::string hist = member(sleep, "off_cpu");
    CHECK(json_number(hist, "p50_ns") >= 33554432); // the 60 ms sleeps: bucket [33.5, 67.1) ms
    CHECK(json_number(hist, "max_ns") >= json_number(hist, "p99_ns"));
    CHECK(json_number(hist, "p99_ns") >= json_number(hist, "p90_ns"));
    CHECK(json_number(hist, "p90_ns") >= json_number(hist, "p50_ns"));
    // Per task: each stall-<kind> task made its own call.
    INFO(member(blocking, "by_task"));
    CHECK(most_of(blocking, "stall-sleep", "clock_nanosleep", "blocked") >= 1);
    CHECK(most_of(blocking, "stall-read", "read", "blocked") >= 1);
    for (auto &calls : all_task_calls(blocking, "stall-sleep"))
        CHECK(calls.find("\"name\":\"read\"") == std::string::npos);

    // --all-syscalls: every call inside a slice, blocked or not (fsync on a fast disk may
    // not block; the write before it never does).
    auto all = run_command(coscope + " stat -p " + std::to_string(gen.pid) +
                           " -d 2s --json --all-syscalls");
    INFO(all.out << all.err);
    REQUIRE(all.status == 0);
    std::string every = member(all.out, "blocking_calls");
    CHECK(json_has(every, "\"all_calls\":true"));
    CHECK(json_number(call_entry(member(every, "by_syscall"), "fsync"), "calls") >= 1);
    CHECK(most_of(every, "stall-fsync", "fsync", "calls") >= 1);
    CHECK(most_of(every, "stall-fsync", "write", "calls") >= 1);
    CHECK(most_of(every, "stall-sleep", "clock_nanosleep", "blocked") >= 1);

    // The same as text.
    auto t = run_command(coscope + " stat -p " + std::to_string(gen.pid) + " -d 1500ms");
    INFO(t.out << t.err);
    CHECK(t.out.find("blocking calls") != std::string::npos);
    CHECK(t.out.find("clock_nanosleep") != std::string::npos);
    CHECK(t.out.find("task stall-read") != std::string::npos);
    CHECK(t.out.find(" p99 ") != std::string::npos);
    CHECK(t.out.find("p99 <") == std::string::npos); // a percentile is read inside its bucket
}

TEST_CASE("stat shows executor calls as queue wait and run time, per task")
{
    tree_target t;
    t.start();
    child_proc cs;
    REQUIRE(cs.start({coscope, "stat", "-p", std::to_string(t.proc.pid), "--json"}));
    INFO(cs.err());
    REQUIRE(cs.wait_err("coscope: collecting statistics", 20000));
    t.proc.send("offload 5 20");
    REQUIRE(t.proc.read_line(20000) == "offloaded 5");
    usleep(200000);
    kill(cs.pid, SIGINT);
    auto lines = cs.read_all(20000);
    REQUIRE(cs.wait_exit(20000) == 0);
    REQUIRE(lines.size() == 1);
    INFO(lines[0]);
    std::string exec = member(lines[0], "executor");
    REQUIRE(!exec.empty());
    CHECK(json_number(exec, "calls") == 5);
    std::string by_task = member(exec, "by_task");
    auto at = by_task.find("\"name\":\"offloader\"");
    REQUIRE(at != std::string::npos);
    std::string mine = json_value_at(by_task, by_task.rfind("{\"id\":", at));
    CHECK(json_number(mine, "calls") == 5);
    CHECK(json_number(mine, "run_us") >= 5 * 18000);
    CHECK(json_number(member(mine, "run"), "p50_ns") >= 16777216); // 20 ms: [16.8, 33.5) ms
    CHECK(json_number(member(mine, "queue_wait"), "count") == 5);
    CHECK(json_number(member(mine, "queue_wait"), "max_ns") >= 0);
}
