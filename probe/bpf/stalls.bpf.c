// SPDX-License-Identifier: GPL-2.0
// Stall engine for any event loop (the "foreign loop" path): slices from per-thread
// wait-syscall tracepoints, on/off-CPU time and blocking calls from sched_switch,
// on-CPU stacks from a per-thread CPU-clock sampler. Definitions: cs_defs.h.
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/usdt.bpf.h>

#include "offcpu.bpf.h"
#include "stalls.h"
#include "corun_debug.h"

#define IORING_ENTER_GETEVENTS_FLAG 1u
#define NR_IO_URING_ENTER           426 /* x86-64 and the generic table agree */
#define CS_STACK_MODE_FP            0   /* enum cs_stack_mode */
#define CS_STACK_MODE_DWARF         1
#define CS_PAGE_BYTES               4096ull /* x86-64 */
#define CS_TASK_STOPPED             0x4     /* __TASK_STOPPED, __TASK_TRACED */
#define CS_TASK_TRACED              0x8

/* Set by user space before load; the verifier prunes what they switch off. */
const volatile __u32 targ_tgid = 0;
const volatile __u64 threshold_ns = CS_DEFAULT_THRESHOLD_NS;
const volatile __u32 stack_mode = 0;      /* enum cs_stack_mode */
const volatile __u32 stack_bytes = 16384; /* DWARF stack window */
const volatile __u32 collect_stats = 0;   /* `coscope stat`: fill loop_stats, block_stats */

__u64 lost_events = 0; /* ring buffer full: events dropped (shown by every output) */

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 1024);
    __type(key, __u32); /* TID */
    __type(value, struct cs_thread_state);
} threads SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 4 * 1024 * 1024);
} events SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_STACK_TRACE);
    __uint(max_entries, 16384); /* roomy: a colliding new stack is dropped (-EEXIST) */
    __uint(key_size, sizeof(__u32));
    __uint(value_size, CS_MAX_STACK * sizeof(__u64));
} stacks SEC(".maps");

/*
 * DWARF mode: the stack window taken at the last voluntary switch-out (pending) and the
 * one of the longest blocking period so far (best), per loop thread. User space
 * creates the entries; they are too big for the BPF stack.
 */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 256);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, __u32);
    __type(value, struct cs_raw_stack_event);
} raw_pending SEC(".maps"), raw_best SEC(".maps");

/* Scratch space for on-CPU DWARF samples, one slot per CPU (user space sizes it). */
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct cs_raw_stack_event);
} raw_scratch SEC(".maps");

/* The stack window of a thread blocked at attach (seed_slices runs one at a time). */
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct cs_raw_stack_event);
} seed_scratch SEC(".maps");

/* Wait calls per thread of the target that is not a loop thread (stalls.h). */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 4096);
    __type(key, __u32); /* TID */
    __type(value, __u64);
} wait_counts SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 8192);
    __type(key, struct cs_sample_key);
    __type(value, __u64);
} samples SEC(".maps");

/* `coscope stat` only (collect_stats): per loop thread, and per thread and syscall. */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 256); /* loop threads of one process; 4 KiB each */
    __type(key, __u32);       /* TID */
    __type(value, struct cs_loop_stat);
} loop_stats SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 4096);
    __type(key, struct cs_block_key);
    __type(value, struct cs_block_stat);
} block_stats SEC(".maps");

/* Layout of syscalls:sys_enter_* / sys_exit_* records (tracefs format files). */
struct sys_enter_rec {
    __u64 common;
    int nr;
    int pad;
    unsigned long args[6];
};

struct sys_exit_rec {
    __u64 common;
    int nr;
    int pad;
    long ret;
};

#define RAW_HEADER_BYTES __builtin_offsetof(struct cs_raw_stack_event, data)

