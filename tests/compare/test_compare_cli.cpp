// `coscope compare` run as a process on real files (docs/ci.md).
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

#include "test_util.h"

namespace
{

const std::string coscope = COSCOPE_EXE;

// A scratch directory, removed with its files at the end of the test.
struct scratch_dir {
    std::string path;
    scratch_dir()
    {
        char tmpl[] = "/tmp/cs-compare-XXXXXX";
        REQUIRE(mkdtemp(tmpl) != nullptr);
        path = tmpl;
    }
    ~scratch_dir()
    {
        std::system(("rm -rf '" + path + "'").c_str());
    }
    std::string write(const std::string &name, const std::string &text) const
    {
        std::string p = path + "/" + name;
        std::ofstream(p) << text;
        return p;
    }
};

// A bench-like metrics file with the given p99, rps and stall count.
std::string metrics_json(double p99_us, double rps, int stalls,
                         const std::string &kind = "coscope-bench")
{
    return "{\"kind\": \"" + kind +
           "\", \"metrics_version\": 1,\n"
           " \"about\": {\"date\": \"2026-11-22T13:00:00Z\", \"machine\": \"test\"},\n"
           " \"metrics\": {\n"
           "  \"echo.corun-echo.p99\": {\"value\": " +
           std::to_string(p99_us) +
           ", \"unit\": \"us\", \"better\": \"lower\"},\n"
           "  \"echo.corun-echo.rps\": {\"value\": " +
           std::to_string(rps) +
           ", \"unit\": \"req/s\", \"better\": \"higher\"},\n"
           "  \"stalls\": {\"value\": " +
           std::to_string(stalls) +
           ", \"unit\": \"count\", \"limit\": \"0\"}\n"
           " },\n"
           " \"runs\": [1, 2, 3]}\n";
}

command_result compare(const std::string &args)
{
    return run_command(coscope + " compare " + args);
}

} // namespace

TEST_CASE("compare exits 0 on identical input and prints every metric")
{
    scratch_dir d;
    std::string base = d.write("base.json", metrics_json(774.1, 92958, 0));
    command_result r = compare(base + " " + base);
    INFO(r.out << r.err);
    CHECK(r.status == 0);
    CHECK(r.err.empty());
    CHECK(r.out.find("echo.corun-echo.p99") != std::string::npos);
    CHECK(r.out.find("echo.corun-echo.rps") != std::string::npos);
    CHECK(r.out.find("machine test") != std::string::npos);
    CHECK(r.out.find("3 metrics compared, 0 regressed") != std::string::npos);
    CHECK(r.out.find("REGRESSED") == std::string::npos);
}

TEST_CASE("compare exits 1 on a doctored regression and names the metric")
{
    scratch_dir d;
    std::string base = d.write("base.json", metrics_json(100, 90000, 0));
    SECTION("p99 up by 20% breaks the default 10% limit")
    {
        std::string cur = d.write("new.json", metrics_json(120, 90000, 0));
        command_result r = compare(base + " " + cur);
        INFO(r.out << r.err);
        CHECK(r.status == 1);
        CHECK(r.out.find("1 regressed") != std::string::npos);
        size_t row = r.out.find("echo.corun-echo.p99");
        REQUIRE(row != std::string::npos);
        std::string line = r.out.substr(row, r.out.find('\n', row) - row);
        CHECK(line.find("+20.0%") != std::string::npos);
        CHECK(line.find("REGRESSED") != std::string::npos);
    }
    SECTION("throughput down by 20% is a regression (better: higher)")
    {
        std::string cur = d.write("new.json", metrics_json(100, 72000, 0));
        command_result r = compare(base + " " + cur);
        CHECK(r.status == 1);
        CHECK(r.out.find("1 regressed") != std::string::npos);
    }
    SECTION("one stall more breaks the base file's own limit of 0")
    {
        std::string cur = d.write("new.json", metrics_json(100, 90000, 1));
        command_result r = compare(base + " " + cur);
        CHECK(r.status == 1);
        size_t row = r.out.find("stalls");
        REQUIRE(row != std::string::npos);
        CHECK(r.out.substr(row, r.out.find('\n', row) - row).find("REGRESSED") !=
              std::string::npos);
    }
    SECTION("changes for the better are not regressions")
    {
        std::string cur = d.write("new.json", metrics_json(50, 180000, 0));
        command_result r = compare(base + " " + cur);
        CHECK(r.status == 0);
        CHECK(r.out.find("2 improved") != std::string::npos);
    }
}

