// `coscope stalls` as a command: exit codes and messages, detaching safely, and
// starting the target itself (-- CMD).
#include <catch2/catch.hpp>

#include <csignal>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include "stall_session.h"

namespace
{
const std::string coscope = COSCOPE_EXE;
}

TEST_CASE("coscope stalls on a process that does not exist exits 3 with a clear line")
{
    std::string gone = std::to_string(unused_pid());
    auto r = run_command(coscope + " stalls -p " + gone + " --json");
    CHECK(r.status == 3);
    CHECK(r.err.find("no such process " + gone) != std::string::npos);
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

namespace
{

// A `sleep 60` run by `uid` (as root: 0), ended with the test.
struct sleeper {
    pid_t pid = -1;
    explicit sleeper(uid_t uid)
    {
        pid = fork();
        if (pid == 0) {
            if (uid != 0 && (setgid(uid) != 0 || setuid(uid) != 0))
                _exit(126);
            execlp("sleep", "sleep", "60", (char *)nullptr);
            _exit(127);
        }
        // Until it has exec'd: before, its credentials just changed and it is not dumpable.
        std::string comm = "/proc/" + std::to_string(pid) + "/comm";
        for (int i = 0; i < 1000 && slurp_file(comm) != "sleep\n"; i++)
            usleep(10000);
    }
    ~sleeper()
    {
        kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
    }
};

// Runs coscope as nobody (65534) holding CAP_BPF and CAP_PERFMON, as a coscope binary
// given those file capabilities would.
command_result as_nobody_with_bpf_caps(const std::string &args)
{
    return run_command("setpriv --reuid=65534 --regid=65534 --clear-groups "
                       "--inh-caps +bpf,+perfmon --ambient-caps +bpf,+perfmon " +
                       coscope + " " + args);
}

} // namespace

TEST_CASE("BPF capabilities are not enough to trace another user's process: exit 4, one line")
{
    if (geteuid() != 0)
        return; // needs root to drop to another user
    sleeper own(65534);
    // The control: with these capabilities nobody may watch its own process.
    auto r = as_nobody_with_bpf_caps("stalls -p " + std::to_string(own.pid) + " -d 300ms");
    INFO(r.err);
    REQUIRE(r.status == 0);

    sleeper roots(0);
    std::string pid = std::to_string(roots.pid);
    std::string line = "coscope: not permitted to trace " + pid +
                       " (it runs as uid 0, coscope as uid 65534: run coscope as that user, or "
                       "with CAP_SYS_PTRACE)\n";
    std::string out = "/tmp/cs-not-permitted-" + std::to_string(getpid()) + ".csrec";
    for (const std::string &cmd :
         {"stalls -p " + pid + " -d 1s", "stalls -T " + pid + " -d 1s", "stat -p " + pid + " -d 1s",
          "ps -p " + pid, "record -o " + out + " -p " + pid + " -d 1s"}) {
        r = as_nobody_with_bpf_caps(cmd);
        INFO(cmd);
        CHECK(r.status == 4);
        CHECK(r.err == line);
        CHECK(r.out == "");
    }
    CHECK(access(out.c_str(), F_OK) != 0); // refused before anything was written
}

TEST_CASE("when the target exits, coscope says so and exits 3 within a second")
{
    stall_session s;
    s.start(TARGET_EPOLL_FP);
    double t0 = mono_ms();
    s.target.send("quit");
    int rc = s.cs.wait_exit(5000);
    double took = mono_ms() - t0;
    CHECK(rc == 3);
    CHECK(took < 1000);
    CHECK(s.cs.err().find("exited") != std::string::npos);
}

namespace
{
// The ids ("prog_id:" / "link_id:") behind the fds of process `pid`, from its fdinfo.
std::vector<std::string> bpf_ids_of(int pid, const std::string &key)
{
    std::vector<std::string> ids;
    auto r = run_command("grep -h '^" + key + ":' /proc/" + std::to_string(pid) +
                         "/fdinfo/* 2>/dev/null");
    size_t at = 0;
    while ((at = r.out.find(key + ":", at)) != std::string::npos) {
        at += key.size() + 1;
        long id = std::atol(r.out.c_str() + at);
        if (id > 0)
            ids.push_back(std::to_string(id));
    }
    return ids;
}

// Does `bpftool -j <what> show` still list one of `ids`?
bool any_still_loaded(const char *what, const std::vector<std::string> &ids)
{
    auto r = run_command(std::string("bpftool -j ") + what + " show");
    for (auto &id : ids)
        if (r.out.find("\"id\":" + id + ",") != std::string::npos)
            return true;
    return false;
}
} // namespace

TEST_CASE("SIGKILL of coscope leaves the target running and nothing of coscope attached")
{
    stall_session s;
    s.start(TARGET_EPOLL_FP);
    int cs_pid = s.cs.pid;
    // Everything coscope attached is a file descriptor of its own: its links and programs.
    auto links = bpf_ids_of(cs_pid, "link_id");
    auto progs = bpf_ids_of(cs_pid, "prog_id");
    REQUIRE(!progs.empty());
    kill(cs_pid, SIGKILL);
    REQUIRE(s.cs.wait_exit(5000) == 128 + SIGKILL);
    // The target still runs its loop and answers.
    CHECK(!s.target.exited());
    double ms = s.inject("burn 5");
    CHECK(ms > 0);
    // Nothing pinned them: the kernel frees them (freeing waits for RCU: allow a while).
    bool gone = false;
    for (int i = 0; i < 100 && !gone; i++) {
        gone = !any_still_loaded("prog", progs) && !any_still_loaded("link", links);
        if (!gone)
            usleep(100000);
    }
    CHECK(gone);
    auto perf = run_command("ls -l /proc/" + std::to_string(s.target.pid) + "/fd");
    CHECK(perf.out.find("perf_event") == std::string::npos);
}

TEST_CASE("coscope stalls -- CMD starts the command, watches it from its start, and exits 0 "
          "with it")
{
    child_proc cs;
    REQUIRE(cs.start({COSCOPE_EXE, "stalls", "--json", "-t", "50ms", "--", TARGET_EPOLL_NOFP}));
    REQUIRE(cs.wait_err("watching 1 loop thread", 20000));
    // The command shares coscope's stdin and stdout, after the line announcing its loop.
    REQUIRE(json_has(cs.read_line(10000), "\"found_by\":\"launched\""));
    REQUIRE(cs.read_line(10000) == "ready");
    cs.send("sleep 120");
    std::vector<std::string> lines;
    for (std::string l; (l = cs.read_line(20000)) != "";) {
        lines.push_back(l);
        if (l.rfind("done ", 0) == 0)
            break;
    }
    usleep(200000);
    cs.send("quit");
    auto rest = cs.read_all(20000);
    lines.insert(lines.end(), rest.begin(), rest.end());
    CHECK(cs.wait_exit(10000) == 0);
    auto sleep = stalls_blocked_in(lines, "clock_nanosleep", 100000);
    CHECK(sleep.size() == 1);
    REQUIRE(!lines.empty());
    CHECK(json_has(lines.back(), "\"type\":\"summary\""));
}

TEST_CASE("coscope stalls -T picks the loop thread by hand")
{
    stall_session s;
    REQUIRE(s.target.start({TARGET_EPOLL_FP}));
    REQUIRE(s.target.read_line(10000) == "ready");
    REQUIRE(s.cs.start({COSCOPE_EXE, "stalls", "-T", std::to_string(s.target.pid), "--json"}));
    REQUIRE(s.cs.wait_err("watching 1 loop thread", 20000));
    s.inject("sleep 100");
    auto lines = s.finish();
    CHECK(stalls_blocked_in(lines, "clock_nanosleep", 50000).size() == 1);
}

TEST_CASE("coscope stalls prints one readable block per stall without --json")
{
    child_proc target, cs;
    REQUIRE(target.start({TARGET_EPOLL_NOFP}));
    REQUIRE(target.read_line(10000) == "ready");
    REQUIRE(cs.start({COSCOPE_EXE, "stalls", "-p", std::to_string(target.pid)}));
    REQUIRE(cs.wait_err("watching 1 loop thread", 20000));
    target.send("sleep 100");
    REQUIRE(target.read_line(20000).rfind("done ", 0) == 0);
    usleep(300000);
    kill(cs.pid, SIGINT);
    auto lines = cs.read_all(20000);
    std::string all;
    for (auto &l : lines)
        all += l + "\n";
    INFO(all);
    CHECK(all.find("STALL ") != std::string::npos);
    CHECK(all.find("blocked in clock_nanosleep") != std::string::npos);
    CHECK(all.find("stall_blocking_sleep") != std::string::npos);
    CHECK(all.find("lost event") != std::string::npos);
}

TEST_CASE("coscope stalls reports at most --max-rate stalls a second and counts the rest")
{
    stall_session s;
    REQUIRE(s.target.start({TARGET_EPOLL_FP}));
    REQUIRE(s.target.read_line(10000) == "ready");
    REQUIRE(s.cs.start(
        {COSCOPE_EXE, "stalls", "-p", std::to_string(s.target.pid), "--json", "--max-rate", "2"}));
    REQUIRE(s.cs.wait_err("watching 1 loop thread", 20000));
    // Eight stalls of 60 ms, one per loop iteration, in well under a second each.
    for (int i = 0; i < 8; i++)
        s.inject("sleep 60");
    auto lines = s.finish();
    // Count every reported stall, whatever its cause: this test is about the rate limit
    // (attribution has tests of its own).
    size_t reported = 0;
    for (auto &l : final_stalls(lines))
        reported += json_number(l, "duration_us") >= 40000;
    REQUIRE(!lines.empty());
    long long suppressed = json_number(lines.back(), "suppressed");
    INFO("reported " << reported << ", suppressed " << suppressed);
    CHECK(reported >= 2);
    CHECK(reported < 8);
    CHECK(suppressed >= 8 - (long long)reported);
}

TEST_CASE("coscope stalls -d stops after the duration with a summary and exit code 0")
{
    child_proc target;
    REQUIRE(target.start({TARGET_EPOLL_FP}));
    REQUIRE(target.read_line(10000) == "ready");
    auto r = run_command(coscope + " stalls --json -d 500ms -p " + std::to_string(target.pid));
    CHECK(r.status == 0);
    CHECK(r.out.find("{\"type\":\"summary\",\"stalls\":") != std::string::npos);
    CHECK(!target.exited());
}

TEST_CASE("loop detection watches the event-loop thread, not a computing or a waiting worker")
{
    child_proc target, cs;
    REQUIRE(target.start({TARGET_EPOLL_FP, "--workers"}));
    REQUIRE(target.read_line(10000) == "ready");
    REQUIRE(cs.start({COSCOPE_EXE, "stalls", "--json", "-p", std::to_string(target.pid)}));
    REQUIRE(cs.wait_err("watching", 20000));
    INFO(cs.err());
    CHECK(cs.err().find("watching 1 loop thread of process") != std::string::npos);
    target.send("sleep 100");
    REQUIRE(target.read_line(20000).rfind("done ", 0) == 0);
    usleep(300000);
    kill(cs.pid, SIGINT);
    auto lines = cs.read_all(20000);
    auto found = stalls_blocked_in(lines, "clock_nanosleep", 50000);
    REQUIRE(found.size() == 1);
    CHECK(json_number(found[0], "tid") == target.pid);
}