/* Registers and a window of the current thread's user stack, for DWARF unwinding. */
static __always_inline void capture_raw(struct cs_raw_stack_event *raw, __u32 tid, __u64 seq,
                                        __u32 why)
{
    struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
    raw->kind = CS_EV_RAW_STACK;
    raw->tid = tid;
    raw->seq = seq;
    raw->why = why;
    raw->regs.ip = BPF_CORE_READ(regs, ip);
    raw->regs.sp = BPF_CORE_READ(regs, sp);
    raw->regs.bp = BPF_CORE_READ(regs, bp);
    raw->regs.bx = BPF_CORE_READ(regs, bx);
    raw->regs.r12 = BPF_CORE_READ(regs, r12);
    raw->regs.r13 = BPF_CORE_READ(regs, r13);
    raw->regs.r14 = BPF_CORE_READ(regs, r14);
    raw->regs.r15 = BPF_CORE_READ(regs, r15);
    __u64 sp = raw->regs.sp;
    __u64 size = stack_bytes < CS_MAX_STACK_BYTES ? stack_bytes : CS_MAX_STACK_BYTES;
    raw->size = 0;
    barrier_var(size);
    if (size < 256 || size > CS_MAX_STACK_BYTES)
        return;
    if (bpf_probe_read_user(raw->data, size, (void *)sp) == 0) {
        raw->size = (__u32)size;
        return;
    }
    /*
     * The window runs past the top of the stack mapping (a shallow main thread: its
     * top is a few KiB above). The mapping ends on a page boundary: take everything up
     * to the highest boundary that reads. (Halving the window instead lost up to half
     * of what was there, and with it the frames of big stack frames such as libasan's
     * interceptors, at random with ASLR.)
     */
    __u64 end = (sp + size) & ~(CS_PAGE_BYTES - 1);
    for (int i = 0; i < CS_MAX_STACK_BYTES / CS_PAGE_BYTES; i++) {
        if (end <= sp)
            break;
        __u64 part = end - sp;
        barrier_var(part);
        if (part < 8 || part > CS_MAX_STACK_BYTES)
            break;
        if (bpf_probe_read_user(raw->data, part, (void *)sp) == 0) {
            raw->size = (__u32)part;
            break;
        }
        end -= CS_PAGE_BYTES;
    }
}

/* Sends header + valid bytes of `raw` through the ring buffer. */
static __always_inline void send_raw(struct cs_raw_stack_event *raw)
{
    __u64 size = raw->size;
    /* Keep clang from folding the bound into a form the verifier cannot follow. */
    barrier_var(size);
    if (size > CS_MAX_STACK_BYTES)
        return;
    if (bpf_ringbuf_output(&events, raw, RAW_HEADER_BYTES + size, 0))
        __sync_fetch_and_add(&lost_events, 1);
}

/* The kernel's own count of this task's context switches, and its CPU time. */
static __always_inline __u64 task_switches(struct task_struct *t)
{
    return BPF_CORE_READ(t, nvcsw) + BPF_CORE_READ(t, nivcsw);
}

static __always_inline __u64 task_exec_ns(struct task_struct *t)
{
    return BPF_CORE_READ(t, se.sum_exec_runtime);
}

static __always_inline struct cs_thread_state *current_loop_thread(__u32 *tid)
{
    if (!cs_current_of(targ_tgid, tid))
        return NULL;
    return bpf_map_lookup_elem(&threads, tid);
}

/* `coscope stat`: one voluntary off-CPU period of `off_ns` in syscall `nr`. */
static __always_inline void stat_blocking(__u32 tid, int nr, __u64 off_ns)
{
    struct cs_block_key key = {.tid = tid, .nr = nr};
    struct cs_block_stat *bs = bpf_map_lookup_elem(&block_stats, &key);
    if (!bs) {
        struct cs_block_stat zero = {};
        bpf_map_update_elem(&block_stats, &key, &zero, BPF_NOEXIST);
        bs = bpf_map_lookup_elem(&block_stats, &key);
        if (!bs)
            return;
    }
    __sync_fetch_and_add(&bs->count, 1);
    __sync_fetch_and_add(&bs->total_ns, off_ns);
    if (off_ns > bs->max_ns)
        bs->max_ns = off_ns;
    __u32 b = cs_stat_bucket(off_ns);
    if (b < CS_STAT_HIST_BUCKETS)
        __sync_fetch_and_add(&bs->hist[b], 1);
}

