// The exact task lifecycle in a recording: corun:task_spawn names a task at its birth and
// corun:task_done writes its final figures and outcome, so a task that lives less than a
// snapshot period is still named, and one that ends between two snapshots keeps what it
// did (not the zeros of the last snapshot that saw it alive).
#include <catch2/catch.hpp>

#include <cstdio>
#include <map>
#include <sstream>
#include <string>
#include <unistd.h>

#include "record_e2e.h"
#include "test_util.h"

using namespace record_e2e;

extern "C" {
#include "corun_debug.h"
#include "recording_reader.h"
}

namespace
{

struct report_task {
    std::string name;
    long long polls = -1, busy_ns = -1;
    bool done = false;
    std::string outcome;
};

// report_check.py tasks: the tasks of a report --format json by id.
std::map<long long, report_task> report_tasks(const std::string &json)
{
    std::map<long long, report_task> out;
    std::istringstream in(py("tasks " + json));
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream f(line);
        long long id;
        int done;
        report_task t;
        REQUIRE(f >> id >> t.name >> t.polls >> t.busy_ns >> done >> t.outcome);
        t.done = done != 0;
        out[id] = t;
    }
    return out;
}

} // namespace

TEST_CASE("a recording keeps the final figures of every stall task, however short its life")
{
    std::string path = tmp_path("life-stallgen.csrec"), json = tmp_path("life-stallgen.json");
    std::string port = std::to_string(20000 + (getpid() + 13) % 20000);
    // Three rounds, one a second, then stallgen exits: every stall task has ended.
    auto run = run_command(coscope + " record -o " + path + " -d 20s -- " + stallgen + " --port " +
                           port + " --every 1s --count 3");
    INFO(run.err);
    REQUIRE(run.status == 0);
    REQUIRE(report(path, "json", json).status == 0);
    auto tasks = report_tasks(json);
    std::istringstream in(run.out);
    std::string line;
    int named = 0, cpu = 0;
    while (std::getline(in, line)) {
        char kind[16], task[64];
        long long id;
        if (sscanf(line.c_str(), "stall kind=%15s ms=%*d task=%63s id=%lld", kind, task, &id) != 3)
            continue;
        INFO(line);
        REQUIRE(tasks.count(id));
        const report_task &t = tasks[id];
        CHECK(t.name == task);
        CHECK(t.done);
        CHECK(t.outcome == "ok");
        named++;
        if (std::string(kind) == "cpu") {
            cpu++;
            CHECK(t.polls >= 1);                 // it ran: one 120 ms slice
            CHECK(t.busy_ns >= 100 * 1000000LL); // not the 0 of a snapshot before it ran
        }
    }
    CHECK(named >= 8);
    CHECK(cpu >= 2);
    unlink(path.c_str());
    unlink(json.c_str());
}

TEST_CASE("a thousand tasks of 1 ms spawned in one burst are each recorded with their name")
{
    std::string path = tmp_path("life-burst.csrec");
    auto run =
        run_command(coscope + " record -o " + path + " -d 30s -- " + TARGET_CORUN_BURST + " 1000");
    INFO(run.err);
    REQUIRE(run.status == 0);
    cs_recording rec{};
    REQUIRE(cs_recording_load(path.c_str(), &rec) == CS_REC_OK);
    std::istringstream in(run.out);
    std::string line;
    int burst = 0, named = 0, ended = 0;
    while (std::getline(in, line)) {
        unsigned long long id;
        char name[64];
        if (sscanf(line.c_str(), "task %llu %63s", &id, name) != 2)
            continue;
        burst++;
        const cs_rec_task *t = cs_recording_task(&rec, id);
        if (!t) {
            UNSCOPED_INFO("task " << id << " " << name << " missing");
            continue;
        }
        named += std::string(t->spawn.name) == name;
        ended += t->done && t->outcome_known && t->outcome == CORUN_OUTCOME_OK;
    }
    CHECK(burst == 1000);
    CHECK(named == burst);
    CHECK(ended == burst);
    CHECK(rec.lost.lost_events == 0);
    cs_recording_free(&rec);
    unlink(path.c_str());
}
