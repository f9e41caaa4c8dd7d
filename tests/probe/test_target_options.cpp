// The command line stalls, stat, top and record share (target_options.h): every bad
// flag is exit 2 with one line that names the command, the same way in all four.
#include <catch2/catch.hpp>

#include <cstdio>
#include <string>
#include <unistd.h>
#include <vector>

#include "test_util.h"

extern "C" {
#include "duration.h"
#include "exit_codes.h"
#include "target_options.h"
}

namespace
{
const std::string coscope = COSCOPE_EXE;

// What one parse printed and returned.
struct parsed {
    int rc;
    std::string out, err;
    cs_target_opts opts;          // opts.cmd cleared: it pointed into the parse's argv
    std::vector<std::string> cmd; // what followed the options
};

// Captures a file descriptor (stdout or stderr) into a temporary file while alive.
class capture
{
  public:
    explicit capture(int fd) : fd_(fd)
    {
        file_ = std::tmpfile();
        std::fflush(fd == 1 ? stdout : stderr);
        saved_ = dup(fd);
        dup2(fileno(file_), fd);
    }
    std::string take()
    {
        std::fflush(fd_ == 1 ? stdout : stderr);
        dup2(saved_, fd_);
        close(saved_);
        std::rewind(file_);
        std::string s = slurp_stream(file_);
        std::fclose(file_);
        return s;
    }

