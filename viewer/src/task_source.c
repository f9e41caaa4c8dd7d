#include "task_source.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "corun.skel.h"
#include "corun_target.h"
#include "corun_usdt.h"
#include "model_tasks.h"
#include "view.h"

#define SNAPSHOT_EVERY_NS 250000000ull  /* tasks change fast; a snapshot is cheap */
#define RETRY_OPEN_NS     2000000000ull /* libcorun may be mapped later (dlopen, exec) */

#define SLICES_KEPT 256

struct cs_task_source {
    int pid;
    uint64_t threshold_ns;
    bool open;
    struct cs_corun_target target;
    struct corun_bpf *skel;
    struct bpf_link *stats_link, *slice_link;
    struct ring_buffer *rb;
    struct cs_view_slice slices[SLICES_KEPT]; /* ring of long task slices */
    size_t slices_head, nslices;
    bool have_snap;
    struct cs_corun_snapshot snap;
    uint64_t next_snap_ns, next_open_ns;
    char why[256];
};

struct cs_task_source *cs_task_source_new(int pid, uint64_t threshold_ns)
{
    struct cs_task_source *s = calloc(1, sizeof *s);
    if (s) {
        s->pid = pid;
        s->threshold_ns = threshold_ns;
    }
    return s;
}

static void drop_snapshot(struct cs_task_source *s)
{
    if (s->have_snap)
        cs_corun_snapshot_free(&s->snap);
    s->have_snap = false;
}

void cs_task_source_free(struct cs_task_source *s)
{
    if (!s)
        return;
    drop_snapshot(s);
    ring_buffer__free(s->rb);
    bpf_link__destroy(s->slice_link);
    bpf_link__destroy(s->stats_link);
    corun_bpf__destroy(s->skel);
    free(s);
}

static int on_slice(void *ctx, void *data, size_t len)
{
    struct cs_task_source *s = ctx;
    const struct cs_corun_slice_event *e = data;
    if (len < sizeof *e)
        return 0;
    size_t slot = (s->slices_head + s->nslices) % SLICES_KEPT;
    if (s->nslices == SLICES_KEPT)
        s->slices_head = (s->slices_head + 1) % SLICES_KEPT;
    else
        s->nslices++;
    struct cs_view_slice *v = &s->slices[slot];
    v->tid = (int)e->tid;
    v->start_ns = e->start_ns;
    v->end_ns = e->start_ns + e->duration_ns;
    size_t n = sizeof v->task < sizeof e->name ? sizeof v->task - 1 : sizeof e->name;
    memcpy(v->task, e->name, n);
    v->task[n] = 0;
    return 0;
}

/*
 * Attaching corun:stats raises its USDT semaphore: the runtime keeps per-task polls,
 * busy time and histograms while it is up. corun:slice_long names the task of each long
 * slice, which names the task of a stall. Without them the tree still shows, minus those.
 */
static void hold_stats(struct cs_task_source *s)
{
    s->skel = corun_bpf__open();
    if (!s->skel)
        return;
    s->skel->rodata->min_slice_ns = s->threshold_ns / 2;
    s->skel->rodata->task_name_off = s->target.table.task.name;
    s->skel->rodata->task_name_size = s->target.table.task.name_size;
    if (corun_bpf__load(s->skel)) {
        corun_bpf__destroy(s->skel);
        s->skel = NULL;
        return;
    }
    s->stats_link = bpf_program__attach_usdt(s->skel->progs.corun_stats, s->pid,
                                             s->target.module_path, "corun", "stats", NULL);
    s->slice_link = bpf_program__attach_usdt(s->skel->progs.corun_slice_long, s->pid,
                                             s->target.module_path, "corun", "slice_long", NULL);
    if (s->slice_link)
        s->rb = ring_buffer__new(bpf_map__fd(s->skel->maps.slices), on_slice, s, NULL);
}

size_t cs_task_source_slices(const struct cs_task_source *s, struct cs_view_slice *out, size_t max)
{
    size_t n = s->nslices < max ? s->nslices : max;
    for (size_t i = 0; i < n; i++)
        out[i] = s->slices[(s->slices_head + s->nslices - n + i) % SLICES_KEPT];
    return n;
}

static void try_open(struct cs_task_source *s)
{
    char why[256] = "";
    int err = cs_corun_open(s->pid, &s->target, why, sizeof why);
    if (err) {
        if (err == -ENOENT)
            snprintf(s->why, sizeof s->why, "process %d does not use libcorun", s->pid);
        else
            snprintf(s->why, sizeof s->why, "%s", why);
        return;
    }
    s->open = true;
    s->why[0] = 0;
    hold_stats(s);
}

void cs_task_source_process(struct cs_task_source *s, uint64_t now_ns)
{
    if (s->rb)
        ring_buffer__poll(s->rb, 0);
    if (!s->open) {
        if (now_ns < s->next_open_ns)
            return;
        s->next_open_ns = now_ns + RETRY_OPEN_NS;
        try_open(s);
        if (!s->open)
            return;
    }
    if (now_ns < s->next_snap_ns)
        return;
    s->next_snap_ns = now_ns + SNAPSHOT_EVERY_NS;
    struct cs_corun_snapshot snap;
    int err = cs_corun_snapshot(&s->target, &snap);
    if (err) {
        /* Keep the last good picture; a moving target can make one read fail. */
        if (err == -ESRCH)
            snprintf(s->why, sizeof s->why, "process %d is gone", s->pid);
        return;
    }
    drop_snapshot(s);
    s->snap = snap;
    s->have_snap = true;
}

const struct cs_corun_snapshot *cs_task_source_snapshot(const struct cs_task_source *s)
{
    return s->have_snap ? &s->snap : NULL;
}

bool cs_task_source_has_stats(const struct cs_task_source *s)
{
    return s->stats_link != NULL;
}

const char *cs_task_source_why(const struct cs_task_source *s)
{
    return s->why;
}

int cs_corun_snapshot_dup(struct cs_corun_snapshot *dst, const struct cs_corun_snapshot *src)
{
    *dst = *src;
    dst->loops = calloc(src->nloops ? src->nloops : 1, sizeof *dst->loops);
    if (!dst->loops)
        return -ENOMEM;
    for (size_t i = 0; i < src->nloops; i++) {
        dst->loops[i] = src->loops[i];
        dst->loops[i].tasks = NULL;
        size_t n = src->loops[i].ntasks;
        if (!n)
            continue;
        dst->loops[i].tasks = malloc(n * sizeof *dst->loops[i].tasks);
        if (!dst->loops[i].tasks) {
            dst->nloops = i;
            cs_corun_snapshot_free(dst);
            return -ENOMEM;
        }
        memcpy(dst->loops[i].tasks, src->loops[i].tasks, n * sizeof *dst->loops[i].tasks);
    }
    return 0;
}
