// The debug table: an outside reader finds loops and tasks with process_vm_readv, using
// only the offsets the table publishes.
#include <catch2/catch.hpp>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <functional>
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
    uint32_t outcome; // version 2
    int32_t error;    // version 2
    std::string name;
};

using task_map = std::map<std::string, remote_task>;

// Lists the child's tasks by name through the table, retrying while a change is in
// progress and until `settled` holds. Returns how many loops the last walk saw.
uint64_t walk_tasks(pid_t pid, const struct corun_debug &table, task_map &tasks,
                    const std::function<bool(task_map &)> &settled)
{
    uint64_t loops_seen = 0;
    for (int attempt = 0; attempt < 10000 && !settled(tasks); attempt++) {
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
                rt.outcome = field<uint32_t>(t, table.task.outcome);
                rt.error = field<int32_t>(t, table.task.error);
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
    return loops_seen;
}

// Forks a child running `child` (which writes to its fd once ready, then sleeps), waits
// for it to be ready and reads its table (a fork: at the same address as ours).
pid_t start_child(const std::function<void(int)> &child, struct corun_debug &table)
{
    int pipefd[2];
    REQUIRE(pipe(pipefd) == 0);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        close(pipefd[0]);
        child(pipefd[1]);
        _exit(0);
    }
    close(pipefd[1]);
    char c;
    REQUIRE(read(pipefd[0], &c, 1) == 1);
    close(pipefd[0]);
    REQUIRE(read_remote(pid, reinterpret_cast<uint64_t>(&corun_debug), &table, sizeof table));
    REQUIRE(std::memcmp(table.magic, CORUN_DEBUG_MAGIC, 8) == 0);
    REQUIRE(table.version == CORUN_DEBUG_VERSION);
    REQUIRE(table.size == sizeof(struct corun_debug));
    REQUIRE(table.hist_buckets == CORUN_LL_BUCKETS);
    REQUIRE(table.stats_hist_buckets == CORUN_HIST_BUCKETS);
    return pid;
}

void stop_child(pid_t pid)
{
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
}

// The child: a loop with known tasks, then it tells the parent it is ready.
void run_child(int ready_fd)
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
}

} // namespace

TEST_CASE("the debug table lets another process list loops and tasks with names, parents "
          "and states")
{
    if (under_emulator()) {
        WARN("skipped under qemu-user: process_vm_readv sees host, not guest, addresses");
        return;
    }
    struct corun_debug table;
    pid_t pid = start_child(run_child, table);
    task_map tasks;
    // Until main has parked after telling us.
    uint64_t loops_seen = walk_tasks(pid, table, tasks, [](task_map &m) {
        return m.count("main") && m["main"].state == CORUN_TASK_WAITING;
    });
    stop_child(pid);

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

TEST_CASE("version 2 of the debug table gives a finished task's outcome and error until it "
          "is joined")
{
    if (under_emulator()) {
        WARN("skipped under qemu-user: process_vm_readv sees host, not guest, addresses");
        return;
    }
    struct corun_debug table;
    pid_t pid = start_child(
        [](int ready_fd) {
            run_main_void([ready_fd] {
                spawn([](intptr_t *) { return -ECONNREFUSED; }, "fails");
                spawn([](intptr_t *) { return 0; }, "succeeds");
                co_task *c = spawn([](intptr_t *) { return co_sleep(ms_ns(60000)); }, "cancelled");
                co_task *j = spawn([](intptr_t *) { return -EIO; }, "joined");
                co_yield (); // all four run once: three finish, one sleeps
                co_cancel(c);
                co_yield ();
                co_outcome out{};
                if (co_join(j, &out, CO_NO_DEADLINE) != 0 || out.error != -EIO)
                    _exit(3);
                if (write(ready_fd, "r", 1) != 1)
                    _exit(3);
                co_sleep(ms_ns(60000)); // the other three are never joined
            });
        },
        table);
    REQUIRE(table.task.outcome + sizeof(uint32_t) <= table.task.size);
    REQUIRE(table.task.error + sizeof(int32_t) <= table.task.size);
    task_map tasks;
    walk_tasks(pid, table, tasks, [](task_map &m) {
        return m.count("main") && m["main"].state == CORUN_TASK_WAITING && m.size() == 4;
    });
    stop_child(pid);

    REQUIRE(tasks.size() == 4); // main and the three unjoined ones; "joined" is freed
    CHECK(tasks.count("joined") == 0);
    const auto &fails = tasks.at("fails"), &ok = tasks.at("succeeds"),
               &cancelled = tasks.at("cancelled");
    CHECK(fails.state == CORUN_TASK_DONE);
    CHECK(fails.outcome == CORUN_OUTCOME_ERROR);
    CHECK(fails.error == -ECONNREFUSED);
    CHECK(ok.state == CORUN_TASK_DONE);
    CHECK(ok.outcome == CORUN_OUTCOME_OK);
    CHECK(ok.error == 0);
    CHECK(cancelled.state == CORUN_TASK_DONE);
    CHECK(cancelled.outcome == CORUN_OUTCOME_CANCELLED);
    CHECK(cancelled.error == CO_ECANCELED);
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
