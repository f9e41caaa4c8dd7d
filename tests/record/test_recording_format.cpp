// The recording format on its own: what the encoder writes the reader gives back, and a
// damaged file gets one clear verdict with every whole record before the damage.
#include <catch2/catch.hpp>

#include <cstring>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

extern "C" {
#include "corun_debug.h"
#include "record_encode.h"
#include "record_writer.h"
#include "recording_reader.h"
}

namespace
{

struct bytes {
    cs_rec_buf b{};
    ~bytes()
    {
        cs_rec_buf_free(&b);
    }
    std::vector<uint8_t> vec() const
    {
        return std::vector<uint8_t>(b.data, b.data + b.len);
    }
};

// A small recording: target, loop, two tasks (one done), a slice, a stall with a stack,
// statistics, a lost count and a trailer.
std::vector<uint8_t> sample_recording()
{
    bytes out;
    REQUIRE(cs_rec_encode_header(&out.b) == 0);
    cs_rec_target t{};
    t.pid = 42;
    strcpy(t.comm, "server");
    strcpy(t.exe, "/usr/bin/server");
    strcpy(t.build_id, "abcdef");
    strcpy(t.version, "0.1.0");
    t.start_mono_ns = 1000;
    t.threshold_ns = 50000000;
    REQUIRE(cs_rec_encode_target(&out.b, &t) == 0);
    cs_rec_loop l{2000, 42, "server"};
    REQUIRE(cs_rec_encode_loop(&out.b, &l) == 0);
    cs_rec_task_spawn s1{3000, 7, 1, 42, "worker"}, s2{3100, 3, 0, 42, "main"};
    REQUIRE(cs_rec_encode_task_spawn(&out.b, &s1) == 0);
    REQUIRE(cs_rec_encode_task_spawn(&out.b, &s2) == 0);
    cs_rec_task_done d{9000, 7, true, CORUN_OUTCOME_ERROR, -5}; // from corun:task_done
    REQUIRE(cs_rec_encode_task_done(&out.b, &d) == 0);
    cs_rec_slice sl{4000, 60000000, 42, 7, "worker", 0, 0};
    REQUIRE(cs_rec_encode_slice(&out.b, &sl) == 0);
    cs_frame frames[2] = {{0x1234, "burn", 4, "/usr/bin/server", "server.c", 10, CS_FRAME_NATIVE},
                          {0x5678, nullptr, 0, nullptr, nullptr, 0, CS_FRAME_NATIVE}};
    cs_stack stack{5, 2, frames};
    cs_stall st{};
    st.tid = 42;
    strcpy(st.comm, "server");
    st.start_ns = 4000;
    st.duration_ns = 60000000;
    st.task = "worker";
    st.task_id = 7;
    st.on_cpu_ns = 59000000;
    st.nsyscalls = 1;
    strcpy(st.syscalls[0].name, "read");
    st.syscalls[0].count = 2;
    st.syscalls[0].total_ns = 1000000;
    st.nstacks = 1;
    st.stacks = &stack;
    REQUIRE(cs_rec_encode_stall(&out.b, &st) == 0);
    cs_rec_task_stats ts{};
    ts.t_ns = 8000;
    ts.task_id = 7;
    ts.polls = 11;
    ts.nbuckets = 32;
    ts.sched_hist[20] = 3;
    REQUIRE(cs_rec_encode_task_stats(&out.b, &ts) == 0);
    cs_rec_lost lost{8500, 2, 1};
    REQUIRE(cs_rec_encode_lost(&out.b, &lost) == 0);
    cs_rec_trailer tr{10000, 9, CS_REC_END_STOPPED};
    REQUIRE(cs_rec_encode_trailer(&out.b, &tr) == 0);
    return out.vec();
}

// Offsets where each record starts (and the file's end last).
std::vector<size_t> record_starts(const std::vector<uint8_t> &f)
{
    std::vector<size_t> at;
    size_t off = CS_REC_HEADER_LEN;
    while (off < f.size()) {
        at.push_back(off);
        uint32_t len = f[off + 4] | f[off + 5] << 8 | f[off + 6] << 16 | (uint32_t)f[off + 7] << 24;
        off += CS_REC_HEAD_LEN + len + CS_REC_CRC_LEN;
    }
    at.push_back(off);
    return at;
}

// Cuts the last `n` payload bytes of the last record (at `rec`, the end of the buffer) and
// mends its length and CRC: the record as an older coscope wrote it.
void drop_trailing(cs_rec_buf *b, size_t rec, uint32_t n)
{
    uint32_t len = b->data[rec + 4] | b->data[rec + 5] << 8;
    len -= n;
    b->data[rec + 4] = (uint8_t)len;
    b->data[rec + 5] = (uint8_t)(len >> 8);
    b->len = rec + CS_REC_HEAD_LEN + len;
    uint32_t crc = cs_crc32(0, b->data + rec, CS_REC_HEAD_LEN + len);
    for (int i = 0; i < 4; i++)
        b->data[b->len++] = (uint8_t)(crc >> (8 * i));
}

} // namespace