/* `coscope stat`: a slice of `slice_ns` ended; the thread enters its wait call. */
static __always_inline void stat_slice_end(__u32 tid, struct cs_thread_state *st, __u64 now,
                                           __u64 slice_ns)
{
    struct cs_loop_stat *ls = bpf_map_lookup_elem(&loop_stats, &tid);
    if (!ls)
        return;
    ls->wait_start_ns = now;
    if (!slice_ns)
        return; /* the first wait seen after attaching: no slice before it */
    /* Running now: a switch-out still open means its switch-in went unseen (a skipped
     * program run). Tally that blocking period anyway, its off-CPU time being the wall
     * time since the switch-out less the CPU time the kernel counted since. */
    if (st->switch_out_ns && st->off_voluntary && now > st->switch_out_ns) {
        __u64 ran_ns = task_exec_ns(bpf_get_current_task_btf()) - st->exec_at_out_ns;
        __u64 wall_ns = now - st->switch_out_ns;
        if (ran_ns < wall_ns)
            stat_blocking(tid, st->off_syscall, wall_ns - ran_ns);
    }
    ls->iterations++;
    ls->busy_ns += slice_ns;
    if (slice_ns >= threshold_ns)
        ls->stalls++;
    if (slice_ns > ls->max_slice_ns)
        ls->max_slice_ns = slice_ns;
    __u32 b = corun_ll_bucket(slice_ns);
    if (b < CS_STAT_LL_BUCKETS)
        ls->slice_hist[b]++;
}

/* `coscope stat`: the thread leaves its wait call. */
static __always_inline void stat_wait_end(__u32 tid, __u64 now)
{
    struct cs_loop_stat *ls = bpf_map_lookup_elem(&loop_stats, &tid);
    if (!ls || !ls->wait_start_ns)
        return;
    ls->wait_ns += now - ls->wait_start_ns;
    ls->wait_start_ns = 0;
}

/* The loop thread enters a wait call: its slice ends; report it if it was a stall. */
static __always_inline int slice_end(__u32 tid, struct cs_thread_state *st, int nr,
                                     unsigned long io_uring_flags)
{
    /* io_uring_enter waits only with GETEVENTS; otherwise it is work inside the slice. */
    if (nr == NR_IO_URING_ENTER && !(io_uring_flags & IORING_ENTER_GETEVENTS_FLAG))
        return 0;
    st->in_wait = 1;
    __u64 start = st->slice_start_ns;
    __u64 now = bpf_ktime_get_ns();
    if (collect_stats)
        stat_slice_end(tid, st, now, start ? now - start : 0);
    if (!start)
        return 0;
    st->slice_start_ns = 0;
    if (now - start < threshold_ns)
        return 0;

    if (stack_mode != CS_STACK_MODE_FP && st->best_off_ns) {
        struct cs_raw_stack_event *best = bpf_map_lookup_elem(&raw_best, &tid);
        if (best && best->seq == st->slice_seq && best->size)
            send_raw(best);
    }

    struct cs_stall_event *ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
    if (!ev) {
        __sync_fetch_and_add(&lost_events, 1);
        return 0;
    }
    ev->kind = CS_EV_STALL;
    ev->pid = targ_tgid;
    ev->tid = tid;
    ev->stack_id = st->best_stack_id;
    bpf_get_current_comm(ev->comm, sizeof(ev->comm));
    ev->seq = st->slice_seq;
    ev->start_ns = start;
    ev->end_ns = now;
    ev->off_cpu_ns = st->off_cpu_ns;
    ev->nsys = st->nsys;
    ev->start_kind = st->start_kind;
    __builtin_memcpy(ev->sys, st->sys, sizeof(ev->sys));
    struct task_struct *self = bpf_get_current_task_btf();
    __u64 exec_now = task_exec_ns(self);
    ev->exec_ns = exec_now - st->exec_begin_ns;
    ev->csw = (unsigned int)(task_switches(self) - st->csw_begin);
    ev->switches_seen = st->switches_seen;
    /* Running now, so a switch-out still open means its switch-in was not seen. */
    ev->unclosed_out_ns = st->switch_out_ns;
    ev->exec_since_out_ns = st->switch_out_ns ? exec_now - st->exec_at_out_ns : 0;
    ev->unclosed_syscall = st->switch_out_ns && st->off_voluntary ? st->off_syscall : CS_NO_SYSCALL;
    ev->pad2 = 0;
    bpf_ringbuf_submit(ev, 0);
    return 0;
}

