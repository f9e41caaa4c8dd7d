// `coscope record` / `report` end to end: record stallgen, read the file back in every
// format, and check what the formats say against what stallgen announced it injected.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <csignal>
#include <cstring>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include "record_e2e.h"
#include "test_util.h"

using namespace record_e2e;

namespace
{

struct announced_stall {
    std::string kind, task;
    long long id, ms;
};

// stallgen's "stall kind=cpu ms=120 task=stall-cpu id=42" lines.
std::vector<announced_stall> announced(const std::string &out)
{
    std::vector<announced_stall> v;
    std::istringstream in(out);
    std::string line;
    while (std::getline(in, line)) {
        announced_stall a;
        char kind[32], task[64];
        if (sscanf(line.c_str(), "stall kind=%31s ms=%lld task=%63s id=%lld", kind, &a.ms, task,
                   &a.id) == 4) {
            a.kind = kind;
            a.task = task;
            v.push_back(a);
        }
    }
    return v;
}

// One recording for the whole file: stallgen runs 2 rounds of 3 stalls and exits, so every
// stall it announced ended while coscope recorded.
struct recording {
    std::string path = tmp_path("stallgen.csrec");
    command_result run;
    std::vector<announced_stall> stalls;

    recording()
    {
        std::string port = std::to_string(20000 + getpid() % 20000);
        run = run_command(coscope + " record -o " + path + " -t 80ms -- " + stallgen + " --port " +
                          port +
                          " --every 600ms --count 2 --stalls cpu:120ms,sleep:150ms,read:200ms");
        stalls = announced(run.out);
    }
    ~recording()
    {
        unlink(path.c_str());
    }
};

recording &the_recording()
{
    static recording r;
    INFO(r.run.err);
    REQUIRE(r.run.status == 0);
    REQUIRE(r.stalls.size() == 6);
    return r;
}

} // namespace

TEST_CASE("report --format json holds exactly the stalls stallgen injected")
{
    auto &rec = the_recording();
    std::string json = tmp_path("report.json");
    auto r = report(rec.path, "json", json);
    INFO(r.err);
    REQUIRE(r.status == 0);
    CHECK(r.err.empty());
    // Stalls outside any task (the loop thread preempted on a loaded machine) are allowed;
    // the task stalls are exactly the announced ones.
    std::map<long long, std::pair<std::string, long long>> got; // id -> name, duration
    std::istringstream in(py("stalls " + json));
    long long id, ns;
    std::string name;
    while (in >> id >> name >> ns)
        if (id) {
            CHECK(got.count(id) == 0);
            got[id] = {name, ns};
        }
    CHECK(got.size() == rec.stalls.size());
    for (auto &a : rec.stalls) {
        INFO(a.task << " id " << a.id);
        REQUIRE(got.count(a.id) == 1);
        CHECK(got[a.id].first == a.task);
        CHECK(got[a.id].second >= a.ms * 900000);
        CHECK(got[a.id].second <= a.ms * 1000000 + 500000000); // generous: a loaded machine
    }
    unlink(json.c_str());
}

TEST_CASE("report --format chrome is trace JSON with the loop's track and its stalls")
{
    auto &rec = the_recording();
    std::string json = tmp_path("report.json"), trace = tmp_path("trace.json");
    REQUIRE(report(rec.path, "json", json).status == 0);
    REQUIRE(report(rec.path, "chrome", trace).status == 0);
    std::istringstream lines(py("stalls " + json));
    size_t nstalls = 0;
    std::string line;
    while (std::getline(lines, line))
        nstalls++;
    // The loop is stallgen's main thread: tid == pid, which the TARGET record holds.
    auto pid = run_command("python3 -c \"import json;print(json.load(open('" + json +
                           "'))['target']['pid'])\"");
    REQUIRE(pid.status == 0);
    std::istringstream counts(
        py("chrome " + trace + " " + std::to_string(std::atoi(pid.out.c_str()))));
    size_t stall_slices = 0, task_slices = 0;
    counts >> stall_slices >> task_slices;
    CHECK(stall_slices == nstalls);
    CHECK(task_slices >= rec.stalls.size()); // every injected stall was a long task slice
    unlink(json.c_str());
    unlink(trace.c_str());
}

