#include "stall_collector.h"
#include "stall_collector_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "mono_clock.h"
#include "proc.h"
#include "stall_repair.h"
#include "stall_stacks.h"
#include "stalls.h"
#include "stalls.skel.h"
#include "syscall_names.h"
#include "corun_target.h"
#include "tracefs.h"

void cs_collector_set_annotator(struct cs_collector *c, cs_stall_annotate_fn fn, void *arg)
{
    c->annotate = fn;
    c->annotate_arg = arg;
}

static void note(const struct cs_collector *c, const char *fmt, const char *arg)
{
    if (!c->opts.note)
        return;
    char line[400];
    snprintf(line, sizeof line, fmt, arg);
    c->opts.note(line, c->opts.note_arg);
}

static int quiet_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
    if (level != LIBBPF_WARN || !getenv("COSCOPE_DEBUG"))
        return 0;
    return vfprintf(stderr, fmt, args);
}

struct loop_thread *cs_collector_find_thread(const struct cs_collector *c, int tid)
{
    for (size_t i = 0; i < c->nthreads; i++)
        if (c->threads[i].tid == tid)
            return &c->threads[i];
    return NULL;
}

bool cs_collector_has_thread(const struct cs_collector *c, int tid)
{
    return cs_collector_find_thread(c, tid) != NULL;
}

size_t cs_collector_thread_count(const struct cs_collector *c)
{
    return c->nthreads;
}

bool cs_collector_uses_corun_edges(const struct cs_collector *c)
{
    return c->corun_edges;
}

bool cs_collector_uses_fallback(const struct cs_collector *c)
{
    return c->fallback;
}

/* Rate limit per target: at most max_per_sec stalls start being reported per second. */
static bool allowed(struct cs_collector *c, struct loop_thread *t, uint64_t seq, uint64_t now)
{
    if (t->decided_seq == seq)
        return t->decided_allowed;
    t->decided_seq = seq;
    if (now - c->window_start_ns >= 1000000000ull) {
        c->window_start_ns = now;
        c->window_count = 0;
    }
    t->decided_allowed = !c->opts.max_per_sec || c->window_count < c->opts.max_per_sec;
    if (t->decided_allowed)
        c->window_count++;
    return t->decided_allowed;
}

void cs_collector_fill_syscalls(struct cs_stall *s, const struct cs_syscall_slot *sys, unsigned n)
{
    s->nsyscalls = 0;
    for (unsigned i = 0; i < n && i < CS_MAX_SYSCALLS && i < CS_MODEL_MAX_SYSCALLS; i++) {
        struct cs_syscall_time *t = &s->syscalls[s->nsyscalls++];
        char buf[32];
        snprintf(t->name, sizeof t->name, "%s", cs_syscall_name(sys[i].nr, buf, sizeof buf));
        t->count = sys[i].count;
        t->total_ns = sys[i].total_ns;
    }
}

/*
 * Hands a record to the annotator (which may rewrite it, drop it, or turn it into several:
 * stall_collector.h), then through the rate limit to the model and the callback. Stacks are
 * symbolized only for a record that is kept. Returns whether anything was delivered.
 */
bool cs_collector_deliver(struct cs_collector *c, struct loop_thread *t, struct cs_stall *s,
                          int stack_id, const struct cs_raw_stack_event *raw, uint64_t now)
{
    bool collected = false, any = false;
    for (unsigned i = 0;; i++) {
        struct cs_stall r = *s;
        int more = c->annotate ? c->annotate(&r, i, c->annotate_arg) : 0;
        if (more < 0)
            break;
        if (c->annotate && s->ongoing && t->ongoing_seq == s->seq &&
            t->ongoing_start_ns == r.start_ns &&
            now - t->ongoing_last_ns < c->opts.ongoing_every_ns)
            break; /* this record was announced a moment ago */
        if (!allowed(c, t, s->seq, now)) {
            if (!s->ongoing)
                cs_model_add_suppressed(c->model, 1);
            break;
        }
        if (!collected) {
            cs_stall_stacks_collect(c->stacks, s, stack_id, raw, !s->ongoing);
            collected = true;
        }
        r.nstacks = s->nstacks;
        r.stacks = s->stacks;
        if (s->ongoing) {
            t->ongoing_seq = s->seq;
            t->ongoing_start_ns = r.start_ns;
            t->ongoing_last_ns = now;
        }
        cs_model_add_stall(c->model, &r);
        if (c->cb)
            c->cb(&r, c->cb_arg);
        any = true;
        if (!more)
            break;
    }
    if (collected)
        cs_stall_stacks_release(s);
    else if (!s->ongoing)
        cs_stall_stacks_forget(c->stacks, s->tid, s->seq);
    return any;
}

