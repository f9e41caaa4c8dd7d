// SPDX-License-Identifier: GPL-2.0
/*
 * Off-CPU bookkeeping at sched_switch, one way for every loop: the stall engine
 * (stalls.bpf.c, any event loop) and the libcorun programs (corun.bpf.c) include it.
 * What counts as off-CPU time and as a blocking call: cs_defs.h. Include after
 * vmlinux.h and libbpf's bpf_helpers.h / bpf_core_read.h.
 */
#ifndef CS_OFFCPU_BPF_H
#define CS_OFFCPU_BPF_H

#include "cs_defs.h"

/*
 * The calling thread, if it belongs to process `tgid`: true, with its TID in *tid.
 * Global tracepoints run for every thread on the machine: this is their first test.
 */
static __always_inline bool cs_current_of(__u32 tgid, __u32 *tid)
{
    __u64 id = bpf_get_current_pid_tgid();
    if ((__u32)(id >> 32) != tgid)
        return false;
    *tid = (__u32)id;
    return true;
}

/* A sched_switch as process `tgid` sees it: which of its threads leaves, which enters. */
struct cs_switch {
    __u64 now_ns;
    __u32 out_tid; /* prev's TID, if `out` */
    __u32 in_tid;  /* next's TID, if `in` */
    bool out;      /* prev is one of its threads */
    bool in;       /* next is one of its threads */
};

/* Fills *sw; false (nothing else read) if neither side is a thread of `tgid`. */
static __always_inline bool cs_switch_of(__u32 tgid, struct task_struct *prev,
                                         struct task_struct *next, struct cs_switch *sw)
{
    sw->out = BPF_CORE_READ(prev, tgid) == tgid;
    sw->in = BPF_CORE_READ(next, tgid) == tgid;
    if (!sw->out && !sw->in)
        return false;
    sw->now_ns = bpf_ktime_get_ns();
    sw->out_tid = sw->out ? BPF_CORE_READ(prev, pid) : 0;
    sw->in_tid = sw->in ? BPF_CORE_READ(next, pid) : 0;
    return true;
}

/*
 * `prev` leaves the CPU at `now_ns`: *out_ns = now_ns. Returns whether it went
 * voluntarily, i.e. blocked (its state is not TASK_RUNNING; preempted otherwise); then
 * *nr is the system call it blocked in, else CS_NO_SYSCALL. prev is still `current`
 * here: its registers are the ones read.
 */
static __always_inline bool cs_switch_out(struct task_struct *prev, __u64 now_ns, __u64 *out_ns,
                                          int *nr)
{
    *out_ns = now_ns;
    bool voluntary = BPF_CORE_READ(prev, __state) != 0;
    struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
    *nr = voluntary ? (int)BPF_CORE_READ(regs, orig_ax) : CS_NO_SYSCALL;
    return voluntary;
}

/*
 * A thread that left the CPU at *out_ns (non-zero) enters it again at `now_ns`: the
 * off-CPU period, added to *off_ns; *out_ns is cleared (running).
 */
static __always_inline __u64 cs_switch_in(__u64 now_ns, __u64 *out_ns, __u64 *off_ns)
{
    __u64 period_ns = now_ns - *out_ns;
    *off_ns += period_ns;
    *out_ns = 0;
    return period_ns;
}

/*
 * One blocking period of `period_ns` in system call `nr`, tallied in sys[0..*nsys) (at
 * most `max` distinct calls; a further one is dropped: the totals keep its time).
 */
static __always_inline void cs_tally_syscall(struct cs_syscall_slot *sys, unsigned int *nsys,
                                             const unsigned int max, int nr, __u64 period_ns)
{
    unsigned int n = *nsys;
    for (unsigned int i = 0; i < max; i++) {
        if (i >= n)
            break;
        if (sys[i].nr == nr) {
            sys[i].count++;
            sys[i].total_ns += period_ns;
            return;
        }
    }
    if (n >= max)
        return;
    sys[n].nr = nr;
    sys[n].count = 1;
    sys[n].total_ns = period_ns;
    *nsys = n + 1;
}

#endif
