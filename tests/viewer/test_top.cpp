// coscope top, driven through a real terminal: tmux runs it against an epoll loop that
// stalls on cue; the tests type keys and read the screen as a person would.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <cerrno>
#include <dirent.h>
#include <set>
#include <sys/stat.h>
#include <vector>
#include <netinet/in.h>
#include <sys/socket.h>
#include <csignal>
#include <regex>
#include <string>

#include "tmux_screen.h"

namespace
{

// An event loop ready for stall commands, and a terminal with coscope top attached to it.
struct top_session {
    child_proc target;
    tmux_screen term;
    std::string pid;

    explicit top_session(const std::string &env = "", int cols = 100, int rows = 30)
        : term(cols, rows)
    {
        REQUIRE(target.start({TARGET_EPOLL_FP}));
        REQUIRE(target.read_line(10000) == "ready");
        pid = std::to_string(target.pid);
        // 200 ms threshold: on a loaded 2-core machine preemption alone makes 50-100 ms
        // slices of an idle loop; the stalls the tests cause are 400 ms and longer.
        term.type_line(env + COSCOPE_EXE " top -p " + pid + " -i 200ms -t 200ms; echo top-exit=$?");
        std::string s = term.wait_for("Loops 1:");
        INFO(s);
        REQUIRE(s.find("Loops 1:") != std::string::npos);
    }

    // The first row of a finished stall (not '>ongoing') containing `what`, or "".
    std::string finished_row_with(const std::string &what, const std::string &screen)
    {
        size_t at = 0;
        while (at < screen.size()) {
            size_t end = screen.find('\n', at);
            if (end == std::string::npos)
                end = screen.size();
            std::string line = screen.substr(at, end - at);
            if (line.find(what) != std::string::npos && line.rfind(">ongoing", 0) != 0)
                return line;
            at = end + 1;
        }
        return "";
    }

    // Waits for a finished stall row containing `what`; returns the screen.
    std::string wait_finished(const std::string &what)
    {
        return term.wait_until(
            [&](const std::string &scr) { return !finished_row_with(what, scr).empty(); });
    }

    // The first screen line containing `what`, or "".
    std::string row_with(const std::string &what, const std::string &screen)
    {
        size_t at = screen.find(what);
        if (at == std::string::npos)
            return "";
        size_t start = screen.rfind('\n', at);
        start = start == std::string::npos ? 0 : start + 1;
        return screen.substr(start, screen.find('\n', at) - start);
    }
};

// "850us", "12.3ms", "1.34s" (optionally followed by '+') in milliseconds, or -1.
double parse_ms(const std::string &text)
{
    std::smatch m;
    static const std::regex re("([0-9.]+)(us|ms|s)");
    if (!std::regex_search(text, m, re))
        return -1;
    double v = std::stod(m[1]);
    return m[2] == "us" ? v / 1000 : m[2] == "ms" ? v : v * 1000;
}

// The DURATION column of a stalls-screen row (the second field).
std::string duration_field(const std::string &row)
{
    std::smatch m;
    static const std::regex re("^.(?:[0-9:]{8}|ongoing )\\s+(\\S+)");
    return std::regex_search(row, m, re) ? std::string(m[1]) : "";
}

bool all_ascii(const std::string &s)
{
    for (unsigned char c : s)
        if (c >= 0x80)
            return false;
    return true;
}

} // namespace

TEST_CASE("the header names the target, its loop, the stalls, lost events and the time")
{
    top_session t;
    std::string s = t.term.screen();
    INFO(s);
    CHECK(s.find("coscope top  pid " + t.pid + " (stall-target-ep)") != std::string::npos);
    CHECK(s.find("attached, per-thread tracepoints") != std::string::npos);
    CHECK(s.find("Loops 1: " + t.pid + " stall-target-ep") != std::string::npos);
    CHECK(std::regex_search(s, std::regex("Stalls: [0-9]+")));
    CHECK(s.find(">200ms") != std::string::npos);
    CHECK(s.find("lost 0") != std::string::npos);
    CHECK(std::regex_search(line_of(s, 0), std::regex("[0-9]{2}:[0-9]{2}:[0-9]{2}$")));
    CHECK(s.find("DURATION") != std::string::npos);
    t.term.keys("q");
}

