#include "corun_attribution.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "corun_probes.h"
#include "corun_target.h"
#include "corun_usdt.h"
#include "syscall_names.h"
#include "cs_sort.h"
#include "mono_clock.h"
#include "proc.h"

#define RECENT_SLICES    256 /* long slices (>= 250 us) remembered, all loops together */
#define SEEN_ONGOING     16
#define RETRY_EVERY_NS   50000000ull   /* a launched command: look for libcorun this often */
#define RETRY_FOR_NS     5000000000ull /* a launched command maps its libraries by then */
#define REFRESH_LOOPS_NS 1000000000ull /* new loop threads get an off-CPU log this soon */
#define MAX_WALK         100000        /* tasks walked to name one (lists change under us) */

struct recent_slice {
    struct cs_corun_slice_event ev;
    bool used;     /* a valid entry */
    bool reported; /* already delivered as a stall */
};

/* What an ongoing record saw, kept for the final record of the same engine slice. */
struct seen_ongoing {
    int tid;
    uint64_t seq, task_id;
    char name[CS_CORUN_NAME_LEN + 1];
};

struct cs_corun_attrib {
    int pid;
    bool retry, active;
    uint64_t threshold_ns;
    cs_note_fn note; /* what could not be attached */
    void *note_arg;
    uint64_t first_try_ns, last_try_ns, last_refresh_ns;
    struct cs_corun_target target;
    struct cs_corun_probes *probes;
    struct ring_buffer *rb_slices, *rb_iters; /* owned by the probes */
    int offcpu_fd;                            /* -1 without the off-CPU log */
    struct recent_slice recent[RECENT_SLICES];
    unsigned next_recent;
    struct seen_ongoing seen[SEEN_ONGOING];
    unsigned next_seen;
    char name[CS_CORUN_NAME_LEN + 1]; /* what s->task points at */
    /* slow iterations */
    cs_slow_iter_cb iter_cb;
    void *iter_arg;
    struct cs_model *model;
    unsigned max_per_sec, window_count;
    uint64_t window_start_ns, slow_iters;
    struct cs_slow_iter iter; /* scratch */
};

static int on_slice(void *ctx, void *data, size_t len)
{
    struct cs_corun_attrib *a = ctx;
    if (len < sizeof(struct cs_corun_slice_event))
        return 0;
    struct recent_slice *r = &a->recent[a->next_recent++ % RECENT_SLICES];
    memcpy(&r->ev, data, sizeof r->ev);
    r->ev.name[CS_CORUN_NAME_LEN - 1] = 0;
    r->used = true;
    r->reported = false;
    return 0;
}

static int on_iter(void *ctx, void *data, size_t len);

/* ---- reading the loops from target memory ---------------------------------------------- */

struct loop_view {
    uint64_t addr, current_task, slice_seq;
    int64_t slice_start_ns;
};

/* Calls fn for each loop of the target until it returns true. */
static bool each_loop(struct cs_corun_attrib *a,
                      bool (*fn)(struct cs_corun_attrib *, uint64_t, int32_t, void *), void *arg)
{
    const struct corun_debug *d = &a->target.table;
    struct corun_registry reg;
    if (cs_corun_read(a->pid, d->registry, &reg, sizeof reg) != 0)
        return false;
    uint64_t loop = reg.first_loop;
    for (unsigned n = 0; loop && n < 4096; n++) {
        int32_t tid = 0;
        uint64_t next = 0;
        if (cs_corun_read(a->pid, loop + d->loop.tid, &tid, sizeof tid) ||
            cs_corun_read(a->pid, loop + d->loop.next_loop, &next, sizeof next))
            return false;
        if (fn(a, loop, tid, arg))
            return true;
        loop = next;
    }
    return false;
}

struct find_loop {
    int tid;
    uint64_t addr;
};

static bool match_loop(struct cs_corun_attrib *a, uint64_t loop, int32_t tid, void *arg)
{
    (void)a;
    struct find_loop *f = arg;
    if (tid != f->tid)
        return false;
    f->addr = loop;
    return true;
}

/* The loop on thread `tid` and its slice in progress. */
static int read_loop(struct cs_corun_attrib *a, int tid, struct loop_view *v)
{
    const struct corun_debug *d = &a->target.table;
    struct find_loop f = {.tid = tid};
    if (!each_loop(a, match_loop, &f))
        return -ENOENT;
    memset(v, 0, sizeof *v);
    v->addr = f.addr;
    if (cs_corun_read(a->pid, f.addr + d->loop.current_task, &v->current_task,
                      sizeof v->current_task) ||
        cs_corun_read(a->pid, f.addr + d->loop.slice_seq, &v->slice_seq, sizeof v->slice_seq) ||
        cs_corun_read(a->pid, f.addr + d->loop.slice_start_ns, &v->slice_start_ns,
                      sizeof v->slice_start_ns))
        return -EIO;
    return 0;
}

