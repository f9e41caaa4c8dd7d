// coscope top's layout in a real terminal (tmux): the header and the columns of every
// screen fit the width or drop whole fields and columns, never a value cut in half.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <sys/socket.h>
#include <unistd.h>

extern "C" {
#include "record_writer.h"
}

#include "tmux_screen.h"

namespace
{

// A recording of a libcorun process whose loop thread was never found: two tasks, both
// waiting in a sleep, and no loop or stall record.
std::string write_loopless_recording(int pid = 4242)
{
    std::string path = "/tmp/cs-layout-" + std::to_string(getpid()) + "-loopless-" +
                       std::to_string(pid) + ".csrec";
    char why[256];
    cs_rec_writer *w = nullptr;
    REQUIRE(cs_rec_writer_open(path.c_str(), false, &w, why, sizeof why) == 0);
    const uint64_t t0 = 1000000000000ull;
    cs_rec_target t{};
    t.pid = pid;
    snprintf(t.comm, sizeof t.comm, "loopless");
    t.start_mono_ns = t0;
    t.start_realtime_ns = t0;
    t.threshold_ns = 50000000;
    REQUIRE(cs_rec_encode_target(cs_rec_writer_begin(w), &t) == 0);
    REQUIRE(cs_rec_writer_commit(w, t0, true) == 0);
    for (uint64_t id = 1; id <= 2; id++) {
        cs_rec_task_spawn sp{};
        sp.t_ns = t0;
        sp.id = id;
        sp.parent_id = id - 1;
        sp.loop_tid = pid;
        snprintf(sp.name, sizeof sp.name, "%s", id == 1 ? "main" : "sleeper");
        REQUIRE(cs_rec_encode_task_spawn(cs_rec_writer_begin(w), &sp) == 0);
        REQUIRE(cs_rec_writer_commit(w, t0, false) == 0);
        cs_rec_task_stats ts{};
        ts.t_ns = t0 + 1000;
        ts.task_id = id;
        ts.loop_id = 1;
        ts.state = 3;       // CORUN_TASK_WAITING
        ts.wait_reason = 2; // CORUN_WAIT_SLEEP
        REQUIRE(cs_rec_encode_task_stats(cs_rec_writer_begin(w), &ts) == 0);
        REQUIRE(cs_rec_writer_commit(w, t0 + 1000, false) == 0);
    }
    cs_rec_trailer tr{};
    tr.end_ns = t0 + 500000000;
    tr.reason = 0;
    REQUIRE(cs_rec_encode_trailer(cs_rec_writer_begin(w), &tr) == 0);
    REQUIRE(cs_rec_writer_commit(w, tr.end_ns, false) == 0);
    cs_rec_writer_close(w);
    return path;
}

} // namespace

TEST_CASE("with no loop found the header's note does not run into the task counts")
{
    std::string file = write_loopless_recording();
    for (int cols : {120, 100, 80}) {
        tmux_screen term(cols, 24);
        term.type_line(COSCOPE_EXE " top --replay " + file + "; echo top-exit=$?");
        std::string s = term.wait_for("Tasks 2:");
        INFO(cols << "\n" << s);
        std::string row = line_of(s, 1);
        INFO(row);
        CHECK(std::regex_search(row, std::regex("^Loops 0:.*  Tasks 2: 0 running, 0 ready, "
                                                "2 waiting *$")));
        // The note is whole or not there at all.
        if (row.find("none") != std::string::npos)
            CHECK(row.find("none found yet (looking for threads in a wait call)  Tasks 2:") !=
                  std::string::npos);
        if (cols >= 120)
            CHECK(row.find("none found yet") != std::string::npos);
        term.keys("q");
        term.wait_for("top-exit=");
    }
    unlink(file.c_str());
}