TEST_CASE("a stall appears with its cause, and Enter shows its stack with file:line")
{
    top_session t;
    t.target.send("read 400");
    std::string s = t.wait_finished(" read ");
    INFO(s);
    std::string row = t.finished_row_with(" read ", s);
    INFO(row);
    REQUIRE(!row.empty());
    CHECK(row.find(t.pid) != std::string::npos);
    CHECK(row.find(" - ") != std::string::npos); // no task: a foreign loop
    double ms = parse_ms(duration_field(row));
    CHECK(ms >= 390);
    CHECK(ms < 2000);
    CHECK(s.find("worst ") != std::string::npos);

    t.term.keys("Enter");
    s = t.term.wait_for("stall_actions.c:");
    INFO(s);
    CHECK(s.find("Stall on thread " + t.pid) != std::string::npos);
    CHECK(s.find("cause: read") != std::string::npos);
    CHECK(s.find("blocking system calls") != std::string::npos);
    CHECK(s.find("stall_blocking_read") != std::string::npos);
    CHECK(std::regex_search(s, std::regex("stall_actions\\.c:[0-9]+")));

    t.term.keys("Escape");
    s = t.term.wait_for("DURATION");
    CHECK(s.find("DURATION") != std::string::npos);
    t.term.keys("q");
}

TEST_CASE("an ongoing stall is shown while it grows, then as a finished one")
{
    top_session t;
    t.target.send("sleep 4000");
    std::string s = t.term.wait_for(">ongoing ");
    INFO(s);
    std::string row = t.row_with(">ongoing ", s);
    REQUIRE(!row.empty());
    CHECK(s.find("STALLED") != std::string::npos);
    CHECK(s.find("ongoing 1") != std::string::npos);
    double first_ms = parse_ms(duration_field(row));
    usleep(1200000);
    s = t.term.screen();
    row = t.row_with(">ongoing ", s);
    INFO(s);
    REQUIRE(!row.empty());
    double later_ms = parse_ms(duration_field(row));
    CHECK(later_ms >= first_ms + 500);

    s = t.term.wait_until([&](const std::string &scr) {
        return scr.find(">ongoing ") == std::string::npos && !t.row_with("nanosleep", scr).empty();
    });
    INFO(s);
    CHECK(s.find(">ongoing ") == std::string::npos);
    row = t.row_with("nanosleep", s);
    CHECK(!row.empty());
    CHECK(parse_ms(duration_field(row)) >= 3900);
    t.term.keys("q");
}

TEST_CASE("help, loops and tasks screens answer their keys")
{
    top_session t;
    t.term.keys("?");
    std::string s = t.term.wait_for("Keys");
    INFO(s);
    CHECK(s.find("pause: freeze the picture") != std::string::npos);
    CHECK(s.find("q            quit") != std::string::npos);
    // Every key of the tasks screen is explained, a scroll away at most.
    t.term.keys("j j j j j j j j");
    s = t.term.wait_for("filter by name");
    CHECK(s.find("spawn tree <-> await graph") != std::string::npos);
    CHECK(s.find("reverse the sort") != std::string::npos);
    CHECK(s.find("fold / unfold") != std::string::npos);
    CHECK(s.find("follow the task under the cursor") != std::string::npos);
    t.term.keys("Escape");
    s = t.term.wait_for("DURATION");
    CHECK(s.find("DURATION") != std::string::npos);

    t.term.keys("2");
    s = t.term.wait_for("STALLS");
    CHECK(t.row_with("  " + t.pid + " stall-target-ep ", s).find(" ok") != std::string::npos);
    // The thread name whole (15 characters fit). A foreign loop: utilisation from the engine's
    // slices vs wait calls (once a second), its iteration histogram; scheduling latency needs
    // libcorun.
    s = t.term.wait_until([&](const std::string &scr) {
        return t.row_with("  " + t.pid + " stall-target-ep ", scr).find(" engine ") !=
               std::string::npos;
    });
    INFO(s);
    CHECK(std::regex_search(t.row_with("  " + t.pid + " stall-target-ep ", s),
                            std::regex(" [0-9]+% engine ")));
    CHECK(std::regex_search(s, std::regex("last +[0-9]+s")));
    CHECK(s.find("iteration duration (") != std::string::npos);
    CHECK(s.find("sched latency: needs libcorun") != std::string::npos);
    t.term.keys("3");
    s = t.term.wait_for("Tasks need libcorun.");
    CHECK(s.find("Tasks need libcorun.") != std::string::npos);
    t.term.keys("j k Tab");
    s = t.term.wait_for("DURATION");
    CHECK(s.find("DURATION") != std::string::npos);
    t.term.keys("q");
}