TEST_CASE("every record type reads back as it was written")
{
    auto f = sample_recording();
    cs_recording r;
    REQUIRE(cs_recording_parse(f.data(), f.size(), &r) == CS_REC_OK);
    CHECK(r.message[0] == 0);
    CHECK(r.nrecords == 10);
    REQUIRE(r.has_target);
    CHECK(r.target.pid == 42);
    CHECK(std::string(r.target.exe) == "/usr/bin/server");
    CHECK(std::string(r.target.build_id) == "abcdef");
    REQUIRE(r.nloops == 1);
    CHECK(r.loops[0].tid == 42);
    REQUIRE(r.ntasks == 2);
    CHECK(r.tasks[0].spawn.id == 3); // sorted by id
    CHECK_FALSE(r.tasks[0].done);
    const cs_rec_task *w = cs_recording_task(&r, 7);
    REQUIRE(w);
    CHECK(std::string(w->spawn.name) == "worker");
    CHECK(w->done);
    CHECK(w->done_ns == 9000);
    CHECK(w->outcome_known);
    CHECK(w->outcome == CORUN_OUTCOME_ERROR);
    CHECK(w->error == -5);
    REQUIRE(r.nslices == 1);
    CHECK(r.slices[0].duration_ns == 60000000);
    REQUIRE(r.nstalls == 1);
    const cs_stall &s = r.stalls[0];
    CHECK(std::string(s.task) == "worker");
    CHECK(s.task_id == 7);
    CHECK(s.on_cpu_ns == 59000000);
    REQUIRE(s.nsyscalls == 1);
    CHECK(std::string(s.syscalls[0].name) == "read");
    CHECK(s.syscalls[0].total_ns == 1000000);
    REQUIRE(s.nstacks == 1);
    REQUIRE(s.stacks[0].nframes == 2);
    CHECK(s.stacks[0].count == 5);
    CHECK(std::string(s.stacks[0].frames[0].symbol) == "burn");
    CHECK(std::string(s.stacks[0].frames[0].file) == "server.c");
    CHECK(s.stacks[0].frames[0].line == 10);
    CHECK(s.stacks[0].frames[1].symbol == nullptr); // unknown stays unknown
    REQUIRE(r.ntask_stats == 1);
    CHECK(r.task_stats[0].sched_hist[20] == 3);
    CHECK(r.lost.lost_events == 2);
    CHECK(r.has_trailer);
    CHECK(r.trailer.records == 9);
    cs_recording_free(&r);
}

