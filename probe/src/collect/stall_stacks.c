#include "stall_stacks.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "stalls.h"
#include "symbolize.h"
#include "unwind_dwarf.h"

#define MAX_SAMPLED_STACKS 8  /* distinct on-CPU stacks reported per stall */
#define MAX_READ_SAMPLES   64 /* most frequent sampled stack ids read before merging */

#define MAX_RAWS 512 /* stack windows kept for stalls not yet ended */

/* Frames of one stack once inlined functions are expanded: the unwound ones and up to as
 * many inlined ones again (past that, addresses get their function only). */
#define MAX_FRAMES (2 * CS_MAX_STACK)

struct cs_stall_stacks {
    int pid;
    int stackmap_fd;
    int samples_fd;
    enum cs_stack_mode mode;
    struct cs_symbolizer *sym;
    struct cs_unwinder *unwinder;
    struct cs_raw_stack_event *raws[MAX_RAWS]; /* header + size bytes each */
    size_t nraws;
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
    if (mode != CS_STACK_FP)
        ss->unwinder = cs_unwinder_new(ss->sym); /* NULL: frame pointers only */
    return ss;
}

void cs_stall_stacks_free(struct cs_stall_stacks *ss)
{
    if (!ss)
        return;
    for (size_t i = 0; i < ss->nraws; i++)
        free(ss->raws[i]);
    cs_unwinder_free(ss->unwinder);
    cs_symbolizer_free(ss->sym);
    free(ss);
}

uint64_t cs_stall_stacks_lost(const struct cs_stall_stacks *ss)
{
    return ss ? ss->lost : 0;
}

#define RAW_HEADER_BYTES offsetof(struct cs_raw_stack_event, data)

void cs_stall_stacks_add_raw(struct cs_stall_stacks *ss, const void *data, size_t size)
{
    const struct cs_raw_stack_event *ev = data;
    if (size < RAW_HEADER_BYTES || ev->size > size - RAW_HEADER_BYTES)
        return;
    /* Without an unwinder (--stack=fp) only the window of a thread blocked at attach is
     * kept: its frame pointers are walked here. */
    if (!ss->unwinder && ev->why != CS_RAW_BLOCKING)
        return;
    if (ss->nraws == MAX_RAWS) {
        ss->lost++;
        return;
    }
    struct cs_raw_stack_event *copy = malloc(RAW_HEADER_BYTES + ev->size);
    if (!copy) {
        ss->lost++;
        return;
    }
    memcpy(copy, data, RAW_HEADER_BYTES + ev->size);
    ss->raws[ss->nraws++] = copy;
}

/* Drops the windows of slice `seq` of `tid` and of its earlier slices. */
static void drop_raws(struct cs_stall_stacks *ss, int tid, uint64_t seq)
{
    size_t keep = 0;
    for (size_t i = 0; i < ss->nraws; i++) {
        if ((int)ss->raws[i]->tid == tid && ss->raws[i]->seq <= seq)
            free(ss->raws[i]);
        else
            ss->raws[keep++] = ss->raws[i];
    }
    ss->nraws = keep;
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
    drop_raws(ss, tid, seq);
}

/*
 * Symbolizes n addresses into out (count `count`), each expanded into its inlined
 * functions while the stack has room for them. 0 or -ENOMEM.
 */
static int symbolize_pcs(struct cs_stall_stacks *ss, const uint64_t *pcs, const bool *is_return,
                         unsigned n, unsigned count, struct cs_stack *out)
{
    struct cs_frame frames[MAX_FRAMES];
    unsigned nf = 0;
    for (unsigned i = 0; i < n && nf < MAX_FRAMES; i++) {
        /* Room for this one's inlined frames, keeping one place per address still to come. */
        unsigned room = MAX_FRAMES - nf - (n - i - 1 < MAX_FRAMES - nf ? n - i - 1 : 0);
        nf += cs_symbolize_inline(ss->sym, pcs[i], is_return ? is_return[i] : i > 0, &frames[nf],
                                  room ? room : 1);
    }
    out->frames = calloc(nf, sizeof *out->frames);
    if (!out->frames)
        return -ENOMEM;
    memcpy(out->frames, frames, nf * sizeof *frames);
    out->nframes = nf;
    out->count = count;
    return 0;
}

/* Unwinds a stack window and symbolizes it; -ENOENT when it yields under 2 frames. */
static int dwarf_stack(struct cs_stall_stacks *ss, const struct cs_raw_stack_event *raw,
                       unsigned count, struct cs_stack *out)
{
    uint64_t pcs[CS_MAX_STACK];
    bool is_return[CS_MAX_STACK];
    int n = cs_unwind(ss->unwinder, raw, pcs, is_return, CS_MAX_STACK);
    if (n < 2)
        return -ENOENT;
    return symbolize_pcs(ss, pcs, is_return, (unsigned)n, count, out);
}