static int on_event(void *ctx, void *data, size_t size)
{
    struct cs_collector *c = ctx;
    if (size < sizeof(unsigned int))
        return 0;
    unsigned int kind = *(unsigned int *)data;
    if (kind == CS_EV_RAW_STACK) {
        cs_stall_stacks_add_raw(c->stacks, data, size);
        return 0;
    }
    if (kind != CS_EV_STALL || size < sizeof(struct cs_stall_event))
        return 0;
    const struct cs_stall_event *ev = data;
    struct loop_thread *t = cs_collector_find_thread(c, (int)ev->tid);
    if (!t)
        return 0;
    struct cs_stall s = {0};
    s.pid = (int)ev->pid;
    s.tid = (int)ev->tid;
    memcpy(s.comm, ev->comm, sizeof s.comm);
    s.comm[sizeof s.comm - 1] = 0;
    s.seq = ev->seq;
    s.start_ns = ev->start_ns;
    s.duration_ns = ev->end_ns - ev->start_ns;
    struct cs_syscall_slot sys[CS_MAX_SYSCALLS];
    unsigned nsys = ev->nsys < CS_MAX_SYSCALLS ? ev->nsys : CS_MAX_SYSCALLS;
    memcpy(sys, ev->sys, sizeof sys);
    bool repaired = false;
    uint64_t off = cs_stall_repair_off_cpu(ev, sys, &nsys, &repaired);
    if (repaired) {
        c->repaired_slices++;
        if (getenv("COSCOPE_DEBUG"))
            fprintf(stderr,
                    "coscope: debug: slice %llu of thread %u: saw %u of %u context switches, "
                    "%s switch-out left open; off-CPU %llu -> %llu ns\n",
                    (unsigned long long)ev->seq, ev->tid, ev->switches_seen, ev->csw,
                    ev->unclosed_out_ns ? "a" : "no", (unsigned long long)ev->off_cpu_ns,
                    (unsigned long long)off);
    }
    s.off_cpu_ns = off < s.duration_ns ? off : s.duration_ns;
    s.on_cpu_ns = s.duration_ns - s.off_cpu_ns;
    cs_collector_fill_syscalls(&s, sys, nsys);
    s.start = (enum cs_stall_start)ev->start_kind;
    cs_collector_deliver(c, t, &s, ev->stack_id, NULL, ev->end_ns);
    return 0;
}

/*
 * Runs of our programs the kernel skipped (a BPF program already running on that CPU):
 * each is a lost event too, possibly a missed slice edge or context switch.
 */
static uint64_t recursion_misses(struct cs_collector *c)
{
    struct bpf_program *progs[] = {c->skel->progs.wait_enter,    c->skel->progs.wait_enter_uring,
                                   c->skel->progs.wait_exit,     c->skel->progs.switch_btf,
                                   c->skel->progs.switch_raw,    c->skel->progs.on_cpu_sample,
                                   c->skel->progs.raw_sys_enter, c->skel->progs.raw_sys_exit};
    uint64_t misses = 0;
    for (size_t i = 0; i < sizeof progs / sizeof progs[0]; i++) {
        int fd = bpf_program__fd(progs[i]);
        if (fd < 0)
            continue;
        struct bpf_prog_info info;
        __u32 len = sizeof info;
        memset(&info, 0, sizeof info);
        if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0)
            misses += info.recursion_misses;
    }
    return misses;
}

int cs_collector_poll(struct cs_collector *c, int timeout_ms)
{
    int n = ring_buffer__poll(c->rb, timeout_ms);
    if (n < 0 && n != -EINTR)
        return n;
    cs_collector_check_ongoing(c);
    cs_model_set_lost(c->model, c->skel->bss->lost_events + cs_stall_stacks_lost(c->stacks) +
                                    recursion_misses(c) + c->repaired_slices);
    return 0;
}