static int read_task(struct cs_corun_attrib *a, uint64_t task, uint64_t *id, char *name)
{
    const struct corun_debug *d = &a->target.table;
    size_t len = d->task.name_size < CS_CORUN_NAME_LEN ? d->task.name_size : CS_CORUN_NAME_LEN;
    name[0] = 0;
    if (cs_corun_read(a->pid, task + d->task.id, id, sizeof *id) ||
        cs_corun_read(a->pid, task + d->task.name, name, len))
        return -EIO;
    name[len] = 0;
    return 0;
}

/* Names the tasks of `it` still unnamed, from the loop's list of live tasks. */
static void name_from_table(struct cs_corun_attrib *a, struct cs_slow_iter *it)
{
    unsigned missing = 0;
    for (unsigned i = 0; i < it->ntasks; i++)
        missing += !it->tasks[i].name[0];
    struct find_loop f = {.tid = it->tid};
    if (!missing || !each_loop(a, match_loop, &f))
        return;
    const struct corun_debug *d = &a->target.table;
    uint64_t task = 0;
    if (cs_corun_read(a->pid, f.addr + d->loop.first_task, &task, sizeof task))
        return;
    for (unsigned n = 0; task && missing && n < MAX_WALK; n++) {
        uint64_t id = 0, next = 0;
        char name[CS_CORUN_NAME_LEN + 1];
        if (read_task(a, task, &id, name) ||
            cs_corun_read(a->pid, task + d->task.next_task, &next, sizeof next))
            return;
        for (unsigned i = 0; i < it->ntasks; i++)
            if (it->tasks[i].id == id && !it->tasks[i].name[0]) {
                snprintf(it->tasks[i].name, sizeof it->tasks[i].name, "%s", name);
                missing--;
            }
        task = next;
    }
}

/* ---- the off-CPU log ---------------------------------------------------------------- */

static bool add_log(struct cs_corun_attrib *a, uint64_t loop, int32_t tid, void *arg)
{
    (void)arg;
    cs_corun_probes_watch_loop(a->probes, tid, loop);
    return false;
}

/* Every loop thread gets an off-CPU log (new loops start now and then). */
static void refresh_loops(struct cs_corun_attrib *a)
{
    a->last_refresh_ns = cs_mono_ns();
    if (a->offcpu_fd >= 0)
        each_loop(a, add_log, NULL);
}

static void tally(struct cs_stall *s, int nr, unsigned count, uint64_t ns)
{
    char buf[32];
    const char *name = cs_syscall_name(nr, buf, sizeof buf);
    for (unsigned i = 0; i < s->nsyscalls; i++)
        if (!strcmp(s->syscalls[i].name, name)) {
            s->syscalls[i].count += count;
            s->syscalls[i].total_ns += ns;
            return;
        }
    if (s->nsyscalls == CS_MODEL_MAX_SYSCALLS)
        return;
    struct cs_syscall_time *t = &s->syscalls[s->nsyscalls++];
    snprintf(t->name, sizeof t->name, "%s", name);
    t->count = count;
    t->total_ns = ns;
}

/* On/off-CPU time and blocking calls so far of slice `seq` (begun at `start`) on s->tid. */
static bool offcpu_so_far(struct cs_corun_attrib *a, struct cs_stall *s, uint64_t seq,
                          uint64_t start, uint64_t now)
{
    struct cs_corun_offcpu_log log;
    __u32 key = (__u32)s->tid;
    if (a->offcpu_fd < 0 || bpf_map_lookup_elem(a->offcpu_fd, &key, &log) != 0 ||
        start < log.since_ns) /* the log may have missed this slice's switch-out */
        return false;
    uint64_t off = 0;
    s->nsyscalls = 0;
    /* The tally is this slice's if it switched out since it began (corun_usdt.h). */
    if (log.base_seq == seq) {
        off = log.cum_off_ns - log.base_cum_ns;
        for (unsigned i = 0; i < log.nsys && i < CS_CORUN_MAX_SYS; i++) {
            tally(s, log.sys[i].nr, log.sys[i].count, log.sys[i].total_ns);
        }
    }
    if (log.out_ns && log.out_ns < now) { /* off-CPU right now */
        uint64_t lo = log.out_ns > start ? log.out_ns : start;
        off += now - lo;
        if (log.out_voluntary)
            tally(s, log.out_nr, 1, now - lo);
    }
    s->off_cpu_ns = off < s->duration_ns ? off : s->duration_ns;
    s->on_cpu_ns = s->duration_ns - s->off_cpu_ns;
    return true;
}