TEST_CASE("folded stacks parse and add up to the recorded stall time")
{
    auto &rec = the_recording();
    std::string json = tmp_path("report.json"), folded = tmp_path("stacks.folded"),
                svg = tmp_path("flame.svg");
    REQUIRE(report(rec.path, "json", json).status == 0);
    REQUIRE(report(rec.path, "folded", folded).status == 0);
    long long want = std::atoll(py("stalled_us " + json).c_str());
    long long sum = std::atoll(py("folded " + folded).c_str());
    CHECK(want > 0);
    CHECK(sum == want);
    std::string stacks = slurp_file(folded);
    CHECK(stacks.find("stall_cpu_burn") != std::string::npos);
    CHECK(stacks.find("stall_blocking_read") != std::string::npos);
    // The SVG flame graph draws the same stacks.
    REQUIRE(report(rec.path, "svg", svg).status == 0);
    std::string drawing = slurp_file(svg);
    CHECK(drawing.rfind("<?xml", 0) == 0);
    CHECK(drawing.find("stall_blocking_sleep") != std::string::npos);
    CHECK(drawing.find("</svg>") != std::string::npos);
    // Well-formed XML, its zoom/reset/search script inside, no URL to fetch anything from.
    std::istringstream svg_check(py("svg " + svg));
    long frames = 0;
    std::string has_search, has_reset;
    svg_check >> frames >> has_search >> has_reset;
    CHECK(frames > 3);
    CHECK(has_search == "True");
    CHECK(has_reset == "True");
    unlink(json.c_str());
    unlink(folded.c_str());
    unlink(svg.c_str());
}

TEST_CASE("report --format pprof is read by go tool pprof: stall count, time, stacks, labels")
{
    auto &rec = the_recording();
    std::string json = tmp_path("report.json"), prof = tmp_path("stalls.pb.gz");
    REQUIRE(report(rec.path, "json", json).status == 0);
    auto r = report(rec.path, "pprof", prof);
    INFO(r.err);
    REQUIRE(r.status == 0);
    std::istringstream lines(py("stalls " + json));
    size_t nstalls = 0;
    std::string line;
    while (std::getline(lines, line))
        nstalls++;
    // Debian's golang-go (./dev installs it); HOME: pprof keeps its settings there.
    std::string pprof = "HOME=" + tmp_path("pprof-home") + " go tool pprof ";
    auto count = run_command(pprof + "-top -sample_index=stalls " + prof);
    INFO(count.out << count.err);
    REQUIRE(count.status == 0);
    CHECK(count.out.find("Type: stalls") != std::string::npos);
    CHECK(count.out.find("Total samples = " + std::to_string(nstalls) + " ") != std::string::npos);
    auto time = run_command(pprof + "-top -sample_index=stalled " + prof);
    INFO(time.out << time.err);
    REQUIRE(time.status == 0);
    CHECK(time.out.find("stall_cpu_burn") != std::string::npos);
    CHECK(time.out.find("stall_blocking_read") != std::string::npos);
    auto traces = run_command(pprof + "-traces " + prof);
    INFO(traces.out << traces.err);
    REQUIRE(traces.status == 0);
    CHECK(traces.out.find("task:  stall-cpu") != std::string::npos);
    CHECK(traces.out.find("cause:  CPU") != std::string::npos);
    CHECK(traces.out.find("syscall:  read") != std::string::npos);
    CHECK(traces.out.find("stall_task") != std::string::npos); // callers with the frame
    unlink(json.c_str());
    unlink(prof.c_str());
    run_command("rm -rf " + tmp_path("pprof-home"));
}

TEST_CASE("stalls --pprof writes a profile go tool pprof reads: top function and traces")
{
    std::string prof = tmp_path("live-stalls.pb.gz");
    std::string port = std::to_string(20000 + (getpid() + 7) % 20000);
    auto run = run_command(coscope + " stalls -t 80ms --pprof " + prof + " -- " + stallgen +
                           " --port " + port + " --every 500ms --count 2 --stalls cpu:150ms");
    INFO(run.out << run.err);
    REQUIRE(run.status == 0);
    std::string pprof = "HOME=" + tmp_path("pprof-home-live") + " go tool pprof ";
    auto top = run_command(pprof + "-top -sample_index=stalled " + prof);
    INFO(top.out << top.err);
    REQUIRE(top.status == 0);
    // -top's first row after the "flat  flat%" header is the function with most stalled time.
    std::istringstream lines(top.out);
    std::string line, first;
    bool header = false;
    while (std::getline(lines, line)) {
        if (header) {
            first = line;
            break;
        }
        header = line.find("flat%") != std::string::npos;
    }
    CHECK(first.find("stall_cpu_burn") != std::string::npos);
    auto traces = run_command(pprof + "-traces " + prof);
    INFO(traces.out << traces.err);
    REQUIRE(traces.status == 0);
    CHECK(traces.out.find("cause:  CPU") != std::string::npos);
    CHECK(traces.out.find("stall_task") != std::string::npos);
    unlink(prof.c_str());
    run_command("rm -rf " + tmp_path("pprof-home-live"));
}

