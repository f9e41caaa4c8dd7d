/*
 * The stall collector's insides, shared by its two files: stall_collector.c (loading,
 * attaching, kernel events) and stall_threads.c (the loop threads' state read back from
 * BPF: slices at attach, stalls in progress, at exit, and threads making wait calls).
 */
#ifndef CS_STALL_COLLECTOR_PRIV_H
#define CS_STALL_COLLECTOR_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "stall_collector.h"
#include "stalls.h"

struct bpf_link;
struct ring_buffer;
struct stalls_bpf;

#define MAX_LINKS_PER_THREAD 24

struct loop_thread {
    int tid;
    struct bpf_link *links[MAX_LINKS_PER_THREAD];
    int nlinks;
    uint64_t ongoing_seq; /* slice last reported as ongoing */
    uint64_t ongoing_last_ns;
    uint64_t ongoing_start_ns; /* start of the record last announced (annotators move it) */
    uint64_t decided_seq;      /* rate-limit decision for this slice */
    bool decided_allowed;
};

struct tp_pair {
    int enter_id, exit_id;
    bool uring;
};

struct cs_collector {
    struct cs_stall_opts opts;
    struct cs_model *model;
    cs_stall_cb cb;
    void *cb_arg;
    struct stalls_bpf *skel;
    struct ring_buffer *rb;
    struct cs_stall_stacks *stacks;
    struct tp_pair tps[16];
    int ntps;
    bool fallback;
    bool corun_edges; /* slice edges from libcorun's poll probes, no syscall tracepoints */
    struct bpf_link *global_links[6];
    int nglobal;
    struct bpf_link *tp_links[MAX_LINKS_PER_THREAD]; /* the wait-call tracepoints */
    int ntp_links;
    struct loop_thread *threads;
    size_t nthreads, cap_threads;
    uint64_t window_start_ns;
    unsigned window_count;
    struct cs_raw_stack_event *raw_buf; /* DWARF mode: a window read back from a map */
    cs_stall_annotate_fn annotate;      /* libcorun task attribution, or NULL */
    void *annotate_arg;
    uint64_t repaired_slices;   /* slices whose missed context switch was repaired */
    struct bpf_link *seed_link; /* seed_slices, the task iterator; NULL if refused */
};

struct loop_thread *cs_collector_find_thread(const struct cs_collector *c, int tid);
/* Annotator, rate limit, stacks, model and callback for one engine record (s->seq). */
bool cs_collector_deliver(struct cs_collector *c, struct loop_thread *t, struct cs_stall *s,
                          int stack_id, const struct cs_raw_stack_event *raw, uint64_t now);
void cs_collector_fill_syscalls(struct cs_stall *s, const struct cs_syscall_slot *sys, unsigned n);
/* Reports slices that are already stalls but have not ended (polled from the map). */
void cs_collector_check_ongoing(struct cs_collector *c);

#endif
