// `coscope top --replay FILE` in a real terminal (tmux): the recording plays in the same
// screens as live, and space pauses, n steps, + / - change the speed.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <regex>
#include <sys/stat.h>
#include <string>
#include <unistd.h>

#include "test_util.h"
#include "viewer/tmux_screen.h"

namespace
{

// "+1.5s/4.2s" of the header: where the replay clock is, in s; -1 if not shown.
double replay_clock(const std::string &screen)
{
    std::smatch m;
    if (!std::regex_search(screen, m, std::regex("\\+([0-9]+\\.[0-9])s/([0-9]+\\.[0-9])s")))
        return -1;
    return std::atof(m[1].str().c_str());
}

long stalls_shown(const std::string &screen)
{
    std::smatch m;
    if (!std::regex_search(screen, m, std::regex("Stalls: ([0-9]+)")))
        return -1;
    return std::atol(m[1].str().c_str());
}

} // namespace

TEST_CASE("top --replay plays a recording in the live screens, with pause, step and speed")
{
    std::string file = "/tmp/cs-replay-" + std::to_string(getpid()) + ".csrec";
    std::string port = std::to_string(20000 + (getpid() + 29) % 20000);
    auto rec = run_command(std::string(COSCOPE_EXE) + " record -o " + file + " -t 80ms -- " +
                           STALLGEN_EXE + " --port " + port +
                           " --every 500ms --count 2 --stalls cpu:120ms,read:150ms");
    INFO(rec.err);
    REQUIRE(rec.status == 0);

    tmux_screen term(100, 30);
    term.type_line(std::string(COSCOPE_EXE) + " top --replay " + file + " -i 100ms; echo rc=$?");
    std::string s = term.wait_for("Stalls: "); // the header: the typed line holds "replay" too
    INFO(s);
    REQUIRE(s.find("coscope top") != std::string::npos);
    CHECK(s.find("(stallgen)") != std::string::npos);

    // Pause at once: the clock stops, the picture stays.
    term.keys("Space");
    s = term.wait_for("PAUSED");
    REQUIRE(s.find("PAUSED") != std::string::npos);
    double at = replay_clock(s);
    long stalls = stalls_shown(s);
    usleep(800000);
    s = term.screen();
    CHECK(replay_clock(s) == at);
    CHECK(stalls_shown(s) == stalls);

    // Step from event to event: the clock moves forward and the four stalls appear.
    s = term.wait_until(
        [&](const std::string &scr) {
            if (stalls_shown(scr) >= 4)
                return true;
            term.keys("n");
            return false;
        },
        30000);
    CHECK(stalls_shown(s) == 4);
    CHECK(replay_clock(s) > at);
    CHECK(s.find("stall-read") != std::string::npos);
    CHECK(s.find("stall-cpu") != std::string::npos);

    // Speed: + doubles it, shown once the clock runs again.
    term.keys("+ + Space");
    s = term.wait_until([](const std::string &scr) {
        return scr.find("x4") != std::string::npos || scr.find("END") != std::string::npos;
    });
    CHECK((s.find("x4") != std::string::npos || s.find("END") != std::string::npos));

    // The tasks screen shows the recorded tasks.
    term.keys("3");
    s = term.wait_for("ticker");
    CHECK(s.find("ticker") != std::string::npos);

    term.keys("q");
    s = term.wait_for("rc=0"); // the typed line shows "rc=$?"
    CHECK(s.find("rc=0") != std::string::npos);
    unlink(file.c_str());
}

TEST_CASE("top --replay refuses what is not a recording before it takes the terminal")
{
    tmux_screen term(100, 30);
    term.type_line(std::string(COSCOPE_EXE) + " top --replay /etc/passwd; echo rc=$?");
    std::string s = term.wait_for("rc=7");
    INFO(s);
    CHECK(s.find("not a coscope recording") != std::string::npos);
    CHECK(s.find("rc=7") != std::string::npos);
}

TEST_CASE("top --replay on a FIFO or a directory fails at once with one line")
{
    char tmpl[] = "/tmp/cs-replay-fifo-XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    std::string dir = tmpl, fifo = dir + "/fifo.csrec";
    REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
    tmux_screen term(100, 30);
    // timeout: a replay that opened the FIFO would wait for a writer forever (rc=124)
    term.type_line("timeout 20 " + std::string(COSCOPE_EXE) + " top --replay " + fifo +
                   "; echo rc=$?");
    std::string s = term.wait_for("rc=2");
    INFO(s);
    CHECK(s.find("not a regular file") != std::string::npos);
    CHECK(s.find("rc=2") != std::string::npos);
    term.type_line("clear; timeout 20 " + std::string(COSCOPE_EXE) + " top --replay " + dir +
                   "; echo dir-rc=$?");
    s = term.wait_for("dir-rc=2");
    INFO(s);
    CHECK(s.find("it is a directory") != std::string::npos);
    CHECK(s.find("dir-rc=2") != std::string::npos);
    std::system(("rm -rf '" + dir + "'").c_str());
}

