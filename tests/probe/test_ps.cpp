// `coscope ps` on real processes: the tree target spawns a known tree of named tasks
// before coscope runs; ps must read exactly that tree out of the target's memory.
#include <catch2/catch.hpp>

#include <cerrno>
#include <string>
#include <unistd.h>

#include "corun_session.h"

namespace
{

const std::string coscope = COSCOPE_EXE;

std::string ps_cmd(int pid, const std::string &flags = "")
{
    return coscope + " ps -p " + std::to_string(pid) + " " + flags;
}

} // namespace

TEST_CASE("ps lists exactly the tasks the target spawned, with names, parents and states")
{
    tree_target t;
    t.start();
    auto r = run_command(ps_cmd(t.proc.pid, "--json"));
    INFO(r.out << r.err);
    REQUIRE(r.status == 0);
    REQUIRE(r.out.rfind("{\"pid\":" + std::to_string(t.proc.pid) +
                            ",\"loops\":[{\"tid\":" + std::to_string(t.proc.pid) + ",\"tasks\":[",
                        0) == 0);
    auto tasks = parse_ps_tasks(r.out);
    REQUIRE(tasks.size() == 6);
    for (auto name : {"main", "server", "conn-a", "conn-b", "ticker", "reader"})
        REQUIRE(tasks.count(name) == 1);

    CHECK(tasks["main"].parent == -1);
    CHECK(tasks["server"].parent == tasks["main"].id);
    CHECK(tasks["ticker"].parent == tasks["main"].id);
    CHECK(tasks["reader"].parent == tasks["main"].id);
    CHECK(tasks["conn-a"].parent == tasks["server"].id);
    CHECK(tasks["conn-b"].parent == tasks["server"].id);

    CHECK(tasks["main"].state == "waiting");
    CHECK(tasks["main"].waiting_on == "task " + std::to_string(tasks["server"].id) + " (server)");
    CHECK(tasks["server"].waiting_on == "task " + std::to_string(tasks["conn-a"].id) + " (conn-a)");
    CHECK(tasks["conn-a"].state == "waiting");
    CHECK(tasks["conn-a"].waiting_on == "sleep");
    CHECK(tasks["conn-b"].waiting_on == "sleep");
    CHECK(tasks["reader"].state == "waiting");
    CHECK(tasks["reader"].waiting_on == "fd 0");
    // The ticker wakes every 2 ms: it may be caught ready or running.
    CHECK((tasks["ticker"].state == "waiting" || tasks["ticker"].state == "ready" ||
           tasks["ticker"].state == "running"));

    // Spawn-tree children, in spawn order.
    CHECK(tasks["main"].children ==
          std::vector<long long>{tasks["server"].id, tasks["ticker"].id, tasks["reader"].id});
    CHECK(tasks["server"].children ==
          std::vector<long long>{tasks["conn-a"].id, tasks["conn-b"].id});
    CHECK(tasks["conn-a"].children.empty());

    // Ages: the tree was built at least 20 ms before "ready", and not hours ago.
    for (auto &kv : tasks) {
        CHECK(kv.second.age_us >= 10000);
        CHECK(kv.second.age_us < 600ll * 1000000);
    }
}

TEST_CASE("ps --await hangs each task under the task that awaits it")
{
    tree_target t;
    t.start();
    auto r = run_command(ps_cmd(t.proc.pid, "--json --await"));
    INFO(r.out << r.err);
    REQUIRE(r.status == 0);
    auto tasks = parse_ps_tasks(r.out);
    REQUIRE(tasks.size() == 6);
    // main joins server; server's gather is waiting for conn-a first.
    CHECK(tasks["main"].children == std::vector<long long>{tasks["server"].id});
    CHECK(tasks["server"].children == std::vector<long long>{tasks["conn-a"].id});
    CHECK(tasks["conn-b"].children.empty());
    CHECK(tasks["reader"].children.empty());
    // "parent" stays the spawner whatever the view.
    CHECK(tasks["conn-b"].parent == tasks["server"].id);
}