TEST_CASE("stalls --pprof into a path that cannot be created fails before attaching")
{
    auto r = run_command(coscope + " stalls -p " + std::to_string(getpid()) +
                         " --pprof /nonexistent-dir/x.pb.gz");
    CHECK(r.status == 2);
    CHECK(r.err.find("cannot create /nonexistent-dir/x.pb.gz") != std::string::npos);
}

TEST_CASE("a truncated recording reports its whole records and warns")
{
    auto &rec = the_recording();
    std::string cut = tmp_path("cut.csrec"), json = tmp_path("cut.json");
    std::string full = slurp_file(rec.path);
    REQUIRE(full.size() > 1000);
    {
        std::ofstream f(cut, std::ios::binary);
        f.write(full.data(), (std::streamsize)(full.size() * 2 / 3));
    }
    auto r = report(cut, "json", json);
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(r.err.find("warning") != std::string::npos);
    CHECK(r.err.find("truncated after") != std::string::npos);
    CHECK(py("warning " + json).rfind("truncated after", 0) == 0);
    auto text = run_command(coscope + " report " + cut);
    CHECK(text.status == 0);
    CHECK(text.out.find("not closed (no trailer)") != std::string::npos);
    unlink(cut.c_str());
    unlink(json.c_str());
}

TEST_CASE("report refuses what is not a recording, with distinct exit codes")
{
    CHECK(run_command(coscope + " report /etc/passwd").status == 7);
    CHECK(run_command(coscope + " report /nonexistent/file.csrec").status == 2);
    CHECK(run_command(coscope + " report").status == 2);
    auto &rec = the_recording();
    std::string bad = tmp_path("bad.csrec");
    std::string data = slurp_file(rec.path);
    {
        std::string v3 = data;
        v3[8] = 3; // the version field
        std::ofstream(bad, std::ios::binary) << v3;
        auto r = run_command(coscope + " report " + bad);
        CHECK(r.status == 8);
        CHECK(r.err.find("version 3 not supported (this coscope reads version 1 to 2)") !=
              std::string::npos);
    }
    {
        std::string flipped = data;
        flipped[data.size() / 2] ^= 0x55;
        std::ofstream(bad, std::ios::binary) << flipped;
        auto r = run_command(coscope + " report " + bad);
        CHECK(r.status == 9);
        CHECK(r.err.find("corrupt record at offset") != std::string::npos);
    }
    unlink(bad.c_str());
}

TEST_CASE("a flight recorder writes its window when a trigger fires, and nothing otherwise")
{
    std::string port = std::to_string(20000 + (getpid() + 7) % 20000);
    std::string fired = tmp_path("flight.csrec"), quiet = tmp_path("quiet.csrec");
    std::string target = " -- " + stallgen + " --port " + port +
                         " --every 500ms --count 2 --stalls cpu:100ms,sleep:250ms";
    auto r = run_command(coscope + " record -o " + fired +
                         " -t 60ms --flight 10s --trigger 'stall>200ms' --after 200ms" + target);
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(r.err.find("trigger 'stall>200ms' fired") != std::string::npos);
    struct stat st;
    REQUIRE(stat(fired.c_str(), &st) == 0);
    std::string json = tmp_path("flight.json");
    auto rep = report(fired, "json", json);
    INFO(rep.err);
    CHECK(rep.status == 0);
    std::string out = py("stalls " + json);
    CHECK(out.find("stall-sleep") != std::string::npos);
    std::string report_text = slurp_file(json);
    CHECK(report_text.find("\"trigger\":\"stall>200ms\"") != std::string::npos);
    CHECK(report_text.find("\"flight\":true") != std::string::npos);

    port = std::to_string(20000 + (getpid() + 13) % 20000);
    target = " -- " + stallgen + " --port " + port + " --every 500ms --count 1 --stalls cpu:100ms";
    r = run_command(coscope + " record -o " + quiet + " --flight 10s --trigger 'stall>5s'" +
                    target);
    CHECK(r.status == 0);
    CHECK(r.err.find("no trigger fired: nothing written") != std::string::npos);
    CHECK(stat(quiet.c_str(), &st) != 0);
    unlink(fired.c_str());
    unlink(json.c_str());
}

