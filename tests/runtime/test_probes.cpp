// libcorun's USDT probes, attached for real with bpftrace.
#include <catch2/catch.hpp>

#include <csignal>
#include <regex>
#include <sys/wait.h>
#include <unistd.h>

#include "cs_config.h"
#include "test_util.h"

namespace
{

struct traced_run {
    command_result tracer;
    int target_status;
    std::string target_out;
};

// Starts the probe target, attaches bpftrace to it with `script`, waits for both. The
// target starts its work on SIGUSR1, sent once bpftrace runs its BEGIN probe, which it
// does after attaching every other probe: a USDT semaphore goes up when the uprobe is
// registered, a moment before the BPF program is on it, so a target that started on the
// semaphore could run its first calls unseen.
traced_run trace_target(const std::string &mode, const std::string &script)
{
    int out[2];
    REQUIRE(pipe(out) == 0);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        dup2(out[1], 1);
        close(out[0]);
        execl(PROBE_TARGET, PROBE_TARGET, mode.c_str(), (char *)nullptr);
        _exit(127);
    }
    close(out[1]);
    std::string pid_s = std::to_string(pid);
    std::string s = std::regex_replace(script, std::regex("TARGET"), PROBE_TARGET);
    traced_run r;
    std::string cmd = "timeout 120 bpftrace -B none -p " + pid_s +
                      " -e 'BEGIN { printf(\"attached\\n\"); } " + s + "' 2>&1";
    FILE *tracer = popen(cmd.c_str(), "r");
    REQUIRE(tracer);
    char line[4096];
    bool told = false;
    while (fgets(line, sizeof line, tracer)) {
        r.tracer.out += line;
        if (!told && std::string(line) == "attached\n") {
            kill(pid, SIGUSR1);
            told = true;
        }
    }
    int tracer_status = pclose(tracer);
    r.tracer.status = WIFEXITED(tracer_status) ? WEXITSTATUS(tracer_status) : -1;
    if (!told)
        kill(pid, SIGKILL); // bpftrace never got going: do not wait a minute for the target
    char buf[512];
    ssize_t n;
    while ((n = read(out[0], buf, sizeof buf)) > 0)
        r.target_out.append(buf, static_cast<size_t>(n));
    close(out[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    r.target_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return r;
}

long number_after(const std::string &text, const std::string &key)
{
    std::smatch m;
    if (!std::regex_search(text, m, std::regex(key + "[^0-9-]*(-?[0-9]+)")))
        return -1;
    return std::stol(m[1]);
}

} // namespace

#if CORUN_WITH_PROBES

TEST_CASE("probe sites are 5-byte nopl instructions with semaphores")
{
    command_result notes = run_command(std::string("readelf -n ") + PROBE_TARGET);
    REQUIRE(notes.status == 0);
    std::regex loc("Provider: corun\\s+Name: (\\w+)\\s+Location: (0x[0-9a-f]+), Base: "
                   "0x[0-9a-f]+, Semaphore: (0x[0-9a-f]+)");
    int sites = 0;
    for (std::sregex_iterator it(notes.out.begin(), notes.out.end(), loc), end; it != end; ++it) {
        unsigned long addr = std::stoul((*it)[2], nullptr, 16);
        REQUIRE(std::stoul((*it)[3], nullptr, 16) != 0);
        char cmd[512];
        std::snprintf(cmd, sizeof cmd, "objdump -d --start-address=0x%lx --stop-address=0x%lx %s",
                      addr, addr + 5, PROBE_TARGET);
        command_result dis = run_command(cmd);
        INFO("probe " << (*it)[1] << "\n" << dis.out);
        REQUIRE(dis.out.find("0f 1f 44 00 00") != std::string::npos);
        sites++;
    }
    REQUIRE(sites >= 13);
}

TEST_CASE("an attached probe in a leaf function leaves the function's results intact")
{
    traced_run r = trace_target("leaf", "usdt:TARGET:corun_test:leaf { @hits = count(); }");
    INFO("bpftrace: " << r.tracer.out << r.tracer.err << "\ntarget: " << r.target_out);
    REQUIRE(r.target_status == 0);
    REQUIRE(number_after(r.target_out, "mismatches=") == 0);
    REQUIRE(number_after(r.tracer.out, "@hits:") >= 100000); // bpftrace may stop counting early
}

TEST_CASE("attaching to slice_long makes the runtime time slices and report the long ones")
{
    traced_run r = trace_target(
        "slices", "usdt:TARGET:corun:slice_long { @n = count(); @min_ns = min(arg4); "
                  "@task = max(arg2); } usdt:TARGET:corun:iter_long { @iters = count(); "
                  "@iter_min_ns = min(arg2); } usdt:TARGET:corun:task_spawn "
                  "{ printf(\"spawn %s\\n\", str(arg3)); }");
    INFO("bpftrace: " << r.tracer.out << r.tracer.err << "\ntarget: " << r.target_out);
    REQUIRE(r.target_status == 0);
    REQUIRE(number_after(r.tracer.out, "@n:") >= 20);
    REQUIRE(number_after(r.tracer.out, "@min_ns:") >= 250000);
    REQUIRE(number_after(r.tracer.out, "@task:") > 0);
    REQUIRE(number_after(r.tracer.out, "@iters:") >= 20);
    REQUIRE(number_after(r.tracer.out, "@iter_min_ns:") >= 250000);
    REQUIRE(r.tracer.out.find("spawn burner") != std::string::npos);
}

#endif
