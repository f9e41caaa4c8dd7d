// The echo benchmark's parts work together: loadgen drives each peer server for about a
// second, and fails fast and clearly when there is no server or it stops answering.
// No performance assertions here: the figures come from bench/run.py.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <chrono>
#include <csignal>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "test_util.h"

namespace
{

std::string env_or_fail(const char *name)
{
    const char *v = std::getenv(name);
    if (!v)
        FAIL(std::string(name) + " is not set: run this through `meson test`");
    return v;
}

std::string build_dir()
{
    return env_or_fail("CS_BENCH_BUILD_DIR");
}

std::string source_dir()
{
    return env_or_fail("CS_BENCH_SOURCE_DIR");
}

// A port nothing listens on right now (the kernel picks it).
int free_port()
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr *>(&a), &len);
    close(fd);
    return ntohs(a.sin_port);
}

bool port_accepts(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = connect(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) == 0;
    close(fd);
    return ok;
}

// A server child process, killed when the test is done with it.
struct server {
    pid_t pid = -1;
    server(std::vector<std::string> argv, int port)
    {
        pid = fork();
        if (pid == 0) {
            std::vector<char *> args;
            for (auto &a : argv)
                args.push_back(const_cast<char *>(a.c_str()));
            args.push_back(nullptr);
            execv(args[0], args.data());
            _exit(127);
        }
        // Python start-up on a loaded machine can take seconds: wait up to 20 s.
        for (int i = 0; i < 400 && !port_accepts(port); i++) {
            int st;
            if (waitpid(pid, &st, WNOHANG) == pid) {
                pid = -1;
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    }
    ~server()
    {
        if (pid > 0) {
            kill(pid, SIGTERM);
            waitpid(pid, nullptr, 0);
        }
    }
};

long json_int(const std::string &json, const std::string &key)
{
    auto at = json.find("\"" + key + "\":");
    if (at == std::string::npos)
        return -1;
    return std::atol(json.c_str() + at + key.size() + 3);
}

command_result run_loadgen(int port, const std::string &extra)
{
    return run_command(build_dir() + "/loadgen --port " + std::to_string(port) + " " + extra);
}

void check_server_echoes(std::vector<std::string> argv, int port)
{
    INFO("server: " << argv[0] << (argv.size() > 1 ? " " + argv[1] : ""));
    server srv(argv, port);
    REQUIRE(srv.pid > 0);
    REQUIRE(port_accepts(port));
    auto r = run_loadgen(port, "--conns 8 --warmup 0.2 --duration 1 --timeout 20 --pid " +
                                   std::to_string(srv.pid));
    INFO("stdout: " << r.out << "stderr: " << r.err);
    CHECK(r.status == 0);
    CHECK(json_int(r.out, "requests") > 0);
    CHECK(r.out.find("\"server_cpu_us_per_req\":") != std::string::npos);
    CHECK(r.out.find("\"p99_us\":") != std::string::npos);
    // One JSON line, nothing else.
    CHECK(r.out.front() == '{');
    CHECK(r.out.find('\n') == r.out.size() - 1);
}

} // namespace

TEST_CASE("loadgen drives epoll_echo and reports requests, latency and server CPU as one JSON "
          "line")
{
    int port = free_port();
    check_server_echoes({build_dir() + "/epoll_echo", "--port", std::to_string(port)}, port);
}

TEST_CASE("every peer echo server answers loadgen")
{
    int port = free_port();
    SECTION("libuv")
    {
        if (access((build_dir() + "/uv_echo").c_str(), X_OK) != 0)
            SUCCEED("uv_echo not built (libuv1-dev missing)");
        else
            check_server_echoes({build_dir() + "/uv_echo", "--port", std::to_string(port)}, port);
    }
    std::string py = "/usr/bin/python3", script = source_dir() + "/echo/asyncio_echo.py";
    std::string p = std::to_string(port);
    SECTION("asyncio with a Protocol")
    {
        check_server_echoes({py, script, "--port", p, "--api", "protocol"}, port);
    }
    SECTION("asyncio with streams")
    {
        check_server_echoes({py, script, "--port", p, "--api", "streams"}, port);
    }
    SECTION("uvloop")
    {
        if (run_command(py + " -c 'import uvloop'").status != 0)
            WARN("uvloop is not installed for /usr/bin/python3: not checked");
        else
            check_server_echoes({py, script, "--port", p, "--loop", "uvloop"}, port);
    }
}

TEST_CASE("loadgen fails at once with one clear line when nothing listens")
{
    int port = free_port();
    auto r = run_loadgen(port, "--duration 1 --timeout 10");
    CHECK(r.status == 1);
    CHECK(r.out.empty());
    CHECK(r.err.find("cannot connect to 127.0.0.1:" + std::to_string(port)) != std::string::npos);
    CHECK(r.err.find('\n') == r.err.size() - 1);
}

TEST_CASE("loadgen gives up after --timeout when the server accepts but never answers")
{
    // A listening socket nobody reads: the kernel completes the handshakes, no echo comes.
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) == 0);
    REQUIRE(listen(fd, 128) == 0);
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr *>(&a), &len);
    int port = ntohs(a.sin_port);

    auto r = run_loadgen(port, "--conns 4 --warmup 0 --duration 600 --timeout 1");
    close(fd);
    CHECK(r.status == 1);
    CHECK(r.err.find("stopped answering") != std::string::npos);
}

TEST_CASE("loadgen fails with one clear line when the server closes its connections")
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) == 0);
    REQUIRE(listen(fd, 128) == 0);
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr *>(&a), &len);
    int port = ntohs(a.sin_port);
    // Accept the first connection and close it at once; the others wait in the backlog.
    std::thread closer([fd] {
        int c = accept(fd, nullptr, nullptr);
        if (c >= 0)
            close(c);
    });

    auto r = run_loadgen(port, "--conns 4 --warmup 0 --duration 600 --timeout 10");
    closer.join();
    close(fd);
    CHECK(r.status == 1);
    CHECK(r.out.empty());
    bool says_why = r.err.find("closed connection") != std::string::npos ||
                    r.err.find("reset") != std::string::npos;
    INFO("stderr: " << r.err);
    CHECK(says_why);
    CHECK(r.err.find('\n') == r.err.size() - 1);
}

TEST_CASE("loadgen rejects a bad flag with usage exit code 2")
{
    auto r = run_command(build_dir() + "/loadgen --conns zero");
    CHECK(r.status == 2);
    CHECK(r.err.find("--conns") != std::string::npos);
}
