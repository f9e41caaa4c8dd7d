// `coscope stalls` on libcorun targets: a stall is one long slice of one task
// (docs/architecture.md), not a long loop iteration; an iteration long only because many short
// slices add up is a slow iteration, reported as such, with its tasks.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "corun_session.h"

namespace
{

const std::string coscope = COSCOPE_EXE;

std::vector<std::string> records_of(const std::vector<std::string> &lines, const std::string &type)
{
    std::vector<std::string> out;
    for (auto &l : lines)
        if (json_has(l, "\"type\":\"" + type + "\""))
            out.push_back(l);
    return out;
}

// Task names of a slow_iteration record, in the order given, with their durations.
std::vector<std::pair<std::string, long long>> iter_tasks(const std::string &line)
{
    std::vector<std::pair<std::string, long long>> out;
    std::regex task_re("\\{\"id\":[0-9]+,\"name\":\"([^\"]*)\",\"duration_us\":([0-9]+)\\}");
    for (auto it = std::sregex_iterator(line.begin(), line.end(), task_re);
         it != std::sregex_iterator(); ++it)
        out.emplace_back((*it)[1], std::stoll((*it)[2]));
    return out;
}

// The tree target with `coscope stalls -t 50ms` attached to its loop thread.
struct tree_stalls {
    tree_target t;
    child_proc cs;

    void start()
    {
        t.start();
        std::string pid = std::to_string(t.proc.pid);
        REQUIRE(cs.start(
            {coscope, "stalls", "-p", pid, "-T", pid, "--json", "-t", "50ms", "--max-rate", "0"}));
        INFO(cs.err());
        REQUIRE(cs.wait_err("watching 1 loop thread", 30000));
        usleep(100000); // the runtime reads the semaphores once per iteration
    }

    std::vector<std::string> finish()
    {
        usleep(300000);
        kill(cs.pid, SIGINT);
        auto lines = cs.read_all(20000);
        REQUIRE(cs.wait_exit(20000) == 0);
        return lines;
    }
};

// A burner's slice that is long only because the shared test machine left the thread
// waiting for a CPU: by definition a stall (a slice past the threshold), but under the
// threshold on the CPU and with no blocking call.
bool preempted_only(const std::string &stall)
{
    return json_has(stall, "\"syscalls\":[]") && json_number(stall, "on_cpu_us") < 50000;
}

// Stalls of the burners (a loaded machine may also preempt the loop thread past the
// threshold between slices, or in the ticker: those are not the burners').
std::vector<std::string> burner_stalls(const std::vector<std::string> &lines,
                                       bool with_preempted = false)
{
    std::vector<std::string> out;
    for (auto &l : records_of(lines, "stall"))
        if (json_has(l, "\"name\":\"burner") && (with_preempted || !preempted_only(l)))
            out.push_back(l);
    return out;
}

} // namespace

TEST_CASE("two 30 ms slices of two tasks in one iteration are no stall at -t 50ms")
{
    tree_stalls r;
    r.start();
    r.t.proc.send("burn2 30 30");
    REQUIRE(r.t.proc.read_line(20000) == "done 30");
    REQUIRE(r.t.proc.read_line(20000) == "done 30");
    auto lines = r.finish();
    for (auto &l : lines)
        UNSCOPED_INFO(l);
    CHECK(burner_stalls(lines).empty());
    // A burner preempted past 50 ms made its iteration hold a stall: no slow iteration then.
    if (!burner_stalls(lines, true).empty()) {
        WARN("a burner was preempted past the threshold: slow-iteration check skipped");
        return;
    }
    // The iteration itself was over 50 ms: a slow iteration naming both.
    auto iters = records_of(lines, "slow_iteration");
    bool found = false;
    for (auto &l : iters) {
        auto tasks = iter_tasks(l);
        bool a = false, b = false;
        for (auto &t : tasks) {
            a |= t.first == "burner-a";
            b |= t.first == "burner-b";
        }
        found |= a && b;
    }
    CHECK(found);
}

TEST_CASE("ten 8 ms slices in one iteration are one slow iteration naming the ten tasks, slowest "
          "first, and no stall")
{
    tree_stalls r;
    r.start();
    r.t.proc.send("burnn 10 8");
    for (int i = 0; i < 10; i++)
        REQUIRE(r.t.proc.read_line(20000) == "done 8");
    auto lines = r.finish();
    for (auto &l : lines)
        UNSCOPED_INFO(l);
    CHECK(burner_stalls(lines).empty());
    if (!burner_stalls(lines, true).empty()) {
        WARN("a burner was preempted past the threshold: slow-iteration check skipped");
        return;
    }
    std::vector<std::string> ours;
    for (auto &l : records_of(lines, "slow_iteration"))
        if (json_has(l, "\"name\":\"burner-"))
            ours.push_back(l);
    REQUIRE(ours.size() == 1);
    CHECK(json_number(ours[0], "duration_us") >= 80000);
    CHECK(json_number(ours[0], "tasks_run") >= 10);
    auto tasks = iter_tasks(ours[0]);
    std::vector<std::string> names;
    for (size_t i = 0; i < tasks.size(); i++) {
        if (tasks[i].first.rfind("burner-", 0) == 0)
            names.push_back(tasks[i].first);
        if (i)
            CHECK(tasks[i - 1].second >= tasks[i].second); // slowest first
    }
    std::sort(names.begin(), names.end());
    std::vector<std::string> want;
    for (int i = 1; i <= 10; i++)
        want.push_back("burner-" + std::to_string(i));
    std::sort(want.begin(), want.end());
    CHECK(names == want);
}