namespace
{

// "850us", "12.3ms", "1.34s" in ms, or -1.
double replay_ms(const std::string &text)
{
    std::smatch m;
    if (!std::regex_search(text, m, std::regex("^([0-9.]+)(ns|us|ms|s)$")))
        return -1;
    double v = std::stod(m[1]);
    return m[2] == "ns" ? v / 1e6 : m[2] == "us" ? v / 1000 : m[2] == "ms" ? v : v * 1000;
}

bool replay_has_line(const std::string &screen, const std::regex &re)
{
    for (int i = 0; i < count_lines(screen); i++)
        if (std::regex_search(line_of(screen, i), re))
            return true;
    return false;
}

} // namespace

TEST_CASE("top --replay shows what live shows: stalls so far, waits, failures, loop figures")
{
    std::string file = "/tmp/cs-replay-" + std::to_string(getpid()) + "-live.csrec";
    std::string port = std::to_string(20000 + (getpid() + 31) % 20000);
    auto rec = run_command(std::string(COSCOPE_EXE) + " record -o " + file + " -t 80ms -- " +
                           STALLGEN_EXE + " --port " + port +
                           " --every 500ms --count 3 --stalls cpu:700ms");
    INFO(rec.err);
    REQUIRE(rec.status == 0);

    tmux_screen term(100, 30);
    term.type_line(std::string(COSCOPE_EXE) + " top --replay " + file + " -i 100ms; echo rc=$?");
    std::string s = term.wait_for("Stalls: ");
    INFO(s);
    // The header says it is a replay, of which file, not that coscope is attached.
    std::string base = file.substr(file.rfind('/') + 1);
    CHECK(line_of(s, 0).find("replay ") != std::string::npos);
    CHECK(line_of(s, 0).find(" of " + base) != std::string::npos);
    CHECK(line_of(s, 0).find("attached") == std::string::npos);

    // A stall in progress: what it has spent on the CPU so far is within its duration.
    std::string row;
    s = term.wait_until(
        [&](const std::string &scr) {
            for (int i = 5; i < count_lines(scr); i++)
                if (line_of(scr, i).rfind(">ongoing", 0) == 0) {
                    row = line_of(scr, i);
                    std::smatch m;
                    // Mid-stall, not its first instant: both figures in ms.
                    return std::regex_search(row, m, std::regex("^>ongoing +([0-9.]+ms)\\+")) &&
                           replay_ms(m[1]) >= 100;
                }
            return false;
        },
        20000);
    INFO(s);
    std::smatch m;
    REQUIRE(std::regex_search(
        row, m, std::regex("^>ongoing +(\\S+)\\+ +[0-9]+ +stall-cpu +CPU +(\\S+) +(\\S+)")));
    double dur = replay_ms(m[1]), on = replay_ms(m[2]), off = replay_ms(m[3]);
    INFO(row);
    CHECK(dur > 0);
    CHECK(on >= 0);
    CHECK(on <= dur);
    CHECK(on + off <= dur * 1.01 + 0.01);

    // To the end, fast: tasks, their waits and the failed one marked as live marks it.
    term.keys("] ] ] ]");
    s = term.wait_for("END", 30000);
    REQUIRE(s.find("END") != std::string::npos);
    term.keys("3");
    s = term.wait_for("fail-unjoined");
    INFO(s);
    CHECK(replay_has_line(s, std::regex("^J +[0-9]+ +fail-unjoined +failed ")));
    CHECK(!replay_has_line(s, std::regex(" waiting +none ")));
    CHECK(!replay_has_line(s, std::regex(" waiting +fd 0 ")));
    CHECK(!replay_has_line(s, std::regex("1 -main +waiting +task 1 ")));

    // The loops screen has the recorded statistics.
    term.keys("2");
    s = term.wait_for("STALLS");
    INFO(s);
    CHECK(s.find("no statistics yet") == std::string::npos);
    CHECK(s.find("iteration duration (") != std::string::npos);
    CHECK(s.find("sched latency (ready->run) (") != std::string::npos);
    CHECK(std::regex_search(s, std::regex(" stallgen +[0-9]+% runtime ")));

    term.keys("q");
    s = term.wait_for("rc=0");
    CHECK(s.find("rc=0") != std::string::npos);
    unlink(file.c_str());
}
