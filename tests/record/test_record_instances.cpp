// Several coscopes on one target at once: each loads its own programs and maps, and each
// reports what the target did as if it were alone.
#include <catch2/catch.hpp>

#include <sstream>
#include <string>
#include <unistd.h>

#include "probe/stall_session.h"
#include "record_e2e.h"
#include "test_util.h"

using namespace record_e2e;

TEST_CASE("three coscopes on one target each see a 200 ms blocking read off the CPU")
{
    // Every instance loads its own programs and maps: none may take another's switch-out
    // or wake-up for its own (a blocking read counted on the CPU).
    std::string port = std::to_string(20000 + (getpid() + 57) % 20000);
    child_proc target;
    REQUIRE(target.start({stallgen, "--port", port, "--every", "1s", "--stalls", "read:200ms"}));
    usleep(300000);
    std::string pid = std::to_string(target.pid), file = tmp_path("three.csrec");
    std::string a = tmp_path("three-a.json"), b = tmp_path("three-b.json");
    auto r = run_command("(" + coscope + " stalls -p " + pid + " --json -d 5s > " + a + " & " +
                         coscope + " stalls -p " + pid + " --json -d 5s > " + b + " & " + coscope +
                         " record -p " + pid + " -d 5s -o " + file + "; wait)");
    INFO(r.err);
    REQUIRE(r.status == 0);
    for (const std::string &out : {a, b}) {
        std::istringstream lines(slurp_file(out));
        std::string line;
        int reads = 0;
        while (std::getline(lines, line)) {
            // a stall cut by -d (unfinished) or begun before this instance attached
            // (start other than "seen") has only part of its read
            if (line.find("\"ongoing\":true") != std::string::npos ||
                line.find("\"unfinished\":true") != std::string::npos ||
                line.find("\"start\":\"seen\"") == std::string::npos ||
                line.find("{\"name\":\"read\"") == std::string::npos)
                continue;
            INFO(line);
            reads++;
            CHECK(json_number(line, "off_cpu_us") >= 180000);
            CHECK(json_number(line, "on_cpu_us") < 20000);
        }
        CHECK(reads >= 2);
    }
    auto rep = run_command(coscope + " report --format json " + file);
    REQUIRE(rep.status == 0);
    int reads = 0;
    for (size_t at = rep.out.find("\"off_cpu_ns\":"); at != std::string::npos;
         at = rep.out.find("\"off_cpu_ns\":", at + 1)) {
        long long off = atoll(rep.out.c_str() + at + 13);
        auto on_at = rep.out.rfind("\"on_cpu_ns\":", at);
        long long on = atoll(rep.out.c_str() + on_at + 12);
        auto unfinished_at = rep.out.find("\"unfinished\":", at);
        if (unfinished_at != std::string::npos &&
            rep.out.compare(unfinished_at, 17, "\"unfinished\":true") == 0)
            continue; // still going when the recording stopped: cut short
        auto start_at = rep.out.find("\"start\":", at);
        if (start_at != std::string::npos &&
            rep.out.compare(start_at, 14, "\"start\":\"seen\"") != 0)
            continue; // begun before the recording attached: its read only in part
        INFO("on " << on << " ns, off " << off << " ns");
        reads++;
        CHECK(off >= 180000000LL);
        CHECK(on < 20000000LL);
    }
    CHECK(reads >= 2);
    unlink(a.c_str());
    unlink(b.c_str());
    unlink(file.c_str());
}
