// Every bad input a user can give the coscope command: one row each, with the exit code
// docs/cli.md documents and a fragment of the one line it prints. Each run is bounded by
// timeout(1), so a hang fails the row (its status is then 124 or 137) instead of the suite.
#include <catch2/catch.hpp>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <fcntl.h>
#include <string>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "test_util.h"

namespace
{
const std::string coscope = COSCOPE_EXE;

struct bad_input {
    std::string args;     // after "coscope"; {NOEXEC} and {TID} are filled in below
    int status;           // the documented exit code
    std::string err_part; // a fragment of stderr ("" for none expected)
    std::string out_part; // a fragment of stdout ("" for none expected)
    int timeout_s;        // past this the row counts as a hang
};

void replace_all(std::string &s, const std::string &what, const std::string &with)
{
    for (size_t at; (at = s.find(what)) != std::string::npos;)
        s.replace(at, what.size(), with);
}

// A text file with the exec bit but no "#!": the kernel refuses it with ENOEXEC.
std::string make_noexec_file()
{
    char path[] = "/tmp/cs-noexec-XXXXXX";
    int fd = mkstemp(path);
    const char text[] = "echo this must not run through a shell\n";
    REQUIRE(write(fd, text, sizeof text - 1) == (ssize_t)(sizeof text - 1));
    fchmod(fd, 0755);
    close(fd);
    return path;
}

// needs-lib-target copied away from its library: the loader cannot start it.
std::string make_unstartable_copy()
{
    char dir[] = "/tmp/cs-needs-XXXXXX";
    REQUIRE(mkdtemp(dir));
    std::string copy = std::string(dir) + "/needs-lib";
    REQUIRE(std::system(("cp " + std::string(NEEDS_LIB_TARGET) + " " + copy).c_str()) == 0);
    return copy;
}

int count_lines(const std::string &s)
{
    int n = 0;
    for (char c : s)
        n += c == '\n';
    return n;
}
} // namespace

TEST_CASE("every bad input gets its documented exit code and one line, never a hang")
{
    // A thread of this test process that leads no process of its own: -p TID.
    std::atomic<bool> done{false};
    std::atomic<long> tid{0};
    std::thread worker([&] {
        tid = syscall(SYS_gettid);
        while (!done)
            usleep(10000);
    });
    while (!tid)
        usleep(1000);
    std::string noexec = make_noexec_file();
    std::string unstartable = make_unstartable_copy();
    unsetenv("LD_LIBRARY_PATH"); // meson test's: it would find the library after all

    const std::vector<bad_input> table = {
        // PIDs and TIDs: digits, 1 to pid_max; never wrapped into a real PID
        {"stalls -p 4294967297", 2, "coscope stalls: bad PID '4294967297' (PIDs here are 1 to", "",
         20},
        {"stat -p 4294967297", 2, "coscope stat: bad PID '4294967297'", "", 20},
        {"record -o /dev/null -p 4294967297", 2, "coscope record: bad PID", "", 20},
        {"top -p 4294967297", 2, "coscope top: bad PID", "", 20},
        {"ps -p 4294967297", 2, "coscope ps: bad PID", "", 20},
        {"stalls -p 0", 2, "bad PID '0'", "", 20},
        {"stalls -p -5", 2, "bad PID '-5'", "", 20},
        {"stalls -p +5", 2, "bad PID '+5'", "", 20},
        {"stalls -p 5x", 2, "bad PID '5x'", "", 20},
        {"stalls -T 4294967297", 2, "coscope stalls: bad TID '4294967297' (TIDs here are 1 to", "",
         20},
        // a kernel thread: nothing to watch
        {"stalls -p 2 -d 1s", 10, "coscope: 2 is a kernel thread", "", 20},
        {"stat -p 2 -d 1s", 10, "coscope: 2 is a kernel thread", "", 20},
        {"ps -p 2", 10, "coscope: 2 is a kernel thread", "", 20},
        {"record -o /tmp/cs-bad-inputs.rec --force -p 2 -d 1s", 10, "coscope: 2 is a kernel thread",
         "", 20},
        // a thread that leads no process stands for its process
        {"stalls -p {TID} -d 1s", 0, "coscope: {TID} is a thread of process {PID}; watching {PID}",
         "0 stalls", 30},
        // a file the kernel cannot execute is not run through /bin/sh
        {"stalls -d 1s -- {NOEXEC}", 2, "coscope: cannot run '{NOEXEC}': Exec format error", "",
         20},
        {"stat -d 1s -- {NOEXEC}", 2, "Exec format error", "", 20},
        {"record -o /dev/null --force -d 1s -- {NOEXEC}", 2, "Exec format error", "", 20},
        {"stalls -d 1s -- no-such-command-cs", 2, "cannot run 'no-such-command-cs'", "", 20},
        // a command whose loader gives up before its first instruction: its own message,
        // then coscope's line (so two lines here)
        {"stalls -d 1s -- {UNSTARTABLE}", 3, "coscope: '{UNSTARTABLE}' exited before it started",
         "", 20},
        {"stat -d 1s -- {UNSTARTABLE}", 3, "exited before it started", "", 20},
        {"record -o /tmp/cs-bad-inputs.rec --force -d 1s -- {UNSTARTABLE}", 3,
         "exited before it started", "", 20},
        // a command that exits at once: a normal summary, exit 0
        {"stat -d 1s -- /bin/true", 0, "", "process ", 20},
        {"stalls -d 1s -- /bin/true", 0, "", "0 stalls", 20},
        // counts: no sign, no junk, no overflow
        {"stalls --max-rate -1 -p 1", 2, "coscope stalls: bad --max-rate '-1'", "", 20},
        {"stalls --max-rate ten -p 1", 2, "bad --max-rate 'ten'", "", 20},
        {"stalls --max-rate 99999999999 -p 1", 2, "bad --max-rate '99999999999'", "", 20},
        {"record -o /dev/null --flight 10s --flight-max -1 -p 1", 2, "bad --flight-max '-1'", "",
         20},
        // commands without options take no words
        {"check --bogus", 2, "coscope check: unexpected argument '--bogus'", "", 20},
        {"check now", 2, "coscope check: unexpected argument 'now'", "", 20},
        {"version now", 2, "coscope version: unexpected argument 'now'", "", 20},
        {"check --help", 0, "", "usage: coscope check", 20},
        {"version --help", 0, "", "usage: coscope version", 20},
    };

    for (bad_input row : table) {
        replace_all(row.args, "{NOEXEC}", noexec);
        replace_all(row.err_part, "{NOEXEC}", noexec);
        replace_all(row.args, "{UNSTARTABLE}", unstartable);
        replace_all(row.err_part, "{UNSTARTABLE}", unstartable);
        for (std::string *s : {&row.args, &row.err_part}) {
            replace_all(*s, "{TID}", std::to_string(tid));
            replace_all(*s, "{PID}", std::to_string(getpid()));
        }
        INFO("coscope " << row.args);
        auto r = run_command("timeout -s KILL " + std::to_string(row.timeout_s) + " " + coscope +
                             " " + row.args + " </dev/null");
        INFO("stderr: " << r.err << "stdout: " << r.out);
        CHECK(r.status == row.status);
        if (row.err_part.empty())
            continue;
        CHECK(r.err.find(row.err_part) != std::string::npos);
        CHECK(r.out.find(row.out_part) != std::string::npos);
        if (row.status != 0 && row.args.find(unstartable) == std::string::npos)
            CHECK(count_lines(r.err) == 1); // the one line, nothing more
    }
    done = true;
    worker.join();
    unlink(noexec.c_str());
    unlink(unstartable.c_str());
    rmdir(unstartable.substr(0, unstartable.rfind('/')).c_str());
}