/* ---- attaching ------------------------------------------------------------------------ */

static void detach(struct cs_corun_attrib *a)
{
    cs_corun_probes_close(a->probes); /* and the ring buffers */
    a->probes = NULL;
    a->rb_slices = a->rb_iters = NULL;
    a->offcpu_fd = -1;
}

/* Finds libcorun and attaches corun:slice_long and corun:iter_long (their semaphores make
 * the runtime time slices and iterations while we watch) and the off-CPU log. */
static void try_activate(struct cs_corun_attrib *a)
{
    a->last_try_ns = cs_mono_ns();
    char why[256];
    if (cs_corun_open(a->pid, &a->target, why, sizeof why) != 0)
        return;
    a->active = true; /* memory reads work even if the probes do not */
    const unsigned required = CS_CORUN_PROG_SLICES | CS_CORUN_PROG_ITERS;
    const struct cs_corun_probe_params params = {.min_iter_ns = a->threshold_ns};
    int err = cs_corun_probes_open(&a->target, required | CS_CORUN_PROG_SWITCH, required, &params,
                                   &a->probes, why, sizeof why);
    if (err)
        goto fail;
    if (cs_corun_probes_attached(a->probes) & CS_CORUN_PROG_SWITCH)
        a->offcpu_fd = cs_corun_probes_map_fd(a->probes, CS_CORUN_MAP_OFFCPU);
    a->rb_slices = cs_corun_probes_ring(a->probes, CS_CORUN_MAP_SLICES, on_slice, a);
    a->rb_iters = cs_corun_probes_ring(a->probes, CS_CORUN_MAP_ITERS, on_iter, a);
    if (!a->rb_slices || !a->rb_iters) {
        err = -errno;
        goto fail;
    }
    refresh_loops(a);
    return;
fail:
    if (a->note) {
        char line[200];
        snprintf(line, sizeof line,
                 "cannot attach to corun:slice_long (%s); libcorun stalls are measured on "
                 "whole iterations",
                 strerror(-err));
        a->note(line, a->note_arg);
    }
    detach(a);
}

struct cs_corun_attrib *cs_corun_attrib_new(int pid, bool retry, uint64_t threshold_ns,
                                            cs_note_fn note, void *note_arg)
{
    struct cs_corun_attrib *a = calloc(1, sizeof *a);
    if (a) {
        a->note = note;
        a->note_arg = note_arg;
    }
    if (!a)
        return NULL;
    a->pid = pid;
    a->retry = retry;
    a->threshold_ns = threshold_ns;
    a->offcpu_fd = -1;
    a->first_try_ns = cs_mono_ns();
    try_activate(a);
    return a;
}

void cs_corun_attrib_on_slow_iter(struct cs_corun_attrib *a, unsigned max_per_sec,
                                  struct cs_model *model, cs_slow_iter_cb cb, void *arg)
{
    a->max_per_sec = max_per_sec;
    a->model = model;
    a->iter_cb = cb;
    a->iter_arg = arg;
}

bool cs_corun_attrib_active(const struct cs_corun_attrib *a)
{
    return a && a->active;
}

uint64_t cs_corun_attrib_slow_iters(const struct cs_corun_attrib *a)
{
    return a ? a->slow_iters : 0;
}

void cs_corun_attrib_free(struct cs_corun_attrib *a)
{
    if (!a)
        return;
    detach(a);
    free(a);
}

/* ---- slow iterations ---------------------------------------------------------------- */

static void add_iter_task(struct cs_slow_iter *it, uint64_t id, uint64_t duration_ns,
                          const char *name)
{
    for (unsigned i = 0; i < it->ntasks; i++)
        if (it->tasks[i].id == id) {
            if (name && !it->tasks[i].name[0])
                snprintf(it->tasks[i].name, sizeof it->tasks[i].name, "%s", name);
            return;
        }
    if (it->ntasks == CS_SLOW_ITER_MAX_TASKS)
        return;
    struct cs_slow_iter_task *t = &it->tasks[it->ntasks++];
    t->id = id;
    t->duration_ns = duration_ns;
    snprintf(t->name, sizeof t->name, "%s", name ? name : "");
}

static int slower_first(const void *x, const void *y)
{
    const struct cs_slow_iter_task *a = x, *b = y;
    return a->duration_ns < b->duration_ns ? 1 : a->duration_ns > b->duration_ns ? -1 : 0;
}

