#include "corun_polls.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "corun_probes.h"
#include "corun_target.h"

struct cs_corun_polls {
    struct cs_corun_probes *probes;
    struct ring_buffer *rb;
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
    struct cs_corun_target target;
    int err = cs_corun_open(pid, &target, why, why_len);
    if (err) {
        free(p);
        return err;
    }
    unsigned want = CS_CORUN_PROG_LIFE | (polls ? CS_CORUN_PROG_POLLS : 0);
    const struct cs_corun_probe_params params = {.polls_ring_bytes = ring_bytes};
    err = cs_corun_probes_open(&target, want, want, &params, &p->probes, why, why_len);
    if (err)
        goto fail;
    p->rb = cs_corun_probes_ring(p->probes, CS_CORUN_MAP_POLLS, on_event, p);
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
    return p ? cs_corun_probes_lost(p->probes) : 0;
}

void cs_corun_polls_close(struct cs_corun_polls *p)
{
    if (!p)
        return;
    cs_corun_probes_close(p->probes); /* and the ring buffer */
    free(p);
}
