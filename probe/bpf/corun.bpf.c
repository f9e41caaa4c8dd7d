// SPDX-License-Identifier: GPL-2.0
// USDT programs on a libcorun target. Attaching them is what matters most: the kernel
// then raises the probes' semaphores, which tell the runtime to keep its own statistics
// (corun:stats) and to time every slice (corun:slice_long). The programs themselves only
// pass long slices on, with the task's name, to user space.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/usdt.bpf.h>

#include "corun_usdt.h"

/* Set by user space before load from the target's debug table. */
const volatile __u64 min_slice_ns = 0;   /* pass on slices at least this long */
const volatile __u32 task_name_off = 0;  /* corun_debug.task.name */
const volatile __u32 task_name_size = 0; /* corun_debug.task.name_size */

__u64 lost_events = 0;
__u64 stats_hits = 0;

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 256 * 1024);
} slices SEC(".maps");

SEC("usdt")
int BPF_USDT(corun_stats, void *loop)
{
    (void)loop;
    __sync_fetch_and_add(&stats_hits, 1);
    return 0;
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
    bpf_ringbuf_submit(e, 0);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