static bool iter_allowed(struct cs_corun_attrib *a)
{
    uint64_t now = cs_mono_ns();
    if (now - a->window_start_ns >= 1000000000ull) {
        a->window_start_ns = now;
        a->window_count = 0;
    }
    if (a->max_per_sec && a->window_count >= a->max_per_sec)
        return false;
    a->window_count++;
    return true;
}

static int on_iter(void *ctx, void *data, size_t len)
{
    struct cs_corun_attrib *a = ctx;
    const struct cs_corun_iter_event *e = data;
    if (len < sizeof *e || !a->iter_cb || e->duration_ns < a->threshold_ns)
        return 0;
    unsigned ntop = e->ntop < CS_CORUN_ITER_TOP ? e->ntop : CS_CORUN_ITER_TOP;
    if (ntop && e->top[0].duration_ns >= a->threshold_ns)
        return 0; /* a long slice: that is a stall, reported as one */
    if (!iter_allowed(a)) {
        if (a->model)
            cs_model_add_suppressed(a->model, 1);
        return 0;
    }
    struct cs_slow_iter *it = &a->iter;
    memset(it, 0, sizeof *it);
    it->pid = a->pid;
    it->tid = (int)e->tid;
    it->start_ns = e->start_ns;
    it->duration_ns = e->duration_ns;
    it->tasks_run = e->tasks_run;
    cs_thread_comm(a->pid, it->tid, it->comm, sizeof it->comm);
    /* Every slice >= 250 us came as a slice_long event with its name; the runtime's top
     * list adds the slowest shorter ones. */
    uint64_t end = e->start_ns + e->duration_ns;
    for (unsigned i = 0; i < RECENT_SLICES; i++) {
        const struct recent_slice *r = &a->recent[i];
        if (r->used && (int)r->ev.tid == it->tid && r->ev.start_ns >= e->start_ns &&
            r->ev.start_ns < end)
            add_iter_task(it, r->ev.task_id, r->ev.duration_ns, r->ev.name);
    }
    for (unsigned i = 0; i < ntop; i++)
        add_iter_task(it, e->top[i].task_id, e->top[i].duration_ns, NULL);
    cs_qsort(it->tasks, it->ntasks, sizeof it->tasks[0], slower_first);
    name_from_table(a, it);
    a->slow_iters++;
    a->iter_cb(it, a->iter_arg);
    return 0;
}

void cs_corun_attrib_poll(struct cs_corun_attrib *a)
{
    if (!a)
        return;
    if (!a->active && a->retry && cs_mono_ns() - a->last_try_ns >= RETRY_EVERY_NS) {
        try_activate(a);
        if (cs_mono_ns() - a->first_try_ns > RETRY_FOR_NS)
            a->retry = false;
    }
    if (!a->rb_slices)
        return;
    /* Slices first: an iteration's slices were sent before the iteration itself. */
    ring_buffer__consume(a->rb_slices);
    ring_buffer__consume(a->rb_iters);
    if (cs_mono_ns() - a->last_refresh_ns >= REFRESH_LOOPS_NS)
        refresh_loops(a);
}

/* ---- stalls ------------------------------------------------------------------------- */

static void set_task(struct cs_corun_attrib *a, struct cs_stall *s, uint64_t id, const char *name)
{
    snprintf(a->name, sizeof a->name, "%s", name);
    s->task = a->name;
    s->task_id = id;
}

/* An engine record in progress: the loop's current slice, if that is past the threshold. */
static int annotate_ongoing(struct cs_corun_attrib *a, struct cs_stall *s)
{
    struct loop_view v;
    char name[CS_CORUN_NAME_LEN + 1];
    uint64_t id = 0, now = cs_mono_ns();
    if (read_loop(a, s->tid, &v) != 0 || !v.current_task ||
        read_task(a, v.current_task, &id, name) != 0 || !id)
        return -1;
    /* Without slice timing (no slice_long): the engine's record, with the task. So too for
     * a slice that began before coscope attached: the runtime was not timing it then. */
    if (a->rb_slices && s->start == CS_STALL_START_SEEN) {
        if (v.slice_start_ns <= 0 || now < (uint64_t)v.slice_start_ns ||
            now - (uint64_t)v.slice_start_ns < a->threshold_ns)
            return -1;
        s->start_ns = (uint64_t)v.slice_start_ns;
        s->duration_ns = now - s->start_ns;
        if (!offcpu_so_far(a, s, v.slice_seq, s->start_ns, now)) {
            s->off_cpu_ns = s->off_cpu_ns < s->duration_ns ? s->off_cpu_ns : s->duration_ns;
            s->on_cpu_ns = s->duration_ns - s->off_cpu_ns;
        }
    }
    set_task(a, s, id, name);
    struct seen_ongoing *o = &a->seen[a->next_seen++ % SEEN_ONGOING];
    o->tid = s->tid;
    o->seq = s->seq;
    o->task_id = id;
    snprintf(o->name, sizeof o->name, "%s", name);
    return 0;
}