  private:
    int fd_, saved_;
    FILE *file_;
};

void fake_usage(FILE *out)
{
    std::fputs("usage: coscope fake ...\n", out);
}

// A command's own options, the way record has -o and --flight.
struct own_state {
    std::string output; // a copy: the parse's argv dies with it
    int flights = 0;
};

int own_option(int opt, const char *arg, void *ctx)
{
    auto *st = static_cast<own_state *>(ctx);
    if (opt == 'o') {
        st->output = arg;
        return 0;
    }
    if (opt == 256) {
        if (std::string(arg) == "bad")
            return cs_target_bad_usage("fake", "bad --flight '%s'", arg);
        st->flights++;
        return 0;
    }
    return CS_EXIT_USAGE;
}

const option own_long[] = {
    {"output", required_argument, nullptr, 'o'},
    {"flight", required_argument, nullptr, 256},
    {nullptr, 0, nullptr, 0},
};

parsed parse(std::vector<std::string> args, unsigned flags = CS_TARGET_THRESHOLD,
             own_state *own = nullptr)
{
    std::vector<char *> argv;
    args.insert(args.begin(), "fake");
    for (auto &a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    cs_target_cli cli = {};
    cli.name = "fake";
    cli.flags = flags;
    cli.usage = fake_usage;
    if (own) {
        cli.own_long = own_long;
        cli.own_short = "o:";
        cli.on_option = own_option;
        cli.ctx = own;
    }
    parsed p{};
    p.opts.threshold_ns = 50000000;
    capture out(1), err(2);
    p.rc = cs_target_parse(&cli, (int)args.size(), argv.data(), &p.opts);
    p.err = err.take();
    p.out = out.take();
    for (char **c = p.opts.cmd; c && *c; c++)
        p.cmd.push_back(*c);
    p.opts.cmd = nullptr;
    return p;
}

std::string usage_line(const std::string &what)
{
    return "coscope fake: " + what + " (see 'coscope fake --help')\n";
}
} // namespace

TEST_CASE("a target and the shared options are parsed into their fields")
{
    auto p = parse({"-p", "42", "-d", "2s", "-t", "10ms"});
    CHECK(p.rc == 0);
    CHECK(p.err.empty());
    CHECK(p.opts.pid == 42);
    CHECK(p.opts.duration_ns == 2000000000ull);
    CHECK(p.opts.threshold_ns == 10000000ull);
    CHECK(p.cmd.empty());

    auto l = parse({"--pid=7", "--duration", "500ms", "--threshold=1s", "--json", "-T", "9"},
                   CS_TARGET_THRESHOLD | CS_TARGET_JSON | CS_TARGET_TID);
    CHECK(l.rc == 0);
    CHECK(l.opts.pid == 7);
    CHECK(l.opts.tid == 9);
    CHECK(l.opts.json);
    CHECK(l.opts.duration_ns == 500000000ull);
    CHECK(l.opts.threshold_ns == 1000000000ull);
}

TEST_CASE("an option left out keeps its default: no duration, the caller's threshold")
{
    auto p = parse({"-p", "42"});
    CHECK(p.rc == 0);
    CHECK(p.opts.duration_ns == 0);
    CHECK(p.opts.threshold_ns == 50000000ull);
    CHECK_FALSE(p.opts.json);
}

TEST_CASE("everything after -- is the command, its own flags included")
{
    auto p = parse({"-d", "1s", "--", "sleep", "-x", "-p", "3"});
    CHECK(p.rc == 0);
    CHECK(p.cmd == std::vector<std::string>{"sleep", "-x", "-p", "3"});
    CHECK(p.opts.pid == 0);
    // a command needs no "--" either: the first word that is not an option starts it
    auto q = parse({"-d", "1s", "sleep", "-p", "3"});
    CHECK(q.rc == 0);
    CHECK(q.cmd == std::vector<std::string>{"sleep", "-p", "3"});
}

TEST_CASE("a bad PID is exit 2 with one line naming the command")
{
    for (const char *bad : {"abc", "0", "-5", "12x", ""}) {
        auto p = parse({"-p", bad});
        CHECK(p.rc == CS_EXIT_USAGE);
        CHECK(p.err == usage_line(std::string("bad PID '") + bad + "'"));
    }
    auto t = parse({"-T", "x1"}, CS_TARGET_TID);
    CHECK(t.rc == CS_EXIT_USAGE);
    CHECK(t.err == usage_line("bad TID 'x1'"));
}

TEST_CASE("both -p and -- CMD is exit 2: one target at a time")
{
    auto p = parse({"-p", "42", "--", "true"});
    CHECK(p.rc == CS_EXIT_USAGE);
    CHECK(p.err == usage_line("give either -p PID or -- CMD, not both"));
    auto t = parse({"-T", "42", "--", "true"}, CS_TARGET_TID);
    CHECK(t.rc == CS_EXIT_USAGE);
    CHECK(t.err == usage_line("give either -p/-T or -- CMD, not both"));
}

TEST_CASE("no target at all is exit 2 and says which ones there are")
{
    auto p = parse({"-d", "1s"});
    CHECK(p.rc == CS_EXIT_USAGE);
    CHECK(p.err == usage_line("which process? give -p PID or -- CMD"));
    auto t = parse({}, CS_TARGET_TID);
    CHECK(t.rc == CS_EXIT_USAGE);
    CHECK(t.err == usage_line("which process? give -p PID, -T TID or -- CMD"));
}

TEST_CASE("an option missing its value is exit 2 naming the option")
{
    auto p = parse({"-d", "1s", "-p"});
    CHECK(p.rc == CS_EXIT_USAGE);
    CHECK(p.err == usage_line("unknown or incomplete option '-p'"));
    auto l = parse({"-p", "1", "--duration"});
    CHECK(l.rc == CS_EXIT_USAGE);
    CHECK(l.err == usage_line("unknown or incomplete option '--duration'"));
}

TEST_CASE("a bad or zero duration or threshold is exit 2 with an example")
{
    for (const char *bad : {"never", "0", "-1s", "5parsecs"}) {
        auto d = parse({"-p", "1", "-d", bad});
        CHECK(d.rc == CS_EXIT_USAGE);
        CHECK(d.err == usage_line(std::string("bad duration '") + bad + "' (e.g. 10s, 500ms)"));
        auto t = parse({"-p", "1", "-t", bad});
        CHECK(t.rc == CS_EXIT_USAGE);
        CHECK(t.err ==
              usage_line(std::string("bad threshold '") + bad + "' (e.g. 50ms, 2s, 500us)"));
    }
}

TEST_CASE("the first bad option is the one reported")
{
    auto p = parse({"-d", "bad", "-t", "worse"});
    CHECK(p.err == usage_line("bad duration 'bad' (e.g. 10s, 500ms)"));
    auto q = parse({"-t", "worse", "-d", "bad"});
    CHECK(q.err == usage_line("bad threshold 'worse' (e.g. 50ms, 2s, 500us)"));
}

TEST_CASE("an unknown flag is exit 2, and so is a shared one the command does not take")
{
    auto p = parse({"-p", "1", "--bogus"});
    CHECK(p.rc == CS_EXIT_USAGE);
    CHECK(p.err == usage_line("unknown or incomplete option '--bogus'"));
    // Without CS_TARGET_TID / _THRESHOLD / _JSON those flags do not exist
    auto t = parse({"-p", "1", "-T", "2"}, 0);
    CHECK(t.err == usage_line("unknown or incomplete option '-T'"));
    auto th = parse({"-p", "1", "-t", "2"}, 0);
    CHECK(th.err == usage_line("unknown or incomplete option '-t'"));
    auto j = parse({"-p", "1", "--json"}, 0);
    CHECK(j.err == usage_line("unknown or incomplete option '--json'"));
}

TEST_CASE("--help prints the command's usage on stdout and asks for exit 0")
{
    for (const char *h : {"-h", "--help", "--he"}) {
        auto p = parse({h});
        CHECK(p.rc == CS_TARGET_HELP);
        CHECK(p.out == "usage: coscope fake ...\n");
        CHECK(p.err.empty());
    }
}

TEST_CASE("a command's own options reach its handler, and its errors are its own")
{
    own_state st;
    auto p =
        parse({"-o", "file", "--flight", "1s", "--flight=2s", "-p", "3"}, CS_TARGET_THRESHOLD, &st);
    CHECK(p.rc == 0);
    CHECK(st.output == "file");
    CHECK(st.flights == 2);
    CHECK(p.opts.pid == 3);

    own_state bad;
    auto b = parse({"-p", "3", "--flight", "bad"}, CS_TARGET_THRESHOLD, &bad);
    CHECK(b.rc == CS_EXIT_USAGE);
    CHECK(b.err == usage_line("bad --flight 'bad'"));
    auto m = parse({"-p", "3", "-o"}, CS_TARGET_THRESHOLD, &bad);
    CHECK(m.err == usage_line("unknown or incomplete option '-o'"));
}

TEST_CASE("preflight: a process that does not exist is exit 3 with one line")
{
    if (geteuid() != 0) {
        WARN("not run: needs root (the privilege check comes first)");
        return;
    }
    cs_target_opts o = {};
    o.pid = 999999999;
    capture err(2);
    int rc = cs_target_preflight(&o);
    CHECK(err.take() == "coscope: no such process 999999999\n");
    CHECK(rc == CS_EXIT_NO_PROCESS);
}

TEST_CASE("preflight: a thread of another process, or none, is exit 3")
{
    if (geteuid() != 0) {
        WARN("not run: needs root (the privilege check comes first)");
        return;
    }
    cs_target_opts o = {};
    o.tid = (int)gettid();
    o.pid = 1;
    capture err(2);
    int rc = cs_target_preflight(&o);
    std::string line = err.take();
    CHECK(rc == CS_EXIT_NO_PROCESS);
    CHECK(line == "coscope: no such thread " + std::to_string(o.tid) + " in that process\n");

    cs_target_opts none = {};
    none.tid = 999999999;
    capture err2(2);
    rc = cs_target_preflight(&none);
    CHECK(err2.take() == "coscope: no such thread 999999999\n");
    CHECK(rc == CS_EXIT_NO_PROCESS);
}

TEST_CASE("a PID is digits from 1 to pid_max, never wrapped into another process")
{
    int pid = 0;
    CHECK(cs_parse_pid("1", &pid) == 0);
    CHECK(pid == 1);
    CHECK(cs_parse_pid("4294967297", &pid) == -ERANGE); // 2^32 + 1: was PID 1
    CHECK(cs_parse_pid("99999999999999999999", &pid) == -ERANGE);
    unsigned long long pid_max = std::stoull(slurp_file("/proc/sys/kernel/pid_max"));
    CHECK(cs_parse_pid(std::to_string(pid_max).c_str(), &pid) == -ERANGE);
    CHECK(cs_parse_pid(std::to_string(pid_max - 1).c_str(), &pid) == 0);
    for (const char *bad : {"0", "-1", "+1", " 1", "1 ", "", "0x10", "1e3"})
        CHECK(cs_parse_pid(bad, &pid) == -EINVAL);
    CHECK(pid == (int)pid_max - 1);
}

TEST_CASE("a count (--max-rate, --flight-max) is plain digits: no sign, junk or overflow")
{
    uint64_t v = 0;
    CHECK(cs_parse_count("10", &v) == 0);
    CHECK(v == 10);
    CHECK(cs_parse_count("18446744073709551615", &v) == 0);
    for (const char *bad : {"-1", "+1", " 1", "1k", "", "ten", "18446744073709551616"})
        CHECK(cs_parse_count(bad, &v) == -EINVAL);
}

TEST_CASE("launch and attach failures map to the documented exit codes")
{
    CHECK(cs_target_launch_exit(-ENOENT) == CS_EXIT_USAGE); // no such command
    CHECK(cs_target_launch_exit(-EACCES) == CS_EXIT_USAGE);
    CHECK(cs_target_launch_exit(-ENOEXEC) == CS_EXIT_USAGE); // a text file without "#!"
    CHECK(cs_target_launch_exit(-ESRCH) == CS_EXIT_NO_PROCESS);
    CHECK(cs_target_attach_exit(-EPERM) == CS_EXIT_PERMISSION);
    CHECK(cs_target_attach_exit(-EACCES) == CS_EXIT_PERMISSION);
    CHECK(cs_target_attach_exit(-ESRCH) == CS_EXIT_NO_PROCESS);
    CHECK(cs_target_attach_exit(-EINVAL) == CS_EXIT_KERNEL);
}

TEST_CASE("stalls, stat, top and record word the same mistakes the same way")
{
    for (std::string cmd : {"stalls", "stat", "top", "record"}) {
        INFO(cmd);
        std::string see = " (see 'coscope " + cmd + " --help')\n";
        auto pid = run_command(coscope + " " + cmd + " -p abc");
        CHECK(pid.status == 2);
        CHECK(pid.err == "coscope " + cmd + ": bad PID 'abc'" + see);
        auto both = run_command(coscope + " " + cmd + " -p 1 -- true");
        CHECK(both.status == 2);
        CHECK(both.err.find("coscope " + cmd + ": give either -p") == 0);
        auto dur = run_command(coscope + " " + cmd + " -p 1 -d never");
        CHECK(dur.status == 2);
        CHECK(dur.err == "coscope " + cmd + ": bad duration 'never' (e.g. 10s, 500ms)" + see);
        auto missing = run_command(coscope + " " + cmd + " -p");
        CHECK(missing.status == 2);
        CHECK(missing.err == "coscope " + cmd + ": unknown or incomplete option '-p'" + see);
        auto unknown = run_command(coscope + " " + cmd + " -p 1 --bogus");
        CHECK(unknown.status == 2);
        CHECK(unknown.err == "coscope " + cmd + ": unknown or incomplete option '--bogus'" + see);
        auto help = run_command(coscope + " " + cmd + " --help");
        CHECK(help.status == 0);
        CHECK(help.out.find("usage: coscope " + cmd) == 0);
    }
}