TEST_CASE("a stall whose frames have no symbol, module or file encodes without copying from NULL")
{
    // Unsymbolized frames carry NULL strings; the encoder writes them as empty strings and
    // never hands NULL to memcpy (UBSan flags that even for 0 bytes: the sanitizer build).
    cs_frame frames[3] = {{0x1, nullptr, 0, nullptr, nullptr, 0, CS_FRAME_NATIVE},
                          {0x2, "f", 0, nullptr, nullptr, 0, CS_FRAME_NATIVE},
                          {0x3, nullptr, 0, "/lib/x.so", nullptr, 0, CS_FRAME_NATIVE}};
    cs_stack stack{1, 3, frames};
    cs_stall st{};
    st.duration_ns = 1;
    st.nstacks = 1;
    st.stacks = &stack;
    bytes out;
    REQUIRE(cs_rec_encode_header(&out.b) == 0);
    REQUIRE(cs_rec_encode_stall(&out.b, &st) == 0);
    cs_recording r;
    REQUIRE(cs_recording_parse(out.b.data, out.b.len, &r) == CS_REC_OK);
    REQUIRE(r.nstalls == 1);
    REQUIRE(r.stalls[0].stacks[0].nframes == 3);
    CHECK(r.stalls[0].stacks[0].frames[0].symbol == nullptr);
    CHECK(r.stalls[0].stacks[0].frames[0].module == nullptr);
    CHECK(std::string(r.stalls[0].stacks[0].frames[1].symbol) == "f");
    CHECK(std::string(r.stalls[0].stacks[0].frames[2].module) == "/lib/x.so");
    cs_recording_free(&r);
}

TEST_CASE("a file cut anywhere reads as the whole records before the cut")
{
    auto f = sample_recording();
    auto starts = record_starts(f);
    for (size_t len = 0; len < f.size(); len++) {
        cs_recording r;
        int st = cs_recording_parse(f.data(), len, &r);
        INFO("cut at " << len);
        if (len < CS_REC_MAGIC_LEN) {
            CHECK(st == CS_REC_NOT_RECORDING);
        } else {
            size_t whole = 0;
            while (whole + 1 < starts.size() && starts[whole + 1] <= len)
                whole++;
            bool on_boundary =
                len == CS_REC_HEADER_LEN || std::count(starts.begin(), starts.end(), len);
            CHECK(st == (on_boundary ? CS_REC_OK : CS_REC_TRUNCATED));
            CHECK(r.nrecords == (len < CS_REC_HEADER_LEN ? 0 : whole));
            if (st == CS_REC_TRUNCATED)
                CHECK(std::string(r.message).rfind("truncated after", 0) == 0);
        }
        cs_recording_free(&r);
    }
}

TEST_CASE("a damaged byte is a corrupt record at its offset, after the good ones")
{
    auto f = sample_recording();
    auto starts = record_starts(f);
    size_t third = starts[2];
    f[third + CS_REC_HEAD_LEN + 2] ^= 0x40; // inside the third record's payload
    cs_recording r;
    REQUIRE(cs_recording_parse(f.data(), f.size(), &r) == CS_REC_CORRUPT);
    CHECK(r.nrecords == 2);
    CHECK(r.bad_offset == third);
    CHECK(std::string(r.message).find("corrupt record at offset " + std::to_string(third)) == 0);
    cs_recording_free(&r);
}

TEST_CASE("a foreign file and a future version are named as such")
{
    const char text[] = "root:x:0:0:root:/root:/bin/bash\n";
    cs_recording r;
    CHECK(cs_recording_parse((const uint8_t *)text, sizeof text, &r) == CS_REC_NOT_RECORDING);
    CHECK(std::string(r.message) == "not a coscope recording");
    cs_recording_free(&r);
    auto f = sample_recording();
    f[8] = 7;
    CHECK(cs_recording_parse(f.data(), f.size(), &r) == CS_REC_BAD_VERSION);
    CHECK(std::string(r.message).rfind("version 7 not supported", 0) == 0);
    cs_recording_free(&r);
}

