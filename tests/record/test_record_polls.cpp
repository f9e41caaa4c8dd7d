// `record --polls`: every poll and every wake edge of a libcorun target, checked against
// what the runtime counts itself (TASK_STATS) and what stallgen announces (its stall tasks,
// spawned and joined by its main task), and drawn as Chrome flow arrows.
#include <catch2/catch.hpp>

#include <cstdio>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

#include "record_e2e.h"
#include "test_util.h"

using namespace record_e2e;

extern "C" {
#include "recording_reader.h"
}

namespace
{

// stallgen for 4 s (a stall task every 400 ms, its ticker every 10 ms), recorded with or
// without --polls; the ids of the stall tasks it announced.
struct polls_recording {
    std::string path;
    command_result run;
    std::vector<long long> stall_ids;
    cs_recording rec{};
    int status = -1;

    explicit polls_recording(bool polls)
        : path(tmp_path(polls ? "polls-on.csrec" : "polls-off.csrec"))
    {
        std::string port = std::to_string(20000 + (getpid() + (polls ? 7 : 11)) % 20000);
        run = run_command(coscope + " record" + (polls ? " --polls" : "") + " -o " + path +
                          " -d 4s -t 80ms -- " + stallgen + " --port " + port +
                          " --every 400ms --stalls cpu:100ms");
        std::istringstream in(run.out);
        std::string line;
        long long id;
        while (std::getline(in, line))
            if (sscanf(line.c_str(), "stall kind=cpu ms=100 task=stall-cpu id=%lld", &id) == 1)
                stall_ids.push_back(id);
        status = cs_recording_load(path.c_str(), &rec);
    }
    ~polls_recording()
    {
        cs_recording_free(&rec);
        unlink(path.c_str());
    }
};

// The stall tasks whose polls were recorded (stallgen starts before the probes are
// attached), and of them those whose last poll (the task's end) was recorded too.
struct stall_tasks {
    std::set<uint64_t> ran, finished;
};

stall_tasks stall_tasks_of(const polls_recording &r)
{
    std::set<uint64_t> ids(r.stall_ids.begin(), r.stall_ids.end());
    stall_tasks st;
    for (size_t i = 0; i < r.rec.npolls; i++) {
        const cs_rec_slice &s = r.rec.polls[i];
        if (!ids.count(s.task_id))
            continue;
        st.ran.insert(s.task_id);
        if (s.wait_reason == CS_REC_WAIT_DONE)
            st.finished.insert(s.task_id);
    }
    return st;
}

// Did the task that task `id`'s end woke (its joiner) run again inside the recording? A
// poll still running when the recording stops is not in it, and an arrow needs the woken
// task's poll to end in.
bool joiner_ran_after(const polls_recording &r, uint64_t id)
{
    for (size_t i = 0; i < r.rec.nwakes; i++) {
        const cs_rec_wake &w = r.rec.wakes[i];
        if (w.waker_id != id)
            continue;
        for (size_t k = 0; k < r.rec.npolls; k++)
            if (r.rec.polls[k].task_id == w.woken_id && r.rec.polls[k].start_ns >= w.t_ns)
                return true;
    }
    return false;
}

polls_recording &with_polls()
{
    static polls_recording r(true);
    INFO(r.run.err);
    REQUIRE(r.run.status == 0);
    REQUIRE(r.status == CS_REC_OK);
    REQUIRE(stall_tasks_of(r).finished.size() >= 3);
    return r;
}

} // namespace

TEST_CASE("record --polls records every poll: many short ones, far more than long slices")
{
    auto &r = with_polls();
    size_t polls = r.rec.npolls, short_polls = 0, long_slices = r.rec.nslices;
    for (size_t i = 0; i < r.rec.npolls; i++) {
        const cs_rec_slice &s = r.rec.polls[i];
        CHECK(s.flags == CS_REC_SLICE_POLL);
        short_polls += s.duration_ns < 250000;
        CHECK(s.task_id != 0);
    }
    for (size_t i = 0; i < r.rec.nslices; i++)
        CHECK(r.rec.slices[i].flags == 0);
    INFO(polls << " polls, " << short_polls << " short, " << long_slices << " long slices");
    // The ticker alone polls 100 times a second; a loaded machine may slow it down.
    CHECK(short_polls >= 100);
    CHECK(polls >= 5 * long_slices);
    CHECK(long_slices >= 2); // the long-slice stream goes on as without --polls
}