TEST_CASE("pause freezes the picture while collection goes on")
{
    top_session t;
    t.term.keys("p");
    std::string s = t.term.wait_for("PAUSED");
    REQUIRE(s.find("PAUSED") != std::string::npos);
    std::smatch m;
    REQUIRE(std::regex_search(s, m, std::regex("Stalls: [0-9]+")));
    std::string frozen_count = m[0];
    t.target.send("read 400");
    REQUIRE(t.target.read_line(10000).rfind("done", 0) == 0);
    usleep(800000);
    s = t.term.screen();
    INFO(s);
    CHECK(s.find(frozen_count + " ") != std::string::npos);
    CHECK(t.row_with(" read ", s).empty());

    t.term.keys("p");
    s = t.term.wait_for(" read ");
    INFO(s);
    CHECK(s.find("PAUSED") == std::string::npos);
    CHECK(!t.row_with(" read ", s).empty()); // collected while paused
    t.term.keys("q");
}

TEST_CASE("the screen fits 80x24 and follows a live resize")
{
    top_session t;
    t.target.send("read 500");
    t.wait_finished(" read ");
    for (auto size : {std::make_pair(80, 24), std::make_pair(132, 40), std::make_pair(80, 24)}) {
        t.term.resize(size.first, size.second);
        usleep(700000);
        std::string s = t.term.screen();
        INFO(size.first << "x" << size.second << "\n" << s);
        CHECK(count_lines(s) == size.second);
        std::string top = line_of(s, 0);
        CHECK(top.size() <= (size_t)size.first);
        CHECK(std::regex_search(top, std::regex("[0-9]{2}:[0-9]{2}:[0-9]{2}$")));
        CHECK(line_of(s, size.second - 1).find("q quit") != std::string::npos);
        CHECK(!t.row_with(" read ", s).empty());
    }
    // The loops screen's legend is whole at 80 columns (it takes two lines there).
    t.term.keys("2");
    std::string s = t.term.wait_for("STALLED: time in stalls >");
    INFO(s);
    CHECK(s.find("UTIL: busy share of the last second") != std::string::npos);
    CHECK(std::regex_search(s, std::regex("STALLED: time in stalls > [0-9.]+m?s\\.")));
    t.term.keys("q");
}

TEST_CASE("q gives the terminal back to the shell and exits 0")
{
    top_session t;
    t.term.keys("q");
    std::string s = t.term.wait_for("top-exit=0");
    INFO(s);
    CHECK(s.find("top-exit=0") != std::string::npos);
    CHECK(s.find("coscope top  pid") == std::string::npos);
    CHECK(s.find("0 stalls, 0 lost events") != std::string::npos);
    // The shell is back and takes input.
    t.term.type_line("echo shell-is-back");
    CHECK(t.term.wait_for("shell-is-back\ncs-shell$").find("shell-is-back\ncs-shell$") !=
          std::string::npos);
    CHECK(!t.target.exited()); // detached, the target runs on
}

TEST_CASE("SIGTERM gives the terminal back")
{
    top_session t;
    int cs = child_named(t.term.shell_pid(), "coscope");
    REQUIRE(cs > 0);
    REQUIRE(kill(cs, SIGTERM) == 0);
    std::string s = t.term.wait_for("top-exit=0");
    INFO(s);
    CHECK(s.find("top-exit=0") != std::string::npos);
    CHECK(s.find("coscope top  pid") == std::string::npos);
}