TEST_CASE("a record of an unknown type is skipped, the rest still read")
{
    bytes out;
    REQUIRE(cs_rec_encode_header(&out.b) == 0);
    cs_rec_loop l{1, 5, "x"};
    REQUIRE(cs_rec_encode_loop(&out.b, &l) == 0);
    out.b.data[CS_REC_HEADER_LEN] = 200; // the type; fix the CRC up
    uint32_t crc = cs_crc32(0, out.b.data + CS_REC_HEADER_LEN, out.b.len - CS_REC_HEADER_LEN - 4);
    for (int i = 0; i < 4; i++)
        out.b.data[out.b.len - 4 + i] = (uint8_t)(crc >> (8 * i));
    REQUIRE(cs_rec_encode_loop(&out.b, &l) == 0);
    cs_recording r;
    CHECK(cs_recording_parse(out.b.data, out.b.len, &r) == CS_REC_OK);
    CHECK(r.unknown_records == 1);
    CHECK(r.nloops == 1);
    cs_recording_free(&r);
}

TEST_CASE("a flight window keeps only its last seconds and writes nothing unless fired")
{
    std::string path = "/tmp/cs-flight-unit-" + std::to_string(getpid());
    cs_rec_writer *w;
    const uint64_t s = 1000000000ull;
    REQUIRE(cs_rec_writer_open_flight(path.c_str(), 10 * s, 1 << 20, &w) == 0);
    cs_rec_target t{};
    t.pid = 1;
    REQUIRE(cs_rec_encode_target(cs_rec_writer_begin(w), &t) == 0);
    REQUIRE(cs_rec_writer_commit(w, 0, true) == 0);
    for (uint64_t i = 0; i < 100; i++) {
        cs_rec_lost l{i * s, i, 0};
        REQUIRE(cs_rec_encode_lost(cs_rec_writer_begin(w), &l) == 0);
        REQUIRE(cs_rec_writer_commit(w, i * s, false) == 0);
    }
    CHECK(cs_rec_writer_records(w) == 1 + 11); // the target + seconds 89..99
    CHECK(cs_rec_writer_window_bytes(w) < 2048);
    struct stat st;
    CHECK(stat(path.c_str(), &st) != 0);
    char why[256];
    REQUIRE(cs_rec_writer_fire(w, why, sizeof why) == 0);
    cs_rec_writer_close(w);
    cs_recording r;
    REQUIRE(cs_recording_load(path.c_str(), &r) == CS_REC_OK);
    CHECK(r.has_target);
    CHECK(r.nrecords == 12);
    CHECK(r.lost.lost_events == 99);
    cs_recording_free(&r);

    // Never fired: no file.
    unlink(path.c_str());
    REQUIRE(cs_rec_writer_open_flight(path.c_str(), 10 * s, 1 << 20, &w) == 0);
    REQUIRE(cs_rec_encode_target(cs_rec_writer_begin(w), &t) == 0);
    REQUIRE(cs_rec_writer_commit(w, 0, true) == 0);
    cs_rec_writer_close(w);
    CHECK(stat(path.c_str(), &st) != 0);
}

TEST_CASE("the flight window's memory stays under its byte bound")
{
    cs_rec_writer *w;
    REQUIRE(cs_rec_writer_open_flight("/tmp/unused", UINT64_MAX / 2, 64 * 1024, &w) == 0);
    for (uint64_t i = 0; i < 100000; i++) {
        cs_rec_slice sl{i, 1, 1, 1, "a task with a long enough name", 0, 0};
        REQUIRE(cs_rec_encode_slice(cs_rec_writer_begin(w), &sl) == 0);
        REQUIRE(cs_rec_writer_commit(w, i, false) == 0);
        REQUIRE(cs_rec_writer_window_bytes(w) <= 64 * 1024);
    }
    cs_rec_writer_close(w);
}

TEST_CASE("a slow iteration reads back with its tasks, slowest first")
{
    bytes out;
    REQUIRE(cs_rec_encode_header(&out.b) == 0);
    cs_slow_iter it{};
    it.tid = 9;
    strcpy(it.comm, "loop");
    it.start_ns = 100;
    it.duration_ns = 80000000;
    it.tasks_run = 10;
    it.ntasks = 2;
    it.tasks[0] = {11, "burner-1", 9000000};
    it.tasks[1] = {12, "", 8000000};
    REQUIRE(cs_rec_encode_slow_iter(&out.b, &it) == 0);
    cs_recording r;
    REQUIRE(cs_recording_parse(out.b.data, out.b.len, &r) == CS_REC_OK);
    REQUIRE(r.nslow_iters == 1);
    CHECK(r.slow_iters[0].tasks_run == 10);
    REQUIRE(r.slow_iters[0].ntasks == 2);
    CHECK(std::string(r.slow_iters[0].tasks[0].name) == "burner-1");
    CHECK(r.slow_iters[0].tasks[1].name[0] == 0);
    CHECK(r.slow_iters[0].tasks[1].duration_ns == 8000000);
    cs_recording_free(&r);
}

