// The debug table: an outside reader finds loops and tasks with process_vm_readv, using
// only the offsets the table publishes.
#include <catch2/catch.hpp>

#include <csignal>
#include <cstring>
#include <map>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "corun_debug.h"
#include "corun_test_util.h"

namespace
{

bool read_remote(pid_t pid, uint64_t addr, void *buf, size_t len)
{
    iovec local{buf, len};
    iovec remote{reinterpret_cast<void *>(addr), len};
    return process_vm_readv(pid, &local, 1, &remote, 1, 0) == static_cast<ssize_t>(len);
}

template <class T> T field(const std::vector<char> &obj, uint32_t off)
{
    T v;
    std::memcpy(&v, obj.data() + off, sizeof v);
    return v;
}

struct remote_task {
    uint64_t id, parent_id, awaited;
    uint32_t state, reason;
    std::string name;
};

// The child: a loop with known tasks, then it tells the parent it is ready.
[[noreturn]] void run_child(int ready_fd)
{
    run_main_void([ready_fd] {
        co_task *alpha = spawn([](intptr_t *) { return co_sleep(ms_ns(60000)); }, "alpha");
        co_task *beta =
            spawn([alpha](intptr_t *) { return co_join(alpha, nullptr, CO_NO_DEADLINE); }, "beta");
        (void)beta;
        co_yield (); // let both start and park
        co_yield ();
        if (write(ready_fd, "r", 1) != 1)
            _exit(3);
        co_sleep(ms_ns(60000));
    });
    _exit(0);
}

} // namespace

TEST_CASE("the debug table lets another process list loops and tasks with names, parents "
          "and states")
{
    if (under_emulator()) {
        WARN("skipped under qemu-user: process_vm_readv sees host, not guest, addresses");
        return;
    }
    int pipefd[2];
    REQUIRE(pipe(pipefd) == 0);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        close(pipefd[0]);
        run_child(pipefd[1]);
    }
    close(pipefd[1]);
    char c;
    REQUIRE(read(pipefd[0], &c, 1) == 1);
    close(pipefd[0]);

    // The child is a fork: the table sits at the same address there.
    struct corun_debug table;
    REQUIRE(read_remote(pid, reinterpret_cast<uint64_t>(&corun_debug), &table, sizeof table));
    REQUIRE(std::memcmp(table.magic, CORUN_DEBUG_MAGIC, 8) == 0);
    REQUIRE(table.version == CORUN_DEBUG_VERSION);
    REQUIRE(table.size == sizeof(struct corun_debug));

    std::map<std::string, remote_task> tasks;
    uint64_t loops_seen = 0;
    // Retry while a change is in progress, and until main has parked after telling us.
    auto settled = [&] { return tasks.count("main") && tasks["main"].state == CORUN_TASK_WAITING; };
    for (int attempt = 0; attempt < 10000 && !settled(); attempt++) {
        tasks.clear();
        loops_seen = 0;
        usleep(attempt ? 1000 : 0);
        corun_registry reg;
        REQUIRE(read_remote(pid, table.registry, &reg, sizeof reg));
        if (reg.generation & 1)
            continue; // a change in progress: retry
        uint64_t loop_addr = reg.first_loop;
        while (loop_addr) {
            loops_seen++;
            std::vector<char> loop(table.loop.size);
            REQUIRE(read_remote(pid, loop_addr, loop.data(), loop.size()));
            uint64_t task_addr = field<uint64_t>(loop, table.loop.first_task);
            while (task_addr) {
                std::vector<char> t(table.task.size);
                REQUIRE(read_remote(pid, task_addr, t.data(), t.size()));
                remote_task rt;
                rt.id = field<uint64_t>(t, table.task.id);
                rt.parent_id = field<uint64_t>(t, table.task.parent_id);
                rt.awaited = field<uint64_t>(t, table.task.awaited_task_id);
                rt.state = field<uint32_t>(t, table.task.state);
                rt.reason = field<uint32_t>(t, table.task.wait_reason);
                rt.name.assign(t.data() + table.task.name,
                               strnlen(t.data() + table.task.name, table.task.name_size));
                REQUIRE(field<uint64_t>(t, table.task.loop) == loop_addr);
                tasks[rt.name] = rt;
                task_addr = field<uint64_t>(t, table.task.next_task);
            }
            loop_addr = field<uint64_t>(loop, table.loop.next_loop);
        }
        corun_registry again;
        REQUIRE(read_remote(pid, table.registry, &again, sizeof again));
        if (again.generation != reg.generation)
            tasks.clear();
    }
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);

    REQUIRE(loops_seen == 1);
    REQUIRE(tasks.size() == 3);
    const auto &main_t = tasks.at("main"), &alpha = tasks.at("alpha"), &beta = tasks.at("beta");
    REQUIRE(main_t.parent_id == 0);
    REQUIRE(alpha.parent_id == main_t.id);
    REQUIRE(beta.parent_id == main_t.id);
    REQUIRE(main_t.state == CORUN_TASK_WAITING);
    REQUIRE(main_t.reason == CORUN_WAIT_SLEEP);
    REQUIRE(alpha.state == CORUN_TASK_WAITING);
    REQUIRE(alpha.reason == CORUN_WAIT_SLEEP);
    REQUIRE(beta.state == CORUN_TASK_WAITING);
    REQUIRE(beta.reason == CORUN_WAIT_JOIN);
    REQUIRE(beta.awaited == alpha.id);
}

TEST_CASE("the histogram bucket of v holds [2^(k-1), 2^k)")
{
    REQUIRE(corun_hist_bucket(0) == 0);
    REQUIRE(corun_hist_bucket(1) == 1);
    REQUIRE(corun_hist_bucket(2) == 2);
    REQUIRE(corun_hist_bucket(3) == 2);
    REQUIRE(corun_hist_bucket(4) == 3);
    REQUIRE(corun_hist_bucket(1000) == 10);
    REQUIRE(corun_hist_bucket(~0ull) == CORUN_HIST_BUCKETS - 1);
}