/* The loop thread leaves a wait call: a slice begins. */
static __always_inline int slice_begin(__u32 tid, struct cs_thread_state *st, int nr)
{
    /* An io_uring_enter that did not wait is not the end of a wait. The first exit
     * seen after attaching may lack its enter: count it (the loop was waiting). */
    if (nr == NR_IO_URING_ENTER && !st->in_wait)
        return 0;
    st->in_wait = 0;
    st->start_kind = CS_START_EXACT;
    st->slice_start_ns = bpf_ktime_get_ns();
    if (collect_stats)
        stat_wait_end(tid, st->slice_start_ns);
    st->slice_seq++;
    st->off_cpu_ns = 0;
    st->switch_out_ns = 0;
    st->best_off_ns = 0;
    st->pending_stack_id = -1;
    st->best_stack_id = -1;
    st->nsys = 0;
    struct task_struct *self = bpf_get_current_task_btf();
    st->csw_begin = task_switches(self);
    st->exec_begin_ns = task_exec_ns(self);
    st->switches_seen = 0;
    return 0;
}

static __always_inline bool is_wait_nr(long nr)
{
    return nr == 232 /* epoll_wait */ || nr == 281 /* epoll_pwait */ ||
           nr == 441 /* epoll_pwait2 */ || nr == 7 /* poll */ || nr == 271 /* ppoll */ ||
           nr == 23 /* select */ || nr == 270 /* pselect6 */ || nr == NR_IO_URING_ENTER;
}

/* What wait call `nr` with its first two arguments waits on (enum cs_wait_class). */
static __always_inline __u32 wait_class(long nr, __u64 arg0, __u64 arg1, __u64 *obj)
{
    *obj = arg0;
    if (nr == 232 || nr == 281 || nr == 441)
        return CS_WAIT_EPOLL;
    if (nr == NR_IO_URING_ENTER)
        return CS_WAIT_URING;
    if (nr == 7 || nr == 271) /* poll(fds, nfds, ...) */
        return arg1 ? CS_WAIT_POLL : CS_WAIT_NONE;
    return arg0 ? CS_WAIT_SELECT : CS_WAIT_NONE; /* select(nfds, ...) */
}

/* One more vote for the loop's own wait (stalls.h, cs_loop_wait). */
static __always_inline void vote_loop_wait(struct cs_loop_wait *w, __u32 cls, __u64 obj)
{
    if (w->learned || (cls != CS_WAIT_EPOLL && cls != CS_WAIT_URING))
        return;
    if (w->cand_votes && w->cand_cls == cls && w->cand_obj == obj) {
        w->cand_votes++;
    } else if (w->cand_votes) {
        w->cand_votes--;
        return;
    } else {
        w->cand_cls = cls;
        w->cand_obj = obj;
        w->cand_votes = 1;
    }
    if (w->cand_votes >= CS_WAIT_LEARN_MIN) {
        w->cls = cls;
        w->obj = obj;
        w->learned = 1;
    }
}

/*
 * A thread of the target enters wait call `nr`. A loop thread's own wait ends its slice;
 * any other wait (a sleep through select/poll on no descriptors, another epoll fd or
 * ring than the loop's) is a blocking call inside the slice: its off-CPU time is
 * tallied at sched_switch like any other. Other threads' waits are counted.
 */