TEST_CASE("at 80 columns the header drops whole fields, never a value cut in half")
{
    tmux_screen term(120, 30);
    std::string port = std::to_string(free_tcp_port());
    REQUIRE(port != "0");
    term.type_line(COSCOPE_EXE " top -i 200ms -t 200ms -- " STALLGEN_EXE " --port " + port +
                   " --every 1s --stalls cpu:250ms; echo top-exit=$?");
    std::string s = term.wait_for("Loops 1:");
    // The wide header carries everything: the loops' rate and the scheduling latency.
    s = term.wait_until(
        [](const std::string &scr) {
            return std::regex_search(line_of(scr, 2),
                                     std::regex("worst .* iter/s  sched p50 \\S+ p99 \\S+$"));
        },
        30000);
    INFO(s);
    REQUIRE(std::regex_search(line_of(s, 2), std::regex("sched p50 \\S+ p99 \\S+$")));
    term.resize(80, 24);
    usleep(800000);
    s = term.screen();
    INFO(s);
    std::string r0 = line_of(s, 0), r1 = line_of(s, 1), r2 = line_of(s, 2);
    // Every field shown is whole: the rates come whole or not at all.
    CHECK(std::regex_search(r2, std::regex("^Stalls: [0-9]+")));
    CHECK(r2.find("lost 0") != std::string::npos);
    if (r2.find("sched") != std::string::npos)
        CHECK(std::regex_search(r2, std::regex("sched p50 [0-9.]+[mun]?s p99 [0-9.]+[mun]?s *$")));
    if (r2.find("iter/s") == std::string::npos)
        CHECK(r2.find("sched") == std::string::npos); // the least important go first
    CHECK(std::regex_search(r0, std::regex("^coscope top  pid [0-9]+ \\(stallgen\\)")));
    CHECK(std::regex_search(r0, std::regex("\\)(  launched(, [a-z -]*[a-z])?)? +[0-9:]{8}$")));
    CHECK(std::regex_search(r1, std::regex("Tasks [0-9]+: [0-9]+ running, [0-9]+ ready, "
                                           "[0-9]+ waiting(, [0-9]+ done)? *$")));
    term.keys("q");
    term.wait_for("top-exit=", 10000);
}

namespace
{

// The words of a heading row that are not one of `names` (a cut heading, "THRE").
std::string stray_heading_words(const std::string &line, const std::set<std::string> &names)
{
    std::string stray;
    std::istringstream in(line);
    std::string w;
    while (in >> w) {
        while (!w.empty() && (w.back() == '^' || w.back() == 'v') && !names.count(w))
            w.pop_back();
        if (!names.count(w))
            stray += w + " ";
    }
    return stray;
}

} // namespace

TEST_CASE("the columns of every screen fit 80, 100 and 120 columns or go whole")
{
    tmux_screen term(120, 30);
    std::string port = std::to_string(free_tcp_port());
    REQUIRE(port != "0");
    term.type_line(COSCOPE_EXE " top -i 200ms -t 40ms -- " STALLGEN_EXE " --port " + port +
                   " --every 1s --stalls sleep:62ms,cpu:250ms; echo top-exit=$?");
    term.wait_for("Loops 1:");
    std::string s = term.wait_until(
        [](const std::string &scr) {
            // 62 ms: "clock_nanosleep 62.0ms", one character wider than the old column.
            return std::regex_search(scr, std::regex("clock_nanosleep 6[0-9.]+ms")) &&
                   scr.find("stall-cpu") != std::string::npos;
        },
        30000);
    REQUIRE(std::regex_search(s, std::regex("clock_nanosleep [0-9.]+ms")));
    static const std::set<std::string> stall_heads = {"START", "DURATION", "TID",     "TASK",
                                                      "CAUSE", "ON-CPU",   "OFF-CPU", "THREAD"};
    static const std::set<std::string> loop_heads = {"TID",   "THREAD",  "UTIL", "FROM", "STALLS",
                                                     "WORST", "STALLED", "LAST", "NOW"};
    static const std::set<std::string> task_heads = {"!",    "ID",    "NAME", "STATE",    "WAITING",
                                                     "ON",   "POLLS", "BUSY", "SCHEDp99", "AGE",
                                                     "IDLE", "SPAWN", "SITE"};
    for (int cols : {120, 100, 80}) {
        term.resize(cols, 30);
        term.keys("1");
        usleep(900000);
        s = term.screen();
        INFO(cols << " columns, stalls\n" << s);
        CHECK(stray_heading_words(line_of(s, 4), stall_heads) == "");
        bool thread_col = line_of(s, 4).find("THREAD") != std::string::npos;
        CHECK((cols < 100 || thread_col));
        int sleeps = 0;
        for (int i = 5; i < count_lines(s) - 1; i++) {
            std::string row = line_of(s, i);
            if (row.find("clock_nanosleep") != std::string::npos) {
                sleeps++;
                // The cause with its time, whole: not "clock_nanosleep 62.0m".
                CHECK(std::regex_search(row, std::regex("clock_nanosleep [0-9.]+(us|ms|s) ")));
            }
            if (thread_col && row.find("stall-") != std::string::npos)
                CHECK(std::regex_search(row, std::regex(" stallgen *$")));
        }
        CHECK(sleeps > 0);

        term.keys("2");
        s = term.wait_for("STALLS");
        usleep(300000);
        s = term.screen();
        INFO(cols << " columns, loops\n" << s);
        CHECK(stray_heading_words(line_of(s, 4), loop_heads) == "");
        CHECK(std::regex_search(line_of(s, 5), std::regex(" stallgen .* (ok|STALLED) *$")));

        term.keys("3");
        s = term.wait_for("spawn tree");
        usleep(300000);
        s = term.screen();
        INFO(cols << " columns, tasks\n" << s);
        CHECK(stray_heading_words(line_of(s, 4), task_heads) == "");
        for (int i = 6; i < count_lines(s) - 2; i++) {
            std::string row = line_of(s, i);
            // What a task waits on and where it was spawned: whole, or without the part
            // in parentheses - never "task 607 (stal".
            CHECK(!std::regex_search(row, std::regex("\\([^)]*$")));
            CHECK(!std::regex_search(row, std::regex("\\([^)]* ")));
        }
    }
    term.keys("q");
    term.wait_for("top-exit=", 10000);
}