TEST_CASE("task statistics written without the state fields still read, state unknown")
{
    bytes out;
    REQUIRE(cs_rec_encode_header(&out.b) == 0);
    cs_rec_task_stats ts{};
    ts.task_id = 5;
    ts.polls = 3;
    ts.nbuckets = 2;
    ts.state = 3;
    REQUIRE(cs_rec_encode_task_stats(&out.b, &ts) == 0);
    // Drop the two trailing u32 (state, wait_reason): the first layout of the record.
    drop_trailing(&out.b, CS_REC_HEADER_LEN, 8);
    cs_recording r;
    REQUIRE(cs_recording_parse(out.b.data, out.b.len, &r) == CS_REC_OK);
    REQUIRE(r.ntask_stats == 1);
    CHECK(r.task_stats[0].polls == 3);
    CHECK(r.task_stats[0].state == 0);
    cs_recording_free(&r);
}

TEST_CASE("a poll slice and a wake edge read back; the poll takes its task's name")
{
    bytes out;
    REQUIRE(cs_rec_encode_header(&out.b) == 0);
    cs_rec_task_spawn sp{100, 7, 1, 42, "worker"};
    REQUIRE(cs_rec_encode_task_spawn(&out.b, &sp) == 0);
    cs_rec_slice poll{200, 1500, 42, 7, "", CS_REC_SLICE_POLL, 11};
    REQUIRE(cs_rec_encode_slice(&out.b, &poll) == 0);
    cs_rec_slice last{300, 900, 42, 7, "", CS_REC_SLICE_POLL, CS_REC_WAIT_DONE};
    REQUIRE(cs_rec_encode_slice(&out.b, &last) == 0);
    cs_rec_wake wk{250, 1, 7, 42};
    REQUIRE(cs_rec_encode_wake(&out.b, &wk) == 0);
    cs_recording r;
    REQUIRE(cs_recording_parse(out.b.data, out.b.len, &r) == CS_REC_OK);
    CHECK(r.nslices == 0); // polls are kept apart from long slices
    REQUIRE(r.npolls == 2);
    CHECK(r.polls[0].flags == CS_REC_SLICE_POLL);
    CHECK(r.polls[0].wait_reason == 11);
    CHECK(r.polls[0].duration_ns == 1500);
    CHECK(std::string(r.polls[0].name) == "worker");
    CHECK(r.polls[1].wait_reason == CS_REC_WAIT_DONE);
    REQUIRE(r.nwakes == 1);
    CHECK(r.wakes[0].t_ns == 250);
    CHECK(r.wakes[0].waker_id == 1);
    CHECK(r.wakes[0].woken_id == 7);
    CHECK(r.wakes[0].loop_tid == 42);
    cs_recording_free(&r);
}

TEST_CASE("slices and wakes of older files (without the poll fields) read as long slices")
{
    bytes out;
    REQUIRE(cs_rec_encode_header(&out.b) == 0);
    cs_rec_slice sl{200, 60000000, 42, 7, "worker", CS_REC_SLICE_POLL, 3};
    size_t rec = out.b.len;
    REQUIRE(cs_rec_encode_slice(&out.b, &sl) == 0);
    drop_trailing(&out.b, rec, 8);
    cs_rec_wake wk{250, 1, 7, 42};
    rec = out.b.len;
    REQUIRE(cs_rec_encode_wake(&out.b, &wk) == 0);
    drop_trailing(&out.b, rec, 4);
    cs_recording r;
    REQUIRE(cs_recording_parse(out.b.data, out.b.len, &r) == CS_REC_OK);
    REQUIRE(r.nslices == 1);
    CHECK(r.slices[0].flags == 0);
    CHECK(r.slices[0].wait_reason == 0);
    CHECK(std::string(r.slices[0].name) == "worker");
    REQUIRE(r.nwakes == 1);
    CHECK(r.wakes[0].woken_id == 7);
    CHECK(r.wakes[0].loop_tid == 0);
    cs_recording_free(&r);
}