TEST_CASE("SIGTERM while top is still attaching ends it like a later one: summary, exit 0")
{
    // Before the probes are loaded the default action would kill coscope (status 143, no
    // summary); the signal is caught from the first instruction on.
    child_proc target;
    REQUIRE(target.start({TARGET_EPOLL_FP}));
    REQUIRE(target.read_line(10000) == "ready");
    tmux_screen term(100, 30);
    term.type_line(COSCOPE_EXE " top -p " + std::to_string(target.pid) +
                   " -i 200ms; echo top-exit=$?");
    int cs = 0;
    for (int i = 0; i < 4000 && cs <= 0; i++) { // as soon as it exists: within its attach
        cs = child_named(term.shell_pid(), "coscope");
        if (cs <= 0)
            usleep(500);
    }
    REQUIRE(cs > 0);
    REQUIRE(kill(cs, SIGTERM) == 0);
    std::string s = term.wait_for("top-exit=0");
    INFO(s);
    CHECK(s.find("top-exit=0") != std::string::npos);
    CHECK(s.find("lost events") != std::string::npos); // the summary's closing line
    CHECK(!target.exited());
}

TEST_CASE("the target exiting is shown, then coscope exits 3 with the terminal restored")
{
    top_session t;
    t.target.send("quit");
    // The header says so first (coscope lingers 2 s), then the shell shows the exit.
    std::string s = t.term.wait_for("process " + t.pid + " exited");
    INFO(s);
    CHECK(line_of(s, 3).find("process " + t.pid + " exited") != std::string::npos);
    s = t.term.wait_for("top-exit=3");
    INFO(s);
    CHECK(s.find("coscope: process " + t.pid + " exited") != std::string::npos);
    CHECK(s.find("top-exit=3") != std::string::npos);
    CHECK(s.find("coscope top  pid") == std::string::npos);
}

TEST_CASE("without colour or UTF-8 the screens fall back to plain ASCII")
{
    top_session t("TERM=vt100 LANG=C LC_ALL=C ");
    t.target.send("read 400");
    std::string s = t.term.wait_for(" read ");
    INFO(s);
    CHECK(s.find(" read ") != std::string::npos);
    CHECK(all_ascii(s));
    t.term.keys("2");
    s = t.term.wait_until(
        [](const std::string &scr) { return std::regex_search(scr, std::regex("last +[2-9]s")); });
    INFO(s);
    CHECK(std::regex_search(s, std::regex("last +[2-9]s")));
    CHECK(all_ascii(s)); // the sparkline in ASCII levels, the histogram bars in '#'
    CHECK(s.find("#") != std::string::npos);
    t.term.keys("1 Enter");
    s = t.term.wait_for("stack 1 of");
    CHECK(all_ascii(s));
    t.term.keys("q");
    CHECK(t.term.wait_for("top-exit=0").find("top-exit=0") != std::string::npos);
}

