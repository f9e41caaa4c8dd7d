#include "corun_attribution.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/libbpf.h>

#include "corun.skel.h"
#include "corun_target.h"
#include "corun_usdt.h"

#define RECENT_SLICES  64 /* long slices remembered, all loops together */
#define RETRY_EVERY_NS 1000000000ull
#define RETRY_FOR_NS   5000000000ull /* a launched command maps its libraries by then */

struct recent_slice {
    int tid;
    uint64_t task_id, start_ns, end_ns;
    char name[CS_CORUN_NAME_LEN + 1];
};

/* What an ongoing record saw, kept for the final record of the same slice. */
struct seen_ongoing {
    int tid;
    uint64_t seq, task_id;
    char name[CS_CORUN_NAME_LEN + 1];
};

struct cs_corun_attrib {
    int pid;
    bool retry, active;
    uint64_t first_try_ns, last_try_ns;
    struct cs_corun_target target;
    struct corun_bpf *skel;
    struct bpf_link *link;
    struct ring_buffer *rb;
    struct recent_slice recent[RECENT_SLICES];
    unsigned next_recent;
    struct seen_ongoing seen[16];
    unsigned next_seen;
    char name[CS_CORUN_NAME_LEN + 1]; /* what s->task points at */
};

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int on_slice(void *ctx, void *data, size_t len)
{
    struct cs_corun_attrib *a = ctx;
    const struct cs_corun_slice_event *e = data;
    if (len < sizeof *e)
        return 0;
    struct recent_slice *r = &a->recent[a->next_recent++ % RECENT_SLICES];
    r->tid = (int)e->tid;
    r->task_id = e->task_id;
    r->start_ns = e->start_ns;
    r->end_ns = e->start_ns + e->duration_ns;
    memcpy(r->name, e->name, CS_CORUN_NAME_LEN);
    r->name[CS_CORUN_NAME_LEN] = 0;
    return 0;
}

/* Finds libcorun and attaches corun:slice_long; its semaphore makes the runtime time
 * slices (and keep the loop's current task's slice start) while we watch. */
static void try_activate(struct cs_corun_attrib *a)
{
    a->last_try_ns = mono_ns();
    char why[256];
    if (cs_corun_open(a->pid, &a->target, why, sizeof why) != 0)
        return;
    a->active = true; /* memory reads work even if the probe does not */
    a->skel = corun_bpf__open();
    if (!a->skel)
        return;
    a->skel->rodata->task_name_off = a->target.table.task.name;
    a->skel->rodata->task_name_size = a->target.table.task.name_size;
    if (corun_bpf__load(a->skel) != 0)
        goto fail;
    a->link = bpf_program__attach_usdt(a->skel->progs.corun_slice_long, a->pid,
                                       a->target.module_path, "corun", "slice_long", NULL);
    if (!a->link)
        goto fail;
    a->rb = ring_buffer__new(bpf_map__fd(a->skel->maps.slices), on_slice, a, NULL);
    if (!a->rb)
        goto fail;
    return;
fail:
    fprintf(stderr,
            "coscope: note: cannot attach to corun:slice_long (%s); stalls are "
            "attributed only while they are in progress\n",
            strerror(errno));
    bpf_link__destroy(a->link);
    a->link = NULL;
    corun_bpf__destroy(a->skel);
    a->skel = NULL;
}

struct cs_corun_attrib *cs_corun_attrib_new(int pid, bool retry)
{
    struct cs_corun_attrib *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->pid = pid;
    a->retry = retry;
    a->first_try_ns = mono_ns();
    try_activate(a);
    return a;
}

bool cs_corun_attrib_active(const struct cs_corun_attrib *a)
{
    return a && a->active;
}

void cs_corun_attrib_free(struct cs_corun_attrib *a)
{
    if (!a)
        return;
    ring_buffer__free(a->rb);
    bpf_link__destroy(a->link);
    corun_bpf__destroy(a->skel);
    free(a);
}

/* The task the loop on thread `tid` is running now: 0 if none (between slices). */
static uint64_t current_task(struct cs_corun_attrib *a, int tid, char *name, size_t name_len)
{
    const struct corun_debug *d = &a->target.table;
    struct corun_registry reg;
    if (cs_corun_read(a->pid, d->registry, &reg, sizeof reg) != 0)
        return 0;
    uint64_t loop = reg.first_loop;
    for (unsigned n = 0; loop && n < 4096; n++) {
        int32_t loop_tid = 0;
        uint64_t next = 0, task = 0;
        if (cs_corun_read(a->pid, loop + d->loop.tid, &loop_tid, sizeof loop_tid) ||
            cs_corun_read(a->pid, loop + d->loop.next_loop, &next, sizeof next))
            return 0;
        if (loop_tid != tid) {
            loop = next;
            continue;
        }
        if (cs_corun_read(a->pid, loop + d->loop.current_task, &task, sizeof task) || !task)
            return 0;
        uint64_t id = 0;
        char buf[CS_CORUN_NAME_LEN + 1] = "";
        size_t len = d->task.name_size < CS_CORUN_NAME_LEN ? d->task.name_size : CS_CORUN_NAME_LEN;
        if (cs_corun_read(a->pid, task + d->task.id, &id, sizeof id) ||
            cs_corun_read(a->pid, task + d->task.name, buf, len))
            return 0;
        buf[len] = 0;
        snprintf(name, name_len, "%s", buf);
        return id;
    }
    return 0;
}

static void set_task(struct cs_corun_attrib *a, struct cs_stall *s, uint64_t id, const char *name)
{
    snprintf(a->name, sizeof a->name, "%s", name);
    s->task = a->name;
    s->task_id = id;
}

void cs_corun_attrib_annotate(struct cs_stall *s, void *arg)
{
    struct cs_corun_attrib *a = arg;
    if (!a->active && a->retry && mono_ns() - a->last_try_ns >= RETRY_EVERY_NS) {
        try_activate(a);
        if (mono_ns() - a->first_try_ns > RETRY_FOR_NS)
            a->retry = false;
    }
    if (!a->active)
        return;
    if (a->rb)
        ring_buffer__poll(a->rb, 0); /* slice events that ended before this record */
    if (s->ongoing) {
        char name[CS_CORUN_NAME_LEN + 1];
        uint64_t id = current_task(a, s->tid, name, sizeof name);
        if (!id)
            return;
        struct seen_ongoing *o = &a->seen[a->next_seen++ % 16];
        o->tid = s->tid;
        o->seq = s->seq;
        o->task_id = id;
        snprintf(o->name, sizeof o->name, "%s", name);
        set_task(a, s, id, name);
        return;
    }
    /* The long slice that covers most of the stall. */
    uint64_t start = s->start_ns, end = s->start_ns + s->duration_ns, best = 0;
    const struct recent_slice *pick = NULL;
    for (unsigned i = 0; i < RECENT_SLICES; i++) {
        const struct recent_slice *r = &a->recent[i];
        if (!r->task_id || r->tid != s->tid)
            continue;
        uint64_t lo = r->start_ns > start ? r->start_ns : start;
        uint64_t hi = r->end_ns < end ? r->end_ns : end;
        if (hi > lo && hi - lo > best) {
            best = hi - lo;
            pick = r;
        }
    }
    if (pick) {
        set_task(a, s, pick->task_id, pick->name);
        return;
    }
    for (unsigned i = 0; i < 16; i++) {
        const struct seen_ongoing *o = &a->seen[i];
        if (o->task_id && o->tid == s->tid && o->seq == s->seq) {
            set_task(a, s, o->task_id, o->name);
            return;
        }
    }
}
