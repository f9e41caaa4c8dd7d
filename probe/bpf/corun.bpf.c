// SPDX-License-Identifier: GPL-2.0
// USDT programs on a libcorun target. Attaching them is what matters most: the kernel
// then raises the probes' semaphores, which tell the runtime to keep its own statistics
// (corun:stats) and to time every slice and iteration (corun:slice_long, corun:iter_long).
// The programs pass long slices and long iterations on to user space; for `coscope stalls`
// off-CPU accounting per loop thread (sched_switch) gives each long slice its on/off-CPU time
// and blocking calls (definitions: cs_defs.h).
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/usdt.bpf.h>

#include "corun_usdt.h"
#include "offcpu.bpf.h"

/* Set by user space before load from the target's debug table. */
const volatile __u64 min_slice_ns = 0;    /* pass on slices at least this long */
const volatile __u64 min_iter_ns = 0;     /* pass on iterations at least this long */
const volatile __u32 task_name_off = 0;   /* corun_debug.task.name */
const volatile __u32 task_name_size = 0;  /* corun_debug.task.name_size */
const volatile __u32 targ_tgid = 0;       /* off-CPU accounting watches this process */
const volatile __u32 loop_seq_off = 0;    /* corun_debug.loop.slice_seq */
const volatile __u32 loop_task_off = 0;   /* corun_debug.loop.current_task */
const volatile __u32 task_id_off = 0;     /* corun_debug.task.id */
const volatile __u32 block_at_switch = 0; /* stat: count blocking calls at sched_switch */
const volatile __u32 task_stats_off = 0;  /* corun_debug.task.stats (a pointer) */
const volatile __u32 stats_polls_off = 0; /* corun_debug.stats.polls */
const volatile __u32 stats_busy_off = 0;  /* corun_debug.stats.busy_ns */
const volatile __u32 stats_wakes_off = 0; /* corun_debug.stats.wakes */
const volatile __u32 stats_hist_off = 0;  /* corun_debug.stats.sched_hist */

__u64 lost_events = 0;
__u64 stats_hits = 0;

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 256 * 1024);
} slices SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 64 * 1024);
} iters SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 256);
    __type(key, __u32); /* TID of a loop thread */
    __type(value, struct cs_corun_offcpu_log);
} offcpu SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 8192);
    __type(key, struct cs_corun_block_key);
    __type(value, struct cs_corun_block_val);
} blocking SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 8192);
    __type(key, __u64); /* task id */
    __type(value, struct cs_corun_exec_val);
} exec SEC(".maps");

/* Zeroed values to create map entries from (too big for the BPF stack). */
static struct cs_corun_block_val zero_block;
static struct cs_corun_exec_val zero_exec;

SEC("usdt")
int BPF_USDT(corun_stats, void *loop)
{
    (void)loop;
    __sync_fetch_and_add(&stats_hits, 1);
    return 0;
}

/* The off-CPU time and blocking calls of slice `seq` on thread `tid`, which just ended. */
static __always_inline void offcpu_of(struct cs_corun_slice_event *e, __u32 tid, __u64 seq)
{
    struct cs_corun_offcpu_log *log = bpf_map_lookup_elem(&offcpu, &tid);
    if (!log)
        return;
    /* A log made while the slice was going may have missed its switch-out. */
    e->log_state = e->start_ns < log->since_ns ? CS_CORUN_LOG_PARTIAL : CS_CORUN_LOG_COMPLETE;
    if (log->base_seq != seq)
        return; /* never switched out during the slice */
    e->off_cpu_ns = log->cum_off_ns - log->base_cum_ns;
    e->nsys = log->nsys;
    __builtin_memcpy(e->sys, log->sys, sizeof(e->sys));
}