TEST_CASE("coscope compare holds a report against itself, and fails on one more stall")
{
    auto &rec = the_recording();
    std::string base = tmp_path("base.json"), worse = tmp_path("worse.json");
    REQUIRE(report(rec.path, "json", base).status == 0);
    auto same = run_command(coscope + " compare " + base + " " + base);
    INFO(same.out << same.err);
    CHECK(same.status == 0);
    // The rates over watched loop time are there, and agree with the count and the time.
    auto rates = run_command(
        "python3 -c \"import json;d=json.load(open('" + base +
        "'));m=d['metrics'];l=max(len(d.get('loops',[])),1);"
        "print(m['stall_rate']['value']>0,m['stalled_pct']['value']>0,"
        "m['stall_rate']['unit'],round(m['stalled_pct']['value']/100*"
        "m['stalls']['value']/m['stall_rate']['value']*1e9/m['stalled_time']['value'],2))\"");
    INFO(rates.err);
    CHECK(rates.out == "True True 1/s 1.0\n");
    auto doctored = run_command("python3 -c \"import json;d=json.load(open('" + base +
                                "'));d['metrics']['stalls']['value']+=1;json.dump(d,open('" +
                                worse + "','w'))\"");
    REQUIRE(doctored.status == 0);
    auto regressed = run_command(coscope + " compare " + base + " " + worse);
    INFO(regressed.out << regressed.err);
    CHECK(regressed.status == 1);
    unlink(base.c_str());
    unlink(worse.c_str());
}

namespace
{

// stallgen serving on a port of its own, stalling every `every`.
struct stallgen_proc {
    command_result dummy;
    pid_t pid = -1;
    explicit stallgen_proc(const std::string &every, int port_salt)
    {
        std::string port = std::to_string(20000 + (getpid() + port_salt) % 20000);
        pid = fork();
        if (pid == 0) {
            int null_fd = open("/dev/null", O_WRONLY);
            dup2(null_fd, 1);
            execl(STALLGEN_EXE, STALLGEN_EXE, "--port", port.c_str(), "--every", every.c_str(),
                  "--stalls", "cpu:60ms,read:80ms", (char *)nullptr);
            _exit(127);
        }
        usleep(300000); // its loop runs
    }
    ~stallgen_proc()
    {
        kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
    }
};

// Runs `coscope record ARGS` in the background; returns its pid (stderr into err_path).
pid_t start_record(const std::string &args, const std::string &err_path)
{
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 2);
        int null_fd = open("/dev/null", O_WRONLY);
        dup2(null_fd, 1);
        execl("/bin/sh", "sh", "-c",
              ("exec " + std::string(COSCOPE_EXE) + " record " + args).c_str(), (char *)nullptr);
        _exit(127);
    }
    return pid;
}

bool wait_for_text(const std::string &path, const std::string &text, int timeout_ms)
{
    for (int waited = 0; waited < timeout_ms; waited += 50) {
        if (slurp_file(path).find(text) != std::string::npos)
            return true;
        usleep(50000);
    }
    return false;
}

} // namespace

TEST_CASE("a recorder killed with SIGKILL leaves a file report reads to its last whole record")
{
    stallgen_proc target("300ms", 41);
    std::string file = tmp_path("killed.csrec"), err = tmp_path("killed.err");
    pid_t rec = start_record("-p " + std::to_string(target.pid) + " -t 40ms -o " + file, err);
    REQUIRE(wait_for_text(err, "coscope: recording", 30000));
    // Until a stall or two are in the file, then no chance to close it.
    for (int i = 0; i < 100 && slurp_file(file).find("stall_") == std::string::npos; i++)
        usleep(100000);
    usleep(300000);
    kill(rec, SIGKILL);
    waitpid(rec, nullptr, 0);
    std::string json = tmp_path("killed.json");
    auto r = report(file, "json", json);
    INFO(r.err << slurp_file(err));
    CHECK(r.status == 0);
    std::string out = slurp_file(json);
    CHECK(out.find("\"complete\":false") != std::string::npos);
    CHECK(out.find("\"stall_") != std::string::npos); // a stall with its stack survived
    unlink(file.c_str());
    unlink(err.c_str());
    unlink(json.c_str());
}

