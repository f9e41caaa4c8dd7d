// corun_probes.h on a live libcorun target: exactly the programs of the mask attach (a USDT
// probe shows as its semaphore raised in the target), and closing takes every link and
// uprobe away while the target keeps running.
#include <catch2/catch.hpp>

#include <dirent.h>
#include <signal.h>
#include <string>
#include <unistd.h>

#include "corun_session.h"

extern "C" {
#include "corun_probes.h"
#include "corun_target.h"
}

namespace
{

// The target's semaphore of probe corun:`name`: how many uprobes hold it up.
unsigned short semaphore(int pid, const std::string &name)
{
    uint64_t addr = 0;
    std::string sym = "corun_" + name + "_semaphore";
    REQUIRE(cs_corun_find_symbol(pid, sym.c_str(), &addr, nullptr, 0, nullptr, 0) == 0);
    unsigned short v = 0;
    REQUIRE(cs_corun_read(pid, addr, &v, sizeof v) == 0);
    return v;
}

// BPF links this process holds: other processes' links (a shared machine) do not count.
int own_links()
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    REQUIRE(d);
    while (struct dirent *e = readdir(d)) {
        std::string path = std::string("/proc/self/fd/") + e->d_name;
        char target[64] = "";
        ssize_t len = readlink(path.c_str(), target, sizeof target - 1);
        n += len > 0 && std::string(target, (size_t)len) == "anon_inode:bpf_link";
    }
    closedir(d);
    return n;
}

} // namespace

TEST_CASE("corun probes attach exactly the programs asked for and leave nothing behind")
{
    tree_target t;
    t.start();
    int pid = t.proc.pid;
    cs_corun_target target;
    char why[512] = "";
    REQUIRE(cs_corun_open(pid, &target, why, sizeof why) == 0);
    int links_before = own_links();
    REQUIRE(semaphore(pid, "stats") == 0);

    SECTION("slices, iterations and the task lifecycle, without stats")
    {
        unsigned want = CS_CORUN_PROG_SLICES | CS_CORUN_PROG_ITERS | CS_CORUN_PROG_LIFE;
        cs_corun_probes *p = nullptr;
        int err = cs_corun_probes_open(&target, want, want, nullptr, &p, why, sizeof why);
        INFO(why);
        REQUIRE(err == 0);
        CHECK(cs_corun_probes_attached(p) == want);
        CHECK(own_links() == links_before + 4); // task_spawn and task_done for the lifecycle
        CHECK(semaphore(pid, "slice_long") == 1);
        CHECK(semaphore(pid, "iter_long") == 1);
        CHECK(semaphore(pid, "task_spawn") == 1);
        CHECK(semaphore(pid, "task_done") == 1);
        CHECK(semaphore(pid, "stats") == 0);
        CHECK(semaphore(pid, "exec_done") == 0);
        CHECK(semaphore(pid, "task_resume") == 0);
        CHECK(cs_corun_probes_map_fd(p, CS_CORUN_MAP_SLICES) >= 0);
        cs_corun_probes_close(p);
        CHECK(semaphore(pid, "slice_long") == 0);
        CHECK(semaphore(pid, "task_done") == 0);
    }

    SECTION("stats and executor calls")
    {
        unsigned want = CS_CORUN_PROG_STATS | CS_CORUN_PROG_EXEC;
        cs_corun_probes *p = nullptr;
        int err =
            cs_corun_probes_open(&target, want, CS_CORUN_PROG_STATS, nullptr, &p, why, sizeof why);
        INFO(why);
        REQUIRE(err == 0);
        CHECK(cs_corun_probes_attached(p) == want);
        CHECK(cs_corun_probes_error(p, CS_CORUN_PROG_EXEC) == 0);
        CHECK(own_links() == links_before + 2);
        CHECK(semaphore(pid, "stats") == 1);
        CHECK(semaphore(pid, "exec_done") == 1);
        CHECK(semaphore(pid, "slice_long") == 0);
        cs_corun_probes_close(p);
        CHECK(semaphore(pid, "stats") == 0);
        CHECK(semaphore(pid, "exec_done") == 0);
    }

    CHECK(own_links() == links_before);
    CHECK(kill(pid, 0) == 0); // the target runs on
    CHECK(!t.proc.exited());
}
