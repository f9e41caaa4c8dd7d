// `coscope ps` on real processes: the tree target spawns a known tree of named tasks
// before coscope runs; ps must read exactly that tree out of the target's memory.
#include <catch2/catch.hpp>

#include <string>

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
    // PIDs above pid_max are never in use.
    auto r = run_command(coscope + " ps -p 99999999");
    CHECK(r.status == 3);
    CHECK(r.err == "coscope: no such process 99999999\n");
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