TEST_CASE("a replay never names spawn sites from the process that has its pid now")
{
    // A live libcorun process whose pid the recording claims: symbolizing against it
    // would name the replayed tasks' spawn sites after its functions.
    child_proc live;
    std::string port = std::to_string(free_tcp_port());
    REQUIRE(live.start({STALLGEN_EXE, "--port", port, "--every", "60s"}));
    usleep(300000);
    std::string file = write_loopless_recording(live.pid);
    tmux_screen term(160, 24);
    term.type_line(COSCOPE_EXE " top --replay " + file + "; echo top-exit=$?");
    term.wait_for("Tasks 2:");
    term.keys("3");
    std::string s = term.wait_for("SPAWN SITE");
    INFO(s);
    REQUIRE(s.find("SPAWN SITE") != std::string::npos);
    REQUIRE(s.find("sleeper") != std::string::npos);
    for (int i = 5; i < count_lines(s) - 2; i++) {
        std::string row = line_of(s, i);
        if (row.find("sleeper") == std::string::npos && row.find("main") == std::string::npos)
            continue;
        // The recording names no spawn site: "-" (or a bare address), never a function.
        CHECK(std::regex_search(row, std::regex("  (-|0x[0-9a-f]+) *$")));
        CHECK(row.find("stallgen.c") == std::string::npos);
    }
    term.keys("q");
    term.wait_for("top-exit=");
    unlink(file.c_str());
}

TEST_CASE("a replay's tasks screen and task detail exit 0 with nothing leaked", "[replay]")
{
    // Enter on the tasks screen builds the rows; a replay must free them as live top does.
    // In the sanitizer build (./dev test --sanitize) LeakSanitizer turns a leak into a
    // non-zero exit.
    std::string file = write_loopless_recording();
    tmux_screen term(120, 24);
    term.type_line(COSCOPE_EXE " top --replay " + file + "; echo top-exit=$?");
    term.wait_for("Tasks 2:");
    term.keys("3");
    term.wait_for("sleeper");
    term.keys("Down Enter");
    std::string s = term.wait_for("Task 1 \"main\"");
    INFO(s);
    CHECK(s.find("Task 1 \"main\"") != std::string::npos);
    term.keys("q");
    // The typed command line holds "top-exit=$?": wait for the digits. LeakSanitizer's
    // check at exit takes a while in the sanitizer build.
    s = term.wait_until(
        [](const std::string &screen) {
            return std::regex_search(screen, std::regex("top-exit=[0-9]"));
        },
        60000);
    INFO(s);
    CHECK(s.find("top-exit=0") != std::string::npos);
    unlink(file.c_str());
}
