// Names in stall stacks as the user wrote them: C++ demangled, functions the compiler
// inlined shown as their own frames, JIT code named through the runtime's perf map.
#include <catch2/catch.hpp>

#include <cstdio>
#include <string>
#include <vector>

#include "stall_session.h"

namespace
{

// The frames of a JSON stack array, one object text each.
std::vector<std::string> frames_of(const std::string &stack)
{
    std::vector<std::string> out;
    size_t at = 0;
    while ((at = stack.find("{\"addr\":", at)) != std::string::npos) {
        size_t end = stack.find("{\"addr\":", at + 1);
        out.push_back(stack.substr(at, end == std::string::npos ? end : end - at));
        at += 1;
    }
    return out;
}

// The index of the first frame holding `what` (and `kind`), or -1.
int frame_index(const std::vector<std::string> &frames, const std::string &what,
                const std::string &kind)
{
    for (size_t i = 0; i < frames.size(); i++)
        if (json_has(frames[i], what) && json_has(frames[i], "\"kind\":\"" + kind + "\""))
            return (int)i;
    return -1;
}

} // namespace

TEST_CASE("a C++ stall names the demangled member function and the helper inlined into it")
{
    stall_session s;
    s.start(TARGET_CXX, {"-t", "20ms"});
    double slept = s.inject("sleep 150");
    auto lines = s.finish();
    INFO(s.cs.err());
    INFO(stalls_overview(lines));
    auto sleep = stalls_blocked_in(lines, "clock_nanosleep", 0);
    REQUIRE(sleep.size() == 1);
    INFO(sleep[0]);
    check_duration(sleep[0], slept);
    auto frames = frames_of(json_main_stack(sleep[0]));
    // The always-inlined helper, then the member function it was inlined into, as perf
    // shows them: demangled, with parameters.
    int helper = frame_index(frames, "\"symbol\":\"pace_rows\"", "inline");
    int member = frame_index(frames, "\"symbol\":\"ns::Worker<int>::block(int)\"", "native");
    CHECK(helper >= 0);
    CHECK(member >= 0);
    CHECK(helper < member);
    if (helper >= 0) // the inlined code's own line, in the target's source
        CHECK(json_has(frames[(size_t)helper], "cxx_target.cpp\""));
    CHECK(frame_index(frames, "\"symbol\":\"main\"", "native") > member);
    CHECK(!json_has(sleep[0], "_ZN"));
}

TEST_CASE("JIT code is named through the runtime's perf map: a Node function burning the CPU")
{
    const char *node = access("/usr/bin/node", X_OK) == 0 ? "/usr/bin/node" : "/usr/bin/nodejs";
    REQUIRE(access(node, X_OK) == 0);
    std::string script = "/tmp/cs-test-burn-" + std::to_string(getpid()) + ".js";
    FILE *f = fopen(script.c_str(), "w");
    REQUIRE(f);
    // 300 ms of JavaScript on the CPU every second, in a function V8 compiles.
    fputs("function burnRows(ms) {\n"
          "  const end = Date.now() + ms; let x = 0;\n"
          "  while (Date.now() < end) for (let i = 0; i < 1000; i++) x += Math.sqrt(x + i);\n"
          "  return x;\n"
          "}\n"
          "setInterval(() => burnRows(300), 1000);\n"
          "setInterval(() => {}, 10);\n"
          "console.log('ready');\n",
          f);
    fclose(f);
    std::vector<std::string> leftovers = {script};
    // Removes the files of the test, and the map node wrote, however the test ends.
    struct remover {
        std::vector<std::string> &paths;
        ~remover()
        {
            for (auto &p : paths)
                unlink(p.c_str());
        }
    } remove_at_end{leftovers};
    child_proc target;
    // --perf-basic-prof also writes V8's log: into a file of ours, not the current folder.
    std::string v8_log = "/tmp/cs-test-burn-" + std::to_string(getpid()) + ".v8log";
    leftovers.push_back(v8_log);
    REQUIRE(target.start(
        {node, "--perf-basic-prof", "--no-logfile-per-isolate", "--logfile=" + v8_log, script}));
    leftovers.push_back("/tmp/perf-" + std::to_string(target.pid) + ".map");
    REQUIRE(target.read_line(20000) == "ready");
    child_proc cs;
    REQUIRE(cs.start({COSCOPE_EXE, "stalls", "-p", std::to_string(target.pid), "--json",
                      "--max-rate", "0", "-t", "100ms", "-d", "5s"}));
    auto lines = cs.read_all(60000);
    CHECK(cs.wait_exit(20000) == 0);
    INFO(cs.err());
    INFO(stalls_overview(lines));
    // Some stall, whichever of its stacks, has the function as a JIT frame.
    bool named = false;
    for (auto &l : final_stalls(lines))
        for (auto &fr : frames_of(l.substr(l.find("\"stack\":["))))
            named |= json_has(fr, "burnRows") && json_has(fr, "\"kind\":\"jit\"");
    CHECK(named);
}
