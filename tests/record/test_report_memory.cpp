// `report` streams a recording: its peak memory does not grow with the file's size (the
// records repeat the same tasks' figures, polls and wakes, as a long recording does), and
// the 16-byte header is checked before anything more is read.
#include <catch2/catch.hpp>

#include <cstring>
#include <fcntl.h>
#include <string>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "record_e2e.h"
#include "test_util.h"

extern "C" {
#include "record_writer.h"
#include "recording_format.h"
}

using namespace record_e2e;

namespace
{

#ifdef __SANITIZE_ADDRESS__
// ASan's shadow and quarantine are in RSS too: only the verdicts are checked there.
const bool measure_rss = false;
#else
const bool measure_rss = true;
#endif

// A recording of 20 tasks on one loop over `rounds` snapshots: each round their statistics,
// the loop's, 50 polls and 50 wakes (~20 KB a round), and 3 stalls in all.
std::string write_recording(const std::string &what, long rounds)
{
    std::string path = tmp_path(what);
    char why[256];
    cs_rec_writer *w = nullptr;
    REQUIRE(cs_rec_writer_open(path.c_str(), false, &w, why, sizeof why) == 0);
    const uint64_t t0 = 1000000000000ull;
    cs_rec_target t{};
    t.pid = 4242;
    snprintf(t.comm, sizeof t.comm, "big");
    t.start_mono_ns = t0;
    t.threshold_ns = 50000000;
    REQUIRE(cs_rec_encode_target(cs_rec_writer_begin(w), &t) == 0);
    REQUIRE(cs_rec_writer_commit(w, t0, true) == 0);
    cs_rec_loop l{t0, 4242, "big"};
    REQUIRE(cs_rec_encode_loop(cs_rec_writer_begin(w), &l) == 0);
    REQUIRE(cs_rec_writer_commit(w, t0, true) == 0);
    for (uint64_t id = 1; id <= 20; id++) {
        cs_rec_task_spawn sp{t0, id, id > 1 ? 1u : 0u, 4242, ""};
        snprintf(sp.name, sizeof sp.name, "task-%llu", (unsigned long long)id);
        REQUIRE(cs_rec_encode_task_spawn(cs_rec_writer_begin(w), &sp) == 0);
        REQUIRE(cs_rec_writer_commit(w, t0, false) == 0);
    }
    cs_frame frames[2] = {{0x1234, "burn", 4, "/usr/bin/big", "big.c", 10, CS_FRAME_NATIVE},
                          {0x5678, "main", 8, "/usr/bin/big", "big.c", 20, CS_FRAME_NATIVE}};
    cs_stack stack{3, 2, frames};
    for (long r = 0; r < rounds; r++) {
        uint64_t now = t0 + (uint64_t)r * 10000000ull;
        cs_rec_buf *b = cs_rec_writer_begin(w);
        for (uint64_t id = 1; id <= 20; id++) {
            cs_rec_task_stats ts{};
            ts.t_ns = now;
            ts.task_id = id;
            ts.loop_id = 1;
            ts.polls = (uint64_t)r;
            ts.nbuckets = 32;
            ts.sched_hist[10] = (uint64_t)r;
            REQUIRE(cs_rec_encode_task_stats(b, &ts) == 0);
        }
        cs_rec_loop_stats ls{};
        ls.t_ns = now;
        ls.loop_id = 1;
        ls.tid = 4242;
        ls.iterations = (uint64_t)r;
        REQUIRE(cs_rec_encode_loop_stats(b, &ls) == 0);
        for (int k = 0; k < 50; k++) {
            cs_rec_slice p{now + (uint64_t)k, 1000, 4242, (uint64_t)(k % 20 + 1), "",
                           CS_REC_SLICE_POLL, 2};
            REQUIRE(cs_rec_encode_slice(b, &p) == 0);
            cs_rec_wake wk{now + (uint64_t)k, 0, (uint64_t)(k % 20 + 1), 4242};
            REQUIRE(cs_rec_encode_wake(b, &wk) == 0);
        }
        REQUIRE(cs_rec_writer_commit_batch(w, now, 20 + 1 + 100) == 0);
        if (r % (rounds / 3 + 1) == 0) {
            cs_stall st{};
            st.start_ns = now;
            st.duration_ns = 60000000;
            st.tid = 4242;
            snprintf(st.comm, sizeof st.comm, "big");
            st.on_cpu_ns = st.duration_ns;
            st.nstacks = 1;
            st.stacks = &stack;
            REQUIRE(cs_rec_encode_stall(cs_rec_writer_begin(w), &st) == 0);
            REQUIRE(cs_rec_writer_commit(w, now, false) == 0);
        }
    }
    cs_rec_writer_close(w);
    return path;
}

// Runs `coscope ARGS` (output to /dev/null): its exit code and peak RSS in KB.
std::pair<int, long> run_measured(const std::vector<std::string> &args)
{
    pid_t pid = fork();
    if (pid == 0) {
        int null_fd = open("/dev/null", O_WRONLY);
        dup2(null_fd, 1);
        dup2(null_fd, 2);
        std::vector<char *> argv{(char *)coscope.c_str()};
        for (auto &a : args)
            argv.push_back((char *)a.c_str());
        argv.push_back(nullptr);
        execv(argv[0], argv.data());
        _exit(127);
    }
    int status = 0;
    struct rusage ru {
    };
    REQUIRE(wait4(pid, &status, 0, &ru) == pid);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), ru.ru_maxrss};
}

