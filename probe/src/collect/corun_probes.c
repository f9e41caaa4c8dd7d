#include "corun_probes.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "corun.skel.h"
#include "corun_usdt.h"
#include "mono_clock.h"
#include "link_teardown.h"

#define NSLOTS         13
#define NRINGS         3
#define POLLS_RING_DEF (256u << 10)

#define TRACEPOINTS (CS_CORUN_PROG_SWITCH | CS_CORUN_PROG_SYSCALLS)

/* One program to attach: a USDT probe of libcorun, or a tracepoint in its BTF-typed and raw
 * forms. The slots of one bit follow each other; stats first, so the runtime
 * keeps statistics from the first slice it times. */
struct slot {
    unsigned bit;
    const char *usdt; /* NULL: a tracepoint */
    struct bpf_program *btf, *raw;
};

struct cs_corun_probes {
    struct corun_bpf *skel;
    bool raw; /* tracepoints through raw_tp */
    unsigned attached;
    int errors[8]; /* per bit: why it did not attach */
    struct bpf_link *links[NSLOTS];
    struct ring_buffer *rings[NRINGS];
};

static void slots_of(struct corun_bpf *s, struct slot out[NSLOTS])
{
    const struct slot all[NSLOTS] = {
        {CS_CORUN_PROG_STATS, "stats", s->progs.corun_stats, NULL},
        {CS_CORUN_PROG_SLICES, "slice_long", s->progs.corun_slice_long, NULL},
        {CS_CORUN_PROG_ITERS, "iter_long", s->progs.corun_iter_long, NULL},
        {CS_CORUN_PROG_SWITCH, NULL, s->progs.corun_switch_btf, s->progs.corun_switch_raw},
        {CS_CORUN_PROG_SYSCALLS, NULL, s->progs.corun_sys_enter_btf, s->progs.corun_sys_enter_raw},
        {CS_CORUN_PROG_SYSCALLS, NULL, s->progs.corun_sys_exit_btf, s->progs.corun_sys_exit_raw},
        {CS_CORUN_PROG_EXEC, "exec_done", s->progs.corun_exec_done, NULL},
        {CS_CORUN_PROG_LIFE, "task_spawn", s->progs.corun_task_spawn, NULL},
        {CS_CORUN_PROG_LIFE, "task_done", s->progs.corun_task_end, NULL},
        {CS_CORUN_PROG_POLLS, "task_ready", s->progs.corun_task_ready, NULL},
        {CS_CORUN_PROG_POLLS, "task_resume", s->progs.corun_task_resume, NULL},
        {CS_CORUN_PROG_POLLS, "task_suspend", s->progs.corun_task_suspend, NULL},
        {CS_CORUN_PROG_POLLS, "task_done", s->progs.corun_task_done, NULL},
    };
    memcpy(out, all, sizeof all);
}

static unsigned bit_index(unsigned bit)
{
    return (unsigned)__builtin_ctz(bit);
}

/* Every offset any program reads, from the debug table: one place to keep in step. */
static void set_rodata(struct corun_bpf *s, const struct cs_corun_target *t, unsigned want,
                       const struct cs_corun_probe_params *p)
{
    const struct corun_debug *d = &t->table;
    s->rodata->min_slice_ns = p->min_slice_ns;
    s->rodata->min_iter_ns = p->min_iter_ns;
    s->rodata->task_name_off = d->task.name;
    s->rodata->task_name_size = d->task.name_size;
    s->rodata->loop_seq_off = d->loop.slice_seq;
    s->rodata->loop_task_off = d->loop.current_task;
    s->rodata->task_id_off = d->task.id;
    s->rodata->task_stats_off = d->task.stats;
    s->rodata->stats_polls_off = d->stats.polls;
    s->rodata->stats_busy_off = d->stats.busy_ns;
    s->rodata->stats_wakes_off = d->stats.wakes;
    s->rodata->stats_hist_off = d->stats.sched_hist;
    /* Without the off-CPU log long slices skip looking it up. */
    s->rodata->targ_tgid = want & TRACEPOINTS ? (__u32)t->pid : 0;
    s->rodata->block_at_switch = p->block_at_switch;
}