SEC("usdt")
int BPF_USDT(corun_slice_long, void *loop, void *task, __u64 task_id, __s64 start_ns,
             __u64 duration_ns, __u64 slice_seq)
{
    (void)loop;
    if (duration_ns < min_slice_ns)
        return 0;
    struct cs_corun_slice_event *e = bpf_ringbuf_reserve(&slices, sizeof(*e), 0);
    if (!e) {
        __sync_fetch_and_add(&lost_events, 1);
        return 0;
    }
    e->task_id = task_id;
    e->start_ns = (__u64)start_ns;
    e->duration_ns = duration_ns;
    e->slice_seq = slice_seq;
    e->tid = (__u32)bpf_get_current_pid_tgid();
    e->pad = 0;
    e->name[0] = 0;
    if (task_name_size)
        bpf_probe_read_user_str(e->name, sizeof(e->name), (char *)task + task_name_off);
    e->off_cpu_ns = 0;
    e->nsys = 0;
    e->log_state = CS_CORUN_LOG_NONE;
    __builtin_memset(e->sys, 0, sizeof(e->sys));
    if (targ_tgid)
        offcpu_of(e, e->tid, slice_seq);
    bpf_ringbuf_submit(e, 0);
    return 0;
}

SEC("?usdt")
int BPF_USDT(corun_iter_long, void *loop, __s64 start_ns, __u64 duration_ns, __u64 tasks_run,
             void *top)
{
    (void)loop;
    if (duration_ns < min_iter_ns)
        return 0;
    struct cs_corun_iter_event *e = bpf_ringbuf_reserve(&iters, sizeof(*e), 0);
    if (!e) {
        __sync_fetch_and_add(&lost_events, 1);
        return 0;
    }
    e->start_ns = (__u64)start_ns;
    e->duration_ns = duration_ns;
    e->tasks_run = tasks_run;
    e->tid = (__u32)bpf_get_current_pid_tgid();
    e->ntop = tasks_run < CS_CORUN_ITER_TOP ? (__u32)tasks_run : CS_CORUN_ITER_TOP;
    if (bpf_probe_read_user(e->top, sizeof(e->top), top))
        e->ntop = 0;
    bpf_ringbuf_submit(e, 0);
    return 0;
}

/* Counts `calls` system calls of a task that spent `off_ns` off-CPU (map `blocking`). */
static __always_inline void account_call(struct cs_corun_block_key *key, __u64 off_ns, __u64 calls)
{
    struct cs_corun_block_val *v = bpf_map_lookup_elem(&blocking, key);
    if (!v) {
        bpf_map_update_elem(&blocking, key, &zero_block, BPF_NOEXIST);
        v = bpf_map_lookup_elem(&blocking, key);
        if (!v) {
            __sync_fetch_and_add(&lost_events, 1); /* map full */
            return;
        }
    }
    /* One loop thread per task: no other CPU updates this entry at the same time. */
    v->calls += calls;
    v->blocked += off_ns != 0;
    v->off_ns += off_ns;
    v->off_hist[cs_corun_bucket(off_ns) & (CS_CORUN_HIST - 1)]++;
}

/* The id of the task the loop of `log` runs now, 0 between slices. */
static __always_inline __u64 current_task_id(struct cs_corun_offcpu_log *log)
{
    __u64 task = 0, task_id = 0;
    if (bpf_probe_read_user(&task, sizeof(task), (void *)(log->loop_addr + loop_task_off)) ||
        !task || bpf_probe_read_user(&task_id, sizeof(task_id), (void *)(task + task_id_off)))
        return 0;
    return task_id;
}

/* `coscope stat --all-syscalls`: a loop thread enters a system call; inside a task's slice,
 * remember it. */
static __always_inline int on_sys_enter(long nr)
{
    __u32 tid;
    if (!cs_current_of(targ_tgid, &tid))
        return 0;
    struct cs_corun_offcpu_log *log = bpf_map_lookup_elem(&offcpu, &tid);
    if (!log)
        return 0;
    /* 0 for the loop's own calls (epoll_wait ...): they are outside any slice. */
    __u64 task_id = current_task_id(log);
    log->sys_task_id = task_id;
    if (!task_id)
        return 0;
    log->sys_nr = (int)nr;
    log->sys_off_base = log->cum_off_ns;
    return 0;
}