TEST_CASE("per-task poll counts agree with the runtime's own counters, within lost events")
{
    auto &r = with_polls();
    // Per task: its first and last TASK_STATS (a snapshot's time and the runtime's count).
    std::map<uint64_t, std::pair<const cs_rec_task_stats *, const cs_rec_task_stats *>> span;
    for (size_t i = 0; i < r.rec.ntask_stats; i++) {
        const cs_rec_task_stats *t = &r.rec.task_stats[i];
        auto it = span.find(t->task_id);
        if (it == span.end())
            span[t->task_id] = {t, t};
        else
            it->second.second = t;
    }
    uint64_t lost = r.rec.lost.lost_events;
    size_t compared = 0, busiest = 0;
    for (auto &[id, ends] : span) {
        auto *first = ends.first, *last = ends.second;
        if (first == last)
            continue;
        uint64_t runtime = last->polls - first->polls, recorded = 0;
        for (size_t i = 0; i < r.rec.npolls; i++) {
            const cs_rec_slice &s = r.rec.polls[i];
            uint64_t end = s.start_ns + s.duration_ns;
            recorded += s.task_id == id && end > first->t_ns && end <= last->t_ns;
        }
        INFO("task " << id << ": runtime " << runtime << " polls, recorded " << recorded
                     << ", lost " << lost);
        // A poll ending while a snapshot is read may fall on either side of it: 1 per end.
        CHECK(recorded + 2 + lost >= runtime);
        CHECK(recorded <= runtime + 2);
        compared++;
        busiest = std::max<size_t>(busiest, runtime);
    }
    CHECK(compared >= 2);  // main, ticker, accept at least
    CHECK(busiest >= 100); // the ticker
}

TEST_CASE("wake records name real tasks: spawn and join edges of each stall task")
{
    auto &r = with_polls();
    std::set<uint64_t> known(r.stall_ids.begin(), r.stall_ids.end());
    for (size_t i = 0; i < r.rec.ntasks; i++)
        known.insert(r.rec.tasks[i].spawn.id);
    REQUIRE(r.rec.nwakes > 0);
    std::set<uint64_t> woken_by_task, waking;
    size_t by_loop = 0;
    for (size_t i = 0; i < r.rec.nwakes; i++) {
        const cs_rec_wake &w = r.rec.wakes[i];
        INFO("wake " << w.waker_id << " -> " << w.woken_id);
        CHECK(known.count(w.woken_id) == 1);
        CHECK((w.waker_id == 0 || known.count(w.waker_id) == 1));
        CHECK(w.loop_tid == r.rec.target.pid); // stallgen's one loop is its main thread
        if (w.waker_id) {
            woken_by_task.insert(w.woken_id);
            waking.insert(w.waker_id);
        } else {
            by_loop++;
        }
    }
    CHECK(by_loop >= 100); // the ticker's timer
    std::string json = tmp_path("polls-report.json");
    REQUIRE(report(r.path, "json", json).status == 0);
    CHECK(py("counts " + json) == std::to_string(r.rec.npolls) + " " +
                                      std::to_string(r.rec.nwakes) + " " + std::to_string(by_loop) +
                                      "\n");
    unlink(json.c_str());
    // Each stall task that ran was made ready by its parent (spawn); each that ended made
    // its parent, joining it, ready (join).
    stall_tasks st = stall_tasks_of(r);
    for (uint64_t id : st.ran) {
        INFO("stall task " << id);
        CHECK(woken_by_task.count(id) == 1);
        if (st.finished.count(id))
            CHECK(waking.count(id) == 1);
    }
}