/* Long slices of s->tid inside the engine's slice, earliest first, not yet reported. */
static struct recent_slice *next_long_slice(struct cs_corun_attrib *a, const struct cs_stall *s,
                                            unsigned *left)
{
    uint64_t start = s->start_ns, end = s->start_ns + s->duration_ns;
    struct recent_slice *pick = NULL;
    *left = 0;
    for (unsigned i = 0; i < RECENT_SLICES; i++) {
        struct recent_slice *r = &a->recent[i];
        if (!r->used || r->reported || (int)r->ev.tid != s->tid ||
            r->ev.duration_ns < a->threshold_ns)
            continue;
        uint64_t lo = r->ev.start_ns > start ? r->ev.start_ns : start;
        uint64_t r_end = r->ev.start_ns + r->ev.duration_ns;
        uint64_t hi = r_end < end ? r_end : end;
        if (hi <= lo)
            continue;
        (*left)++;
        if (!pick || r->ev.start_ns < pick->ev.start_ns)
            pick = r;
    }
    if (*left)
        (*left)--;
    return pick;
}

static int annotate_final(struct cs_corun_attrib *a, struct cs_stall *s, unsigned idx)
{
    unsigned left = 0;
    struct recent_slice *r = next_long_slice(a, s, &left);
    if (!r) {
        if (idx)
            return -1;
        /* Announced while ongoing but its slice event never came (lost): the engine's
         * record, so the stall still ends with one final record. */
        for (unsigned i = 0; i < SEEN_ONGOING; i++) {
            const struct seen_ongoing *o = &a->seen[i];
            if (o->task_id && o->tid == s->tid && o->seq == s->seq) {
                set_task(a, s, o->task_id, o->name);
                return 0;
            }
        }
        return -1; /* no slice that long in it: a slow iteration, if anything */
    }
    r->reported = true;
    const struct cs_corun_slice_event *e = &r->ev;
    uint64_t engine_off = s->off_cpu_ns;
    s->start_ns = e->start_ns;
    s->duration_ns = e->duration_ns;
    /* A slice that began before coscope attached began before its off-CPU log too: the log
     * saw no switch-out and would call it all on-CPU. The engine's tally was seeded at
     * attach with the time the thread had been blocked (stall_threads.c). */
    bool before_attach = s->start != CS_STALL_START_SEEN;
    if (e->log_state != CS_CORUN_LOG_COMPLETE || before_attach) {
        /* No log for this thread (yet), or one made during the slice: the engine's tally,
         * bounded by the slice. */
        s->off_cpu_ns = engine_off < s->duration_ns ? engine_off : s->duration_ns;
    } else {
        s->off_cpu_ns = e->off_cpu_ns < s->duration_ns ? e->off_cpu_ns : s->duration_ns;
        s->nsyscalls = 0;
        for (unsigned i = 0; i < e->nsys && i < CS_CORUN_MAX_SYS; i++) {
            char buf[32];
            struct cs_syscall_time *t = &s->syscalls[s->nsyscalls++];
            snprintf(t->name, sizeof t->name, "%s", cs_syscall_name(e->sys[i].nr, buf, sizeof buf));
            t->count = e->sys[i].count;
            t->total_ns = e->sys[i].total_ns;
        }
    }
    s->on_cpu_ns = s->duration_ns - s->off_cpu_ns;
    set_task(a, s, e->task_id, e->name);
    return left ? 1 : 0;
}

int cs_corun_attrib_annotate(struct cs_stall *s, unsigned idx, void *arg)
{
    struct cs_corun_attrib *a = arg;
    cs_corun_attrib_poll(a);
    if (!a->active)
        return idx ? -1 : 0; /* not (yet) a libcorun process: the engine's record as is */
    if (s->ongoing)
        return idx ? -1 : annotate_ongoing(a, s);
    if (!a->rb_slices) { /* no slice events: the engine's record, with the task if seen */
        if (idx)
            return -1;
        for (unsigned i = 0; i < SEEN_ONGOING; i++) {
            const struct seen_ongoing *o = &a->seen[i];
            if (o->task_id && o->tid == s->tid && o->seq == s->seq)
                set_task(a, s, o->task_id, o->name);
        }
        return 0;
    }
    return annotate_final(a, s, idx);
}