static __always_inline int on_sys_exit(void)
{
    __u32 tid;
    if (!cs_current_of(targ_tgid, &tid))
        return 0;
    struct cs_corun_offcpu_log *log = bpf_map_lookup_elem(&offcpu, &tid);
    if (!log || !log->sys_task_id)
        return 0;
    struct cs_corun_block_key key = {.task_id = log->sys_task_id, .nr = log->sys_nr};
    log->sys_task_id = 0;
    account_call(&key, log->cum_off_ns - log->sys_off_base, 1);
    return 0;
}

SEC("?tp_btf/sys_enter")
int BPF_PROG(corun_sys_enter_btf, struct pt_regs *regs, long nr)
{
    return on_sys_enter(nr);
}

SEC("?tp_btf/sys_exit")
int BPF_PROG(corun_sys_exit_btf, struct pt_regs *regs, long ret)
{
    return on_sys_exit();
}

SEC("?raw_tp/sys_enter")
int BPF_PROG(corun_sys_enter_raw, struct pt_regs *regs, long nr)
{
    return on_sys_enter(nr);
}

SEC("?raw_tp/sys_exit")
int BPF_PROG(corun_sys_exit_raw, struct pt_regs *regs, long ret)
{
    return on_sys_exit();
}

/* `coscope stat`: an executor call finished (queue wait + run time, runtime-measured). */
SEC("?usdt")
int BPF_USDT(corun_exec_done, void *job, __u64 task_id, __u64 queue_ns, __u64 run_ns)
{
    (void)job;
    struct cs_corun_exec_val *v = bpf_map_lookup_elem(&exec, &task_id);
    if (!v) {
        bpf_map_update_elem(&exec, &task_id, &zero_exec, BPF_NOEXIST);
        v = bpf_map_lookup_elem(&exec, &task_id);
        if (!v) {
            __sync_fetch_and_add(&lost_events, 1);
            return 0;
        }
    }
    /* Worker threads of one task's calls may finish on two CPUs at once: atomics. */
    __sync_fetch_and_add(&v->calls, 1);
    __sync_fetch_and_add(&v->queue_ns, queue_ns);
    __sync_fetch_and_add(&v->run_ns, run_ns);
    __sync_fetch_and_add(&v->queue_hist[cs_corun_bucket(queue_ns) & (CS_CORUN_HIST - 1)], 1);
    __sync_fetch_and_add(&v->run_hist[cs_corun_bucket(run_ns) & (CS_CORUN_HIST - 1)], 1);
    return 0;
}

/* ---- `record --polls`: every poll and every wake edge (corun_usdt.h) ----------------- */

/* Sized by user space before load (a few MB); only the polls collector loads these. */
struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 4096);
} polls SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 256);
    __type(key, __u32); /* TID of a loop thread */
    __type(value, struct cs_corun_poll_cur);
} poll_cur SEC(".maps");

/* One event, or NULL (counted lost: the ring buffer is full, the collector never blocks the
 * target). User space drains the ring every few ms without being woken: no wakeup per
 * event (BPF_RB_NO_WAKEUP), which is most of what per-CPU batching would save. */
static __always_inline struct cs_corun_poll_event *poll_event(unsigned short kind, __u64 task_id,
                                                              __u32 tid)
{
    struct cs_corun_poll_event *e = bpf_ringbuf_reserve(&polls, sizeof(*e), 0);
    if (!e) {
        __sync_fetch_and_add(&lost_events, 1);
        return NULL;
    }
    e->task_id = task_id;
    e->duration_ns = 0;
    e->waker_id = 0;
    e->tid = tid;
    e->kind = kind;
    e->wait_reason = 0;
    return e;
}

/*
 * The arguments are fetched one by one (bpf_usdt_arg), only those used: most are loads
 * from the task struct in the target ("8@(%r12)"), a user-memory read each. A poll's end
 * is matched to its start by the task's address (a register), not its id (a read).
 */