TEST_CASE("ps prints the spawn tree as text, one task per line")
{
    tree_target t;
    t.start();
    auto r = run_command(ps_cmd(t.proc.pid));
    INFO(r.out << r.err);
    REQUIRE(r.status == 0);
    CHECK(r.out.find("process " + std::to_string(t.proc.pid) + " (corun-tree-targ)") == 0);
    CHECK(r.out.find("loop 1 (thread " + std::to_string(t.proc.pid) + "): 6 tasks") !=
          std::string::npos);
    CHECK(r.out.find("└── main #") != std::string::npos);
    CHECK(r.out.find("    ├── server #") != std::string::npos);
    CHECK(r.out.find("    │   ├── conn-a #") != std::string::npos);
    CHECK(r.out.find("    │   └── conn-b #") != std::string::npos);
    CHECK(r.out.find("    └── reader #") != std::string::npos);
    CHECK(r.out.find("[waiting: fd 0]") != std::string::npos);
}

TEST_CASE("ps on a PID that does not exist exits 3 and says so")
{
    std::string gone = std::to_string(unused_pid());
    auto r = run_command(coscope + " ps -p " + gone);
    CHECK(r.status == 3);
    CHECK(r.err == "coscope: no such process " + gone + "\n");
    CHECK(r.out.empty());
}

TEST_CASE("ps on a process without libcorun exits 6 with one clear line")
{
    child_proc sleeper;
    REQUIRE(sleeper.start({"/bin/sleep", "100"}));
    usleep(100000); // let it exec
    auto r = run_command(ps_cmd(sleeper.pid));
    CHECK(r.status == 6);
    CHECK(r.err == "coscope: PID " + std::to_string(sleeper.pid) +
                       " (sleep) does not use libcorun: ps needs its task table\n");
}

TEST_CASE("ps without a PID or with a bad flag is a usage error")
{
    CHECK(run_command(coscope + " ps").status == 2);
    CHECK(run_command(coscope + " ps -p abc").status == 2);
    CHECK(run_command(coscope + " ps -p 1 --bogus").status == 2);
    auto help = run_command(coscope + " ps --help");
    CHECK(help.status == 0);
    CHECK(help.out.find("usage: coscope ps -p PID") == 0);
}

TEST_CASE("ps shows every loop of a process with its own tasks")
{
    tree_target t;
    t.start({"two-loops"});
    auto r = run_command(ps_cmd(t.proc.pid, "--json"));
    INFO(r.out << r.err);
    REQUIRE(r.status == 0);
    // Two loops: the main thread's (6 tasks) and the side thread's (main + side).
    auto first = r.out.find("{\"tid\":");
    auto second = r.out.find("{\"tid\":", first + 1);
    REQUIRE(first != std::string::npos);
    REQUIRE(second != std::string::npos);
    CHECK(r.out.find("{\"tid\":", second + 1) == std::string::npos);
    std::string a = r.out.substr(first, second - first), b = r.out.substr(second);
    std::string main_loop = json_has(a, "\"name\":\"side\"") ? b : a;
    std::string side_loop = json_has(a, "\"name\":\"side\"") ? a : b;
    CHECK(json_number(main_loop, "tid") == t.proc.pid);
    CHECK(json_number(side_loop, "tid") != t.proc.pid);
    CHECK(parse_ps_tasks(main_loop).size() == 6);
    auto side = parse_ps_tasks(side_loop);
    REQUIRE(side.size() == 2);
    CHECK(side["side"].parent == side["main"].id);
    CHECK(side["main"].waiting_on == "task " + std::to_string(side["side"].id) + " (side)");
}

TEST_CASE("ps refuses a debug table of an unsupported version or with a wrong magic (6)")
{
    child_proc v99;
    REQUIRE(v99.start({FAKE_CORUN_V99}));
    REQUIRE(v99.read_line(10000) == "ready 99");
    auto r = run_command(ps_cmd(v99.pid));
    CHECK(r.status == 6);
    CHECK(r.err == "coscope: PID " + std::to_string(v99.pid) +
                       " (fake-corun-v99): libcorun debug table version 99 not supported "
                       "(this coscope reads version 1 to 3)\n");
    child_proc magic;
    REQUIRE(magic.start({FAKE_CORUN_MAGIC}));
    REQUIRE(magic.read_line(10000).rfind("ready ", 0) == 0);
    r = run_command(ps_cmd(magic.pid));
    CHECK(r.status == 6);
    CHECK(r.err.find("is not a libcorun debug table") != std::string::npos);
}