TEST_CASE("a libcorun target shows its task tree, the await graph, a filter and histograms")
{
    tmux_screen term(100, 30);
    // A port of its own: other tests on this machine may run stallgen too.
    std::string port = std::to_string(free_tcp_port());
    REQUIRE(port != "0");
    term.type_line(COSCOPE_EXE " top -i 200ms -- " STALLGEN_EXE " --port " + port +
                   " --every 1s; echo top-exit=$?");
    std::string s = term.wait_for("Loops 1:");
    REQUIRE(s.find("launched") != std::string::npos);
    std::smatch m;
    REQUIRE(std::regex_search(s, m, std::regex("pid ([0-9]+) \\(stallgen\\)")));
    int stallgen_pid = std::stoi(m[1]);
    // Stalls on a libcorun loop name the task that held it (stallgen's stall-<kind>).
    s = term.wait_until(
        [](const std::string &scr) {
            return std::regex_search(scr, std::regex("stall-read +read [0-9]"));
        },
        30000);
    INFO(s);
    CHECK(std::regex_search(s, std::regex("stall-read +read [0-9]")));
    term.keys("3");
    // Per-task statistics appear once coscope holds the runtime's stats semaphore.
    s = term.wait_for("spawn tree (a: await graph)");
    INFO(s);
    REQUIRE(s.find("spawn tree (a: await graph)") != std::string::npos);
    // The ticker waits in its sleep most of the time (it is ready while a stall holds
    // the loop): wait for a snapshot that shows it so.
    s = term.wait_until([](const std::string &scr) {
        return std::regex_search(scr, std::regex("[0-9]+    ticker +waiting sleep")) &&
               std::regex_search(scr, std::regex("1 -main +waiting"));
    });
    CHECK(std::regex_search(s, std::regex("loop 1  tid [0-9]+  [0-9]+ tasks")));
    CHECK(std::regex_search(s, std::regex("1 -main +waiting")));
    CHECK(std::regex_search(s, std::regex("[0-9]+    ticker +waiting sleep")));
    CHECK(std::regex_search(s, std::regex("[0-9]+    accept +waiting fd [0-9]+")));

    CHECK(std::regex_search(s, std::regex("Tasks [0-9]+: [0-9]+ running, [0-9]+ ready, "
                                          "[0-9]+ waiting")));

    // Sorting by name (descending) puts ticker before signal-watcher before accept.
    term.keys("> r");
    s = term.wait_for("NAMEv");
    INFO(s);
    CHECK(s.find("NAMEv") != std::string::npos);
    CHECK(s.find("ticker") < s.find("signal-watcher"));
    CHECK(s.find("signal-watcher") < s.find("accept"));
    term.keys("< r");
    s = term.wait_for("ID^");
    // Folding main (the root of the spawn tree) hides its children; unfolding shows them.
    term.keys("Home Down -");
    s = term.wait_for("+main");
    INFO(s);
    CHECK(s.find("+main") != std::string::npos);
    CHECK(s.find("ticker") == std::string::npos);
    term.keys("+");
    s = term.wait_for("ticker");
    CHECK(s.find("-main") != std::string::npos);

    term.keys("a");
    s = term.wait_for("await graph (a: spawn tree)");
    CHECK(s.find("await graph (a: spawn tree)") != std::string::npos);
    term.keys("a");

    term.keys("/ t i c k Enter");
    s = term.wait_for("/tick");
    INFO(s);
    CHECK(s.find("ticker") != std::string::npos);
    CHECK(s.find("accept") == std::string::npos);
    CHECK(s.find("signal-watcher") == std::string::npos);

    // The cursor goes to the ticker row (below its loop and main); Enter opens it.
    term.keys("Down Down Enter");
    s = term.wait_for("scheduling latency: ready -> resumed");
    INFO(s);
    CHECK(s.find("Task ") != std::string::npos);
    CHECK(s.find("\"ticker\"") != std::string::npos);
    s = term.wait_for("polls ", 20000);
    CHECK(std::regex_search(s, std::regex("polls [1-9][0-9]*")));
    CHECK(s.find("\u2588") != std::string::npos); // a histogram bar

    term.keys("Escape / Escape");
    s = term.wait_for("signal-watcher");
    CHECK(s.find("signal-watcher") != std::string::npos);
    term.keys("q");
    s = term.wait_for("top-exit=0");
    INFO(s);
    CHECK(s.find("top-exit=0") != std::string::npos);
    // Stopped by coscope, not failed: its output is not kept.
    CHECK(s.find("coscope: the output of") == std::string::npos);
    // The command coscope started ends with it.
    CHECK(s.find("coscope: stopped") != std::string::npos);
    CHECK((kill(stallgen_pid, 0) == -1 && errno == ESRCH));
}

namespace
{

// `coscope top` on stallgen (a port of its own: other tests may run stallgen too), on its
// tasks screen.
struct stallgen_top {
    tmux_screen term{100, 30};

    explicit stallgen_top(const std::string &stallgen_args, const std::string &top_args = "")
    {
        std::string port = std::to_string(free_tcp_port());
        REQUIRE(port != "0");
        term.type_line(COSCOPE_EXE " top -i 200ms " + top_args + " -- " STALLGEN_EXE " --port " +
                       port + " " + stallgen_args + "; echo top-exit=$?");
        std::string s = term.wait_for("Loops 1:");
        REQUIRE(s.find("launched") != std::string::npos);
    }
    ~stallgen_top()
    {
        term.keys("q");
        term.wait_for("top-exit=", 10000);
    }