TEST_CASE("a stall's frame kinds read back; an older file's frames, without them, are native")
{
    cs_frame frames[3] = {
        {0x10, "checksum_rows", 0, "/bin/s", "rows.c", 7, CS_FRAME_INLINE},
        {0x10, "compactor", 16, "/bin/s", "compact.c", 40, CS_FRAME_NATIVE},
        {0x7f00, "JS:*burn /app.js:1", 8, "/tmp/perf-9.map", nullptr, 0, CS_FRAME_JIT}};
    cs_stack stack{1, 3, frames};
    cs_stall st{};
    st.tid = 42;
    st.duration_ns = 60000000;
    st.unfinished = true;
    st.start = CS_STALL_START_ATTACH;
    st.nstacks = 1;
    st.stacks = &stack;
    for (uint32_t cut : {0u, 3u, 5u}) { // whole; without the kinds; without unfinished, start
        INFO("last " << cut << " bytes cut");
        bytes out;
        REQUIRE(cs_rec_encode_header(&out.b) == 0);
        size_t rec = out.b.len;
        REQUIRE(cs_rec_encode_stall(&out.b, &st) == 0);
        if (cut)
            drop_trailing(&out.b, rec, cut);
        cs_recording r;
        REQUIRE(cs_recording_parse(out.b.data, out.b.len, &r) == CS_REC_OK);
        REQUIRE(r.nstalls == 1);
        REQUIRE(r.stalls[0].nstacks == 1);
        const cs_stack &got = r.stalls[0].stacks[0];
        REQUIRE(got.nframes == 3);
        CHECK(std::string(got.frames[0].symbol) == "checksum_rows");
        CHECK(got.frames[0].kind == (cut ? CS_FRAME_NATIVE : CS_FRAME_INLINE));
        CHECK(got.frames[1].kind == CS_FRAME_NATIVE);
        CHECK(got.frames[2].kind == (cut ? CS_FRAME_NATIVE : CS_FRAME_JIT));
        CHECK(r.stalls[0].unfinished == (cut < 5));
        CHECK(r.stalls[0].start == (cut < 5 ? CS_STALL_START_ATTACH : CS_STALL_START_SEEN));
        cs_recording_free(&r);
    }
}

TEST_CASE("a batch of records is one commit: counted record by record, aged as one")
{
    std::string path = "/tmp/cs-record-batch-" + std::to_string(getpid());
    cs_rec_writer *w;
    REQUIRE(cs_rec_writer_open_flight(path.c_str(), 1000, 1 << 20, &w) == 0);
    cs_rec_buf *b = cs_rec_writer_begin(w);
    for (uint64_t i = 0; i < 50; i++) {
        cs_rec_slice sl{i, 1, 1, 1, "", CS_REC_SLICE_POLL, 2};
        REQUIRE(cs_rec_encode_slice(b, &sl) == 0);
    }
    REQUIRE(cs_rec_writer_commit_batch(w, 100, 50) == 0);
    CHECK(cs_rec_writer_records(w) == 50);
    // A record 2000 ns later ages the whole batch out of the 1000 ns window.
    cs_rec_slice late{2100, 1, 1, 1, "", CS_REC_SLICE_POLL, 2};
    REQUIRE(cs_rec_encode_slice(cs_rec_writer_begin(w), &late) == 0);
    REQUIRE(cs_rec_writer_commit(w, 2101, false) == 0);
    CHECK(cs_rec_writer_records(w) == 1);
    char why[200];
    REQUIRE(cs_rec_writer_fire(w, why, sizeof why) == 0);
    b = cs_rec_writer_begin(w);
    for (uint64_t i = 0; i < 3; i++) {
        cs_rec_wake wk{3000 + i, 1, 2, 1};
        REQUIRE(cs_rec_encode_wake(b, &wk) == 0);
    }
    REQUIRE(cs_rec_writer_commit_batch(w, 3002, 3) == 0);
    CHECK(cs_rec_writer_records(w) == 4);
    cs_rec_writer_close(w);
    cs_recording r;
    REQUIRE(cs_recording_load(path.c_str(), &r) == CS_REC_OK); // whole records, no trailer
    CHECK(r.npolls == 1);
    CHECK(r.nwakes == 3);
    cs_recording_free(&r);
    unlink(path.c_str());
}