namespace
{

// The number in "the recording stops after N records" (-1 if absent).
long long records_said(const std::string &err)
{
    auto at = err.find("the recording stops after ");
    if (at == std::string::npos)
        return -1;
    return atoll(err.c_str() + at + strlen("the recording stops after "));
}

// Records into a 12 KB tmpfs until it is full; the writer's count must be the reader's,
// batches of polls cut by the full disk included.
void record_to_full_disk(const std::string &extra)
{
    char dir[] = "/tmp/cs-full-XXXXXX";
    REQUIRE(mkdtemp(dir));
    std::string mnt = dir;
    if (run_command("mount -t tmpfs -o size=12k cs-full " + mnt).status != 0) {
        rmdir(dir);
        WARN("skipped: cannot mount a small tmpfs here");
        return;
    }
    stallgen_proc target("150ms", 43);
    std::string file = mnt + "/rec.csrec", err = tmp_path("full.err");
    pid_t rec =
        start_record("-p " + std::to_string(target.pid) + " -t 40ms " + extra + " -o " + file, err);
    int status = -1;
    for (int i = 0; i < 600 && waitpid(rec, &status, WNOHANG) == 0; i++)
        usleep(100000);
    if (waitpid(rec, &status, WNOHANG) == 0) {
        kill(rec, SIGKILL);
        waitpid(rec, &status, 0);
    }
    std::string said = slurp_file(err);
    INFO(said);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 1);
    CHECK(said.find("No space left on device") != std::string::npos);
    CHECK(said.find("the recording stops after") != std::string::npos);
    auto r = run_command(coscope + " report " + file);
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(r.out.find("recording of process") != std::string::npos);
    auto j = run_command(coscope + " report --format json " + file);
    CHECK(j.status == 0);
    CHECK(records_said(said) > 0);
    auto at = j.out.find("\"records\":");
    REQUIRE(at != std::string::npos);
    CHECK(atoll(j.out.c_str() + at + 10) == records_said(said));
    run_command("umount " + mnt);
    rmdir(dir);
    unlink(err.c_str());
}

} // namespace

TEST_CASE("a full disk stops the recording with a clear line, and the file stays readable")
{
    record_to_full_disk("");
}

TEST_CASE("on a full disk the recorder counts the records the reader finds, batches of polls too")
{
    record_to_full_disk("--polls");
}

TEST_CASE("a foreign event loop is recorded with its stalls and the engine's loop figures")
{
    std::string file = tmp_path("foreign.csrec"), json = tmp_path("foreign.json");
    // The target reads commands from stdin: burn 150 ms once it runs, then quit.
    auto rec = run_command("(sleep 1.5; echo 'burn 150'; sleep 1.5; echo quit) | " + coscope +
                           " record -o " + file + " -d 20s -- " + TARGET_EPOLL_FP);
    INFO(rec.err);
    REQUIRE(rec.status == 0);
    REQUIRE(report(file, "json", json).status == 0);
    std::string out = slurp_file(json);
    INFO(out.substr(0, 3000));
    CHECK(out.find("\"source\":\"engine\"") != std::string::npos);
    CHECK(out.find("\"sched_p99_ns\":null") != std::string::npos);
    CHECK(out.find("\"symbol\":\"stall_burn_cpu\"") != std::string::npos);
    CHECK(out.find("\"loop.0.iteration.p99\"") != std::string::npos);
    unlink(file.c_str());
    unlink(json.c_str());
}

TEST_CASE("a slow libcorun iteration (many short slices) is recorded and reported")
{
    std::string file = tmp_path("slowiter.csrec"), json = tmp_path("slowiter.json");
    // Ten tasks spinning 8 ms each in one iteration: 80 ms, no slice over 50 ms.
    auto rec = run_command("(sleep 2; echo 'burnn 10 8'; sleep 2) | " + coscope + " record -o " +
                           file + " -t 50ms -d 30s -- " + TARGET_CORUN_TREE);
    INFO(rec.err);
    REQUIRE(rec.status == 0);
    REQUIRE(report(file, "json", json).status == 0);
    std::string out = slurp_file(json);
    INFO(out.substr(0, 4000));
    auto at = out.find("\"slow_iterations\":[{");
    REQUIRE(at != std::string::npos);
    CHECK(out.find("\"name\":\"burner-", at) != std::string::npos);
    auto text = run_command(coscope + " report " + file);
    CHECK(text.out.find("slow iterations (") != std::string::npos);
    unlink(file.c_str());
    unlink(json.c_str());
}
