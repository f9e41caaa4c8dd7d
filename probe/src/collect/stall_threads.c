/*
 * The loop threads' state read back from BPF: the slice each thread is in when it
 * starts being watched (seed_slices), stalls still in progress (announced every
 * ongoing_every_ns, and once more, final and unfinished, when coscope stops), and the
 * threads of the target that make wait calls without being watched yet.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "mono_clock.h"
#include "proc.h"
#include "stall_collector.h"
#include "stall_collector_priv.h"
#include "stalls.h"
#include "stalls.skel.h"

/*
 * The record of the slice in `st` as it stands at `now` (ongoing, or final and
 * unfinished), handed to cs_collector_deliver.
 */
static void report_in_progress(struct cs_collector *c, struct loop_thread *t,
                               struct cs_thread_state *st, uint64_t now, bool final)
{
    __u32 key = (__u32)t->tid;
    struct cs_stall s = {0};
    s.pid = c->opts.pid;
    s.tid = t->tid;
    cs_thread_comm(c->opts.pid, t->tid, s.comm, sizeof s.comm);
    s.seq = st->slice_seq;
    s.start_ns = st->slice_start_ns;
    s.duration_ns = now - st->slice_start_ns;
    s.ongoing = !final;
    s.unfinished = final;
    s.start = (enum cs_stall_start)st->start_kind;
    /* The off-CPU period in progress counts too, and names its syscall. */
    unsigned n = st->nsys < CS_MAX_SYSCALLS ? st->nsys : CS_MAX_SYSCALLS;
    uint64_t off = st->off_cpu_ns;
    int stack_id = st->best_stack_id;
    const struct cs_raw_stack_event *raw = NULL;
    bool raw_pending = false;
    if (st->switch_out_ns && now > st->switch_out_ns) {
        uint64_t cur = now - st->switch_out_ns;
        off += cur;
        if (st->off_voluntary) {
            unsigned j = 0;
            while (j < n && st->sys[j].nr != st->off_syscall)
                j++;
            if (j < n || n < CS_MAX_SYSCALLS) {
                if (j == n) {
                    st->sys[j].nr = st->off_syscall;
                    st->sys[j].count = 0;
                    st->sys[j].total_ns = 0;
                    n++;
                }
                st->sys[j].count++;
                st->sys[j].total_ns += cur;
            }
            if (cur > st->best_off_ns) {
                stack_id = st->pending_stack_id;
                raw_pending = true;
            }
        }
    }
    s.off_cpu_ns = off < s.duration_ns ? off : s.duration_ns;
    s.on_cpu_ns = s.duration_ns - s.off_cpu_ns;
    cs_collector_fill_syscalls(&s, st->sys, n);
    if (c->raw_buf && (raw_pending || st->best_off_ns)) {
        int map = bpf_map__fd(raw_pending ? c->skel->maps.raw_pending : c->skel->maps.raw_best);
        if (bpf_map_lookup_elem(map, &key, c->raw_buf) == 0 && c->raw_buf->seq == st->slice_seq)
            raw = c->raw_buf;
    }
    cs_collector_deliver(c, t, &s, stack_id, raw, now);
}

/* Reads loop thread t's state into *st; true when a slice past the threshold is going. */
static bool long_slice_going(const struct cs_collector *c, const struct loop_thread *t,
                             struct cs_thread_state *st, uint64_t now)
{
    __u32 key = (__u32)t->tid;
    if (bpf_map_lookup_elem(bpf_map__fd(c->skel->maps.threads), &key, st) != 0 ||
        !st->slice_start_ns)
        return false;
    return now >= st->slice_start_ns && now - st->slice_start_ns >= c->opts.threshold_ns;
}

void cs_collector_check_ongoing(struct cs_collector *c)
{
    uint64_t now = cs_mono_ns();
    for (size_t i = 0; i < c->nthreads; i++) {
        struct loop_thread *t = &c->threads[i];
        struct cs_thread_state st;
        if (!long_slice_going(c, t, &st, now))
            continue;
        /* With an annotator the record it makes decides (deliver), not the engine's slice. */
        if (!c->annotate && t->ongoing_seq == st.slice_seq &&
            now - t->ongoing_last_ns < c->opts.ongoing_every_ns)
            continue;
        /* deliver() decides whether this is news (after the annotator: a libcorun slice
         * may cross the threshold a few ms after this engine slice did). */
        report_in_progress(c, t, &st, now, false);
    }
}

void cs_collector_finish(struct cs_collector *c)
{
    uint64_t now = cs_mono_ns();
    for (size_t i = 0; i < c->nthreads; i++) {
        struct loop_thread *t = &c->threads[i];
        struct cs_thread_state st;
        if (long_slice_going(c, t, &st, now))
            report_in_progress(c, t, &st, now, true);
    }
}

int cs_collector_seed(struct cs_collector *c)
{
    if (!c->seed_link)
        return -EOPNOTSUPP;
    int fd = bpf_iter_create(bpf_link__fd(c->seed_link));
    if (fd < 0)
        return -errno;
    char buf[64];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        ;
    int err = n < 0 ? -errno : 0;
    close(fd);
    return err;
}

int cs_collector_busy_waiters(struct cs_collector *c, uint64_t min_waits, int *tids, size_t max)
{
    int fd = bpf_map__fd(c->skel->maps.wait_counts);
    __u32 key, next;
    size_t n = 0;
    bool first = true;
    /* Read and clear: each call judges the waits made since the last one. */
    while (bpf_map_get_next_key(fd, first ? NULL : &key, &next) == 0) {
        first = false;
        key = next;
        __u64 count = 0;
        if (bpf_map_lookup_elem(fd, &key, &count) == 0 && count >= min_waits && n < max &&
            !cs_collector_find_thread(c, (int)key))
            tids[n++] = (int)key;
    }
    /* Deleting while walking would restart the walk: clear afterwards. */
    first = true;
    while (bpf_map_get_next_key(fd, NULL, &next) == 0)
        if (bpf_map_delete_elem(fd, &next) != 0)
            break;
    return (int)n;
}
