// Files coscope writes and reads for the user, safe as root in a shared directory: an
// output is never written through a symbolic link or into another name of a file (a hard
// link) unless --force, is created 0600, and an input that is not a regular file (a FIFO,
// a directory) is refused at once instead of hanging.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

#include "record_e2e.h"
#include "test_util.h"

using namespace record_e2e;

namespace
{

// A scratch directory, removed with its files at the end of the test.
struct scratch_dir {
    std::string path;
    scratch_dir()
    {
        char tmpl[] = "/tmp/cs-safe-files-XXXXXX";
        REQUIRE(mkdtemp(tmpl) != nullptr);
        path = tmpl;
    }
    ~scratch_dir()
    {
        run_command("rm -rf '" + path + "'");
    }
    std::string operator/(const std::string &name) const
    {
        return path + "/" + name;
    }
};

// A process that exists and that root may trace (in a container pid 1 may be neither).
std::string self()
{
    return std::to_string(getpid());
}

int mode_of(const std::string &path)
{
    struct stat st;
    return lstat(path.c_str(), &st) == 0 ? (int)(st.st_mode & 07777) : -1;
}

bool one_line(const std::string &err)
{
    return !err.empty() && err.find('\n') == err.size() - 1;
}

void write_text(const std::string &path, const std::string &text)
{
    FILE *f = std::fopen(path.c_str(), "w");
    REQUIRE(f);
    std::fputs(text.c_str(), f);
    std::fclose(f);
}

// A short recording of stallgen (one round of one stall), made once for the file.
const std::string &a_recording()
{
    static scratch_dir dir;
    static std::string path = dir / "stallgen.csrec";
    static command_result run = [] {
        std::string port = std::to_string(20000 + (getpid() + 31) % 20000);
        return run_command("umask 022; " + coscope + " record -o " + path + " -t 60ms -- " +
                           stallgen + " --port " + port +
                           " --every 300ms --count 1 --stalls cpu:100ms");
    }();
    INFO(run.err);
    REQUIRE(run.status == 0);
    return path;
}

} // namespace

TEST_CASE("record -o refuses a symbolic link with one line and exit 2, the target untouched")
{
    scratch_dir dir;
    std::string target = dir / "precious", link = dir / "out.csrec";
    write_text(target, "keep me\n");
    REQUIRE(symlink(target.c_str(), link.c_str()) == 0);
    // -p (this test): the output is opened before anything attaches, so no loop is needed
    auto r = run_command(coscope + " record -o " + link + " -p " + self());
    INFO(r.err);
    CHECK(r.status == 2);
    CHECK(one_line(r.err));
    CHECK(r.err.find("refusing to write through the symbolic link " + link) != std::string::npos);
    CHECK(r.err.find("--force") != std::string::npos);
    CHECK(slurp_file(target) == "keep me\n");
    CHECK(mode_of(link) == 0777); // still a link
}

TEST_CASE("record -o --force writes through a symbolic link")
{
    scratch_dir dir;
    std::string target = dir / "real.csrec", link = dir / "out.csrec";
    write_text(target, "old contents\n");
    REQUIRE(symlink(target.c_str(), link.c_str()) == 0);
    std::string port = std::to_string(20000 + (getpid() + 37) % 20000);
    auto r = run_command(coscope + " record --force -o " + link + " -t 60ms -- " + stallgen +
                         " --port " + port + " --every 300ms --count 1 --stalls cpu:100ms");
    INFO(r.err);
    REQUIRE(r.status == 0);
    auto rep = run_command(coscope + " report " + target);
    INFO(rep.err);
    CHECK(rep.status == 0);
    CHECK(slurp_file(target).find("old contents") == std::string::npos);
}