TEST_CASE("batches of polls keep the flight window under its byte bound")
{
    cs_rec_writer *w;
    REQUIRE(cs_rec_writer_open_flight("/tmp/unused", UINT64_MAX / 2, 64 * 1024, &w) == 0);
    for (uint64_t batch = 0; batch < 2000; batch++) {
        cs_rec_buf *b = cs_rec_writer_begin(w);
        for (uint64_t i = 0; i < 40; i++) {
            cs_rec_slice sl{batch * 40 + i, 1, 1, 1, "", CS_REC_SLICE_POLL, 2};
            REQUIRE(cs_rec_encode_slice(b, &sl) == 0);
        }
        REQUIRE(cs_rec_writer_commit_batch(w, batch * 40 + 39, 40) == 0);
        REQUIRE(cs_rec_writer_window_bytes(w) <= 64 * 1024);
    }
    CHECK(cs_rec_writer_records(w) % 40 == 0); // whole batches age out
    CHECK(cs_rec_writer_records(w) >= 40);
    cs_rec_writer_close(w);
}

TEST_CASE("a flight window of records of every size keeps the newest ones, in order, whole")
{
    // The window is one buffer that wraps around: whatever the sizes, a fired file holds
    // the newest records, oldest first, and the writer counts what the reader finds.
    std::string path = "/tmp/cs-ring-" + std::to_string(getpid()) + ".csrec";
    cs_rec_writer *w;
    REQUIRE(cs_rec_writer_open_flight(path.c_str(), UINT64_MAX / 2, 8 * 1024, &w) == 0);
    cs_rec_target t{};
    t.pid = 7;
    REQUIRE(cs_rec_encode_target(cs_rec_writer_begin(w), &t) == 0);
    REQUIRE(cs_rec_writer_commit(w, 0, true) == 0);
    const uint64_t n = 5000;
    for (uint64_t i = 1; i <= n; i++) {
        cs_rec_slice sl{i, 1, 1, i, "", 0, 0};
        snprintf(sl.name, sizeof sl.name, "%.*s", (int)(i * 7919 % 60),
                 std::string(60, 'x').c_str());
        REQUIRE(cs_rec_encode_slice(cs_rec_writer_begin(w), &sl) == 0);
        REQUIRE(cs_rec_writer_commit(w, i, false) == 0);
        REQUIRE(cs_rec_writer_window_bytes(w) <= 8 * 1024 + 256);
    }
    uint64_t held = cs_rec_writer_records(w);
    char why[256];
    REQUIRE(cs_rec_writer_fire(w, why, sizeof why) == 0);
    CHECK(cs_rec_writer_records(w) == held);
    cs_rec_writer_close(w);
    cs_recording r;
    REQUIRE(cs_recording_load(path.c_str(), &r) == CS_REC_OK);
    CHECK(r.nrecords == held);
    REQUIRE(r.nslices > 40);
    CHECK(r.nslices == held - 1); // and the target
    for (size_t i = 0; i < r.nslices; i++) {
        CHECK(r.slices[i].task_id == n - r.nslices + 1 + i); // the newest, oldest first
        CHECK(strlen(r.slices[i].name) == r.slices[i].task_id * 7919 % 60);
    }
    cs_recording_free(&r);
    unlink(path.c_str());
}

