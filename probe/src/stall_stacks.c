#include "stall_stacks.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "stalls.h"
#include "symbolize.h"

#define MAX_SAMPLED_STACKS 8 /* distinct on-CPU stacks reported per stall */

struct cs_stall_stacks {
    int pid;
    int stackmap_fd;
    int samples_fd;
    enum cs_stack_mode mode;
    struct cs_symbolizer *sym;
    uint64_t lost;
};

struct cs_stall_stacks *cs_stall_stacks_new(int pid, int stackmap_fd, int samples_fd,
                                            enum cs_stack_mode mode)
{
    struct cs_stall_stacks *ss = calloc(1, sizeof *ss);
    if (!ss)
        return NULL;
    ss->pid = pid;
    ss->stackmap_fd = stackmap_fd;
    ss->samples_fd = samples_fd;
    ss->mode = mode;
    ss->sym = cs_symbolizer_new(pid);
    if (!ss->sym) {
        int err = errno;
        free(ss);
        errno = err;
        return NULL;
    }
    return ss;
}

void cs_stall_stacks_free(struct cs_stall_stacks *ss)
{
    if (!ss)
        return;
    cs_symbolizer_free(ss->sym);
    free(ss);
}

uint64_t cs_stall_stacks_lost(const struct cs_stall_stacks *ss)
{
    return ss ? ss->lost : 0;
}

void cs_stall_stacks_add_raw(struct cs_stall_stacks *ss, const void *data, size_t size)
{
    (void)ss;
    (void)data;
    (void)size;
}

struct sample {
    int stack_id;
    unsigned count;
};

/* Reads (and when `consume`, deletes) the sample counts of (tid, seq); stale ones go too. */
static size_t read_samples(struct cs_stall_stacks *ss, int tid, uint64_t seq, bool consume,
                           struct sample *out, size_t max)
{
    size_t n = 0;
    struct cs_sample_key key, next, doomed[64];
    size_t ndoomed = 0;
    void *prev = NULL;
    while (bpf_map_get_next_key(ss->samples_fd, prev, &next) == 0) {
        key = next;
        prev = &key;
        if ((int)key.tid != tid || key.seq > seq)
            continue;
        if (key.seq < seq || consume) {
            if (ndoomed < sizeof doomed / sizeof doomed[0])
                doomed[ndoomed++] = key;
        }
        if (key.seq != seq || key.stack_id < 0)
            continue;
        __u64 count = 0;
        if (bpf_map_lookup_elem(ss->samples_fd, &key, &count) != 0)
            continue;
        /* Keep the `max` most frequent. */
        size_t at = n;
        while (at > 0 && out[at - 1].count < count)
            at--;
        if (at >= max)
            continue;
        size_t move = (n < max ? n : max - 1) - at;
        memmove(&out[at + 1], &out[at], move * sizeof *out);
        out[at].stack_id = key.stack_id;
        out[at].count = (unsigned)count;
        if (n < max)
            n++;
    }
    for (size_t i = 0; i < ndoomed; i++)
        bpf_map_delete_elem(ss->samples_fd, &doomed[i]);
    return n;
}

void cs_stall_stacks_forget(struct cs_stall_stacks *ss, int tid, uint64_t seq)
{
    struct sample dummy[1];
    read_samples(ss, tid, seq, true, dummy, 1);
}

/* Turns a kernel frame-pointer stack (stack map entry) into symbolized frames. */
static int fp_stack(struct cs_stall_stacks *ss, int stack_id, unsigned count, struct cs_stack *out)
{
    __u64 ips[CS_MAX_STACK];
    memset(ips, 0, sizeof ips);
    __u32 key = (__u32)stack_id;
    if (bpf_map_lookup_elem(ss->stackmap_fd, &key, ips) != 0)
        return -ENOENT;
    unsigned n = 0;
    while (n < CS_MAX_STACK && ips[n])
        n++;
    if (!n)
        return -ENOENT;
    out->frames = calloc(n, sizeof *out->frames);
    if (!out->frames)
        return -ENOMEM;
    out->nframes = n;
    out->count = count;
    for (unsigned i = 0; i < n; i++)
        cs_symbolize(ss->sym, ips[i], i > 0, &out->frames[i]);
    return 0;
}

void cs_stall_stacks_collect(struct cs_stall_stacks *ss, struct cs_stall *s, int blocking_stack_id,
                             bool final)
{
    struct sample samples[MAX_SAMPLED_STACKS];
    size_t nsamples = read_samples(ss, s->tid, s->seq, final, samples, MAX_SAMPLED_STACKS);
    s->stacks = calloc(nsamples + 1, sizeof *s->stacks);
    s->nstacks = 0;
    if (!s->stacks)
        return;
    bool blocking_first = s->off_cpu_ns >= s->on_cpu_ns;
    if (blocking_stack_id >= 0 && blocking_first &&
        fp_stack(ss, blocking_stack_id, 1, &s->stacks[s->nstacks]) == 0)
        s->nstacks++;
    for (size_t i = 0; i < nsamples; i++)
        if (fp_stack(ss, samples[i].stack_id, samples[i].count, &s->stacks[s->nstacks]) == 0)
            s->nstacks++;
    if (blocking_stack_id >= 0 && !blocking_first &&
        fp_stack(ss, blocking_stack_id, 1, &s->stacks[s->nstacks]) == 0)
        s->nstacks++;
}

void cs_stall_stacks_release(struct cs_stall *s)
{
    for (unsigned i = 0; i < s->nstacks; i++)
        free(s->stacks[i].frames);
    free(s->stacks);
    s->stacks = NULL;
    s->nstacks = 0;
}