static int perf_event_open(struct perf_event_attr *attr, int tid)
{
    return (int)syscall(SYS_perf_event_open, attr, tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
}

static int attach_perf(struct cs_collector *c, struct loop_thread *t, struct bpf_program *prog,
                       struct perf_event_attr *attr)
{
    if (t->nlinks >= MAX_LINKS_PER_THREAD)
        return -E2BIG;
    int fd = perf_event_open(attr, t->tid);
    if (fd < 0)
        return -errno;
    struct bpf_link *link = bpf_program__attach_perf_event(prog, fd);
    if (!link) {
        int err = -errno;
        close(fd);
        return err;
    }
    t->links[t->nlinks++] = link; /* the link owns the perf event fd */
    (void)c;
    return 0;
}

static void detach_thread(struct loop_thread *t)
{
    for (int i = 0; i < t->nlinks; i++)
        bpf_link__destroy(t->links[i]);
    t->nlinks = 0;
}

/*
 * The kernel keeps the BPF programs of a syscall tracepoint per tracepoint, not per perf
 * event: once attached through one thread's perf events they run for every thread that
 * makes that wait call (and filter on the target and the threads map), and a second
 * attach of the same program is refused with EEXIST. So attach once, through any thread
 * of the target: at open, so that the wait calls of threads not watched yet are counted.
 */
static int attach_wait_tracepoints(struct cs_collector *c, int tid)
{
    if (c->fallback || c->corun_edges || c->ntp_links)
        return 0;
    struct perf_event_attr attr;
    struct loop_thread tp = {.tid = tid};
    int err = 0;
    for (int i = 0; i < c->ntps && !err; i++) {
        memset(&attr, 0, sizeof attr);
        attr.size = sizeof attr;
        attr.type = PERF_TYPE_TRACEPOINT;
        attr.sample_period = 1;
        attr.sample_type = PERF_SAMPLE_RAW;
        attr.config = (__u64)c->tps[i].enter_id;
        err = attach_perf(
            c, &tp, c->tps[i].uring ? c->skel->progs.wait_enter_uring : c->skel->progs.wait_enter,
            &attr);
        if (!err) {
            attr.config = (__u64)c->tps[i].exit_id;
            err = attach_perf(c, &tp, c->skel->progs.wait_exit, &attr);
        }
    }
    if (err) {
        detach_thread(&tp);
        return err;
    }
    memcpy(c->tp_links, tp.links, sizeof tp.links);
    c->ntp_links = tp.nlinks;
    return 0;
}

int cs_collector_add_thread(struct cs_collector *c, int tid, char *why, size_t why_len)
{
    if (cs_collector_find_thread(c, tid))
        return -EEXIST;
    if (c->nthreads == c->cap_threads) {
        size_t cap = c->cap_threads ? 2 * c->cap_threads : 8;
        struct loop_thread *n = realloc(c->threads, cap * sizeof *n);
        if (!n)
            return -ENOMEM;
        c->threads = n;
        c->cap_threads = cap;
    }
    struct loop_thread *t = &c->threads[c->nthreads];
    memset(t, 0, sizeof *t);
    t->tid = tid;
    t->decided_seq = UINT64_MAX;

    struct cs_thread_state st = {0};
    st.pending_stack_id = -1;
    st.best_stack_id = -1;
    st.tid = (unsigned)tid;
    __u32 key = (__u32)tid;
    int err = 0;
    if (c->opts.stats) {
        struct cs_loop_stat zero = {0};
        err = bpf_map_update_elem(bpf_map__fd(c->skel->maps.loop_stats), &key, &zero, BPF_ANY);
    }
    if (!err)
        err = bpf_map_update_elem(bpf_map__fd(c->skel->maps.threads), &key, &st, BPF_NOEXIST);
    if (err) {
        snprintf(why, why_len, "cannot register thread %d: %s", tid, strerror(-err));
        return err;
    }
    int err2 = attach_wait_tracepoints(c, tid);
    if (err2) {
        err = err2;
        goto fail;
    }
    struct perf_event_attr attr;
    if (c->raw_buf) {
        memset(c->raw_buf, 0, sizeof *c->raw_buf);
        if (bpf_map_update_elem(bpf_map__fd(c->skel->maps.raw_pending), &key, c->raw_buf,
                                BPF_ANY) ||
            bpf_map_update_elem(bpf_map__fd(c->skel->maps.raw_best), &key, c->raw_buf, BPF_ANY)) {
            err = -errno;
            goto fail;
        }
    }
    memset(&attr, 0, sizeof attr);
    attr.size = sizeof attr;
    attr.type = PERF_TYPE_SOFTWARE;
    attr.config = PERF_COUNT_SW_CPU_CLOCK;
    attr.sample_period = 1000000; /* ns of CPU time: ~1 kHz while the thread runs */
    err = attach_perf(c, t, c->skel->progs.on_cpu_sample, &attr);
    if (err)
        goto fail;
    c->nthreads++;
    /* Not seeded (an older kernel): a stall in progress is seen when it ends. */
    (void)cs_collector_seed(c);
    return 0;
fail:
    snprintf(why, why_len, "cannot attach to thread %d: %s", tid, strerror(-err));
    detach_thread(t);
    bpf_map_delete_elem(bpf_map__fd(c->skel->maps.threads), &key);
    bpf_map_delete_elem(bpf_map__fd(c->skel->maps.raw_pending), &key);
    bpf_map_delete_elem(bpf_map__fd(c->skel->maps.raw_best), &key);
    bpf_map_delete_elem(bpf_map__fd(c->skel->maps.loop_stats), &key);
    return err;
}

static int find_tracepoints(struct cs_collector *c)
{
    for (int i = 0; i < cs_wait_syscall_count; i++) {
        char name[64];
        snprintf(name, sizeof name, "sys_enter_%s", cs_wait_syscalls[i]);
        int enter = cs_tracefs_event_id("syscalls", name);
        snprintf(name, sizeof name, "sys_exit_%s", cs_wait_syscalls[i]);
        int exit_ = cs_tracefs_event_id("syscalls", name);
        if (enter < 0 || exit_ < 0)
            continue; /* this kernel lacks that call (e.g. no io_uring): nothing to watch */
        c->tps[c->ntps].enter_id = enter;
        c->tps[c->ntps].exit_id = exit_;
        c->tps[c->ntps].uring = !strcmp(cs_wait_syscalls[i], "io_uring_enter");
        c->ntps++;
    }
    return c->ntps ? 0 : -ENOENT;
}

/* Opens the skeleton, sets the options as read-only data, and loads it. */
static int open_and_load(struct cs_collector *c, bool raw_switch, bool seed)
{
    stalls_bpf__destroy(c->skel);
    c->skel = stalls_bpf__open();
    if (!c->skel)
        return -errno;
    c->skel->rodata->targ_tgid = (__u32)c->opts.pid;
    c->skel->rodata->threshold_ns = c->opts.threshold_ns;
    c->skel->rodata->stack_mode = (__u32)c->opts.stack_mode;
    c->skel->rodata->stack_bytes = c->opts.stack_bytes;
    c->skel->rodata->collect_stats = c->opts.stats;
    int ncpus = libbpf_num_possible_cpus();
    bpf_map__set_max_entries(c->skel->maps.raw_scratch, ncpus > 0 ? (__u32)ncpus : 1);
    bpf_program__set_autoload(c->skel->progs.raw_sys_enter, c->fallback);
    bpf_program__set_autoload(c->skel->progs.raw_sys_exit, c->fallback);
    bpf_program__set_autoload(c->skel->progs.switch_btf, !raw_switch);
    bpf_program__set_autoload(c->skel->progs.switch_raw, raw_switch);
    bpf_program__set_autoload(c->skel->progs.corun_poll_enter, c->corun_edges);
    bpf_program__set_autoload(c->skel->progs.corun_poll_exit, c->corun_edges);
    bpf_program__set_autoload(c->skel->progs.seed_slices, seed);
    return stalls_bpf__load(c->skel);
}

int cs_collector_open(const struct cs_stall_opts *opts, struct cs_model *model, cs_stall_cb cb,
                      void *cb_arg, struct cs_collector **out, char *why, size_t why_len)
{
    libbpf_set_print(quiet_print);
    struct cs_collector *c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    c->opts = *opts;
    if (!c->opts.ongoing_every_ns)
        c->opts.ongoing_every_ns = 1000000000ull;
    c->model = model;
    c->cb = cb;
    c->cb_arg = cb_arg;
    int err;

    /* Tests (and the curious) take the fallback paths on a kernel that needs none:
     * COSCOPE_FORCE_RAW_TP=syscalls, sched_switch or all (docs/stalls.md). */
    const char *force = getenv("COSCOPE_FORCE_RAW_TP");
    bool force_all = force && !strcmp(force, "all");
    bool force_sys = force_all || (force && !strcmp(force, "syscalls"));
    bool force_switch = force_all || (force && !strcmp(force, "sched_switch"));
    char tf_why[256] = "";
    /* A libcorun process marks its own slice edges: no syscall tracepoint needed. */
    char corun_module[PATH_MAX] = "";
    uint64_t debug_addr;
    if (!force && !getenv("COSCOPE_NO_CORUN_EDGES") &&
        cs_corun_find_symbol(opts->pid, "corun_debug", &debug_addr, corun_module,
                             sizeof corun_module, NULL, 0) == 0)
        c->corun_edges = true;
    if (force_sys)
        snprintf(tf_why, sizeof tf_why, "COSCOPE_FORCE_RAW_TP=%s", force);
    if (c->corun_edges) {
        /* nothing to find: checked when the probes are attached below */
    } else if (force_sys || cs_tracefs_setup(tf_why, sizeof tf_why) != 0 ||
               find_tracepoints(c) != 0) {
        c->fallback = true;
        note(c,
             "no per-thread syscall tracepoints (%s); using the global syscall tracepoints, "
             "which cost every system call on this machine ~0.2 us while attached",
             tf_why[0] ? tf_why : "no syscall tracepoints");
    }

    if (opts->stack_mode != CS_STACK_FP) {
        c->raw_buf = malloc(sizeof *c->raw_buf);
        if (!c->raw_buf) {
            err = -ENOMEM;
            goto fail;
        }
    }
    /* tp_btf first; raw_tp only where BTF-typed tracepoints are refused; the task
     * iterator that sees stalls in progress at attach where the kernel has it. */
    bool seed = true;
    bool raw_switch = force_switch;
    err = open_and_load(c, raw_switch, seed);
    if (err && err != -EPERM && !raw_switch) {
        raw_switch = true;
        err = open_and_load(c, raw_switch, seed);
    }
    if (err && err != -EPERM) {
        seed = false;
        raw_switch = force_switch;
        err = open_and_load(c, raw_switch, seed);
        if (err && err != -EPERM && !raw_switch) {
            raw_switch = true;
            err = open_and_load(c, raw_switch, seed);
        }
        if (!err)
            note(c, "%s",
                 "this kernel refused the task iterator: a stall in progress at attach is seen "
                 "only when it ends");
    }
    if (!err && raw_switch)
        note(c, "sched_switch through raw_tp (%s)",
             force_switch ? "COSCOPE_FORCE_RAW_TP" : "tp_btf refused by this kernel");
    if (err) {
        snprintf(why, why_len, "loading the stall BPF programs: %s", strerror(-err));
        goto fail;
    }
    struct bpf_program *sw = bpf_program__autoload(c->skel->progs.switch_btf)
                                 ? c->skel->progs.switch_btf
                                 : c->skel->progs.switch_raw;
    c->global_links[c->nglobal] = bpf_program__attach(sw);
    if (!c->global_links[c->nglobal]) {
        err = -errno;
        snprintf(why, why_len, "attaching to sched_switch: %s", strerror(-err));
        goto fail;
    }
    c->nglobal++;
    if (c->corun_edges) {
        static const char *const names[2] = {"poll_enter", "poll_exit"};
        struct bpf_program *progs[2] = {c->skel->progs.corun_poll_enter,
                                        c->skel->progs.corun_poll_exit};
        for (int i = 0; i < 2; i++) {
            c->global_links[c->nglobal] = bpf_program__attach_usdt(
                progs[i], opts->pid, corun_module, "corun", names[i], NULL);
            if (!c->global_links[c->nglobal]) {
                err = -errno;
                snprintf(why, why_len, "attaching to corun:%s in %s: %s", names[i], corun_module,
                         strerror(-err));
                goto fail;
            }
            c->nglobal++;
        }
    }
    if (c->fallback) {
        struct bpf_program *progs[] = {c->skel->progs.raw_sys_enter, c->skel->progs.raw_sys_exit};
        for (int i = 0; i < 2; i++) {
            c->global_links[c->nglobal] = bpf_program__attach(progs[i]);
            if (!c->global_links[c->nglobal]) {
                err = -errno;
                snprintf(why, why_len, "attaching to the syscall tracepoints: %s", strerror(-err));
                goto fail;
            }
            c->nglobal++;
        }
    }
    c->stacks = cs_stall_stacks_new(opts->pid, bpf_map__fd(c->skel->maps.stacks),
                                    bpf_map__fd(c->skel->maps.samples), opts->stack_mode);
    if (!c->stacks) {
        err = errno ? -errno : -ENOMEM;
        snprintf(why, why_len, "reading the modules of process %d: %s", opts->pid, strerror(-err));
        goto fail;
    }
    c->rb = ring_buffer__new(bpf_map__fd(c->skel->maps.events), on_event, c, NULL);
    if (!c->rb) {
        err = -errno;
        snprintf(why, why_len, "opening the BPF ring buffer: %s", strerror(-err));
        goto fail;
    }
    if (seed) {
        c->seed_link = bpf_program__attach_iter(c->skel->progs.seed_slices, NULL);
        if (!c->seed_link)
            note(c,
                 "attaching the task iterator: %s: a stall in progress at attach is seen only "
                 "when it ends",
                 strerror(errno));
    }
    /* Through the target's main thread (any of its threads would do). */
    err = attach_wait_tracepoints(c, opts->pid);
    if (err) {
        snprintf(why, why_len, "attaching to the wait-call tracepoints: %s", strerror(-err));
        goto fail;
    }
    *out = c;
    return 0;
fail:
    cs_collector_close(c);
    return err;
}

static void *destroy_link(void *arg)
{
    bpf_link__destroy(arg);
    return NULL;
}

/*
 * Detaching a BPF program from a perf event waits for an RCU grace period (~70 ms on
 * a loaded machine). One after the other that is over a second per thread watched;
 * in parallel the grace periods are shared.
 */
static void destroy_links_in_parallel(struct bpf_link **links, size_t n)
{
    pthread_t *th = calloc(n, sizeof *th);
    bool *started = calloc(n, sizeof *started);
    for (size_t i = 0; i < n; i++)
        started[i] = th && started && pthread_create(&th[i], NULL, destroy_link, links[i]) == 0;
    for (size_t i = 0; i < n; i++) {
        if (started && started[i])
            pthread_join(th[i], NULL);
        else
            bpf_link__destroy(links[i]);
    }
    free(th);
    free(started);
}

void cs_collector_close(struct cs_collector *c)
{
    if (!c)
        return;
    size_t nlinks = (size_t)c->ntp_links;
    for (size_t i = 0; i < c->nthreads; i++)
        nlinks += (size_t)c->threads[i].nlinks;
    struct bpf_link **links = calloc(nlinks ? nlinks : 1, sizeof *links);
    if (links) {
        size_t k = 0;
        for (int j = 0; j < c->ntp_links; j++)
            links[k++] = c->tp_links[j];
        c->ntp_links = 0;
        for (size_t i = 0; i < c->nthreads; i++) {
            for (int j = 0; j < c->threads[i].nlinks; j++)
                links[k++] = c->threads[i].links[j];
            c->threads[i].nlinks = 0;
        }
        destroy_links_in_parallel(links, nlinks);
        free(links);
    }
    for (size_t i = 0; i < c->nthreads; i++)
        detach_thread(&c->threads[i]);
    for (int i = 0; i < c->ntp_links; i++)
        bpf_link__destroy(c->tp_links[i]);
    for (int i = 0; i < c->nglobal; i++)
        bpf_link__destroy(c->global_links[i]);
    bpf_link__destroy(c->seed_link);
    ring_buffer__free(c->rb);
    cs_stall_stacks_free(c->stacks);
    stalls_bpf__destroy(c->skel);
    free(c->raw_buf);
    free(c->threads);
    free(c);
}

int cs_collector_loop_stat(const struct cs_collector *c, int tid, struct cs_loop_stat *out,
                           uint64_t *slice_start_ns)
{
    __u32 key = (__u32)tid;
    if (bpf_map_lookup_elem(bpf_map__fd(c->skel->maps.loop_stats), &key, out) != 0)
        return -errno;
    struct cs_thread_state st;
    *slice_start_ns = 0;
    if (bpf_map_lookup_elem(bpf_map__fd(c->skel->maps.threads), &key, &st) == 0)
        *slice_start_ns = st.slice_start_ns;
    return 0;
}

int cs_collector_next_block_stat(const struct cs_collector *c, uint64_t *cursor,
                                 struct cs_block_key *key, struct cs_block_stat *out)
{
    /* The cursor is the last key returned, packed (tid in the high half). */
    int fd = bpf_map__fd(c->skel->maps.block_stats);
    struct cs_block_key prev = {(unsigned)(*cursor >> 32), (int)(uint32_t)*cursor};
    if (bpf_map_get_next_key(fd, *cursor ? &prev : NULL, key) != 0)
        return errno == ENOENT ? 0 : -errno;
    *cursor = (uint64_t)key->tid << 32 | (uint32_t)key->nr;
    if (bpf_map_lookup_elem(fd, key, out) != 0)
        return -errno;
    return 1;
}

/* For callers with their own poll loop (coscope top): readable when events wait. */
int cs_collector_fd(const struct cs_collector *c)
{
    return ring_buffer__epoll_fd(c->rb);
}
