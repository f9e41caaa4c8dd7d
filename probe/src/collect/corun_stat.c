#include "corun_stat.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "corun_blocking.h"
#include "corun_probes.h"
#include "corun_usdt.h"

#define NNOTES 2

struct cs_corun_stat {
    const struct cs_corun_target *target;
    struct cs_corun_probes *probes;
    struct ring_buffer *rb; /* long slices, owned by the probes */
    struct cs_stat stat;
    /* Blocking and executor calls (corun_blocking.h): optional, a note if they fail. */
    struct cs_blocking_stat blocking;
    unsigned nnotes;
    char notes[NNOTES][160];
};

static int on_slice(void *ctx, void *data, size_t len)
{
    struct cs_corun_stat *s = ctx;
    const struct cs_corun_slice_event *e = data;
    if (len < sizeof *e)
        return 0;
    char name[CS_CORUN_NAME_LEN + 1];
    memcpy(name, e->name, CS_CORUN_NAME_LEN);
    name[CS_CORUN_NAME_LEN] = 0;
    return cs_stat_add_long_slice(&s->stat, (int)e->tid, e->task_id, name, e->duration_ns);
}

static void add_note(struct cs_corun_stat *s, const char *what, int err, const char *without)
{
    if (s->nnotes < NNOTES)
        snprintf(s->notes[s->nnotes++], sizeof s->notes[0], "cannot attach to %s (%s); no %s", what,
                 strerror(-err), without);
}

/* Blocking calls: sched_switch (off-CPU accounting, and the calls that blocked) and with
 * all_syscalls sys_enter/sys_exit (every call): global tracepoints filtered by tgid first
 * thing. Executor calls: corun:exec_done. Each is a note, not a failure. */
static void note_blocking(struct cs_corun_stat *s, bool all_syscalls)
{
    unsigned on = cs_corun_probes_attached(s->probes);
    unsigned calls = CS_CORUN_PROG_SWITCH | (all_syscalls ? CS_CORUN_PROG_SYSCALLS : 0);
    s->blocking.syscalls_on = (on & calls) == calls;
    s->blocking.all_calls = all_syscalls;
    s->blocking.exec_on = (on & CS_CORUN_PROG_EXEC) != 0;
    if (!s->blocking.syscalls_on) {
        int err = cs_corun_probes_error(s->probes, CS_CORUN_PROG_SWITCH);
        if (!err)
            err = cs_corun_probes_error(s->probes, CS_CORUN_PROG_SYSCALLS);
        add_note(s, "the scheduler and syscall tracepoints", err, "blocking calls");
    }
    if (!s->blocking.exec_on)
        add_note(s, "corun:exec_done", cs_corun_probes_error(s->probes, CS_CORUN_PROG_EXEC),
                 "executor calls");
}

int cs_corun_stat_open(const struct cs_corun_target *t, bool all_syscalls,
                       struct cs_corun_stat **out, char *why, size_t why_len)
{
    *out = NULL;
    struct cs_corun_stat *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(why, why_len, "out of memory");
        return -ENOMEM;
    }
    s->target = t;
    cs_stat_init(&s->stat, t->pid);
    memcpy(s->stat.comm, t->comm, sizeof s->stat.comm);
    const unsigned required = CS_CORUN_PROG_STATS | CS_CORUN_PROG_SLICES;
    unsigned want = required | CS_CORUN_PROG_SWITCH | CS_CORUN_PROG_EXEC |
                    (all_syscalls ? CS_CORUN_PROG_SYSCALLS : 0);
    const struct cs_corun_probe_params params = {.block_at_switch = !all_syscalls};
    int err = cs_corun_probes_open(t, want, required, &params, &s->probes, why, why_len);
    if (!err) {
        note_blocking(s, all_syscalls);
        s->rb = cs_corun_probes_ring(s->probes, CS_CORUN_MAP_SLICES, on_slice, s);
        if (!s->rb) {
            err = -errno;
            snprintf(why, why_len, "cannot open the ring buffer: %s", strerror(-err));
        }
    }
    if (err) {
        cs_corun_stat_free(s);
        return err;
    }
    *out = s;
    return 0;
}

const char *cs_corun_stat_note(const struct cs_corun_stat *s, unsigned i)
{
    return s && i < s->nnotes ? s->notes[i] : NULL;
}

int cs_corun_stat_sample(struct cs_corun_stat *s)
{
    if (s->rb)
        ring_buffer__poll(s->rb, 0);
    struct cs_corun_snapshot snap;
    int err = cs_corun_snapshot(s->target, &snap);
    if (err)
        return err;
    err = cs_stat_add(&s->stat, &snap);
    /* Every loop thread gets its off-CPU accounting (new loops start now and then). */
    for (size_t i = 0; s->probes && s->blocking.syscalls_on && i < snap.nloops; i++)
        cs_corun_probes_watch_loop(s->probes, snap.loops[i].tid, snap.loops[i].addr);
    cs_corun_snapshot_free(&snap);
    return err;
}

const struct cs_stat *cs_corun_stat_finish(struct cs_corun_stat *s)
{
    if (s->probes) {
        ring_buffer__poll(s->rb, 0);
        s->stat.lost_events = cs_corun_probes_lost(s->probes);
        cs_blocking_read(
            &s->blocking,
            s->blocking.syscalls_on ? cs_corun_probes_map_fd(s->probes, CS_CORUN_MAP_BLOCKING) : -1,
            s->blocking.exec_on ? cs_corun_probes_map_fd(s->probes, CS_CORUN_MAP_EXEC) : -1);
        s->stat.blocking = &s->blocking;
        cs_corun_probes_close(s->probes);
        s->probes = NULL;
        s->rb = NULL;
    }
    return &s->stat;
}

void cs_corun_stat_free(struct cs_corun_stat *s)
{
    if (!s)
        return;
    cs_corun_probes_close(s->probes);
    cs_stat_free(&s->stat);
    cs_blocking_free(&s->blocking);
    free(s);
}