TEST_CASE("ps without the right to read the process exits 4 and says why")
{
    if (geteuid() != 0)
        return; // needs root to drop to another user
    tree_target t;
    t.start();
    auto r =
        run_command("setpriv --reuid=nobody --regid=nogroup --clear-groups " + ps_cmd(t.proc.pid));
    CHECK(r.status == 4);
    CHECK(r.err.find("coscope: not permitted to trace " + std::to_string(t.proc.pid)) !=
          std::string::npos);
    CHECK(r.err.find('\n') == r.err.size() - 1); // one line
}

TEST_CASE("ps says how a finished task ended: failed with its error, ok, or still running")
{
    // stallgen spawns fail-unjoined (ECONNREFUSED) and ok-unjoined (0); nobody joins them.
    child_proc gen;
    std::string port = std::to_string(22000 + getpid() % 20000);
    REQUIRE(gen.start({STALLGEN_EXE, "--port", port, "--every", "200ms", "--stalls", "sleep:1ms"}));
    REQUIRE(gen.read_line(20000).rfind("stall kind=", 0) == 0); // its loop runs
    std::map<std::string, ps_task> tasks;
    std::string out;
    for (int tries = 0; tries < 100; tries++) { // both end within the first iterations
        auto r = run_command(ps_cmd(gen.pid, "--json"));
        INFO(r.out << r.err);
        REQUIRE(r.status == 0);
        out = r.out;
        tasks = parse_ps_tasks(r.out);
        if (tasks["fail-unjoined"].state == "done" && tasks["ok-unjoined"].state == "done")
            break;
        usleep(100 * 1000);
    }
    INFO(out);
    REQUIRE(tasks["fail-unjoined"].state == "done");
    CHECK(tasks["fail-unjoined"].outcome == "failed");
    CHECK(tasks["fail-unjoined"].error == -ECONNREFUSED);
    REQUIRE(tasks["ok-unjoined"].state == "done");
    CHECK(tasks["ok-unjoined"].outcome == "ok");
    CHECK(tasks["ok-unjoined"].error == 0);
    CHECK(tasks["main"].outcome == "");

    auto text = run_command(ps_cmd(gen.pid));
    INFO(text.out << text.err);
    REQUIRE(text.status == 0);
    CHECK(text.out.find("fail-unjoined #") != std::string::npos);
    CHECK(text.out.find("[done: failed, ECONNREFUSED (-111, Connection refused)]") !=
          std::string::npos);
    CHECK(text.out.find("[done: ok]") != std::string::npos);
}

TEST_CASE("ps waits for a starting process's table to be relocated, and says so if it never is")
{
    // Seen as a CI flake: `stat -- CMD` read the table of a process the dynamic loader had
    // mapped but not relocated yet, and gave up ("its task list could not be read").
    child_proc late;
    REQUIRE(late.start({FAKE_CORUN_LATE}));
    REQUIRE(late.read_line(10000).rfind("ready ", 0) == 0);
    auto r = run_command(ps_cmd(late.pid)); // the fix-up comes 300 ms after "ready"
    INFO(r.out << r.err);
    CHECK(r.status == 0);
    CHECK(r.out.find("process " + std::to_string(late.pid) + " (fake-corun-late): 0 loops") == 0);

    child_proc never;
    REQUIRE(never.start({FAKE_CORUN_UNRELOCATED}));
    REQUIRE(never.read_line(10000).rfind("ready ", 0) == 0);
    r = run_command(ps_cmd(never.pid));
    INFO(r.out << r.err);
    CHECK(r.status == 6);
    CHECK(r.err.find("its libcorun debug table is not relocated (registry at 0x1f380") !=
          std::string::npos);
}