static __always_inline __u64 usdt_arg(struct pt_regs *ctx, __u64 n)
{
    long v = 0;
    bpf_usdt_arg(ctx, n, &v);
    return (__u64)v;
}

/* corun:task_ready(task, id, waker_id) */
SEC("?usdt")
int corun_task_ready(struct pt_regs *ctx)
{
    struct cs_corun_poll_event *e =
        poll_event(CS_CORUN_EV_WAKE, usdt_arg(ctx, 1), (__u32)bpf_get_current_pid_tgid());
    if (!e)
        return 0;
    e->start_ns = bpf_ktime_get_ns();
    e->waker_id = usdt_arg(ctx, 2);
    bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
    return 0;
}

/* corun:task_resume(task, id) */
SEC("?usdt")
int corun_task_resume(struct pt_regs *ctx)
{
    __u32 tid = (__u32)bpf_get_current_pid_tgid();
    struct cs_corun_poll_cur cur = {
        .task_addr = usdt_arg(ctx, 0),
        .task_id = usdt_arg(ctx, 1),
        .start_ns = bpf_ktime_get_ns(),
    };
    struct cs_corun_poll_cur *c = bpf_map_lookup_elem(&poll_cur, &tid);
    if (c)
        *c = cur;
    else if (bpf_map_update_elem(&poll_cur, &tid, &cur, BPF_ANY))
        __sync_fetch_and_add(&lost_events, 1); /* more loop threads than entries */
    return 0;
}

/* The poll of the task at `task_addr` on this thread ends (suspended or done). */
static __always_inline int poll_end(struct pt_regs *ctx, bool done)
{
    __u64 now = bpf_ktime_get_ns();
    __u32 tid = (__u32)bpf_get_current_pid_tgid();
    struct cs_corun_poll_cur *c = bpf_map_lookup_elem(&poll_cur, &tid);
    if (!c || !c->start_ns || c->task_addr != usdt_arg(ctx, 0))
        return 0; /* it began before the programs were attached */
    struct cs_corun_poll_event *e = poll_event(CS_CORUN_EV_POLL, c->task_id, tid);
    if (e) {
        e->start_ns = c->start_ns;
        e->duration_ns = now - c->start_ns;
        e->wait_reason = done ? CS_CORUN_POLL_DONE : (unsigned short)usdt_arg(ctx, 2);
        bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
    }
    c->start_ns = 0;
    return 0;
}

/* corun:task_suspend(task, id, wait_reason, wait_obj) */
SEC("?usdt")
int corun_task_suspend(struct pt_regs *ctx)
{
    return poll_end(ctx, false);
}

/* corun:task_done(task, id, outcome, error) */
SEC("?usdt")
int corun_task_done(struct pt_regs *ctx)
{
    return poll_end(ctx, true);
}

/* A zeroed lifecycle event of the task whose id is the probe's second argument (both
 * task_spawn and task_done have it there), or NULL (counted lost). */
static __always_inline struct cs_corun_life_event *life_event(struct pt_regs *ctx,
                                                              unsigned short kind)
{
    struct cs_corun_life_event *e = bpf_ringbuf_reserve(&polls, sizeof(*e), 0);
    if (!e) {
        __sync_fetch_and_add(&lost_events, 1);
        return NULL;
    }
    __builtin_memset(e, 0, sizeof(*e));
    e->head.task_id = usdt_arg(ctx, 1);
    e->head.start_ns = bpf_ktime_get_ns();
    e->head.tid = (__u32)bpf_get_current_pid_tgid();
    e->head.kind = kind;
    return e;
}

/* corun:task_spawn(task, id, parent_id, name, spawn_pc): the task is named at its birth. */
SEC("?usdt")
int corun_task_spawn(struct pt_regs *ctx)
{
    struct cs_corun_life_event *e = life_event(ctx, CS_CORUN_EV_SPAWN);
    if (!e)
        return 0;
    e->parent_id = usdt_arg(ctx, 2);
    bpf_probe_read_user_str(e->name, sizeof(e->name), (void *)usdt_arg(ctx, 3));
    bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
    return 0;
}

