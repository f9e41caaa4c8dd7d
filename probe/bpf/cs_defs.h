/*
 * coscope's measured quantities, defined once and shared by BPF and user space
 * (docs/architecture.md, "Definitions").
 *
 * For a foreign event loop (any epoll/poll/select/io_uring loop):
 *   slice         the time from a loop thread leaving its own wait call (epoll_wait,
 *                 epoll_pwait, epoll_pwait2, poll, ppoll, select, pselect6,
 *                 io_uring_enter with IORING_ENTER_GETEVENTS) to entering it again.
 *                 Its own: the epoll fd or ring learned per thread (stalls.h,
 *                 cs_loop_wait); any other wait inside a slice (a sleep through
 *                 select/poll on no descriptors, another epoll fd) is a blocking call.
 *   stall         a slice longer than the threshold.
 *   on-CPU time   the part of a slice the thread spent running.
 *   off-CPU time  the part of a slice the thread spent switched out (blocked or
 *                 preempted); slice duration = on-CPU + off-CPU.
 *   blocking call a system call in which the loop thread went off-CPU voluntarily
 *                 inside a slice; tallied per system call as count and total
 *                 off-CPU time.
 * All times are CLOCK_MONOTONIC nanoseconds (bpf_ktime_get_ns).
 */
#ifndef CS_DEFS_H
#define CS_DEFS_H

/* Histograms: log2 buckets of nanoseconds, the same scheme libcorun uses. */
#define CS_HIST_BUCKETS 40

static inline unsigned int cs_hist_bucket(unsigned long long v_ns)
{
    if (!v_ns)
        return 0;
    unsigned int b = 64 - (unsigned int)__builtin_clzll(v_ns);
    return b < CS_HIST_BUCKETS - 1 ? b : CS_HIST_BUCKETS - 1;
}

/* Default stall threshold (coscope stalls -t). */
#define CS_DEFAULT_THRESHOLD_NS (50ull * 1000 * 1000)

/* A syscall number that means "off-CPU outside any system call" (page fault, preemption). */
#define CS_NO_SYSCALL (-1)

/* One blocking call's tally inside a slice: how often the thread went off-CPU
 * voluntarily in it, and for how long in all. */
struct cs_syscall_slot {
    int nr;                      /* syscall number, CS_NO_SYSCALL for off-CPU outside a syscall */
    unsigned int count;          /* times the thread went off-CPU voluntarily in it */
    unsigned long long total_ns; /* off-CPU time in it */
};

#endif