    // Pauses, moves the cursor onto the first task row matching `re` and opens its detail.
    // Returns the detail screen ("" if no such row was on screen).
    std::string open_row(const std::regex &re)
    {
        term.keys("p");
        std::string s = term.wait_for("PAUSED");
        int cursor = -1, target = -1;
        for (int i = 0; i < count_lines(s); i++) {
            std::string line = line_of(s, i);
            if (cursor < 0 && line.find(" loop 1  tid") != std::string::npos)
                cursor = i; // the cursor starts on the loop row
            if (target < 0 && std::regex_search(line, re))
                target = i;
        }
        std::string detail;
        if (cursor >= 0 && target > cursor) {
            term.keys("Home");
            for (int i = cursor; i < target; i++)
                term.keys("Down");
            term.keys("Enter");
            detail = term.wait_for(" Task ");
        }
        term.keys("Escape p");
        term.wait_until(
            [](const std::string &scr) { return scr.find("PAUSED") == std::string::npos; });
        return detail;
    }
};

} // namespace

// Whether a line of the screen matches `re`.
bool has_line(const std::string &screen, const std::regex &re)
{
    for (int i = 0; i < count_lines(screen); i++)
        if (std::regex_search(line_of(screen, i), re))
            return true;
    return false;
}

TEST_CASE("tasks that hold the loop are marked: never yielded, blocked in a system call")
{
    stallgen_top t("--every 1s --stalls cpu:600ms,sleep:600ms", "-t 200ms");
    t.term.keys("3");
    // The warning column: Y (never yielded) on stall-cpu, B (blocking call) on stall-sleep.
    static const std::regex cpu_row("^Y +[0-9]+ +stall-cpu "),
        sleep_row("^B +[0-9]+ +stall-sleep ");
    auto has = has_line;
    std::string s = t.term.wait_until(
        [&](const std::string &scr) { return has(scr, cpu_row) && has(scr, sleep_row); }, 30000);
    INFO(s);
    REQUIRE(has(s, cpu_row));
    REQUIRE(has(s, sleep_row));
    CHECK(s.find("! ID") != std::string::npos);
    // The ticker is well-behaved: it may wait for the loop (R: woken but not run while a
    // stall holds it), but never holds it.
    CHECK(std::regex_search(s, std::regex("\n[ R] +[0-9]+ +ticker ")));
    CHECK(!std::regex_search(s, std::regex("\nB +[0-9]+ +stall-cpu ")));

    // The detail says what the warning is about, with the figure behind it.
    std::string d;
    for (int attempt = 0; attempt < 3 && d.find("never yielded") == std::string::npos; attempt++)
        d = t.open_row(cpu_row);
    INFO(d);
    CHECK(d.find("\"stall-cpu\"") != std::string::npos);
    CHECK(std::regex_search(d, std::regex("! never yielded for [0-9.]+(ms|s) ")));
    CHECK(d.find("blocked in syscall") == std::string::npos);
    for (int attempt = 0; attempt < 3 && d.find("blocked in syscall") == std::string::npos;
         attempt++)
        d = t.open_row(sleep_row);
    INFO(d);
    CHECK(d.find("\"stall-sleep\"") != std::string::npos);
    CHECK(
        std::regex_search(d, std::regex("! blocked in syscall clock_nanosleep for [0-9.]+(ms|s)")));
}

namespace
{

// Presses and releases mouse button 1 at (row, col), 0-based, the way an xterm-like
// terminal without SGR mode reports it (TERM=screen's kmous=\E[M): ESC [ M, then the
// button, column and row, each plus 32 (plus one more for 1-based positions).
void click(const tmux_screen &term, int row, int col)
{
    char hex[96];
    snprintf(hex, sizeof hex, "send-keys -t top -H 1b 5b 4d 20 %02x %02x 1b 5b 4d 23 %02x %02x",
             33 + col, 33 + row, 33 + col, 33 + row);
    term.run(hex);
}

int line_index(const std::string &screen, const std::string &what)
{
    for (int i = 0; i < count_lines(screen); i++)
        if (line_of(screen, i).find(what) != std::string::npos)
            return i;
    return -1;
}

} // namespace