/*
 * Samples of one stall differ in the exact instruction; a reader wants the functions.
 * Two stacks are the same if each frame is in the same function (same address if
 * unsymbolized). Symbol strings are interned, so pointers compare.
 */
static bool same_frame(const struct cs_frame *fa, const struct cs_frame *fb)
{
    if (fa->kind != fb->kind)
        return false;
    if (fa->symbol || fb->symbol)
        return fa->symbol == fb->symbol && fa->module == fb->module;
    return fa->addr == fb->addr;
}

static bool same_frames(const struct cs_stack *a, const struct cs_stack *b)
{
    if (a->nframes != b->nframes)
        return false;
    for (unsigned i = 0; i < a->nframes; i++)
        if (!same_frame(&a->frames[i], &b->frames[i]))
            return false;
    return true;
}

/* Is `a` the innermost part of the deeper `b` (the same stack, its unwind cut short)? */
static bool cut_short_of(const struct cs_stack *a, const struct cs_stack *b)
{
    if (a->nframes == 0 || a->nframes >= b->nframes)
        return false;
    for (unsigned i = 0; i < a->nframes; i++)
        if (!same_frame(&a->frames[i], &b->frames[i]))
            return false;
    return true;
}

/*
 * An unwind can stop early (a stack window read that failed under load, a frame the
 * unwinder cannot step through): such a stack is the innermost part of a deeper one we
 * also have. Count it there, and let the deeper stack take its place in the order, so
 * the stall's main stack names who caused it rather than just the libc wrapper.
 */
unsigned cs_stacks_fold_cut_short(struct cs_stack *st, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        unsigned into = n;
        for (unsigned j = 0; j < n; j++)
            if (j != i && st[j].nframes && cut_short_of(&st[i], &st[j]) &&
                (into == n || st[j].count > st[into].count))
                into = j;
        if (into == n)
            continue;
        st[into].count += st[i].count;
        free(st[i].frames);
        st[i].frames = NULL;
        st[i].nframes = 0;
        if (into > i) { /* the deeper stack moves up into the earlier place */
            st[i] = st[into];
            st[into] = (struct cs_stack){0};
        }
    }
    unsigned out = 0;
    for (unsigned i = 0; i < n; i++)
        if (st[i].nframes)
            st[out++] = st[i];
    return out;
}

static bool ranks_before(const struct cs_stack *a, const struct cs_stack *b)
{
    return a->count > b->count || (a->count == b->count && a->nframes > b->nframes);
}

/* Folds stacks in the same functions together and sorts by count, most first. */
static size_t merge_stacks(struct cs_stack *st, size_t n)
{
    size_t out = 0;
    for (size_t i = 0; i < n; i++) {
        size_t j = 0;
        while (j < out && !same_frames(&st[j], &st[i]))
            j++;
        if (j < out) {
            st[j].count += st[i].count;
            free(st[i].frames);
        } else {
            st[out++] = st[i];
        }
    }
    /* Most frequent first; on a tie the deeper stack first, since an unwind cut short
     * (e.g. stopped in a sanitizer's interceptor) names less of who caused the stall. */
    for (size_t i = 1; i < out; i++)
        for (size_t j = i; j > 0 && ranks_before(&st[j], &st[j - 1]); j--) {
            struct cs_stack t = st[j];
            st[j] = st[j - 1];
            st[j - 1] = t;
        }
    return out;
}

/* Unwinds the on-CPU windows of (tid, seq) and counts identical stacks; most first. */
static size_t dwarf_samples(struct cs_stall_stacks *ss, int tid, uint64_t seq, struct cs_stack *out,
                            size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < ss->nraws; i++) {
        const struct cs_raw_stack_event *raw = ss->raws[i];
        if ((int)raw->tid != tid || raw->seq != seq || raw->why != CS_RAW_SAMPLE)
            continue;
        struct cs_stack st = {0};
        if (dwarf_stack(ss, raw, 1, &st) != 0)
            continue;
        size_t j = 0;
        while (j < n && !same_frames(&out[j], &st))
            j++;
        if (j < n) {
            out[j].count++;
            free(st.frames);
        } else if (n < max) {
            out[n++] = st;
        } else {
            free(st.frames);
        }
    }
    return merge_stacks(out, n);
}

