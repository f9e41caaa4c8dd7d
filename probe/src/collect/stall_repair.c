#include "stall_repair.h"

/* Adds `ns` of off-CPU time in syscall `nr` to a slice's tally (if there is room). */
static void tally_add(struct cs_syscall_slot *sys, unsigned *n, int nr, uint64_t ns)
{
    unsigned j = 0;
    while (j < *n && sys[j].nr != nr)
        j++;
    if (j == *n) {
        if (*n >= CS_MAX_SYSCALLS)
            return;
        sys[j].nr = nr;
        sys[j].count = 0;
        sys[j].total_ns = 0;
        (*n)++;
    }
    sys[j].count++;
    sys[j].total_ns += ns;
}

/*
 * Normally the off-CPU time is what sched_switch added up. But the kernel may skip a BPF
 * program run, and a missed switch-in would make a blocking sleep look like CPU time.
 * The kernel's own per-task counters tell: a switch-out still open at the slice's end
 * is closed here (its off-CPU time is the wall time since it minus the CPU time since
 * it), and when the kernel counted more switches than we saw, the CPU-time clock
 * (se.sum_exec_runtime, up to a tick stale) bounds the off-CPU time from below — that
 * part's syscall is unknown (CS_NO_SYSCALL). The caller counts a repair as a lost event.
 */
uint64_t cs_stall_repair_off_cpu(const struct cs_stall_event *ev, struct cs_syscall_slot *sys,
                                 unsigned *nsys, bool *repaired)
{
    uint64_t off = ev->off_cpu_ns;
    *repaired = false;
    if (ev->unclosed_out_ns && ev->unclosed_out_ns < ev->end_ns) {
        uint64_t wall = ev->end_ns - ev->unclosed_out_ns;
        uint64_t gap = wall > ev->exec_since_out_ns ? wall - ev->exec_since_out_ns : 0;
        off += gap;
        if (ev->unclosed_syscall != CS_NO_SYSCALL)
            tally_add(sys, nsys, ev->unclosed_syscall, gap);
        *repaired = true;
    }
    uint64_t duration = ev->end_ns - ev->start_ns;
    if (ev->csw > ev->switches_seen && ev->exec_ns < duration) {
        uint64_t by_clock = duration - ev->exec_ns;
        if (by_clock > off) {
            tally_add(sys, nsys, CS_NO_SYSCALL, by_clock - off);
            off = by_clock;
        }
        *repaired = true;
    }
    return off;
}