TEST_CASE("a task that failed and was never joined is marked J; one that ended well is not")
{
    // stallgen's fail-unjoined returns ECONNREFUSED at once, ok-unjoined returns 0; main
    // joins neither. J waits for the join grace (1 s).
    stallgen_top t("--every 60s", "-t 200ms");
    t.term.keys("3");
    static const std::regex failed_row("^J +[0-9]+ +fail-unjoined +failed "),
        ok_row("^  +[0-9]+ +ok-unjoined +done ");
    std::string s = t.term.wait_until(
        [&](const std::string &scr) { return has_line(scr, failed_row) && has_line(scr, ok_row); },
        30000);
    INFO(s);
    REQUIRE(has_line(s, failed_row));
    CHECK(has_line(s, ok_row)); // no warning letter on the task that ended well

    std::string d;
    for (int attempt = 0; attempt < 3 && d.find("never joined") == std::string::npos; attempt++)
        d = t.open_row(failed_row);
    INFO(d);
    CHECK(d.find("\"fail-unjoined\"") != std::string::npos);
    CHECK(d.find("outcome: failed, returned ECONNREFUSED (-111, Connection refused)") !=
          std::string::npos);
    CHECK(std::regex_search(d, std::regex("! failed and never joined for [0-9.]+(ms|s)")));
    for (int attempt = 0; attempt < 3 && d.find("\"ok-unjoined\"") == std::string::npos; attempt++)
        d = t.open_row(ok_row);
    INFO(d);
    CHECK(d.find("\"ok-unjoined\"") != std::string::npos);
    CHECK(std::regex_search(d, std::regex("outcome: ok, not joined yet after [0-9.]+(ms|s)")));
    CHECK(d.find("! ") == std::string::npos);
}

TEST_CASE("tasks show how long they have been idle and where they were spawned")
{
    stallgen_top t("--every 60s");
    t.term.resize(160, 30); // IDLE and SPAWN SITE sit right of AGE
    t.term.keys("3");
    static const std::regex ticker_row(
        " ticker +[a-z]+ .* [0-9.]+(ns|us|ms|s) +([0-9.]+(ns|us|ms|s)|0) +main_task "
        "\\(stallgen\\.c:[0-9]+\\)");
    std::string s =
        t.term.wait_until([&](const std::string &scr) { return has_line(scr, ticker_row); }, 20000);
    INFO(s);
    CHECK(std::regex_search(s, std::regex("AGE +IDLE +SPAWN SITE")));
    // The header: the loops' rate and the scheduling latency over all tasks.
    s = t.term.wait_until(
        [&](const std::string &scr) {
            return std::regex_search(
                scr, std::regex("[0-9]+ iter/s  sched p50 [0-9.]+[mun]?s p99 [0-9.]+[mun]?s"));
        },
        20000);
    CHECK(std::regex_search(
        s, std::regex("[0-9]+ iter/s  sched p50 [0-9.]+[mun]?s p99 [0-9.]+[mun]?s")));
    CHECK(has_line(s, ticker_row));
    CHECK(std::regex_search(s, std::regex("[-+ ]main +waiting .* main \\(stallgen\\.c:[0-9]+\\)")));
    // Both columns sort: '<' from ID goes to the last column, SPAWN SITE, then IDLE.
    t.term.keys("<");
    s = t.term.wait_for("SPAWN SITE^");
    CHECK(s.find("SPAWN SITE^") != std::string::npos);
    t.term.keys("<");
    s = t.term.wait_for("IDLE^");
    CHECK(s.find("IDLE^") != std::string::npos);
}

