#include "corun_polls.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "corun.skel.h"
#include "corun_target.h"
#include "link_teardown.h"

#define NPROBES 4

struct cs_corun_polls {
    struct cs_corun_target target;
    struct corun_bpf *skel;
    struct bpf_link *links[NPROBES];
    struct ring_buffer *rb;
    cs_corun_poll_cb cb;
    void *arg;
};

static int on_event(void *ctx, void *data, size_t len)
{
    struct cs_corun_polls *p = ctx;
    if (len >= sizeof(struct cs_corun_poll_event))
        p->cb(data, p->arg);
    return 0;
}

/* Only the poll programs load; the maps of the others shrink to nothing (hash maps are
 * preallocated: `blocking` and `exec` alone would take ~7 MB). */
static int load(struct cs_corun_polls *p, size_t ring_bytes)
{
    struct corun_bpf *s = corun_bpf__open();
    if (!s)
        return -errno;
    p->skel = s;
    bpf_program__set_autoload(s->progs.corun_stats, false);
    bpf_program__set_autoload(s->progs.corun_slice_long, false);
    struct bpf_program *progs[NPROBES] = {s->progs.corun_task_ready, s->progs.corun_task_resume,
                                          s->progs.corun_task_suspend, s->progs.corun_task_done};
    for (int i = 0; i < NPROBES; i++)
        bpf_program__set_autoload(progs[i], true);
    bpf_map__set_max_entries(s->maps.slices, 4096);
    bpf_map__set_max_entries(s->maps.iters, 4096);
    bpf_map__set_max_entries(s->maps.offcpu, 1);
    bpf_map__set_max_entries(s->maps.blocking, 1);
    bpf_map__set_max_entries(s->maps.exec, 1);
    bpf_map__set_max_entries(s->maps.polls, (__u32)ring_bytes);
    return corun_bpf__load(s) ? -errno : 0;
}

int cs_corun_polls_open(int pid, size_t ring_bytes, cs_corun_poll_cb cb, void *arg,
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
    int err = cs_corun_open(pid, &p->target, why, why_len);
    if (err) {
        free(p);
        return err;
    }
    err = load(p, ring_bytes);
    if (err) {
        snprintf(why, why_len, "cannot load the poll programs: %s", strerror(-err));
        goto fail;
    }
    static const char *const probes[NPROBES] = {"task_ready", "task_resume", "task_suspend",
                                                "task_done"};
    struct bpf_program *progs[NPROBES] = {
        p->skel->progs.corun_task_ready, p->skel->progs.corun_task_resume,
        p->skel->progs.corun_task_suspend, p->skel->progs.corun_task_done};
    for (int i = 0; i < NPROBES; i++) {
        p->links[i] = bpf_program__attach_usdt(progs[i], pid, p->target.module_path, "corun",
                                               probes[i], NULL);
        if (!p->links[i]) {
            err = -errno;
            snprintf(why, why_len, "cannot attach to corun:%s: %s", probes[i], strerror(-err));
            goto fail;
        }
    }
    p->rb = ring_buffer__new(bpf_map__fd(p->skel->maps.polls), on_event, p, NULL);
    if (!p->rb) {
        err = -errno;
        snprintf(why, why_len, "cannot read the poll ring buffer: %s", strerror(-err));
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