/* Maps no wanted program uses shrink to one entry (rings to one page). */
static void shrink_maps(struct corun_bpf *s, unsigned want, const struct cs_corun_probe_params *p)
{
    __u32 page = (__u32)sysconf(_SC_PAGESIZE);
    bool offcpu = want & TRACEPOINTS;
    bool blocking =
        (want & CS_CORUN_PROG_SYSCALLS) || ((want & CS_CORUN_PROG_SWITCH) && p->block_at_switch);
    bool polls = want & (CS_CORUN_PROG_LIFE | CS_CORUN_PROG_POLLS);
    if (!(want & CS_CORUN_PROG_SLICES))
        bpf_map__set_max_entries(s->maps.slices, page);
    if (!(want & CS_CORUN_PROG_ITERS))
        bpf_map__set_max_entries(s->maps.iters, page);
    if (!offcpu)
        bpf_map__set_max_entries(s->maps.offcpu, 1);
    if (!blocking)
        bpf_map__set_max_entries(s->maps.blocking, 1);
    if (!(want & CS_CORUN_PROG_EXEC))
        bpf_map__set_max_entries(s->maps.exec, 1);
    if (!(want & CS_CORUN_PROG_POLLS))
        bpf_map__set_max_entries(s->maps.poll_cur, 1);
    bpf_map__set_max_entries(s->maps.polls, !polls                ? page
                                            : p->polls_ring_bytes ? (__u32)p->polls_ring_bytes
                                                                  : POLLS_RING_DEF);
}

static int load(struct cs_corun_probes *pr, const struct cs_corun_target *t, unsigned want,
                const struct cs_corun_probe_params *p, bool raw)
{
    struct corun_bpf *s = corun_bpf__open();
    if (!s)
        return -errno;
    struct slot slots[NSLOTS];
    slots_of(s, slots);
    /* The skeleton autoloads some programs by default: exactly `want` here. */
    for (int i = 0; i < NSLOTS; i++) {
        bool on = want & slots[i].bit;
        bpf_program__set_autoload(slots[i].btf, on && !(slots[i].raw && raw));
        if (slots[i].raw)
            bpf_program__set_autoload(slots[i].raw, on && raw);
    }
    set_rodata(s, t, want, p);
    shrink_maps(s, want, p);
    int err = corun_bpf__load(s);
    if (err) {
        corun_bpf__destroy(s);
        return err;
    }
    pr->skel = s;
    pr->raw = raw;
    return 0;
}

/* Attaches the slots of one bit, all or none. */
static int attach_bit(struct cs_corun_probes *pr, const struct cs_corun_target *t,
                      const struct slot *slots, int first, int end, char *why, size_t why_len)
{
    for (int i = first; i < end; i++) {
        const struct slot *sl = &slots[i];
        if (sl->usdt)
            pr->links[i] =
                bpf_program__attach_usdt(sl->btf, t->pid, t->module_path, "corun", sl->usdt, NULL);
        else
            pr->links[i] = bpf_program__attach(pr->raw ? sl->raw : sl->btf);
        if (pr->links[i])
            continue;
        int err = -errno;
        if (sl->usdt)
            snprintf(why, why_len, "cannot attach to USDT probe corun:%s in %.300s: %s", sl->usdt,
                     t->mapped_path, strerror(-err));
        else
            snprintf(why, why_len, "cannot attach to tracepoint %s: %s",
                     bpf_program__section_name(pr->raw ? sl->raw : sl->btf), strerror(-err));
        cs_links_destroy(pr->links + first, (size_t)(end - first));
        return err ? err : -EINVAL;
    }
    return 0;
}