namespace
{

void put_le(std::vector<uint8_t> &v, uint64_t x, int bytes)
{
    for (int i = 0; i < bytes; i++)
        v.push_back((uint8_t)(x >> (8 * i)));
}

} // namespace

TEST_CASE("loop statistics keep their log-linear histograms, only the non-empty buckets")
{
    bytes out;
    REQUIRE(cs_rec_encode_header(&out.b) == 0);
    size_t header = out.b.len;
    auto *ls = new cs_rec_loop_stats{}; // 8 KiB: not on the test's stack
    ls->t_ns = 5;
    ls->loop_id = 1;
    ls->tid = 42;
    ls->iterations = 1003;
    ls->sched_hist[corun_ll_bucket(700)] = 1000;
    ls->sched_hist[corun_ll_bucket(30000000)] = 3;
    ls->iter_hist[CORUN_LL_BUCKETS - 1] = 1003;
    REQUIRE(cs_rec_encode_loop_stats(&out.b, ls) == 0);
    // Head, the fixed fields, nbuckets and three (bucket, count) pairs: not 2 x 496 counts.
    CHECK(out.b.len - header < 8 + 44 + 2 + 2 + 2 * 10 + 2 + 10 + 4 + 1);
    cs_recording r;
    REQUIRE(cs_recording_parse(out.b.data, out.b.len, &r) == CS_REC_OK);
    CHECK(r.version == CS_REC_VERSION);
    REQUIRE(r.nloop_stats == 1);
    CHECK(std::memcmp(r.loop_stats[0].sched_hist, ls->sched_hist, sizeof ls->sched_hist) == 0);
    CHECK(std::memcmp(r.loop_stats[0].iter_hist, ls->iter_hist, sizeof ls->iter_hist) == 0);
    cs_recording_free(&r);
    delete ls;
}

TEST_CASE("a version 1 file still reads: its log2 loop histograms are converted")
{
    std::vector<uint8_t> f(CS_REC_MAGIC, CS_REC_MAGIC + CS_REC_MAGIC_LEN);
    put_le(f, 1, 4); // version 1
    put_le(f, 0, 4);
    std::vector<uint8_t> rec;
    put_le(rec, CS_REC_LOOP_STATS, 2);
    put_le(rec, 0, 2);
    std::vector<uint8_t> p;
    put_le(p, 7, 8);   // t_ns
    put_le(p, 1, 8);   // loop_id
    put_le(p, 42, 4);  // tid
    put_le(p, 100, 8); // iterations
    put_le(p, 0, 8);   // busy_ns
    put_le(p, 0, 8);   // poll_wait_ns
    put_le(p, 32, 1);  // nbuckets, then sched_hist and iter_hist, dense log2
    for (int k = 0; k < 32; k++)
        put_le(p, k == 10 ? 90 : k == 20 ? 10 : 0, 8); // [512, 1024) ns, [0.5, 1) ms
    for (int k = 0; k < 32; k++)
        put_le(p, k == 12 ? 100 : 0, 8); // [2048, 4096) ns
    put_le(rec, p.size(), 4);
    rec.insert(rec.end(), p.begin(), p.end());
    put_le(rec, cs_crc32(0, rec.data(), rec.size()), 4);
    f.insert(f.end(), rec.begin(), rec.end());
    cs_recording r;
    REQUIRE(cs_recording_parse(f.data(), f.size(), &r) == CS_REC_OK);
    CHECK(r.version == 1);
    REQUIRE(r.nloop_stats == 1);
    const cs_rec_loop_stats &l = r.loop_stats[0];
    CHECK(l.iterations == 100);
    // Each log2 bucket's count lands on the log-linear bucket of its upper value.
    CHECK(l.sched_hist[corun_ll_bucket(1023)] == 90);
    CHECK(l.sched_hist[corun_ll_bucket(1048575)] == 10);
    CHECK(l.iter_hist[corun_ll_bucket(4095)] == 100);
    uint64_t total = 0;
    for (uint64_t c : l.sched_hist)
        total += c;
    CHECK(total == 100);
    cs_recording_free(&r);
}
