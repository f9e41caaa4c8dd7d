// `coscope top` and `coscope stalls` watch one libcorun target side by side: both get their
// stalls from the same pipeline (collect/session.h), so for the same threshold they show
// the same stalls, named by the same tasks, ongoing ones included.
#include <catch2/catch.hpp>

#include <regex>
#include <string>
#include <vector>

#include "tmux_screen.h"

namespace
{
struct shown_stall {
    std::string task;
    double ms;
};

// "850us", "12.3ms", "1.34s" in milliseconds, or -1.
double to_ms(const std::string &text)
{
    std::smatch m;
    static const std::regex re("^([0-9.]+)(us|ms|s)");
    if (!std::regex_search(text, m, re))
        return -1;
    double v = std::stod(m[1]);
    return m[2] == "us" ? v / 1000 : m[2] == "ms" ? v : v * 1000;
}

// The finished stalls of top's stalls list, newest first.
std::vector<shown_stall> top_finished(const std::string &screen)
{
    static const std::regex row("^ [0-9:]{8} +([0-9.]+(?:us|ms|s)) +[0-9]+ (\\S+) ");
    std::vector<shown_stall> out;
    for (int i = 0; i < count_lines(screen); i++) {
        std::smatch m;
        std::string line = line_of(screen, i);
        if (std::regex_search(line, m, row))
            out.push_back({m[2], to_ms(m[1])});
    }
    return out;
}

// The final stalls `stalls --json` printed, newest first.
std::vector<shown_stall> json_finished(const std::vector<std::string> &lines)
{
    std::vector<shown_stall> out;
    static const std::regex name("\"task\":\\{\"id\":[0-9]+,\"name\":\"([^\"]*)\"");
    for (auto &l : final_stalls(lines)) {
        std::smatch m;
        std::string task = std::regex_search(l, m, name) ? std::string(m[1]) : "-";
        out.insert(out.begin(), {task, json_number(l, "duration_us") / 1000.0});
    }
    return out;
}

bool same_stall(const shown_stall &a, const shown_stall &b)
{
    double tol = std::max(20.0, 0.1 * b.ms);
    return a.task == b.task && a.ms > b.ms - tol && a.ms < b.ms + tol;
}
} // namespace

TEST_CASE("top and stalls --json show the same stalls of a libcorun target, task names included")
{
    // A CPU stall and a long blocking one, alternating: a stall missed or added by either
    // side breaks the alternation, a task named differently breaks the names.
    child_proc target;
    std::string port = std::to_string(free_tcp_port());
    REQUIRE(port != "0");
    REQUIRE(target.start(
        {STALLGEN_EXE, "--port", port, "--every", "500ms", "--stalls", "cpu:250ms,sleep:900ms"}));
    std::string pid = std::to_string(target.pid);
    REQUIRE(!target.read_line(10000).empty()); // its first stall: it runs

    child_proc stalls;
    REQUIRE(stalls.start(
        {COSCOPE_EXE, "stalls", "-p", pid, "--json", "-t", "150ms", "--max-rate", "0"}));
    REQUIRE(stalls.wait_err("watching 1 loop thread", 20000));
    tmux_screen term{120, 40};
    term.type_line(COSCOPE_EXE " top -p " + pid + " -i 200ms -t 150ms; echo top-exit=$?");
    std::string s = term.wait_for("Loops 1:");
    INFO(s);
    REQUIRE(s.find("Loops 1:") != std::string::npos);

    // Live: the ongoing stall names its task, as `stalls` does, never '-'.
    static const std::regex ongoing_named(">ongoing +[0-9.]+(?:us|ms|s)\\+? +[0-9]+ stall-sleep ");
    s = term.wait_until(
        [](const std::string &scr) { return std::regex_search(scr, ongoing_named); }, 20000);
    INFO(s);
    CHECK(std::regex_search(s, ongoing_named));

    // Six finished stalls seen by both since both were attached.
    s = term.wait_until([](const std::string &scr) { return top_finished(scr).size() >= 6; },
                        30000);
    term.keys("p"); // freeze top's picture; `stalls` catches up for a second
    s = term.wait_for("PAUSED");
    std::vector<shown_stall> shown = top_finished(s);
    usleep(1500000);
    kill(stalls.pid, SIGINT);
    std::vector<std::string> lines = stalls.read_all(20000);
    CHECK(stalls.wait_exit(10000) == 0);
    std::vector<shown_stall> printed = json_finished(lines);
    INFO(s);
    REQUIRE(shown.size() >= 6);

    // Align top's newest finished stall with the same one in the JSON stream, then both
    // lists must go back in time stall by stall (top attached later: it may have fewer).
    size_t at = 0;
    while (at < printed.size() && !same_stall(shown[0], printed[at]))
        at++;
    std::string listing;
    for (auto &p : printed)
        listing += p.task + " " + std::to_string(p.ms) + "ms\n";
    INFO("stalls --json, newest first:\n" << listing);
    REQUIRE(at < printed.size());
    size_t compared = 0;
    for (size_t i = 0; i < shown.size() && at + i < printed.size(); i++, compared++) {
        INFO("row " << i << ": top " << shown[i].task << " " << shown[i].ms << "ms, stalls "
                    << printed[at + i].task << " " << printed[at + i].ms << "ms");
        CHECK(same_stall(shown[i], printed[at + i]));
    }
    CHECK(compared >= 5);
    for (auto &st : shown)
        CHECK(st.task.rfind("stall-", 0) == 0); // every stall is named by its task

    term.keys("q");
    term.wait_for("top-exit=", 10000);
}
