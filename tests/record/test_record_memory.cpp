// The recorder's memory on a target spawning ~8k short tasks a second: a plain recording
// streams to disk and a flight recorder holds its window, both without growing with the
// tasks they have seen.
#include <catch2/catch.hpp>

#include <csignal>
#include <fstream>
#include <string>
#include <unistd.h>

#include "record_e2e.h"
#include "probe/stall_session.h"
#include "test_util.h"

using namespace record_e2e;

namespace
{

// The process's own memory in KB (-1 once it is gone): RssAnon, its heap and anonymous
// mappings. Not VmRSS: that also counts the pages of files it maps (the symbolizer's ELF
// and DWARF files, touched as stacks need them) and of the BPF ring buffers shared with
// the kernel, which moved the difference between two recorders by up to a megabyte.
long rss_kb(pid_t pid)
{
    std::ifstream f("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(f, line))
        if (line.rfind("RssAnon:", 0) == 0)
            return std::stol(line.substr(8));
    return -1;
}

} // namespace

TEST_CASE("record and the flight recorder keep their memory flat on a target spawning short "
          "tasks")
{
#ifdef __SANITIZE_ADDRESS__
    // ASan holds freed memory in quarantine (256 MB): RSS says nothing about bounds there.
    WARN("skipped in the sanitizer build: RSS is not the program's own");
    return;
#endif
    child_proc target;
    REQUIRE(target.start({TARGET_CORUN_STORM, "8", "120"}));
    REQUIRE(target.read_line(20000) == "ready");
    std::string pid = std::to_string(target.pid);
    std::string plain_file = tmp_path("mem-plain.csrec"), flight_file = tmp_path("mem-flight");
    const long flight_max_kb = 4 * 1024;
    child_proc plain, flight;
    REQUIRE(plain.start({coscope, "record", "-p", pid, "-o", plain_file}));
    REQUIRE(flight.start({coscope, "record", "-p", pid, "--flight", "2s", "--flight-max", "4",
                          "--trigger", "stall>60s", "-o", flight_file}));
    INFO(plain.err() << flight.err());
    REQUIRE(plain.wait_err("coscope: recording", 30000));
    REQUIRE(flight.wait_err("coscope: recording", 30000));
    // Tasks ended long enough ago are forgotten (15 s): from then on nothing may grow.
    sleep(18);
    long plain0 = rss_kb(plain.pid), flight0 = rss_kb(flight.pid);
    long plain_max = plain0, flight_max = flight0;
    for (int i = 0; i < 10; i++) {
        sleep(1);
        plain_max = std::max(plain_max, rss_kb(plain.pid));
        flight_max = std::max(flight_max, rss_kb(flight.pid));
    }
    INFO("plain " << plain0 << " -> " << plain_max << " KB, flight " << flight0 << " -> "
                  << flight_max << " KB");
    REQUIRE(plain0 > 0);
    REQUIRE(flight0 > 0);
    // Unbounded, both grew ~1 MB a second here; 10 s of it is far above this margin.
    CHECK(plain_max - plain0 < 2048);
    CHECK(flight_max - flight0 < 2048);
    // The flight recorder holds what the plain one writes out: at most its bound, +10%.
    CHECK(flight_max - plain_max < flight_max_kb + flight_max_kb / 10);
    kill(plain.pid, SIGINT);
    kill(flight.pid, SIGINT);
    CHECK(plain.wait_exit(30000) == 0);
    CHECK(flight.wait_exit(30000) == 0);
    unlink(plain_file.c_str());
    unlink(flight_file.c_str());
}
