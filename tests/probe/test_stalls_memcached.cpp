// A Debian-packaged server nobody built for coscope (memcached, libevent, no frame pointers)
// under a bounded loopback load: coscope finds its event-loop threads and, in a clean run,
// reports no stall of the server's own at the default threshold.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>

#include "stall_session.h"

namespace
{

const std::string coscope = COSCOPE_EXE;

// A loopback TCP port the kernel says is free right now.
int free_port()
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int port = -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

bool accepts(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

// Sum of every "key": number in a JSON line (one per loop in stat's output).
long long sum_of(const std::string &line, const std::string &key)
{
    long long sum = 0;
    std::string k = "\"" + key + "\":";
    for (auto at = line.find(k); at != std::string::npos; at = line.find(k, at + 1))
        sum += std::atoll(line.c_str() + at + k.size());
    return sum;
}

} // namespace

TEST_CASE("memcached under a loopback load reports no stall of its own at the default threshold")
{
    if (std::string(MEMCACHED_EXE).empty()) {
        WARN("memcached is not installed: test skipped");
        return;
    }
    int port = free_port();
    REQUIRE(port > 0);
    child_proc mc;
    REQUIRE(mc.start({MEMCACHED_EXE, "-p", std::to_string(port), "-U", "0", "-t", "1", "-u", "root",
                      "-l", "127.0.0.1"}));
    double deadline = mono_ms() + 10000;
    while (!accepts(port) && mono_ms() < deadline && !mc.exited())
        usleep(20000);
    INFO(mc.err());
    REQUIRE(accepts(port));
    usleep(200000); // its threads settle into their wait calls

    // stalls (what is under test) and stat (which proves the loops were seen working).
    child_proc stalls, stat;
    REQUIRE(stalls.start(
        {coscope, "stalls", "-p", std::to_string(mc.pid), "--json", "--max-rate", "0"}));
    INFO(stalls.err());
    REQUIRE(stalls.wait_err("coscope: watching ", 20000));
    REQUIRE(stat.start({coscope, "stat", "-p", std::to_string(mc.pid), "--json"}));
    INFO(stat.err());
    REQUIRE(stat.wait_err("coscope: collecting statistics", 20000));
    // The listener (main thread) and the one worker (-t 1) sit in epoll_wait.
    CHECK(stalls.err().find("watching 2 loop threads") != std::string::npos);
    CHECK(stat.err().find("2 event-loop threads") != std::string::npos);

    auto load = run_command(std::string(MEMCACHED_LOAD) + " " + std::to_string(port) + " 50 3");
    INFO(load.out << load.err);
    CHECK(load.status == 0);
    long long requests = std::atoll(load.out.c_str() + load.out.find("requests ") + 9);
    CHECK(requests >= 1000);

    usleep(300000);
    kill(stat.pid, SIGINT);
    kill(stalls.pid, SIGINT);
    auto stat_lines = stat.read_all(20000);
    auto lines = stalls.read_all(20000);
    CHECK(stat.wait_exit(10000) == 0);
    CHECK(stalls.wait_exit(10000) == 0);
    // On this shared, loaded machine the worker can be preempted for 50 ms: a stall made
    // only of off-CPU time with no blocking call, which coscope reports as what it is (the
    // machine's, not the server's). The server's own stalls - a blocking system call or
    // CPU burnt in a slice - must be none.
    std::string own, preempted;
    for (auto &l : lines) {
        if (!json_has(l, "\"type\":\"stall\""))
            continue;
        bool machine = json_has(l, "\"syscalls\":[]") && json_number(l, "on_cpu_us") < 50000;
        (machine ? preempted : own) += l + "\n";
    }
    INFO("preempted only (not the server's):\n" << preempted);
    INFO("the server's own stalls:\n" << own);
    CHECK(own.empty());
    REQUIRE(!lines.empty());
    CHECK(json_has(lines.back(), "\"type\":\"summary\""));
    CHECK(json_has(lines.back(), "\"lost_events\":0"));

    // Every request was one or more iterations of the worker's loop: they were seen.
    REQUIRE(stat_lines.size() == 1);
    INFO(stat_lines[0]);
    CHECK(sum_of(stat_lines[0], "iterations") >= 100);
    // No blocking call inside a slice came near a stall (preemption is not a call).
    const std::string &st = stat_lines[0];
    for (auto at = st.find("{\"syscall\":"); at != std::string::npos;
         at = st.find("{\"syscall\":", at + 1)) {
        INFO(st.substr(at, st.find('}', at) - at + 1));
        CHECK(json_number(st.substr(at), "max_ns") < 50000000);
    }
}
