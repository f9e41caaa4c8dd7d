// The tasks screen's row builder and the per-task warnings, without a terminal: the
// cached, incrementally re-sorted rows must be exactly what a fresh build gives.
#include <catch2/catch.hpp>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

extern "C" {
#include "model_tasks.h"
#include "screens.h"
#include "task_warnings.h"
#include "view.h"
}

namespace
{

// A loop of n tasks: 1 is the root, 2..11 its children, the rest spread under those.
struct fake_snapshot {
    cs_corun_snapshot snap{};
    cs_corun_loop loop{};
    std::vector<cs_task> tasks;

    explicit fake_snapshot(size_t n)
    {
        tasks.resize(n);
        for (size_t i = 0; i < n; i++) {
            cs_task &t = tasks[i];
            std::memset(&t, 0, sizeof t);
            t.id = i + 1;
            t.parent_id = i == 0 ? 0 : i <= 10 ? 1 : 2 + (i % 10);
            std::snprintf(t.name, sizeof t.name, "task-%03zu", (i * 7919) % n);
            t.state = CORUN_TASK_WAITING;
            t.has_stats = true;
            t.busy_ns = (i * 2654435761u) % 1000000;
            t.polls = i;
        }
        sync();
        snap.nloops = 1;
        snap.loops = &loop;
        snap.taken_ns = 1000;
    }
    void sync()
    {
        loop.id = 1;
        loop.tid = 1;
        loop.tasks = tasks.data();
        loop.ntasks = tasks.size();
    }
};

// The task ids and depths of the rows, in order.
std::vector<std::pair<uint64_t, int>> ids_of(const cs_view &v, const cs_ui &ui)
{
    std::vector<std::pair<uint64_t, int>> out;
    for (size_t i = 0; i < ui.nrows; i++) {
        const cs_task_row &r = ui.rows[i];
        out.emplace_back(r.task < 0 ? 0 : v.tasks->loops[r.loop].tasks[r.task].id, r.depth);
    }
    return out;
}

std::vector<std::pair<uint64_t, int>> fresh_rows(const cs_view &v, const cs_ui &like)
{
    cs_ui ui{};
    ui.sort_col = like.sort_col;
    ui.sort_desc = like.sort_desc;
    std::memcpy(ui.filter, like.filter, sizeof ui.filter);
    cs_tasks_rows(&v, &ui);
    auto out = ids_of(v, ui);
    cs_tasks_rows_free(&ui);
    return out;
}

} // namespace

TEST_CASE("re-sorting from the last order gives the rows a fresh build gives")
{
    fake_snapshot s(3000);
    cs_view v{};
    v.tasks = &s.snap;
    for (auto col : {CS_TCOL_BUSY, CS_TCOL_NAME, CS_TCOL_POLLS, CS_TCOL_ID}) {
        for (bool desc : {false, true}) {
            cs_ui ui{};
            ui.sort_col = col;
            ui.sort_desc = desc;
            REQUIRE(cs_tasks_rows(&v, &ui) == 3001); // the loop row and every task
            CHECK(ids_of(v, ui) == fresh_rows(v, ui));
            // A new snapshot: some counters move, a task ends, one is born.
            for (size_t i = 0; i < s.tasks.size(); i += 37)
                s.tasks[i].busy_ns += 50000 + i;
            for (size_t i = 0; i < s.tasks.size(); i += 53)
                s.tasks[i].polls += 100;
            s.tasks.erase(s.tasks.begin() + 500);
            cs_task born = s.tasks.back();
            born.id = s.tasks.back().id + 1;
            born.parent_id = 3;
            s.tasks.push_back(born);
            s.sync();
            s.snap.taken_ns += 250;
            cs_tasks_rows(&v, &ui);
            INFO("column " << col << (desc ? " descending" : ""));
            CHECK(ids_of(v, ui) == fresh_rows(v, ui));
            // And one with the same tasks, counters moved (the old order is the start).
            for (size_t i = 0; i < s.tasks.size(); i += 41) {
                s.tasks[i].busy_ns += 70000 + i;
                s.tasks[i].polls += 7;
            }
            s.tasks[7].state = CORUN_TASK_READY;
            s.snap.taken_ns += 250;
            cs_tasks_rows(&v, &ui);
            CHECK(ids_of(v, ui) == fresh_rows(v, ui));
            // The build counted the tasks by state for the header.
            size_t n = 0, by_state[5] = {0};
            REQUIRE(cs_tasks_state_counts(&v, &ui, &n, by_state));
            CHECK(n == s.tasks.size());
            CHECK(by_state[CORUN_TASK_READY] == 1);
            CHECK(by_state[CORUN_TASK_WAITING] == s.tasks.size() - 1);
            s.tasks[7].state = CORUN_TASK_WAITING;
            s.snap.taken_ns += 250; // a snapshot the rows were not built from: not counted
            CHECK(!cs_tasks_state_counts(&v, &ui, &n, by_state));
            cs_tasks_rows_free(&ui);
        }
    }
}

