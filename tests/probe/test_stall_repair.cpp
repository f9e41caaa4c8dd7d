// Bugs found in CI: a blocking nanosleep reported as CPU time (a context switch whose BPF
// run the kernel skipped), and a stall whose main stack was an unwind cut short at the
// libc wrapper although a full unwind of the same stack was there.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <cstring>

extern "C" {
#include "stall_repair.h"
#include "stall_stacks.h"
}

namespace
{

const unsigned long long MS = 1000000ull;
const int NR_CLOCK_NANOSLEEP = 230;
const int NR_READ = 0;

cs_stall_event slice(unsigned long long start_ms, unsigned long long end_ms)
{
    cs_stall_event ev;
    std::memset(&ev, 0, sizeof ev);
    ev.kind = CS_EV_STALL;
    ev.start_ns = start_ms * MS;
    ev.end_ns = end_ms * MS;
    ev.unclosed_syscall = CS_NO_SYSCALL;
    return ev;
}

} // namespace

TEST_CASE("a slice whose context switches were all seen is left as measured")
{
    cs_stall_event ev = slice(1000, 1150);
    ev.off_cpu_ns = 120 * MS;
    ev.nsys = 1;
    ev.sys[0] = {NR_READ, 1, 120 * MS};
    ev.csw = 1;
    ev.switches_seen = 1;
    ev.exec_ns = 30 * MS;
    cs_syscall_slot sys[CS_MAX_SYSCALLS];
    std::memcpy(sys, ev.sys, sizeof sys);
    unsigned n = ev.nsys;
    bool repaired = true;
    CHECK(cs_stall_repair_off_cpu(&ev, sys, &n, &repaired) == 120 * MS);
    CHECK(!repaired);
    CHECK(n == 1);
}

TEST_CASE("a sleep whose switch-in was missed is still off-CPU time in its syscall")
{
    // 150 ms slice: it went to sleep in clock_nanosleep 1 ms in, ran 1 ms after waking;
    // the switch-in was never seen, so BPF added up no off-CPU time at all.
    cs_stall_event ev = slice(1000, 1150);
    ev.unclosed_out_ns = 1001 * MS;
    ev.exec_since_out_ns = 1 * MS;
    ev.unclosed_syscall = NR_CLOCK_NANOSLEEP;
    ev.csw = 1;
    ev.switches_seen = 1;
    ev.exec_ns = 2 * MS;
    cs_syscall_slot sys[CS_MAX_SYSCALLS] = {};
    unsigned n = 0;
    bool repaired = false;
    CHECK(cs_stall_repair_off_cpu(&ev, sys, &n, &repaired) == 148 * MS);
    CHECK(repaired);
    REQUIRE(n == 1);
    CHECK(sys[0].nr == NR_CLOCK_NANOSLEEP);
    CHECK(sys[0].total_ns == 148 * MS);
}

TEST_CASE("a missed switch-out is caught by the kernel's switch count and CPU clock")
{
    cs_stall_event ev = slice(1000, 1150);
    ev.csw = 1;           // the kernel switched the thread out once...
    ev.switches_seen = 0; // ...and we saw none of it
    ev.exec_ns = 10 * MS;
    cs_syscall_slot sys[CS_MAX_SYSCALLS] = {};
    unsigned n = 0;
    bool repaired = false;
    CHECK(cs_stall_repair_off_cpu(&ev, sys, &n, &repaired) == 140 * MS);
    CHECK(repaired);
    REQUIRE(n == 1);
    CHECK(sys[0].nr == CS_NO_SYSCALL); // which call it was is not known: not made up
}

namespace
{

cs_stack stack_of(std::initializer_list<const char *> symbols, unsigned count)
{
    cs_stack st;
    st.count = count;
    st.nframes = (unsigned)symbols.size();
    st.frames = static_cast<cs_frame *>(std::calloc(st.nframes, sizeof(cs_frame)));
    unsigned i = 0;
    for (const char *sym : symbols) {
        st.frames[i].symbol = sym; // interned in real use: the same pointer per name
        st.frames[i].module = "libc";
        st.frames[i].addr = 0x1000 + i;
        i++;
    }
    return st;
}

const char *CLOSE = "__close", *FSYNC = "stall_blocking_fsync", *RUN = "stall_run_command",
           *BURN = "stall_burn_cpu";

} // namespace

TEST_CASE("a stack cut short at the libc wrapper counts toward the full stack it starts")
{
    cs_stack st[3] = {stack_of({CLOSE}, 1), stack_of({BURN, RUN}, 1),
                      stack_of({CLOSE, FSYNC, RUN}, 1)};
    unsigned n = cs_stacks_fold_cut_short(st, 3);
    REQUIRE(n == 2);
    // The full stack takes the cut-short one's place (first) with both counts.
    CHECK(st[0].nframes == 3);
    CHECK(st[0].frames[1].symbol == FSYNC);
    CHECK(st[0].count == 2);
    CHECK(st[1].frames[0].symbol == BURN);
    for (unsigned i = 0; i < n; i++)
        std::free(st[i].frames);
}

TEST_CASE("stacks that only share their innermost frame are not folded")
{
    cs_stack st[2] = {stack_of({CLOSE, RUN}, 3), stack_of({CLOSE, FSYNC, RUN}, 1)};
    CHECK(cs_stacks_fold_cut_short(st, 2) == 2);
    CHECK(st[0].count == 3);
    for (auto &s : st)
        std::free(s.frames);
}
