// Smoke tests of the installed examples: command lines, output lines, exit codes.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <csignal>
#include <cstring>
#include <netinet/in.h>
#include <regex>
#include <string>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_util.h"

namespace
{

// A port that was free a moment ago (the examples bind 127.0.0.1).
int free_port()
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, (sockaddr *)&a, sizeof a);
    socklen_t len = sizeof a;
    getsockname(fd, (sockaddr *)&a, &len);
    close(fd);
    return ntohs(a.sin_port);
}

// Connects (retrying while the server starts), sends msg, returns what came back.
std::string echo_once(int port, const std::string &msg)
{
    for (int attempt = 0; attempt < 200; attempt++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (connect(fd, (sockaddr *)&a, sizeof a) == 0) {
            timeval tv{10, 0};
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
            if (write(fd, msg.data(), msg.size()) != (ssize_t)msg.size()) {
                close(fd);
                return "";
            }
            std::string back;
            char buf[256];
            while (back.size() < msg.size()) {
                ssize_t n = read(fd, buf, sizeof buf);
                if (n <= 0)
                    break;
                back.append(buf, n);
            }
            close(fd);
            return back;
        }
        close(fd);
        usleep(20000);
    }
    return "";
}

// Starts a program in the background with stdout to a file; returns its pid.
pid_t spawn_program(const std::string &cmd, const std::string &out_path)
{
    pid_t pid = fork();
    if (pid == 0) {
        std::string full = "exec " + cmd + " >" + out_path;
        execl("/bin/sh", "sh", "-c", full.c_str(), (char *)nullptr);
        _exit(127);
    }
    return pid;
}

int wait_exit(pid_t pid)
{
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

} // namespace

TEST_CASE("stallgen runs each stall in its own task and prints one line per stall")
{
    std::string cmd = std::string(STALLGEN_EXE) + " --port " + std::to_string(free_port()) +
                      " --every 50ms --count 2 --stalls cpu:30ms,sleep:20ms,read:25ms,fsync";
    command_result r = run_command(cmd);
    INFO(r.out << r.err);
    REQUIRE(r.status == 0);
    std::regex line(R"(stall kind=(cpu|sleep|read|fsync) ms=(\d+) task=stall-(\w+) id=(\d+)\n)");
    std::vector<std::string> kinds;
    std::vector<int> ms;
    for (std::sregex_iterator it(r.out.begin(), r.out.end(), line), end; it != end; ++it) {
        CHECK((*it)[1] == (*it)[3]);
        kinds.push_back((*it)[1]);
        ms.push_back(std::stoi((*it)[2]));
    }
    REQUIRE(kinds.size() == 8);
    CHECK(kinds == std::vector<std::string>(
                       {"cpu", "sleep", "read", "fsync", "cpu", "sleep", "read", "fsync"}));
    CHECK(ms == std::vector<int>({30, 20, 25, 0, 30, 20, 25, 0}));
}

TEST_CASE("stallgen serves echo and exits 0 on SIGINT and SIGTERM")
{
    for (int sig : {SIGINT, SIGTERM}) {
        int port = free_port();
        std::string out = "/tmp/cs-stallgen-" + std::to_string(getpid()) + ".out";
        pid_t pid = spawn_program(std::string(STALLGEN_EXE) + " --port " + std::to_string(port) +
                                      " --every 20ms" + " --stalls cpu:5ms",
                                  out);
        CHECK(echo_once(port, "ping over stallgen") == "ping over stallgen");
        usleep(100000); // a few rounds of stalls
        kill(pid, sig);
        CHECK(wait_exit(pid) == 0);
        std::string printed = slurp_file(out);
        CHECK(printed.find("stall kind=cpu ms=5 task=stall-cpu id=") != std::string::npos);
        unlink(out.c_str());
    }
}

TEST_CASE("stallgen rejects bad flags with one line on stderr and exit code 2")
{
    const char *bad[] = {"--bogus",         "--port 0",    "--port 70000",
                         "--every 5",       "--every -1s", "--stalls cpu",
                         "--stalls nap:1s", "--count x",   "--port"};
    for (const char *args : bad) {
        command_result r = run_command(std::string(STALLGEN_EXE) + " " + args);
        INFO(args << ": " << r.err);
        CHECK(r.status == 2);
        CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
        CHECK(r.out.empty());
    }
    command_result help = run_command(std::string(STALLGEN_EXE) + " --help");
    CHECK(help.status == 0);
    CHECK(help.out.find("usage: stallgen") != std::string::npos);
}

TEST_CASE("corun-echo echoes on its port and exits 0 on SIGTERM")
{
    int port = free_port();
    std::string out = "/tmp/cs-echo-" + std::to_string(getpid()) + ".out";
    pid_t pid = spawn_program(std::string(CORUN_ECHO_EXE) + " --port " + std::to_string(port), out);
    CHECK(echo_once(port, "hello") == "hello");
    std::string big(100000, 'z');
    CHECK(echo_once(port, big) == big);
    kill(pid, SIGTERM);
    CHECK(wait_exit(pid) == 0);
    unlink(out.c_str());
    command_result r = run_command(std::string(CORUN_ECHO_EXE) + " --port nope");
    CHECK(r.status == 2);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
}

TEST_CASE("corun-fanout sends every request through corun-echo within the connection limit")
{
    int port = free_port();
    std::string out = "/tmp/cs-echo2-" + std::to_string(getpid()) + ".out";
    pid_t pid = spawn_program(std::string(CORUN_ECHO_EXE) + " --port " + std::to_string(port), out);
    REQUIRE(echo_once(port, "up?") == "up?");
    command_result r =
        run_command(std::string(CORUN_FANOUT_EXE) + " --port " + std::to_string(port) +
                    " --connections 200 --limit 8 --timeout 10s");
    INFO(r.out << r.err);
    CHECK(r.status == 0);
    CHECK(r.out == "fanout ok=200 failed=0 timed_out=0\n");
    kill(pid, SIGTERM);
    CHECK(wait_exit(pid) == 0);
    unlink(out.c_str());
    // nobody listening: every request fails, the exit code says so
    r = run_command(std::string(CORUN_FANOUT_EXE) + " --port " + std::to_string(free_port()) +
                    " --connections 5");
    CHECK(r.status == 1);
    CHECK(r.out == "fanout ok=0 failed=5 timed_out=0\n");
    CHECK(run_command(std::string(CORUN_FANOUT_EXE) + " --limit 0").status == 2);
}

TEST_CASE("corun-prodcons moves every item exactly once through a small queue")
{
    command_result r = run_command(std::string(CORUN_PRODCONS_EXE) +
                                   " --producers 3 --consumers 4 --items 500 --capacity 2");
    CHECK(r.status == 0);
    CHECK(r.out == "produced=1500 consumed=1500 sum_ok=yes\n");
    CHECK(run_command(std::string(CORUN_PRODCONS_EXE) + " --items x").status == 2);
}

TEST_CASE("corun-groups shows a failing child cancelling its siblings and a group timing out")
{
    command_result r = run_command(CORUN_GROUPS_EXE);
    CHECK(r.status == 0);
    CHECK(r.out.find("fetch-a: done\nfetch-b: failed (Input/output error)\n"
                     "fetch-c: cancelled\ngroup 1: Input/output error\n") == 0);
    for (const char *line : {"slow-0: cancelled\n", "slow-1: cancelled\n", "slow-2: cancelled\n",
                             "group 2: timed out after 30 ms\n"})
        CHECK(r.out.find(line) != std::string::npos);
}