TEST_CASE("the rows are a depth-first tree: every task right after its parent's subtree start")
{
    fake_snapshot s(200);
    cs_view v{};
    v.tasks = &s.snap;
    cs_ui ui{};
    ui.sort_col = CS_TCOL_NAME;
    cs_tasks_rows(&v, &ui);
    auto rows = ids_of(v, ui);
    REQUIRE(rows.size() == 201);
    CHECK(rows[1] == std::make_pair(uint64_t{1}, 0)); // the root
    // A row at depth d > 0 follows a row at depth d - 1 or deeper (its parent came first).
    for (size_t i = 2; i < rows.size(); i++)
        CHECK(rows[i].second <= rows[i - 1].second + 1);
    // Siblings (depth 1) are in name order.
    std::vector<std::string> names;
    for (size_t i = 0; i < ui.nrows; i++)
        if (ui.rows[i].depth == 1)
            names.push_back(s.tasks[ui.rows[i].task].name);
    CHECK(std::is_sorted(names.begin(), names.end()));
    // A filter keeps the matches and the way to them.
    std::strcpy(ui.filter, "task-007");
    cs_tasks_rows(&v, &ui);
    auto filtered = ids_of(v, ui);
    CHECK(filtered.size() >= 3);
    CHECK(filtered.size() <= 4); // loop, root, a worker, the match
    cs_tasks_rows_free(&ui);
}

TEST_CASE("warnings: long slices and blocking calls stick to their task until it is forgotten")
{
    cs_lint_table *t = cs_lints_new(100000000); // 100 ms
    REQUIRE(t);
    cs_lints_slice(t, 7, 50000000, 10); // below the threshold: nothing
    CHECK(cs_lints_find(t, 7) == nullptr);
    cs_lints_slice(t, 7, 300000000, 20);
    const cs_task_lint *l = cs_lints_find(t, 7);
    REQUIRE(l);
    CHECK(l->kinds == CS_LINT_LONG_SLICE);
    CHECK(l->longest_slice_ns == 300000000);
    CHECK(cs_lint_letter(l) == 'Y');
    cs_lints_blocking(t, 7, "clock_nanosleep", 290000000, 30);
    l = cs_lints_find(t, 7);
    CHECK(cs_lint_count(l) == 2);
    CHECK(cs_lint_letter(l) == 'B');
    CHECK(std::string(l->syscall) == "clock_nanosleep");
    // Many others, then forget everything not seen since 25: task 7 (seen at 30) stays.
    for (uint64_t id = 100; id < 5000; id++)
        cs_lints_slice(t, id, 200000000, 21);
    cs_lints_expire(t, 25);
    CHECK(cs_lints_find(t, 7) != nullptr);
    CHECK(cs_lints_find(t, 100) == nullptr);
    CHECK(cs_lints_find(t, 4999) == nullptr);

    // A task ready in two snapshots, its poll count unchanged, waited that long.
    cs_task ready{};
    ready.id = 42;
    ready.state = CORUN_TASK_READY;
    cs_corun_loop loop{};
    loop.tasks = &ready;
    loop.ntasks = 1;
    cs_corun_snapshot snap{};
    snap.loops = &loop;
    snap.nloops = 1;
    snap.taken_ns = 1000000000;
    cs_lints_snapshot(t, &snap);
    CHECK(cs_lints_find(t, 42) == nullptr);
    snap.taken_ns += 250000000;
    cs_lints_snapshot(t, &snap);
    l = cs_lints_find(t, 42);
    REQUIRE(l);
    CHECK(l->kinds == CS_LINT_READY_LONG);
    CHECK(l->ready_ns == 250000000);
    cs_lints_free(t);
}

TEST_CASE("warnings: J is a task that failed and was not joined within the grace, not one "
          "that ended well or was cancelled")
{
    cs_lint_table *t = cs_lints_new(100000000); // 100 ms threshold: the 1 s grace rules
    REQUIRE(t);
    // Four finished tasks: failed, ok, cancelled (table v2), and one of a v1 table.
    std::vector<cs_task> tasks(4);
    const uint32_t outcomes[] = {CORUN_OUTCOME_ERROR, CORUN_OUTCOME_OK, CORUN_OUTCOME_CANCELLED, 0};
    const int32_t errors[] = {-ECONNREFUSED, 0, -ECANCELED, 0};
    for (size_t i = 0; i < tasks.size(); i++) {
        tasks[i].id = 10 + i;
        tasks[i].state = CORUN_TASK_DONE;
        tasks[i].outcome_known = i < 3;
        tasks[i].outcome = outcomes[i];
        tasks[i].error = errors[i];
    }
    cs_corun_loop loop{};
    loop.tasks = tasks.data();
    loop.ntasks = tasks.size();
    cs_corun_snapshot snap{};
    snap.loops = &loop;
    snap.nloops = 1;
    snap.taken_ns = 1000000000;
    cs_lints_snapshot(t, &snap);
    snap.taken_ns += 500000000; // within the grace: nothing yet
    cs_lints_snapshot(t, &snap);
    for (uint64_t id = 10; id < 14; id++)
        CHECK(cs_lints_find(t, id) == nullptr);
    CHECK(cs_lints_unjoined_ns(t, 11) == 500000000);
    snap.taken_ns += 1000000000;
    cs_lints_snapshot(t, &snap);
    const cs_task_lint *failed = cs_lints_find(t, 10);
    REQUIRE(failed);
    CHECK(failed->kinds == CS_LINT_UNJOINED);
    CHECK(cs_lint_letter(failed) == 'J');
    CHECK(failed->outcome_known);
    CHECK(failed->done_ns == 1500000000);
    CHECK(cs_lints_find(t, 11) == nullptr); // ended well: a note in the detail at most
    CHECK(cs_lints_unjoined_ns(t, 11) == 1500000000);
    CHECK(cs_lints_find(t, 12) == nullptr); // cancelled is not failed (as in asyncio)
    const cs_task_lint *v1 = cs_lints_find(t, 13);
    REQUIRE(v1); // no outcome in a v1 table: finished and not joined is what J means
    CHECK(cs_lint_letter(v1) == 'J');
    CHECK(!v1->outcome_known);
    cs_lints_free(t);
}
