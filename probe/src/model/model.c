#include "model.h"

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#define RECENT_MAX 256

struct cs_model {
    int pid;
    struct cs_loop *loops;
    size_t nloops, cap_loops;
    struct cs_stall recent[RECENT_MAX]; /* ring */
    size_t recent_head, recent_n;
    uint64_t stalls, lost, suppressed;
};

struct cs_model *cs_model_new(int pid)
{
    struct cs_model *m = calloc(1, sizeof *m);
    if (m)
        m->pid = pid;
    return m;
}

void cs_model_free(struct cs_model *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->recent_n; i++)
        cs_stall_release(&m->recent[(m->recent_head + i) % RECENT_MAX]);
    free(m->loops);
    free(m);
}

int cs_model_add_loop(struct cs_model *m, int tid, const char *comm)
{
    for (size_t i = 0; i < m->nloops; i++)
        if (m->loops[i].tid == tid)
            return 0;
    if (m->nloops == m->cap_loops) {
        size_t cap = m->cap_loops ? 2 * m->cap_loops : 8;
        struct cs_loop *l = realloc(m->loops, cap * sizeof *l);
        if (!l)
            return -ENOMEM;
        m->loops = l;
        m->cap_loops = cap;
    }
    struct cs_loop *l = &m->loops[m->nloops++];
    memset(l, 0, sizeof *l);
    l->tid = tid;
    if (comm)
        snprintf(l->comm, sizeof l->comm, "%s", comm);
    return 0;
}

size_t cs_model_loop_count(const struct cs_model *m)
{
    return m->nloops;
}

const struct cs_loop *cs_model_loop(const struct cs_model *m, size_t i)
{
    return i < m->nloops ? &m->loops[i] : NULL;
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

void cs_stall_release(struct cs_stall *s)
{
    for (unsigned i = 0; i < s->nstacks; i++) {
        for (unsigned j = 0; j < s->stacks[i].nframes; j++) {
            struct cs_frame *f = &s->stacks[i].frames[j];
            free((char *)f->symbol);
            free((char *)f->module);
            free((char *)f->file);
        }
        free(s->stacks[i].frames);
    }
    free(s->stacks);
    free((char *)s->task);
    memset(s, 0, sizeof *s);
}

int cs_stall_copy(struct cs_stall *dst, const struct cs_stall *src)
{
    *dst = *src;
    dst->stacks = NULL;
    dst->nstacks = 0;
    dst->task = dup_or_null(src->task);
    if (src->nstacks) {
        dst->stacks = calloc(src->nstacks, sizeof *dst->stacks);
        if (!dst->stacks)
            goto oom;
        for (unsigned i = 0; i < src->nstacks; i++) {
            const struct cs_stack *ss = &src->stacks[i];
            struct cs_stack *ds = &dst->stacks[i];
            dst->nstacks = i + 1;
            ds->count = ss->count;
            ds->frames = calloc(ss->nframes ? ss->nframes : 1, sizeof *ds->frames);
            if (!ds->frames)
                goto oom;
            ds->nframes = ss->nframes;
            for (unsigned j = 0; j < ss->nframes; j++) {
                ds->frames[j] = ss->frames[j];
                ds->frames[j].symbol = dup_or_null(ss->frames[j].symbol);
                ds->frames[j].module = dup_or_null(ss->frames[j].module);
                ds->frames[j].file = dup_or_null(ss->frames[j].file);
            }
        }
    }
    return 0;
oom:
    cs_stall_release(dst);
    return -ENOMEM;
}

int cs_model_add_stall(struct cs_model *m, const struct cs_stall *s)
{
    if (s->ongoing)
        return 0;
    m->stalls++;
    for (size_t i = 0; i < m->nloops; i++)
        if (m->loops[i].tid == s->tid)
            m->loops[i].stalls++;
    size_t slot;
    if (m->recent_n == RECENT_MAX) {
        slot = m->recent_head;
        cs_stall_release(&m->recent[slot]);
        m->recent_head = (m->recent_head + 1) % RECENT_MAX;
    } else {
        slot = (m->recent_head + m->recent_n++) % RECENT_MAX;
    }
    int err = cs_stall_copy(&m->recent[slot], s);
    if (err) {
        memset(&m->recent[slot], 0, sizeof m->recent[slot]);
        return err;
    }
    return 0;
}

size_t cs_model_recent_count(const struct cs_model *m)
{
    return m->recent_n;
}

const struct cs_stall *cs_model_recent(const struct cs_model *m, size_t i)
{
    return i < m->recent_n ? &m->recent[(m->recent_head + i) % RECENT_MAX] : NULL;
}

uint64_t cs_model_stalls(const struct cs_model *m)
{
    return m->stalls;
}

void cs_model_set_lost(struct cs_model *m, uint64_t lost_events)
{
    m->lost = lost_events;
}

uint64_t cs_model_lost(const struct cs_model *m)
{
    return m->lost;
}

void cs_model_add_suppressed(struct cs_model *m, uint64_t n)
{
    m->suppressed += n;
}

uint64_t cs_model_suppressed(const struct cs_model *m)
{
    return m->suppressed;
}

const char *cs_stall_cause(const struct cs_stall *s)
{
    const struct cs_syscall_time *top = NULL;
    for (unsigned i = 0; i < s->nsyscalls; i++)
        if (!top || s->syscalls[i].total_ns > top->total_ns)
            top = &s->syscalls[i];
    if (s->on_cpu_ns >= s->off_cpu_ns)
        return "CPU";
    /*
     * Mostly off-CPU: the blocking call if it accounts for a fair share of it (on a busy
     * machine preemption adds to the same off-CPU time), else preemption/faults.
     */
    if (top && top->total_ns * 4 >= s->off_cpu_ns)
        return top->name;
    return "off-CPU";
}

const char *cs_stall_start_name(enum cs_stall_start start)
{
    switch (start) {
    case CS_STALL_START_LAST_RAN:
        return "last_ran";
    case CS_STALL_START_ATTACH:
        return "attach";
    case CS_STALL_START_SEEN:
        break;
    }
    return "seen";
}

const char *cs_frame_kind_name(enum cs_frame_kind kind)
{
    switch (kind) {
    case CS_FRAME_INLINE:
        return "inline";
    case CS_FRAME_JIT:
        return "jit";
    case CS_FRAME_NATIVE:
        break;
    }
    return "native";
}
