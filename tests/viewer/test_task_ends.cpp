// coscope top's task source on a live libcorun target: a task that ended keeps its final
// figures (corun:task_done), not those of the last snapshot that saw it alive. stallgen's
// stall-cpu tasks run one 120 ms slice each and end: snapshots taken during that slice
// show 0 polls and 0 busy time (the runtime counts a slice when it ends).
#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <unistd.h>

#include "probe/stall_session.h"

extern "C" {
#include "corun_debug.h"
#include "model_tasks.h"
#include "corun_tasks.h"
}

TEST_CASE("top's ended stall-cpu rows show the task's polls and busy time, not zeros")
{
    child_proc target;
    std::string port = std::to_string(20000 + (getpid() + 29) % 20000);
    REQUIRE(
        target.start({STALLGEN_EXE, "--port", port, "--every", "700ms", "--stalls", "cpu:120ms"}));
    cs_corun_tasks *src = cs_corun_tasks_new(target.pid, 50000000);
    REQUIRE(src);
    // Ended stall-cpu tasks by id: (polls, busy_ns) as the task source shows them.
    std::map<uint64_t, std::pair<uint64_t, uint64_t>> ended;
    double deadline = mono_ms() + 30000;
    while (ended.size() < 3 && mono_ms() < deadline) {
        cs_corun_tasks_process(src, (uint64_t)(mono_ms() * 1e6));
        const cs_corun_snapshot *snap = cs_corun_tasks_snapshot(src);
        for (size_t i = 0; snap && i < snap->nloops; i++)
            for (size_t k = 0; k < snap->loops[i].ntasks; k++) {
                const cs_task &t = snap->loops[i].tasks[k];
                if (t.state == CORUN_TASK_DONE && std::string(t.name) == "stall-cpu")
                    ended[t.id] = {t.polls, t.busy_ns};
            }
        usleep(20000);
    }
    cs_corun_tasks_free(src);
    REQUIRE(ended.size() >= 3);
    for (auto &e : ended) {
        INFO("stall-cpu " << e.first << ": polls " << e.second.first << ", busy " << e.second.second
                          << " ns");
        CHECK(e.second.first >= 1);
        CHECK(e.second.second >= 100000000ull);
    }
}
