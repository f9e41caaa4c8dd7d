// The I/O layer's USDT probes (lock_contended, exec_submit/start/done), attached for real
// with bpftrace to this build's libcorun.so while a guide example runs.
#include <catch2/catch.hpp>

#include <csignal>
#include <cstdio>
#include <regex>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

#include "cs_config.h"
#include "test_util.h"

namespace
{

long number_after(const std::string &text, const std::string &key)
{
    std::smatch m;
    if (!std::regex_search(text, m, std::regex("@" + key + ": (-?[0-9]+)")))
        return -1;
    return std::stol(m[1]);
}

// Attaches `script` (LIB stands for libcorun.so) machine-wide, runs `program` once
// attached, then stops bpftrace and returns what it printed.
std::string trace_while_running(const std::string &script, const std::string &program)
{
    // BEGIN fires once every probe is attached: wait for it, not for a guessed delay (a
    // loaded machine can take seconds to attach, and the program would run unobserved).
    std::string s = "BEGIN { printf(\"cs-ready\\n\"); } " +
                    std::regex_replace(script, std::regex("LIB"), LIBCORUN_SO);
    int out[2];
    REQUIRE(pipe(out) == 0);
    pid_t bt = fork();
    REQUIRE(bt >= 0);
    if (bt == 0) {
        dup2(out[1], 1);
        dup2(out[1], 2);
        close(out[0]);
        // bounded: a stuck bpftrace fails the test instead of hanging it
        execlp("timeout", "timeout", "-k", "10", "-s", "INT", "90", "bpftrace", "-e", s.c_str(),
               (char *)nullptr);
        _exit(127);
    }
    close(out[1]);
    std::string text;
    char buf[512];
    ssize_t n;
    while (text.find("cs-ready") == std::string::npos && (n = read(out[0], buf, sizeof buf)) > 0)
        text.append(buf, static_cast<size_t>(n));
    INFO(text);
    REQUIRE(text.find("cs-ready") != std::string::npos);
    command_result r = run_command("timeout 60 " + program);
    CHECK(r.status == 0);
    kill(bt, SIGINT);
    while ((n = read(out[0], buf, sizeof buf)) > 0)
        text.append(buf, static_cast<size_t>(n));
    close(out[0]);
    waitpid(bt, nullptr, 0);
    return text;
}

} // namespace

#if CORUN_WITH_PROBES

TEST_CASE("a contended co_lock fires lock_contended with the holder's task id")
{
    // guide-sync: five tasks take one lock across a wait, so four find it held
    std::string out = trace_while_running(
        "usdt:LIB:corun:lock_contended /comm == \"guide-sync\"/ { @contended = count(); "
        "@with_holder = sum(arg2 > 0 ? 1 : 0); @waiter_ids = sum(arg1 > 0 ? 1 : 0); }",
        std::string(GUIDE_BIN_DIR) + "/guide-sync");
    INFO(out);
    CHECK(number_after(out, "contended") == 4);
    CHECK(number_after(out, "with_holder") == 4);
    CHECK(number_after(out, "waiter_ids") == 4);
}

TEST_CASE("co_to_thread fires exec_submit, exec_start and exec_done with its timings")
{
    // guide-to_thread: one 50 ms job, then the file helpers' jobs
    std::string out = trace_while_running(
        "usdt:LIB:corun:exec_submit /comm == \"guide-to_thread\"/ { @submit = count(); } "
        "usdt:LIB:corun:exec_start /comm == \"corun-exec\"/ { @start = count(); } "
        "usdt:LIB:corun:exec_done /comm == \"corun-exec\"/ { @done = count(); "
        "@max_run_ms = max(arg3 / 1000000); @min_queue_ns = min(arg2); }",
        std::string(GUIDE_BIN_DIR) + "/guide-to_thread");
    INFO(out);
    CHECK(number_after(out, "submit") >= 3);
    CHECK(number_after(out, "start") >= number_after(out, "submit"));
    CHECK(number_after(out, "done") >= number_after(out, "submit"));
    CHECK(number_after(out, "max_run_ms") >= 49); // the job sleeps 50 ms
    CHECK(number_after(out, "min_queue_ns") >= 0);
}

#endif
