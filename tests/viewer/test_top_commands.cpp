// coscope top and the commands it starts, driven through a real terminal (tmux): where a
// launched command's output goes, what a command that fails or cannot run leaves behind,
// and how top answers without a terminal or with a bad option.
#include <catch2/catch.hpp>

#include <dirent.h>
#include <sys/stat.h>
#include <cerrno>
#include <csignal>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "tmux_screen.h"

namespace
{

// The /tmp entries named like top's log directory (coscope-top-XXXXXX).
std::set<std::string> top_log_dirs()
{
    std::set<std::string> names;
    if (DIR *d = opendir("/tmp")) {
        while (struct dirent *e = readdir(d))
            if (std::string(e->d_name).rfind("coscope-top-", 0) == 0)
                names.insert(std::string("/tmp/") + e->d_name);
        closedir(d);
    }
    return names;
}

int mode_of(const std::string &path)
{
    struct stat st;
    return lstat(path.c_str(), &st) == 0 ? (int)(st.st_mode & 07777) : -1;
}

// top without $XDG_RUNTIME_DIR: its private directory goes to /tmp, where the test looks.
const std::string top_cmd = "env -u XDG_RUNTIME_DIR " COSCOPE_EXE " top -i 200ms ";

} // namespace

TEST_CASE("a command top started writes its output in a private directory, gone at exit")
{
    auto before = top_log_dirs();
    tmux_screen term(100, 30);
    std::string port = std::to_string(free_tcp_port());
    REQUIRE(port != "0");
    term.type_line(top_cmd + "-- " STALLGEN_EXE " --port " + port +
                   " --every 1s; echo top-exit=$?");
    std::string s = term.wait_for("Loops 1:");
    REQUIRE(s.find("launched") != std::string::npos);
    std::vector<std::string> made;
    for (auto &d : top_log_dirs())
        if (!before.count(d))
            made.push_back(d);
    REQUIRE(made.size() == 1); // a fresh name, not coscope-top-<pid>.log
    CHECK(mode_of(made[0]) == 0700);
    CHECK(mode_of(made[0] + "/output.log") == 0600);
    term.keys("q");
    s = term.wait_for("top-exit=0");
    INFO(s);
    CHECK(s.find("top-exit=0") != std::string::npos);
    CHECK(s.find("coscope: the output of") == std::string::npos);
    CHECK(mode_of(made[0]) == -1); // the file and its directory are gone
    CHECK(top_log_dirs() == before);
}

TEST_CASE("a command that fails keeps its output, and top prints where")
{
    auto before = top_log_dirs();
    tmux_screen term(120, 30);
    // (double quotes: type_line sends the line inside single quotes)
    term.type_line(top_cmd +
                   "-- sh -c \"sleep 1; echo oops-from-sh >&2; exit 3\"; echo top-exit=$?");
    // top itself exits 0: the command it started finished
    std::string s = term.wait_for("top-exit=0", 30000);
    INFO(s);
    CHECK(s.find("coscope: sh exited with status 3") != std::string::npos);
    std::smatch m;
    REQUIRE(std::regex_search(s, m,
                              std::regex("coscope: the output of sh is in (/tmp/coscope-top-"
                                         "[A-Za-z0-9]{6})/output.log")));
    std::string dir = m[1];
    CHECK(!before.count(dir));
    CHECK(mode_of(dir) == 0700);
    CHECK(mode_of(dir + "/output.log") == 0600);
    CHECK(slurp_file(dir + "/output.log") == "oops-from-sh\n");
    unlink((dir + "/output.log").c_str());
    rmdir(dir.c_str());
}

TEST_CASE("top -- a command that cannot run says so on the terminal, exit 2, nothing left")
{
    auto before = top_log_dirs();
    tmux_screen term(100, 30);
    term.type_line(top_cmd + "-- /nonexistent/coscope-cmd; echo top-exit=$?");
    std::string s = term.wait_for("top-exit=2");
    INFO(s);
    CHECK(s.find("coscope: cannot run '/nonexistent/coscope-cmd': No such file or directory") !=
          std::string::npos);
    CHECK(s.find("top-exit=2") != std::string::npos);
    CHECK(top_log_dirs() == before);
}

TEST_CASE("without a terminal, or with a bad option, coscope top says so and exits 2")
{
    child_proc no_tty;
    REQUIRE(no_tty.start({COSCOPE_EXE, "top", "-p", std::to_string(getpid())}));
    CHECK(no_tty.wait_exit(10000) == 2);
    CHECK(no_tty.err().find("top needs a terminal") != std::string::npos);

    child_proc bad_interval;
    REQUIRE(bad_interval.start({COSCOPE_EXE, "top", "-p", "1", "-i", "5ms"}));
    CHECK(bad_interval.wait_exit(10000) == 2);
    CHECK(bad_interval.err().find("bad interval '5ms'") != std::string::npos);

    child_proc help;
    REQUIRE(help.start({COSCOPE_EXE, "help"}));
    auto lines = help.read_all(10000);
    bool listed = false;
    for (auto &l : lines)
        listed |= l.rfind("  top ", 0) == 0;
    CHECK(listed);
}