TEST_CASE("compare applies --max-regress rules after the defaults, the last match winning")
{
    scratch_dir d;
    std::string base = d.write("base.json", metrics_json(100, 90000, 0));
    std::string cur = d.write("new.json", metrics_json(108, 85000, 2));
    // Defaults alone: p99 +8% and rps -5.6% pass, stalls 0 -> 2 breaks its limit of 0.
    CHECK(compare(base + " " + cur).status == 1);
    CHECK(compare(base + " " + cur + " --max-regress stalls=+2").status == 0);
    CHECK(compare(base + " " + cur + " --max-regress stalls=off").status == 0);
    // A tighter relative limit, given by the metric's last part or by a glob.
    CHECK(compare(base + " " + cur + " --max-regress stalls=off,p99=5%").status == 1);
    CHECK(compare(base + " " + cur + " --max-regress 'stalls=off,echo.*.p99=+5%'").status == 1);
    CHECK(compare(base + " " + cur + " --max-regress stalls=off,rps=-5%").status == 1);
    CHECK(compare(base + " " + cur + " --max-regress stalls=off,rps=-6%").status == 0);
    // The last matching rule wins, across repeated options too.
    CHECK(compare(base + " " + cur + " --max-regress stalls=off,p99=5% --max-regress p99=9%")
              .status == 0);
    // Absolute limits, in the metric's unit or converted from another time unit.
    CHECK(compare(base + " " + cur + " --max-regress stalls=off,p99=+7").status == 1);
    CHECK(compare(base + " " + cur + " --max-regress stalls=off,p99=+8").status == 0);
    CHECK(compare(base + " " + cur + " --max-regress stalls=off,p99=+7000ns").status == 1);
    CHECK(compare(base + " " + cur + " --max-regress stalls=off,p99=+0.01ms").status == 0);
    // Options may come first.
    CHECK(compare("--max-regress '*=off' " + base + " " + cur).status == 0);
}

TEST_CASE("compare takes a report's \"type\" as its kind")
{
    scratch_dir d;
    std::string body = "\"metrics_version\": 1, \"metrics\": {\"stalls\": {\"value\": 3}}}";
    std::string typed = d.write("typed.json", "{\"type\": \"coscope-report\", " + body);
    std::string kinded = d.write("kinded.json", "{\"kind\": \"coscope-report\", " + body);
    std::string bench = d.write("bench.json", "{\"kind\": \"coscope-bench\", " + body);
    CHECK(compare(typed + " " + kinded).status == 0);
    command_result r = compare(typed + " " + bench);
    CHECK(r.status == 2);
    CHECK(r.err.find("only files of the same kind compare") != std::string::npos);
}

TEST_CASE("compare exits 2 on bad input with one clear line")
{
    scratch_dir d;
    std::string base = d.write("base.json", metrics_json(100, 90000, 0));
    struct bad_case {
        std::string args;
        std::string message;
    };
    const bad_case cases[] = {
        {base + " " + d.path + "/missing.json", "missing.json: cannot read: No such file"},
        {base + " " + d.write("text.json", "p99 = 100\n"), "text.json: not valid JSON: line 1, "
                                                           "column 1"},
        {base + " " + d.write("cut.json", metrics_json(1, 2, 3).substr(0, 150)),
         "not valid JSON: line"},
        {base + " " + d.write("report.json", metrics_json(100, 90000, 0, "coscope-report")),
         "is \"coscope-bench\" and"},
        {base + " " + d.write("array.json", "[1, 2]"), "the top level is an array"},
        {base + " " + d.write("nokind.json", "{\"metrics\": {}}"), "not a metrics file"},
        {base + " " +
             d.write("v2.json", "{\"kind\": \"coscope-bench\", \"metrics_version\": 2, "
                                "\"metrics\": {}}"),
         "metrics_version 2"},
        {base + " " +
             d.write("novalue.json", "{\"kind\": \"coscope-bench\", \"metrics_version\""
                                     ": 1, \"metrics\": {\"a\": {\"unit\": \"ns\"}}}"),
         "metric \"a\" has no numeric \"value\""},
        {base + " " +
             d.write("better.json", "{\"kind\": \"coscope-bench\", \"metrics_version\""
                                    ": 1, \"metrics\": {\"a\": {\"value\": 1, "
                                    "\"better\": \"more\"}}}"),
         "\"better\" must be"},
        {base + " " + base + " --max-regress p99", "expected PATTERN=LIMIT"},
        {base + " " + base + " --max-regress p99=lots", "bad limit 'lots'"},
        {base + " " + base + " --max-regress p99=+5KiB", "cannot convert KiB"},
        {base, "expected two files"},
        {base + " -- " + d.write("bad.json", "{"), "not valid JSON"},
        {base + " " + base + " --bogus", "unknown or incomplete option"},
        // A report of a recording that watched no loop: its zero stalls measure nothing.
        {d.write("r0.json", "{\"type\": \"coscope-report\", \"metrics_version\": 1, "
                            "\"loops_watched\": 0, \"metrics\": {\"stalls\": {\"value\": 0}}}") +
             " " +
             d.write("r1.json", "{\"type\": \"coscope-report\", \"metrics_version\": 1, "
                                "\"loops_watched\": 1, \"metrics\": {\"stalls\": "
                                "{\"value\": 0}}}"),
         "r0.json: the recording watched no loop thread (loops_watched 0)"},
    };
    for (const bad_case &c : cases) {
        INFO("args: " << c.args);
        command_result r = compare(c.args);
        INFO("stderr: " << r.err);
        CHECK(r.status == 2);
        CHECK(r.err.find(c.message) != std::string::npos);
        CHECK(r.err.rfind("coscope compare: ", 0) == 0);
        // Exactly one line.
        CHECK(r.err.find('\n') == r.err.size() - 1);
    }
}