static __always_inline int on_wait_enter(long nr, __u64 arg0, __u64 arg1,
                                         unsigned long io_uring_flags)
{
    __u32 tid;
    if (!cs_current_of(targ_tgid, &tid))
        return 0;
    __u64 obj;
    __u32 cls = wait_class(nr, arg0, arg1, &obj);
    struct cs_thread_state *st = bpf_map_lookup_elem(&threads, &tid);
    if (!st) {
        if (cls == CS_WAIT_NONE)
            return 0;
        __u64 one = 1, *n = bpf_map_lookup_elem(&wait_counts, &tid);
        if (n)
            __sync_fetch_and_add(n, 1);
        else
            bpf_map_update_elem(&wait_counts, &tid, &one, BPF_NOEXIST);
        return 0;
    }
    if (nr == NR_IO_URING_ENTER && !(io_uring_flags & IORING_ENTER_GETEVENTS_FLAG))
        return 0;
    if (cls == CS_WAIT_NONE || (st->wait.learned && (st->wait.cls != cls || st->wait.obj != obj))) {
        st->nested_wait = 1;
        return 0;
    }
    vote_loop_wait(&st->wait, cls, obj);
    return slice_end(tid, st, (int)nr, io_uring_flags);
}

static __always_inline int on_wait_exit(long nr)
{
    __u32 tid;
    struct cs_thread_state *st = current_loop_thread(&tid);
    if (!st)
        return 0;
    if (st->nested_wait) {
        st->nested_wait = 0; /* the slice goes on */
        return 0;
    }
    return slice_begin(tid, st, (int)nr);
}

/*
 * Attached per loop thread to syscalls:sys_enter_<wait call>. Reads no argument past
 * the second: the kernel refuses to attach a program that reads beyond the shortest
 * record it is attached to (poll has 3 arguments).
 */
SEC("tracepoint")
int wait_enter(struct sys_enter_rec *rec)
{
    return on_wait_enter(rec->nr, rec->args[0], rec->args[1], IORING_ENTER_GETEVENTS_FLAG);
}

/* sys_enter_io_uring_enter only: it waits only with IORING_ENTER_GETEVENTS in flags. */
SEC("tracepoint")
int wait_enter_uring(struct sys_enter_rec *rec)
{
    return on_wait_enter(NR_IO_URING_ENTER, rec->args[0], rec->args[1], rec->args[3]);
}

/* Attached per loop thread to syscalls:sys_exit_<wait call>. */
SEC("tracepoint")
int wait_exit(struct sys_exit_rec *rec)
{
    return on_wait_exit(rec->nr);
}

/*
 * libcorun targets: the runtime's own poll probes mark the same edges (corun:poll_enter
 * before its epoll_wait, corun:poll_exit after), attached to that process only. A
 * syscall tracepoint, once enabled, makes every system call on the machine take the
 * slow path (~30 ns each, two or three per echo request); these uprobes fire about
 * once per loop iteration instead, which under load is once per many requests.
 */
#define NR_EPOLL_WAIT 232
SEC("usdt")
int BPF_USDT(corun_poll_enter, void *loop, __s64 timeout_ns, __u64 ready_count)
{
    (void)loop, (void)timeout_ns, (void)ready_count;
    __u32 tid;
    struct cs_thread_state *st = current_loop_thread(&tid);
    if (!st)
        return 0;
    return slice_end(tid, st, NR_EPOLL_WAIT, IORING_ENTER_GETEVENTS_FLAG);
}

SEC("usdt")
int BPF_USDT(corun_poll_exit, void *loop, __s64 nevents)
{
    (void)loop, (void)nevents;
    __u32 tid;
    struct cs_thread_state *st = current_loop_thread(&tid);
    if (!st)
        return 0;
    return slice_begin(tid, st, NR_EPOLL_WAIT);
}

