// SPDX-License-Identifier: GPL-2.0
// Feature probe: can this kernel run the kinds of programs coscope depends on?
// `coscope check` loads it and attaches each program once; every attach that
// works proves one mechanism (BTF-typed tracepoints, raw tracepoints).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

__u64 btf_switches = 0;
__u64 raw_switches = 0;

SEC("tp_btf/sched_switch")
int BPF_PROG(feature_tp_btf, bool preempt, struct task_struct *prev, struct task_struct *next)
{
    __sync_fetch_and_add(&btf_switches, 1);
    return 0;
}

SEC("raw_tp/sched_switch")
int feature_raw_tp(void *ctx)
{
    __sync_fetch_and_add(&raw_switches, 1);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