TEST_CASE("an output with a second hard link is refused unless --force")
{
    scratch_dir dir;
    std::string out = dir / "out.csrec", other = dir / "other-name";
    write_text(out, "shared\n");
    REQUIRE(link(out.c_str(), other.c_str()) == 0);
    auto r = run_command(coscope + " record -o " + out + " -p " + self());
    INFO(r.err);
    CHECK(r.status == 2);
    CHECK(one_line(r.err));
    CHECK(r.err.find("it has other names (hard links; use --force)") != std::string::npos);
    CHECK(slurp_file(other) == "shared\n");

    const std::string &rec = a_recording();
    auto rep = run_command(coscope + " report " + rec + " --format json -o " + out);
    CHECK(rep.status == 2);
    CHECK(one_line(rep.err));
    CHECK(rep.err.find("hard links") != std::string::npos);
    CHECK(slurp_file(other) == "shared\n");
    rep = run_command(coscope + " report " + rec + " --format json --force -o " + out);
    INFO(rep.err);
    CHECK(rep.status == 0);
    CHECK(slurp_file(other).rfind("{", 0) == 0); // the same file, through its other name
}

TEST_CASE("report -o refuses a symbolic link and writes through it with --force")
{
    const std::string &rec = a_recording();
    scratch_dir dir;
    std::string target = dir / "precious", link = dir / "report.json";
    write_text(target, "keep me\n");
    REQUIRE(symlink(target.c_str(), link.c_str()) == 0);
    auto r = run_command(coscope + " report " + rec + " --format json -o " + link);
    CHECK(r.status == 2);
    CHECK(one_line(r.err));
    CHECK(r.err.find("symbolic link") != std::string::npos);
    CHECK(slurp_file(target) == "keep me\n");
    r = run_command(coscope + " report " + rec + " --format json --force -o " + link);
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(slurp_file(target).rfind("{", 0) == 0);
}

TEST_CASE("a recording and a report are created mode 0600, whatever the umask")
{
    const std::string &rec = a_recording();
    CHECK(mode_of(rec) == 0600);
    scratch_dir dir;
    for (const char *format : {"json", "text", "folded"}) {
        std::string out = dir / (std::string("report.") + format);
        auto r = run_command("umask 000; " + coscope + " report " + rec + " --format " + format +
                             " -o " + out);
        INFO(format << ": " << r.err);
        CHECK(r.status == 0);
        CHECK(mode_of(out) == 0600);
    }
}

TEST_CASE("stalls --pprof creates its profile 0600 and refuses a symbolic link")
{
    scratch_dir dir;
    std::string prof = dir / "stalls.pb.gz";
    std::string port = std::to_string(20000 + (getpid() + 41) % 20000);
    auto r =
        run_command("umask 022; " + coscope + " stalls -t 60ms --pprof " + prof + " -- " +
                    stallgen + " --port " + port + " --every 300ms --count 1 --stalls cpu:100ms");
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(mode_of(prof) == 0600);

    std::string target = dir / "precious", link = dir / "link.pb.gz";
    write_text(target, "keep me\n");
    REQUIRE(symlink(target.c_str(), link.c_str()) == 0);
    r = run_command(coscope + " stalls -p " + self() + " --pprof " + link);
    CHECK(r.status == 2);
    CHECK(one_line(r.err));
    CHECK(r.err.find("refusing to write through the symbolic link") != std::string::npos);
    CHECK(slurp_file(target) == "keep me\n");
}

TEST_CASE("report on a FIFO or a directory fails at once with one line")
{
    scratch_dir dir;
    std::string fifo = dir / "fifo.csrec";
    REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
    // timeout: a reader that opened the FIFO would wait for a writer forever (124)
    auto r = run_command("timeout 20 " + coscope + " report " + fifo);
    CHECK(r.status == 2);
    CHECK(one_line(r.err));
    CHECK(r.err.find("cannot read " + fifo + ": not a regular file") != std::string::npos);
    r = run_command("timeout 20 " + coscope + " report " + dir.path);
    CHECK(r.status == 2);
    CHECK(one_line(r.err));
    CHECK(r.err.find("it is a directory") != std::string::npos);
}

TEST_CASE("record rejects flags that contradict each other, exit 2")
{
    auto r = run_command(coscope + " record -o /tmp/never-written.csrec --after 1s -p 1");
    CHECK(r.status == 2);
    CHECK(r.err.find("--after needs --flight DUR") != std::string::npos);
    r = run_command(coscope + " record -o /tmp/never-written.csrec --polls --no-lifecycle -p 1");
    CHECK(r.status == 2);
    CHECK(r.err.find("--polls and --no-lifecycle do not go together") != std::string::npos);
    CHECK(access("/tmp/never-written.csrec", F_OK) != 0);
}