/*
 * Fallback when tracefs (and so the per-thread tracepoints) cannot be had: the global
 * raw syscall tracepoints, filtered by tgid first thing. Costs every syscall on the
 * machine ~200 ns, so coscope says so when it uses them.
 */
SEC("raw_tp/sys_enter")
int BPF_PROG(raw_sys_enter, struct pt_regs *regs, long id)
{
    if (!is_wait_nr(id))
        return 0;
    return on_wait_enter(id, BPF_CORE_READ(regs, di), BPF_CORE_READ(regs, si),
                         BPF_CORE_READ(regs, r10));
}

SEC("raw_tp/sys_exit")
int BPF_PROG(raw_sys_exit, struct pt_regs *regs, long ret)
{
    __u32 tid;
    if (!cs_current_of(targ_tgid, &tid))
        return 0;
    long id = BPF_CORE_READ(regs, orig_ax);
    if (!is_wait_nr(id))
        return 0;
    return on_wait_exit(id);
}

static __always_inline void tally_syscall(struct cs_thread_state *st, int nr, __u64 off_ns)
{
    if (collect_stats)
        stat_blocking(st->tid, nr, off_ns);
    cs_tally_syscall(st->sys, &st->nsys, CS_MAX_SYSCALLS, nr, off_ns);
}

/* The window of the blocking period that just ended is the longest so far: keep it. */
static __always_inline void keep_best_raw(__u32 tid)
{
    struct cs_raw_stack_event *pending = bpf_map_lookup_elem(&raw_pending, &tid);
    struct cs_raw_stack_event *best = bpf_map_lookup_elem(&raw_best, &tid);
    if (!pending || !best)
        return;
    __u64 size = pending->size;
    barrier_var(size);
    if (size > CS_MAX_STACK_BYTES)
        return;
    best->kind = pending->kind;
    best->tid = pending->tid;
    best->seq = pending->seq;
    best->why = pending->why;
    best->regs = pending->regs;
    best->size = (__u32)size;
    bpf_probe_read_kernel(best->data, size, pending->data);
}

static __always_inline int on_switch(void *ctx, struct task_struct *prev, struct task_struct *next)
{
    struct cs_switch sw;
    if (!cs_switch_of(targ_tgid, prev, next, &sw))
        return 0;
    if (sw.out) {
        __u32 tid = sw.out_tid;
        struct cs_thread_state *st = bpf_map_lookup_elem(&threads, &tid);
        if (st && st->slice_start_ns) {
            st->switches_seen++;
            st->exec_at_out_ns = task_exec_ns(prev);
            st->off_voluntary =
                cs_switch_out(prev, sw.now_ns, &st->switch_out_ns, &st->off_syscall);
            if (st->off_voluntary) {
                /* current is still prev here: its user stack. */
                st->pending_stack_id = bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK);
                if (stack_mode != CS_STACK_MODE_FP) {
                    struct cs_raw_stack_event *raw = bpf_map_lookup_elem(&raw_pending, &tid);
                    if (raw)
                        capture_raw(raw, tid, st->slice_seq, CS_RAW_BLOCKING);
                }
            }
        }
    }
    if (sw.in) {
        __u32 tid = sw.in_tid;
        struct cs_thread_state *st = bpf_map_lookup_elem(&threads, &tid);
        if (st && st->slice_start_ns && st->switch_out_ns) {
            __u64 off_ns = cs_switch_in(sw.now_ns, &st->switch_out_ns, &st->off_cpu_ns);
            if (st->off_voluntary) {
                tally_syscall(st, st->off_syscall, off_ns);
                if (off_ns > st->best_off_ns) {
                    st->best_off_ns = off_ns;
                    st->best_stack_id = st->pending_stack_id;
                    if (stack_mode != CS_STACK_MODE_FP)
                        keep_best_raw(tid);
                }
            }
        }
    }
    return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(switch_btf, bool preempt, struct task_struct *prev, struct task_struct *next)
{
    return on_switch(ctx, prev, next);
}