int cs_corun_probes_open(const struct cs_corun_target *t, unsigned want, unsigned required,
                         const struct cs_corun_probe_params *p, struct cs_corun_probes **out,
                         char *why, size_t why_len)
{
    static const struct cs_corun_probe_params defaults;
    *out = NULL;
    if (!p)
        p = &defaults;
    required &= want;
    struct cs_corun_probes *pr = calloc(1, sizeof *pr);
    if (!pr) {
        snprintf(why, why_len, "out of memory");
        return -ENOMEM;
    }
    int err = load(pr, t, want, p, false);
    if (err && err != -EPERM && (want & TRACEPOINTS))
        err = load(pr, t, want, p, true); /* no BTF-typed tracepoints here: raw ones */
    if (err) {
        snprintf(why, why_len, "cannot load the BPF program: %s", strerror(-err));
        free(pr);
        return err;
    }
    struct slot slots[NSLOTS];
    slots_of(pr->skel, slots);
    char note[256];
    for (int first = 0, end; first < NSLOTS; first = end) {
        unsigned bit = slots[first].bit;
        for (end = first + 1; end < NSLOTS && slots[end].bit == bit;)
            end++;
        if (!(want & bit))
            continue;
        err = attach_bit(pr, t, slots, first, end, required & bit ? why : note,
                         required & bit ? why_len : sizeof note);
        if (!err) {
            pr->attached |= bit;
        } else if (required & bit) {
            cs_corun_probes_close(pr);
            return err;
        } else {
            pr->errors[bit_index(bit)] = err;
        }
    }
    *out = pr;
    return 0;
}

unsigned cs_corun_probes_attached(const struct cs_corun_probes *p)
{
    return p ? p->attached : 0;
}

int cs_corun_probes_error(const struct cs_corun_probes *p, unsigned prog)
{
    return p && prog ? p->errors[bit_index(prog) & 7] : 0;
}

int cs_corun_probes_map_fd(const struct cs_corun_probes *p, enum cs_corun_map m)
{
    if (!p || !p->skel)
        return -1;
    const struct bpf_map *maps[] = {
        [CS_CORUN_MAP_SLICES] = p->skel->maps.slices,
        [CS_CORUN_MAP_ITERS] = p->skel->maps.iters,
        [CS_CORUN_MAP_OFFCPU] = p->skel->maps.offcpu,
        [CS_CORUN_MAP_BLOCKING] = p->skel->maps.blocking,
        [CS_CORUN_MAP_EXEC] = p->skel->maps.exec,
        [CS_CORUN_MAP_POLLS] = p->skel->maps.polls,
    };
    return (unsigned)m < sizeof maps / sizeof maps[0] ? bpf_map__fd(maps[m]) : -1;
}

struct ring_buffer *cs_corun_probes_ring(struct cs_corun_probes *p, enum cs_corun_map m,
                                         cs_corun_event_fn fn, void *ctx)
{
    int slot = m == CS_CORUN_MAP_SLICES ? 0 : m == CS_CORUN_MAP_ITERS ? 1 : 2;
    if (!p || (m != CS_CORUN_MAP_POLLS && slot == 2) || p->rings[slot]) {
        errno = EINVAL;
        return NULL;
    }
    p->rings[slot] = ring_buffer__new(cs_corun_probes_map_fd(p, m), fn, ctx, NULL);
    return p->rings[slot];
}

void cs_corun_probes_watch_loop(struct cs_corun_probes *p, int tid, uint64_t loop_addr)
{
    struct cs_corun_offcpu_log log;
    memset(&log, 0, sizeof log);
    log.loop_addr = loop_addr;
    log.since_ns = cs_mono_ns();
    __u32 key = (__u32)tid;
    bpf_map_update_elem(cs_corun_probes_map_fd(p, CS_CORUN_MAP_OFFCPU), &key, &log, BPF_NOEXIST);
}

uint64_t cs_corun_probes_lost(const struct cs_corun_probes *p)
{
    return p && p->skel ? __atomic_load_n(&p->skel->bss->lost_events, __ATOMIC_RELAXED) : 0;
}

void cs_corun_probes_close(struct cs_corun_probes *p)
{
    if (!p)
        return;
    for (int i = 0; i < NRINGS; i++)
        ring_buffer__free(p->rings[i]);
    cs_links_destroy(p->links, NSLOTS);
    corun_bpf__destroy(p->skel);
    free(p);
}