namespace
{
// Does coscope (exec'd: a forked copy of this test catches what Catch2 catches) catch
// `sig` (SigCgt in /proc/PID/status)?
bool coscope_catches(pid_t pid, int sig)
{
    std::string status = slurp_file("/proc/" + std::to_string(pid) + "/status");
    size_t at = status.find("SigCgt:");
    if (status.rfind("Name:\tcoscope\n", 0) != 0)
        return false;
    if (at == std::string::npos)
        return false;
    unsigned long long mask = std::stoull(status.substr(at + 7), nullptr, 16);
    return mask & (1ull << (sig - 1));
}
} // namespace

TEST_CASE("a SIGTERM early in a run ends it with its summary, exit 0, like a later one")
{
    struct cmd {
        std::vector<std::string> args;
        std::string summary; // on stdout (stalls, stat) or stderr (record)
    };
    const std::vector<cmd> cmds = {
        {{"stalls", "--", "sleep", "3"}, "stalls"},
        {{"stat", "--", "sleep", "3"}, "process "},
        {{"record", "-o", "/tmp/cs-early-term.rec", "--force", "--", "sleep", "3"}, "wrote "},
    };
    // Right as the handler is in place (before probes load), and a little later (the commands
    // end by themselves after 3 s, and coscope then exits 0 as well): whenever
    // the signal lands, the outcome is the same, so no delay here is a timing assumption.
    for (int delay_ms : {0, 50, 150}) {
        for (const cmd &c : cmds) {
            INFO(c.args[0] << " after " << delay_ms << " ms");
            char out_path[] = "/tmp/cs-term-out-XXXXXX";
            int out = mkstemp(out_path);
            pid_t pid = fork();
            if (pid == 0) {
                dup2(out, 1);
                dup2(out, 2);
                std::vector<char *> argv{const_cast<char *>(coscope.c_str())};
                for (const auto &a : c.args)
                    argv.push_back(const_cast<char *>(a.c_str()));
                argv.push_back(nullptr);
                execv(coscope.c_str(), argv.data());
                _exit(127);
            }
            // Never before coscope catches SIGTERM at all: that would kill any program.
            for (int i = 0; i < 20000 && !coscope_catches(pid, SIGTERM); i++)
                usleep(500);
            usleep(delay_ms * 1000);
            kill(pid, SIGTERM);
            int status = 0;
            waitpid(pid, &status, 0);
            std::string printed = slurp_file(out_path);
            close(out);
            unlink(out_path);
            INFO(printed);
            REQUIRE(WIFEXITED(status));
            CHECK(WEXITSTATUS(status) == 0);
            CHECK(printed.find(c.summary) != std::string::npos);
        }
    }
    unlink("/tmp/cs-early-term.rec");
}