SEC("raw_tp/sched_switch")
int BPF_PROG(switch_raw, bool preempt, struct task_struct *prev, struct task_struct *next)
{
    return on_switch(ctx, prev, next);
}

/*
 * Per loop thread CPU-clock sampler (~1 kHz). Does nothing unless the current slice
 * has already passed the threshold; then counts user stacks of this slice.
 */
SEC("perf_event")
int on_cpu_sample(struct bpf_perf_event_data *ctx)
{
    __u32 tid;
    struct cs_thread_state *st = current_loop_thread(&tid);
    if (!st)
        return 0;
    __u64 start = st->slice_start_ns;
    if (!start || bpf_ktime_get_ns() - start < threshold_ns)
        return 0;
    /* Frame-pointer samples (not in DWARF mode: they would only fill the stack map). */
    if (stack_mode != CS_STACK_MODE_DWARF) {
        struct cs_sample_key key = {
            .tid = tid,
            .stack_id = bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK),
            .seq = st->slice_seq,
        };
        __u64 one = 1, *count = bpf_map_lookup_elem(&samples, &key);
        if (count)
            __sync_fetch_and_add(count, 1);
        else
            bpf_map_update_elem(&samples, &key, &one, BPF_NOEXIST);
    }

    /* DWARF mode: a stack window too, at most every CS_RAW_EVERY_NS per thread. */
    __u64 now = bpf_ktime_get_ns();
    if (stack_mode != CS_STACK_MODE_FP && now - st->last_raw_ns >= CS_RAW_EVERY_NS) {
        st->last_raw_ns = now;
        __u32 cpu = bpf_get_smp_processor_id();
        struct cs_raw_stack_event *raw = bpf_map_lookup_elem(&raw_scratch, &cpu);
        if (raw) {
            capture_raw(raw, tid, st->slice_seq, CS_RAW_SAMPLE);
            send_raw(raw);
        }
    }
    return 0;
}

/*
 * A blocked thread's user stack window, copied from its own memory (it is not current:
 * bpf_copy_from_user_task, which may fault pages in, so this program is sleepable).
 */
static __always_inline void copy_task_stack(struct cs_raw_stack_event *raw,
                                            struct task_struct *task, struct pt_regs *regs)
{
    raw->regs.ip = BPF_CORE_READ(regs, ip);
    raw->regs.sp = BPF_CORE_READ(regs, sp);
    raw->regs.bp = BPF_CORE_READ(regs, bp);
    raw->regs.bx = BPF_CORE_READ(regs, bx);
    raw->regs.r12 = BPF_CORE_READ(regs, r12);
    raw->regs.r13 = BPF_CORE_READ(regs, r13);
    raw->regs.r14 = BPF_CORE_READ(regs, r14);
    raw->regs.r15 = BPF_CORE_READ(regs, r15);
    raw->size = 0;
    __u64 sp = raw->regs.sp;
    /* stat asks for no stack windows (stack_bytes 0): a stuck thread's stack is still
     * worth a default window. */
    __u64 want = stack_bytes >= 4096 ? stack_bytes : 16384;
    __u64 end = (sp + want) & ~(CS_PAGE_BYTES - 1);
    /* As capture_raw: the window may run past the top of the stack mapping. */
    for (int i = 0; i < CS_MAX_STACK_BYTES / CS_PAGE_BYTES; i++) {
        if (end <= sp)
            break;
        __u64 part = end - sp;
        barrier_var(part);
        if (part < 8 || part > CS_MAX_STACK_BYTES)
            break;
        if (bpf_copy_from_user_task(raw->data, part, (void *)sp, task, 0) == 0) {
            raw->size = (__u32)part;
            break;
        }
        end -= CS_PAGE_BYTES;
    }
}