TEST_CASE("several baselines: only a change outside their spread plus the limit fails")
{
    scratch_dir d;
    // Three runs of the same code: p99 100, 130, 110 us (mean 113.3); rps 90000, 80000, 85000.
    std::string b1 = d.write("b1.json", metrics_json(100, 90000, 0)),
                b2 = d.write("b2.json", metrics_json(130, 80000, 0)),
                b3 = d.write("b3.json", metrics_json(110, 85000, 0));
    std::string bases = b1 + " " + b2 + " " + b3;
    SECTION("inside the spread: 125 us would fail against b1 alone, not against all three")
    {
        std::string cur = d.write("new.json", metrics_json(125, 82000, 0));
        CHECK(compare(b1 + " " + cur).status == 1);
        command_result r = compare(bases + " -- " + cur);
        INFO(r.out << r.err);
        CHECK(r.status == 0);
        CHECK(r.out.find("base: coscope-bench") != std::string::npos);
    }
    SECTION("outside the spread by more than the limit (10% of the mean): fails")
    {
        // worst baseline 130 + 11.33 allowed = 141.3; 145 breaks it.
        std::string cur = d.write("new.json", metrics_json(145, 85000, 0));
        command_result r = compare(bases + " -- " + cur);
        INFO(r.out << r.err);
        CHECK(r.status == 1);
        size_t row = r.out.find("echo.corun-echo.p99");
        REQUIRE(row != std::string::npos);
        std::string line = r.out.substr(row, r.out.find('\n', row) - row);
        CHECK(line.find("113.333") != std::string::npos); // the baselines' mean
        CHECK(line.find("REGRESSED") != std::string::npos);
    }
    SECTION("throughput under the lowest baseline by more than the limit fails")
    {
        std::string cur = d.write("new.json", metrics_json(110, 70000, 0));
        CHECK(compare(bases + " " + cur).status == 1); // "--" is optional
    }
}

TEST_CASE("a percentile of too few samples gets no verdict")
{
    scratch_dir d;
    auto file = [&](const char *name, double p99, int samples) {
        return d.write(name, "{\"kind\": \"coscope-report\", \"metrics_version\": 1, "
                             "\"metrics\": {\"loop.0.iteration.p99\": {\"value\": " +
                                 std::to_string(p99) + ", \"unit\": \"ns\", \"samples\": " +
                                 std::to_string(samples) + "}}}");
    };
    // p99 needs 10 / 0.01 = 1000 samples: 50 is too few, whatever the change.
    command_result few = compare(file("b.json", 100, 50) + " " + file("n.json", 400, 50));
    INFO(few.out << few.err);
    CHECK(few.status == 0);
    CHECK(few.out.find("not enough samples") != std::string::npos);
    command_result many = compare(file("b2.json", 100, 5000) + " " + file("n2.json", 400, 5000));
    INFO(many.out << many.err);
    CHECK(many.status == 1);
}

TEST_CASE("the committed bench baseline is a metrics file that compares clean with itself")
{
    const char *root = std::getenv("COSCOPE_SOURCE_ROOT");
    REQUIRE(root);
    std::string baseline = std::string(root) + "/bench/results/baseline.json";
    command_result r = compare(baseline + " " + baseline);
    INFO(r.out << r.err);
    CHECK(r.status == 0);
    CHECK(r.out.find("base: coscope-bench") != std::string::npos);
    CHECK(r.out.find("micro.corun_micro.timer_fire") != std::string::npos);
    CHECK(r.out.find(" 0 regressed") != std::string::npos);
}

TEST_CASE("compare --help describes the limits and exits 0")
{
    command_result r = compare("--help");
    CHECK(r.status == 0);
    CHECK(r.out.find("--max-regress") != std::string::npos);
    CHECK(r.out.find("*=10%") != std::string::npos);
}

TEST_CASE("compare on a FIFO or a directory fails at once with one line, exit 2")
{
    scratch_dir dir;
    std::string good = dir.write("a.json", metrics_json(100, 5000, 0));
    std::string fifo = dir.path + "/fifo.json";
    REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
    // timeout: a compare that opened the FIFO would wait for a writer forever (124)
    auto r = run_command("timeout 20 " + coscope + " compare " + fifo + " " + good);
    CHECK(r.status == 2);
    CHECK(r.err == "coscope compare: " + fifo + ": cannot read: not a regular file\n");
    r = run_command("timeout 20 " + coscope + " compare " + good + " " + dir.path);
    CHECK(r.status == 2);
    CHECK(r.err == "coscope compare: " + dir.path + ": cannot read: is a directory\n");
}
