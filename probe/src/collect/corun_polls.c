#include "corun_polls.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "corun.skel.h"
#include "corun_target.h"
#include "link_teardown.h"

#define NPOLL_PROBES 4
#define NPROBES      (NPOLL_PROBES + 2)

/* The poll programs first, then the lifecycle ones (always attached). */
static const char *const probe_names[NPROBES] = {"task_ready", "task_resume", "task_suspend",
                                                 "task_done",  "task_spawn",  "task_done"};

static void programs_of(struct corun_bpf *s, struct bpf_program *progs[NPROBES])
{
    struct bpf_program *all[NPROBES] = {s->progs.corun_task_ready,   s->progs.corun_task_resume,
                                        s->progs.corun_task_suspend, s->progs.corun_task_done,
                                        s->progs.corun_task_spawn,   s->progs.corun_task_end};
    memcpy(progs, all, sizeof all);
}

struct cs_corun_polls {
    struct cs_corun_target target;
    struct corun_bpf *skel;
    struct bpf_link *links[NPROBES];
    struct ring_buffer *rb;
    bool polls;
    cs_corun_poll_cb cb;
    void *arg;
};

static int on_event(void *ctx, void *data, size_t len)
{
    struct cs_corun_polls *p = ctx;
    const struct cs_corun_poll_event *e = data;
    if (len < sizeof *e)
        return 0;
    bool life = e->kind == CS_CORUN_EV_SPAWN || e->kind == CS_CORUN_EV_END;
    if (!life || len >= sizeof(struct cs_corun_life_event))
        p->cb(e, p->arg);
    return 0;
}

/* Only the poll and lifecycle programs load; the maps of the others shrink to nothing (hash maps
 * are preallocated: `blocking` and `exec` alone would take ~7 MB). */
static int load(struct cs_corun_polls *p, size_t ring_bytes)
{
    struct corun_bpf *s = corun_bpf__open();
    if (!s)
        return -errno;
    p->skel = s;
    bpf_program__set_autoload(s->progs.corun_stats, false);
    bpf_program__set_autoload(s->progs.corun_slice_long, false);
    struct bpf_program *progs[NPROBES];
    programs_of(s, progs);
    for (int i = p->polls ? 0 : NPOLL_PROBES; i < NPROBES; i++)
        bpf_program__set_autoload(progs[i], true);
    const struct corun_debug *t = &p->target.table;
    s->rodata->task_name_off = t->task.name;
    s->rodata->task_name_size = t->task.name_size;
    s->rodata->task_stats_off = t->task.stats;
    s->rodata->stats_polls_off = t->stats.polls;
    s->rodata->stats_busy_off = t->stats.busy_ns;
    s->rodata->stats_wakes_off = t->stats.wakes;
    s->rodata->stats_hist_off = t->stats.sched_hist;
    bpf_map__set_max_entries(s->maps.slices, 4096);
    bpf_map__set_max_entries(s->maps.iters, 4096);
    bpf_map__set_max_entries(s->maps.offcpu, 1);
    bpf_map__set_max_entries(s->maps.blocking, 1);
    bpf_map__set_max_entries(s->maps.exec, 1);
    bpf_map__set_max_entries(s->maps.polls, (__u32)ring_bytes);
    return corun_bpf__load(s) ? -errno : 0;
}

int cs_corun_polls_open(int pid, size_t ring_bytes, bool polls, cs_corun_poll_cb cb, void *arg,
                        struct cs_corun_polls **out, char *why, size_t why_len)
{
    *out = NULL;
    struct cs_corun_polls *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(why, why_len, "out of memory");
        return -ENOMEM;
    }
    p->cb = cb;
    p->arg = arg;
    p->polls = polls;
    int err = cs_corun_open(pid, &p->target, why, why_len);
    if (err) {
        free(p);
        return err;
    }
    err = load(p, ring_bytes);
    if (err) {
        snprintf(why, why_len, "cannot load the task programs: %s", strerror(-err));
        goto fail;
    }
    struct bpf_program *progs[NPROBES];
    programs_of(p->skel, progs);
    for (int i = polls ? 0 : NPOLL_PROBES; i < NPROBES; i++) {
        p->links[i] = bpf_program__attach_usdt(progs[i], pid, p->target.module_path, "corun",
                                               probe_names[i], NULL);
        if (!p->links[i]) {
            err = -errno;
            snprintf(why, why_len, "cannot attach to corun:%s: %s", probe_names[i], strerror(-err));
            goto fail;
        }
    }
    p->rb = ring_buffer__new(bpf_map__fd(p->skel->maps.polls), on_event, p, NULL);
    if (!p->rb) {
        err = -errno;
        snprintf(why, why_len, "cannot read the task ring buffer: %s", strerror(-err));
        goto fail;
    }
    *out = p;
    return 0;
fail:
    cs_corun_polls_close(p);
    return err ? err : -EINVAL;
}

int cs_corun_polls_consume(struct cs_corun_polls *p)
{
    return p ? ring_buffer__consume(p->rb) : 0;
}

uint64_t cs_corun_polls_lost(const struct cs_corun_polls *p)
{
    return p && p->skel ? __atomic_load_n(&p->skel->bss->lost_events, __ATOMIC_RELAXED) : 0;
}

void cs_corun_polls_close(struct cs_corun_polls *p)
{
    if (!p)
        return;
    ring_buffer__free(p->rb);
    cs_links_destroy(p->links, NPROBES);
    corun_bpf__destroy(p->skel);
    free(p);
}