TEST_CASE("slow iterations have a readable text form")
{
    tree_target t;
    t.start();
    std::string pid = std::to_string(t.proc.pid);
    child_proc cs;
    REQUIRE(cs.start({coscope, "stalls", "-p", pid, "-T", pid, "-t", "50ms"}));
    REQUIRE(cs.wait_err("watching 1 loop thread", 30000));
    usleep(100000);
    t.proc.send("burnn 10 8");
    for (int i = 0; i < 10; i++)
        REQUIRE(t.proc.read_line(20000) == "done 8");
    usleep(300000);
    kill(cs.pid, SIGINT);
    auto lines = cs.read_all(20000);
    REQUIRE(cs.wait_exit(20000) == 0);
    std::string all;
    for (auto &l : lines)
        all += l + "\n";
    INFO(all);
    if (all.find("slow iteration") == std::string::npos && all.find("STALL") != std::string::npos &&
        all.find("task burner-") != std::string::npos) {
        WARN("a burner was preempted past the threshold: its iteration held a stall");
        return;
    }
    CHECK(all.find("slow iteration") != std::string::npos);
    CHECK(all.find("task") != std::string::npos);
    CHECK(all.find("burner-10") != std::string::npos);
}

TEST_CASE("each stall of stallgen is reported once as its task's slice, with the cause and the "
          "function that stalled")
{
    child_proc gen;
    std::string port = std::to_string(20000 + getpid() % 20000);
    REQUIRE(gen.start({STALLGEN_EXE, "--port", port, "--every", "800ms", "--stalls",
                       "cpu:150ms,sleep:150ms,read:150ms,fsync:120ms"}));
    std::string pid = std::to_string(gen.pid);
    child_proc cs;
    REQUIRE(cs.start({coscope, "stalls", "-p", pid, "-T", pid, "--json", "--max-rate", "0"}));
    INFO(cs.err());
    REQUIRE(cs.wait_err("watching 1 loop thread", 30000));
    while (!gen.read_line(100).empty()) { // skip a round coscope may have half seen
    }
    struct announced {
        std::string kind, task;
        long long id;
    };
    std::vector<announced> seen;
    while (seen.size() < 4) {
        std::string line = gen.read_line(20000);
        REQUIRE(line.rfind("stall kind=", 0) == 0);
        auto ms_at = line.find(" ms="), task_at = line.find(" task="), id_at = line.find(" id=");
        REQUIRE(id_at != std::string::npos);
        seen.push_back({line.substr(11, ms_at - 11), line.substr(task_at + 6, id_at - task_at - 6),
                        std::atoll(line.c_str() + id_at + 4)});
    }
    usleep(800000);
    kill(cs.pid, SIGINT);
    auto lines = cs.read_all(20000);
    REQUIRE(cs.wait_exit(20000) == 0);
    auto finals = final_stalls(lines);
    for (auto &l : finals)
        UNSCOPED_INFO(l);
    for (auto &a : seen) {
        std::string task =
            "\"task\":{\"id\":" + std::to_string(a.id) + ",\"name\":\"" + a.task + "\"}";
        INFO(a.kind << " " << task);
        std::vector<std::string> mine;
        for (auto &l : finals)
            if (json_has(l, task))
                mine.push_back(l);
        REQUIRE(mine.size() == 1);
        const std::string &s = mine[0];
        long long dur = json_number(s, "duration_us");
        std::string stack = json_main_stack(s);
        if (a.kind == "cpu") {
            CHECK(dur >= 135000);
            CHECK(json_blocked_us(s) < dur / 4); // not a blocking call
            CHECK(json_has(stack, "\"symbol\":\"stall_cpu_burn\""));
        } else {
            std::string sys = a.kind == "sleep" ? "clock_nanosleep" : a.kind;
            // fsync:120ms writes and fsyncs again and again: part of it is write() and CPU.
            CHECK(json_syscall_us(s, sys) >= (a.kind == "fsync" ? dur / 4 : 100000));
            CHECK(json_number(s, "off_cpu_us") >= json_syscall_us(s, sys));
            CHECK(json_has(stack, "\"symbol\":\"stall_blocking_" + a.kind + "\""));
        }
        // The slice is the task's, not the loop iteration's: it starts when the task did.
        CHECK(dur <= 1000 * 1000);
    }
}

TEST_CASE("a libcorun loop stalled most of the time is found from its debug table, not missed")
{
    // The loop is in a wait call ~1/4 of the time at most: sampling /proc for threads in a
    // wait call finds nothing in the first scan, the runtime's table lists the loop.
    child_proc gen;
    std::string port = std::to_string(20000 + (getpid() + 7) % 20000);
    REQUIRE(gen.start(
        {STALLGEN_EXE, "--port", port, "--every", "300ms", "--stalls", "cpu:250ms,sleep:900ms"}));
    REQUIRE(gen.read_line(10000).rfind("stall kind=", 0) == 0); // it runs
    std::string pid = std::to_string(gen.pid);
    child_proc cs;
    REQUIRE(cs.start({coscope, "stalls", "-p", pid, "--json", "--max-rate", "0"}));
    INFO(cs.err());
    REQUIRE(cs.wait_err("watching ", 30000));
    CHECK(cs.err().find("watching 1 loop thread of process " + pid) != std::string::npos);
    CHECK(cs.err().find("no event-loop thread found") == std::string::npos);
    for (int i = 0; i < 2; i++)
        REQUIRE(gen.read_line(20000).rfind("stall kind=", 0) == 0);
    usleep(1200000);
    kill(cs.pid, SIGINT);
    auto lines = cs.read_all(20000);
    REQUIRE(cs.wait_exit(20000) == 0);
    CHECK(final_stalls(lines).size() >= 2);
}