/*
 * Run by user space (a task iterator read to its end) right after it adds loop threads:
 * gives each thread whose state is still unknown the slice it is in at attach, so that
 * a loop stuck since before coscope came is seen at once, not at its next wait call.
 *   - blocked in a wait call: waiting (an epoll fd or ring is its own wait, learned);
 *   - blocked elsewhere: a slice since it last ran on a CPU (sched_info.last_arrival
 *     plus the CPU time of that run, on the runqueue clock, turned into
 *     CLOCK_MONOTONIC through this CPU's runqueue clock: a tick early at most), off-CPU
 *     in that syscall, with
 *     its stack window sent as the blocking stack;
 *   - running or runnable: a slice at least since now (CS_START_ATTACH).
 */
SEC("iter.s/task")
int seed_slices(struct bpf_iter__task *ctx)
{
    struct task_struct *task = ctx->task;
    if (!task || task->tgid != targ_tgid)
        return 0;
    __u32 tid = task->pid;
    struct cs_thread_state *st = bpf_map_lookup_elem(&threads, &tid);
    if (!st || st->slice_start_ns || st->in_wait)
        return 0;
    struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
    long nr = BPF_CORE_READ(regs, orig_ax);
    unsigned int state = task->__state;
    /* Stopped or traced (a command coscope launched, held at its entry point): in no
     * slice; it is seen at its first wait call. */
    if (state & (CS_TASK_STOPPED | CS_TASK_TRACED))
        return 0;
    bool blocked = state != 0;
    __u64 obj = 0;
    __u32 cls = CS_WAIT_NONE;
    if (blocked && is_wait_nr(nr)) {
        cls = wait_class(nr, BPF_CORE_READ(regs, di), BPF_CORE_READ(regs, si), &obj);
        if (nr == NR_IO_URING_ENTER && !(BPF_CORE_READ(regs, r10) & IORING_ENTER_GETEVENTS_FLAG))
            cls = CS_WAIT_NONE; /* submitting, not waiting: work of a slice */
    }
    if (cls != CS_WAIT_NONE) {
        st->in_wait = 1;
        if (cls == CS_WAIT_EPOLL || cls == CS_WAIT_URING) {
            st->wait.cls = cls;
            st->wait.obj = obj;
            st->wait.learned = 1;
        }
        return 0;
    }

    __u64 now = bpf_ktime_get_ns();
    st->slice_seq++;
    st->off_cpu_ns = 0;
    st->best_off_ns = 0;
    st->pending_stack_id = -1;
    st->best_stack_id = -1;
    st->nsys = 0;
    st->switches_seen = 0;
    st->csw_begin = task->nvcsw + task->nivcsw;
    st->exec_begin_ns = task->se.sum_exec_runtime;
    st->exec_at_out_ns = st->exec_begin_ns;
    if (!blocked) {
        st->switch_out_ns = 0;
        st->start_kind = CS_START_ATTACH;
        st->slice_start_ns = now;
        return 0;
    }
    /* This CPU's runqueue clock (updated at its last scheduling event or tick), reached
     * through the reader's own runqueue: `runqueues` is not in kallsyms. */
    __u64 rq_now = BPF_CORE_READ(bpf_get_current_task_btf(), se.cfs_rq, rq, clock);
    __u64 left =
        task->sched_info.last_arrival + task->se.sum_exec_runtime - task->se.prev_sum_exec_runtime;
    __u64 ago = rq_now > left ? rq_now - left : 0;
    __u64 start = ago < now ? now - ago : now;
    st->switch_out_ns = start;
    st->off_voluntary = 1;
    st->off_syscall = nr >= 0 ? (int)nr : CS_NO_SYSCALL;
    st->start_kind = CS_START_LAST_RAN;
    st->slice_start_ns = start;

    __u32 zero = 0;
    struct cs_raw_stack_event *raw = bpf_map_lookup_elem(&seed_scratch, &zero);
    if (!raw)
        return 0;
    raw->kind = CS_EV_RAW_STACK;
    raw->tid = tid;
    raw->seq = st->slice_seq;
    raw->why = CS_RAW_BLOCKING;
    copy_task_stack(raw, task, regs);
    if (raw->size)
        send_raw(raw);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