static const struct cs_raw_stack_event *find_blocking_raw(struct cs_stall_stacks *ss, int tid,
                                                          uint64_t seq)
{
    for (size_t i = 0; i < ss->nraws; i++)
        if ((int)ss->raws[i]->tid == tid && ss->raws[i]->seq == seq &&
            ss->raws[i]->why == CS_RAW_BLOCKING)
            return ss->raws[i];
    return NULL;
}

/*
 * Frame pointers walked over a stack window (--stack=fp has no unwinder): the window of a
 * thread blocked at attach is all there is of its stack, the kernel having walked none.
 */
static int fp_raw_stack(struct cs_stall_stacks *ss, const struct cs_raw_stack_event *raw,
                        struct cs_stack *out)
{
    uint64_t pcs[CS_MAX_STACK];
    unsigned n = 0;
    pcs[n++] = raw->regs.ip;
    uint64_t sp = raw->regs.sp, fp = raw->regs.bp;
    while (n < CS_MAX_STACK && fp >= sp && fp - sp + 16 <= raw->size && fp % 8 == 0) {
        uint64_t next, ret;
        memcpy(&next, raw->data + (fp - sp), 8);
        memcpy(&ret, raw->data + (fp - sp) + 8, 8);
        if (!ret)
            break;
        pcs[n++] = ret;
        if (next <= fp)
            break;
        fp = next;
    }
    if (n < 2)
        return -ENOENT;
    return symbolize_pcs(ss, pcs, NULL, n, 1, out);
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
    uint64_t pcs[CS_MAX_STACK];
    for (unsigned i = 0; i < n; i++)
        pcs[i] = ips[i];
    return symbolize_pcs(ss, pcs, NULL, n, count, out);
}

void cs_stall_stacks_collect(struct cs_stall_stacks *ss, struct cs_stall *s, int blocking_stack_id,
                             const struct cs_raw_stack_event *blocking_raw, bool final)
{
    struct sample samples[MAX_READ_SAMPLES];
    size_t nsamples = read_samples(ss, s->tid, s->seq, final, samples, MAX_READ_SAMPLES);
    s->stacks = calloc(nsamples + MAX_SAMPLED_STACKS + 1, sizeof *s->stacks);
    s->nstacks = 0;
    if (!s->stacks)
        goto out;

    /* The blocking stack: unwound from its window, or walked by frame pointers. */
    struct cs_stack blocking = {0};
    bool have_blocking = false;
    if (ss->unwinder && !blocking_raw)
        blocking_raw = find_blocking_raw(ss, s->tid, s->seq);
    if (ss->unwinder && blocking_raw)
        have_blocking = dwarf_stack(ss, blocking_raw, 1, &blocking) == 0;
    if (!have_blocking && blocking_stack_id >= 0 && ss->mode != CS_STACK_DWARF)
        have_blocking = fp_stack(ss, blocking_stack_id, 1, &blocking) == 0;
    if (!have_blocking && !ss->unwinder) {
        const struct cs_raw_stack_event *raw =
            blocking_raw ? blocking_raw : find_blocking_raw(ss, s->tid, s->seq);
        if (raw)
            have_blocking = fp_raw_stack(ss, raw, &blocking) == 0;
    }

    bool blocking_first = s->off_cpu_ns >= s->on_cpu_ns;
    if (have_blocking && blocking_first)
        s->stacks[s->nstacks++] = blocking;
    size_t nd = 0;
    if (ss->unwinder) {
        nd = dwarf_samples(ss, s->tid, s->seq, &s->stacks[s->nstacks], MAX_SAMPLED_STACKS);
        s->nstacks += (unsigned)nd;
    }
    if (!nd && ss->mode != CS_STACK_DWARF) {
        unsigned first = s->nstacks;
        for (size_t i = 0; i < nsamples; i++)
            if (fp_stack(ss, samples[i].stack_id, samples[i].count, &s->stacks[s->nstacks]) == 0)
                s->nstacks++;
        size_t merged = merge_stacks(&s->stacks[first], s->nstacks - first);
        for (size_t i = MAX_SAMPLED_STACKS; i < merged; i++)
            free(s->stacks[first + i].frames);
        s->nstacks = first + (unsigned)(merged < MAX_SAMPLED_STACKS ? merged : MAX_SAMPLED_STACKS);
    }
    if (have_blocking && !blocking_first)
        s->stacks[s->nstacks++] = blocking;
    s->nstacks = cs_stacks_fold_cut_short(s->stacks, s->nstacks);
out:
    if (final)
        drop_raws(ss, s->tid, s->seq);
}

void cs_stall_stacks_release(struct cs_stall *s)
{
    for (unsigned i = 0; i < s->nstacks; i++)
        free(s->stacks[i].frames);
    free(s->stacks);
    s->stacks = NULL;
    s->nstacks = 0;
}