/* corun:task_done(task, id, outcome, error): the task's final figures, read from its stats
 * block (already holding its last slice), its outcome and its name. */
SEC("?usdt")
int corun_task_end(struct pt_regs *ctx)
{
    struct cs_corun_life_event *e = life_event(ctx, CS_CORUN_EV_END);
    if (!e)
        return 0;
    __u64 task = usdt_arg(ctx, 0);
    e->outcome = (__u32)usdt_arg(ctx, 2);
    e->error = (int)usdt_arg(ctx, 3);
    if (task_name_size)
        bpf_probe_read_user_str(e->name, sizeof(e->name), (void *)(task + task_name_off));
    __u64 stats = 0;
    if (task_stats_off &&
        !bpf_probe_read_user(&stats, sizeof(stats), (void *)(task + task_stats_off)) && stats &&
        !bpf_probe_read_user(&e->polls, sizeof(e->polls), (void *)(stats + stats_polls_off)) &&
        !bpf_probe_read_user(&e->busy_ns, sizeof(e->busy_ns), (void *)(stats + stats_busy_off)) &&
        !bpf_probe_read_user(&e->wakes, sizeof(e->wakes), (void *)(stats + stats_wakes_off))) {
        e->has_stats = 1;
        if (bpf_probe_read_user(e->sched_hist, sizeof(e->sched_hist),
                                (void *)(stats + stats_hist_off)))
            __builtin_memset(e->sched_hist, 0, sizeof(e->sched_hist));
    }
    bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
    return 0;
}

/* Off-CPU accounting of the loop threads user space put in `offcpu` (corun_usdt.h). */
static __always_inline int on_switch(struct task_struct *prev, struct task_struct *next)
{
    struct cs_switch sw;
    if (!cs_switch_of(targ_tgid, prev, next, &sw))
        return 0;
    if (sw.out) {
        struct cs_corun_offcpu_log *log = bpf_map_lookup_elem(&offcpu, &sw.out_tid);
        if (log) {
            /* current is still prev: its memory, registers and task state. */
            __u64 seq = 0;
            if (!bpf_probe_read_user(&seq, sizeof(seq), (void *)(log->loop_addr + loop_seq_off)) &&
                seq != log->base_seq) {
                log->base_seq = seq;
                log->base_cum_ns = log->cum_off_ns;
                log->nsys = 0;
            }
            log->out_voluntary = cs_switch_out(prev, sw.now_ns, &log->out_ns, &log->out_nr);
            if (block_at_switch)
                log->out_task_id = log->out_voluntary ? current_task_id(log) : 0;
        }
    }
    if (sw.in) {
        struct cs_corun_offcpu_log *log = bpf_map_lookup_elem(&offcpu, &sw.in_tid);
        if (log && log->out_ns) {
            __u64 off_ns = cs_switch_in(sw.now_ns, &log->out_ns, &log->cum_off_ns);
            if (log->out_voluntary)
                cs_tally_syscall(log->sys, &log->nsys, CS_CORUN_MAX_SYS, log->out_nr, off_ns);
            if (block_at_switch && log->out_task_id) {
                struct cs_corun_block_key key = {.task_id = log->out_task_id, .nr = log->out_nr};
                log->out_task_id = 0;
                account_call(&key, off_ns, 1);
            }
        }
    }
    return 0;
}

SEC("?tp_btf/sched_switch")
int BPF_PROG(corun_switch_btf, bool preempt, struct task_struct *prev, struct task_struct *next)
{
    return on_switch(prev, next);
}

SEC("?raw_tp/sched_switch")
int BPF_PROG(corun_switch_raw, bool preempt, struct task_struct *prev, struct task_struct *next)
{
    return on_switch(prev, next);
}

char LICENSE[] SEC("license") = "GPL";