off_t file_size(const std::string &path)
{
    struct stat st {
    };
    return ::stat(path.c_str(), &st) == 0 ? st.st_size : -1;
}

} // namespace

TEST_CASE("report's peak memory does not grow with the recording's size")
{
    std::string small = write_recording("small.csrec", 50);
    std::string large = write_recording("large.csrec", 6000); // ~120 MB
    INFO("small " << file_size(small) << " B, large " << file_size(large) << " B");
    REQUIRE(file_size(large) > 100 * file_size(small));
    for (const char *fmt : {"text", "json", "folded", "svg", "pprof"}) {
        std::string out = tmp_path(std::string("report.") + fmt);
        auto s = run_measured({"report", "--format", fmt, "-o", out, small});
        auto l = run_measured({"report", "--format", fmt, "-o", out, large});
        INFO(fmt << ": small " << s.second << " KB, large " << l.second << " KB");
        CHECK(s.first == 0);
        CHECK(l.first == 0);
        // Reading it all in would take the file's size and more.
        if (measure_rss)
            CHECK(l.second < s.second + 8 * 1024);
        unlink(out.c_str());
    }
    unlink(small.c_str());
    unlink(large.c_str());
}

TEST_CASE("report refuses a 2 GB sparse file with a bad header without reading it")
{
    std::string path = tmp_path("sparse.csrec");
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    REQUIRE(fd >= 0);
    REQUIRE(write(fd, "NOTAREC!\1\0\0\0\0\0\0\0", 16) == 16);
    REQUIRE(ftruncate(fd, 2ll << 30) == 0);
    close(fd);
    std::string bad_version = tmp_path("sparse-v9.csrec");
    fd = open(bad_version.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    REQUIRE(fd >= 0);
    REQUIRE(write(fd, "CSRECORD\x09\0\0\0\0\0\0\0", 16) == 16);
    REQUIRE(ftruncate(fd, 2ll << 30) == 0);
    close(fd);
    auto r = run_measured({"report", path});
    INFO("peak " << r.second << " KB");
    CHECK(r.first == 7); // CS_EXIT_NOT_RECORDING
    CHECK((!measure_rss || r.second < 64 * 1024));
    auto v = run_measured({"report", bad_version});
    INFO("peak " << v.second << " KB");
    CHECK(v.first == 8); // CS_EXIT_REC_VERSION
    CHECK((!measure_rss || v.second < 64 * 1024));
    unlink(path.c_str());
    unlink(bad_version.c_str());
}