TEST_CASE("the Chrome trace draws wake edges as flows Perfetto binds to the right polls")
{
    auto &r = with_polls();
    std::string json = tmp_path("polls-chrome.json");
    auto rep = report(r.path, "chrome", json);
    INFO(rep.err);
    REQUIRE(rep.status == 0);
    std::istringstream in(py("flows " + json));
    unlink(json.c_str());
    std::set<std::pair<uint64_t, uint64_t>> arrows;
    std::string a, b;
    size_t polls = 0;
    while (in >> a >> b) {
        if (a == "polls")
            polls = std::stoul(b);
        else
            arrows.insert({std::stoull(a), std::stoull(b)});
    }
    CHECK(polls >= 100);
    // Each arrow is a recorded wake by a task; each stall task's spawn and join are arrows.
    std::set<std::pair<uint64_t, uint64_t>> wakes;
    for (size_t i = 0; i < r.rec.nwakes; i++)
        if (r.rec.wakes[i].waker_id)
            wakes.insert({r.rec.wakes[i].waker_id, r.rec.wakes[i].woken_id});
    for (auto &e : arrows) {
        INFO("arrow " << e.first << " -> " << e.second);
        CHECK(wakes.count(e) == 1);
    }
    stall_tasks st = stall_tasks_of(r);
    for (uint64_t id : st.finished) {
        INFO("stall task " << id);
        size_t to = 0, from = 0;
        for (auto &e : arrows) {
            to += e.second == id;
            from += e.first == id;
        }
        CHECK(to == 1); // spawned by main
        // main, joining it, woken at its end: unless the recording stopped before main
        // ran again (the last stall task can end a moment before the end of `-d`)
        CHECK(from == (joiner_ran_after(r, id) ? 1u : 0u));
    }
}

TEST_CASE("without --polls a recording holds no polls, no wakes and no flows")
{
    polls_recording r(false);
    INFO(r.run.err);
    REQUIRE(r.run.status == 0);
    REQUIRE(r.status == CS_REC_OK);
    CHECK(r.rec.npolls == 0);
    CHECK(r.rec.nslices >= 1); // the long slices of the stall tasks
    CHECK(r.rec.nwakes == 0);
    std::string counts = tmp_path("polls-report-off.json");
    REQUIRE(report(r.path, "json", counts).status == 0);
    CHECK(py("counts " + counts) == "0 0 0\n");
    unlink(counts.c_str());
    std::string json = tmp_path("polls-chrome-off.json");
    auto rep = report(r.path, "chrome", json);
    REQUIRE(rep.status == 0);
    CHECK(py("flows " + json) == "polls 0\n");
    unlink(json.c_str());
}

TEST_CASE("a flight recorder with --polls writes the window's polls and wakes, tasks named")
{
    std::string path = tmp_path("polls-flight.csrec");
    std::string port = std::to_string(20000 + (getpid() + 17) % 20000);
    auto run = run_command(coscope + " record --polls -o " + path +
                           " --flight 3s --trigger 'stall>80ms' --after 500ms -- " + stallgen +
                           " --port " + port + " --every 1s --stalls cpu:150ms");
    INFO(run.err);
    REQUIRE(run.status == 0);
    cs_recording rec{};
    REQUIRE(cs_recording_load(path.c_str(), &rec) == CS_REC_OK);
    CHECK(rec.ntriggers == 1);
    CHECK(rec.npolls >= 20); // the ticker's, at least, in the window and after it
    CHECK(rec.nwakes >= 20);
    size_t named = 0;
    for (size_t i = 0; i < rec.npolls; i++)
        named += rec.polls[i].name[0] != 0;
    // Tasks alive when it fired are written then (TASK_SPAWN): their polls have names.
    CHECK(named * 10 >= rec.npolls * 9);
    cs_recording_free(&rec);
    unlink(path.c_str());
}