TEST_CASE("a click selects a task; f follows it across re-sorts, else the cursor keeps its row")
{
    // No stall round during the test: the tree holds just main, its three helpers and
    // the two tasks nobody joins (fail-unjoined, ok-unjoined).
    stallgen_top t("--every 60s");
    t.term.keys("3");
    std::string s = t.term.wait_for("ticker");
    int row = line_index(s, " ticker ");
    REQUIRE(row > 0);
    click(t.term, row, 12);
    t.term.keys("Enter");
    s = t.term.wait_for(" Task ");
    INFO(s);
    CHECK(s.find("\"ticker\"") != std::string::npos);
    t.term.keys("Escape");

    // Following: sorted by name, descending, then ascending - the cursor stays on ticker.
    t.term.keys("f");
    s = t.term.wait_for("following 4 ticker");
    INFO(s);
    REQUIRE(s.find("following 4 ticker") != std::string::npos);
    t.term.keys("> r");
    t.term.wait_for("NAMEv");
    t.term.keys("r Enter");
    s = t.term.wait_for(" Task ");
    INFO(s);
    CHECK(s.find("\"ticker\"") != std::string::npos);
    t.term.keys("Escape");
    s = t.term.wait_for("NAME^");
    // Ascending by name under main: accept, fail-unjoined, ok-unjoined, signal-watcher,
    // ticker (the cursor is on ticker, the last row). Not following, a reverse keeps the
    // cursor on that row, which now holds accept.
    t.term.keys("f");
    s = t.term.wait_until(
        [](const std::string &scr) { return scr.find("following") == std::string::npos; });
    CHECK(line_index(s, " accept ") < line_index(s, " ticker "));
    t.term.keys("r Enter");
    s = t.term.wait_for(" Task ");
    INFO(s);
    CHECK(s.find("\"accept\"") != std::string::npos);
    t.term.keys("Escape");

    // A click on a tab switches screens.
    click(t.term, 3, 12);
    s = t.term.wait_for("STALLS");
    CHECK(s.find("THREAD") != std::string::npos);
}

TEST_CASE("the loops screen shows libcorun's own utilisation, a sparkline and two histograms")
{
    stallgen_top t("--every 1s --stalls cpu:300ms,sleep:300ms", "-t 200ms");
    t.term.keys("2");
    std::string s = t.term.wait_until(
        [](const std::string &scr) {
            return std::regex_search(scr, std::regex("last +[3-9]s")) &&
                   std::regex_search(scr, std::regex(" stallgen +[0-9]+% runtime ")) &&
                   scr.find("sched latency (ready->run) (") != std::string::npos;
        },
        30000);
    INFO(s);
    // Utilisation from the runtime's busy vs poll-wait counters, not the thread's CPU use.
    CHECK(std::regex_search(s, std::regex(" stallgen +[0-9]+% runtime ")));
    std::string spark = line_of(s, line_index(s, "% runtime ") + 1);
    INFO(spark);
    bool blocks = false;
    for (const char *b :
         {"\u2581", "\u2582", "\u2583", "\u2584", "\u2585", "\u2586", "\u2587", "\u2588"})
        blocks |= spark.find(b) != std::string::npos;
    CHECK(blocks);
    CHECK(s.find("iteration duration (") != std::string::npos);
    CHECK(s.find("sched latency (ready->run) (") != std::string::npos);
    // The stalls show in the iteration histogram: a bucket around 300 ms.
    CHECK(std::regex_search(s, std::regex("(134ms-268ms|268ms-536ms) +[1-9][0-9]* ")));
    CHECK(s.find("\u2588") != std::string::npos);
}

TEST_CASE("stalls of a launched command are named by their task from the very first one")
{
    // The first stall comes ~300 ms after the start: before libcorun was mapped when
    // coscope attached, it used to be shown with task '-' for the first ~2 s.
    stallgen_top t("--every 300ms --stalls cpu:300ms,sleep:300ms", "-t 200ms");
    auto finished = [](const std::string &scr, const std::regex &re) {
        int n = 0;
        for (int i = 5; i < count_lines(scr); i++)
            n += std::regex_search(line_of(scr, i), re);
        return n;
    };
    static const std::regex named("^ [0-9:]{8} +[0-9.]+m?s +[0-9]+ stall-(cpu|sleep) ");
    static const std::regex unnamed("^ [0-9:]{8} +[0-9.]+m?s +[0-9]+ - ");
    std::string s =
        t.term.wait_until([&](const std::string &scr) { return finished(scr, named) >= 4; }, 30000);
    INFO(s);
    CHECK(finished(s, named) >= 4);
    CHECK(finished(s, unnamed) == 0);
    CHECK(std::regex_search(s, std::regex("Stalls: [4-9]")));
}
