#include "cmd_stat.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "corun.skel.h"
#include "corun_blocking.h"
#include "corun_errors.h"
#include "corun_target.h"
#include "corun_usdt.h"
#include "exit_codes.h"
#include "stat_foreign.h"
#include "launch.h"
#include "link_teardown.h"
#include "loop_detect.h"
#include "stat_report.h"
#include "target_options.h"

#define SAMPLE_MS 100 /* how often the target's statistics are read, at most */
#define SAMPLE_DUTY                                                                                \
    10                      /* ...and at least this many times the last reading's length           \
                               apart, so coscope stays under ~10% of a CPU on huge targets */
#define LAUNCH_WAIT_MS 5000 /* a launched command has this long to map libcorun */

static void usage(FILE *out)
{
    fprintf(
        out,
        "usage: coscope stat (-p PID | -- CMD [ARGS...]) [-d DURATION] [--json] [--all-syscalls]\n"
        "\n"
        "Statistics of a libcorun process: while attached, the runtime keeps its own\n"
        "per-loop and per-task accounting (USDT semaphores corun:stats, corun:slice_long);\n"
        "coscope reads it from the process's memory and prints, at the end, per loop:\n"
        "iterations, utilisation, ready-queue depth, scheduling-latency and iteration\n"
        "histograms; per task: polls, busy time, wakes, scheduling latency, time alive;\n"
        "blocking calls (system calls inside task slices and their off-CPU time) per\n"
        "call and per task; executor calls (queue wait + run time) per task.\n"
        "Any other event loop (epoll, poll, select, io_uring): per loop thread, from its\n"
        "system calls - iterations, utilisation, slice histogram, blocking calls, stalls.\n"
        "\n"
        "  -p, --pid PID          attach to a running process\n"
        "  -d, --duration DUR     stop after DUR (default: until Ctrl-C or exit)\n"
        "      --json             one JSON object at the end (docs/cli.md)\n"
        "      --all-syscalls     count every system call inside task slices, not only\n"
        "                         the ones that blocked (costs every syscall on the machine)\n"
        "  -h, --help             this text\n"
        "\n"
        "Exit codes: 0 ok, 2 usage, 3 no such process / it exited, 4 permission,\n"
        "5 the kernel lacks something needed, 6 a libcorun debug table it cannot read.\n");
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

struct session {
    struct cs_stat stat;
    struct corun_bpf *skel;
    struct ring_buffer *rb;
    struct bpf_link *links[2];
    /* Blocking and executor calls (corun_blocking.h): optional, a note if they fail. */
    struct bpf_link *extra_links[4];
    struct cs_blocking_stat blocking;
    bool all_syscalls; /* --all-syscalls: every call, not only the ones that blocked */
};

static int on_slice(void *ctx, void *data, size_t len)
{
    struct session *s = ctx;
    const struct cs_corun_slice_event *e = data;
    if (len < sizeof *e)
        return 0;
    char name[CS_CORUN_NAME_LEN + 1];
    memcpy(name, e->name, CS_CORUN_NAME_LEN);
    name[CS_CORUN_NAME_LEN] = 0;
    return cs_stat_add_long_slice(&s->stat, (int)e->tid, e->task_id, name, e->duration_ns);
}

static int load_probes(struct session *s, const struct cs_corun_target *t, bool raw_tp)
{
    s->skel = corun_bpf__open();
    if (!s->skel)
        return -errno;
    s->skel->rodata->min_slice_ns = 0;
    s->skel->rodata->task_name_off = t->table.task.name;
    s->skel->rodata->task_name_size = t->table.task.name_size;
    s->skel->rodata->targ_tgid = (__u32)t->pid;
    s->skel->rodata->loop_seq_off = t->table.loop.slice_seq;
    s->skel->rodata->loop_task_off = t->table.loop.current_task;
    s->skel->rodata->task_id_off = t->table.task.id;
    s->skel->rodata->block_at_switch = !s->all_syscalls;
    bpf_program__set_autoload(s->skel->progs.corun_exec_done, true);
    bpf_program__set_autoload(s->skel->progs.corun_switch_btf, !raw_tp);
    bpf_program__set_autoload(s->skel->progs.corun_sys_enter_btf, !raw_tp);
    bpf_program__set_autoload(s->skel->progs.corun_sys_exit_btf, !raw_tp);
    bpf_program__set_autoload(s->skel->progs.corun_switch_raw, raw_tp);
    bpf_program__set_autoload(s->skel->progs.corun_sys_enter_raw, raw_tp);
    bpf_program__set_autoload(s->skel->progs.corun_sys_exit_raw, raw_tp);
    int err = corun_bpf__load(s->skel);
    if (err) {
        corun_bpf__destroy(s->skel);
        s->skel = NULL;
    }
    return err;
}

/* Blocking calls: sched_switch (off-CPU accounting, and the calls that blocked) and with
 * --all-syscalls sys_enter/sys_exit (every call): global tracepoints filtered by tgid first
 * thing. Executor calls: corun:exec_done. */
static void attach_blocking(struct session *s, const struct cs_corun_target *t)
{
    bool raw = !bpf_program__autoload(s->skel->progs.corun_switch_btf);
    struct bpf_program *progs[3] = {
        raw ? s->skel->progs.corun_switch_raw : s->skel->progs.corun_switch_btf,
        raw ? s->skel->progs.corun_sys_enter_raw : s->skel->progs.corun_sys_enter_btf,
        raw ? s->skel->progs.corun_sys_exit_raw : s->skel->progs.corun_sys_exit_btf,
    };
    s->blocking.syscalls_on = true;
    s->blocking.all_calls = s->all_syscalls;
    for (int i = 0; i < (s->all_syscalls ? 3 : 1); i++) {
        s->extra_links[i] = bpf_program__attach(progs[i]);
        if (!s->extra_links[i])
            s->blocking.syscalls_on = false;
    }
    if (!s->blocking.syscalls_on)
        fprintf(stderr,
                "coscope: note: cannot attach to the scheduler and syscall tracepoints "
                "(%s); no blocking calls\n",
                strerror(errno));
    s->extra_links[3] = bpf_program__attach_usdt(s->skel->progs.corun_exec_done, t->pid,
                                                 t->module_path, "corun", "exec_done", NULL);
    s->blocking.exec_on = s->extra_links[3] != NULL;
    if (!s->blocking.exec_on)
        fprintf(stderr, "coscope: note: cannot attach to corun:exec_done (%s); no executor calls\n",
                strerror(errno));
}

/* Loads the USDT programs and attaches them to the target's libcorun: from here on the
 * kernel holds the runtime's semaphores up. 0 or a negative errno; `why` says what. */
static int attach_probes(struct session *s, const struct cs_corun_target *t, char *why,
                         size_t why_len)
{
    int err = load_probes(s, t, false);
    if (err && err != -EPERM)
        err = load_probes(s, t, true); /* no BTF-typed tracepoints here: raw ones */
    if (err) {
        snprintf(why, why_len, "cannot load the BPF program: %s", strerror(-err));
        return err;
    }
    struct bpf_program *progs[2] = {s->skel->progs.corun_stats, s->skel->progs.corun_slice_long};
    const char *names[2] = {"stats", "slice_long"};
    for (int i = 0; i < 2; i++) {
        s->links[i] =
            bpf_program__attach_usdt(progs[i], t->pid, t->module_path, "corun", names[i], NULL);
        if (!s->links[i]) {
            err = -errno;
            snprintf(why, why_len, "cannot attach to USDT probe corun:%s in %.300s: %s", names[i],
                     t->mapped_path, strerror(-err));
            return err;
        }
    }
    attach_blocking(s, t);
    s->rb = ring_buffer__new(bpf_map__fd(s->skel->maps.slices), on_slice, s, NULL);
    if (!s->rb) {
        err = -errno;
        snprintf(why, why_len, "cannot open the ring buffer: %s", strerror(-err));
        return err;
    }
    return 0;
}

static void detach_probes(struct session *s)
{
    ring_buffer__free(s->rb);
    struct bpf_link *all[6] = {s->links[0],       s->links[1],       s->extra_links[0],
                               s->extra_links[1], s->extra_links[2], s->extra_links[3]};
    cs_links_destroy(all, 6); /* each uprobe detach waits for RCU: in parallel */
    corun_bpf__destroy(s->skel);
    s->rb = NULL;
    memset(s->links, 0, sizeof s->links);
    memset(s->extra_links, 0, sizeof s->extra_links);
    s->skel = NULL;
}

/* A freshly launched command maps libcorun only once its dynamic loader has run. */
static int open_launched(int pid, struct cs_corun_target *t, char *why, size_t why_len)
{
    int64_t deadline = now_ns() + (int64_t)LAUNCH_WAIT_MS * 1000000;
    for (;;) {
        int err = cs_corun_open(pid, t, why, why_len);
        /* Already in an event loop without libcorun: a foreign loop (foreign_stat.h). */
        if (err != -ENOENT || now_ns() > deadline || cs_loop_waiting_now(pid))
            return err;
        usleep(1000);
    }
}

static int sample(struct session *s, const struct cs_corun_target *t)
{
    struct cs_corun_snapshot snap;
    int err = cs_corun_snapshot(t, &snap);
    if (err)
        return err;
    err = cs_stat_add(&s->stat, &snap);
    /* Every loop thread gets its off-CPU accounting (new loops start now and then). */
    for (size_t i = 0; s->skel && s->blocking.syscalls_on && i < snap.nloops; i++) {
        struct cs_corun_offcpu_log log;
        memset(&log, 0, sizeof log);
        log.loop_addr = snap.loops[i].addr;
        __u32 key = (__u32)snap.loops[i].tid;
        bpf_map_update_elem(bpf_map__fd(s->skel->maps.offcpu), &key, &log, BPF_NOEXIST);
    }
    cs_corun_snapshot_free(&snap);
    return err;
}

enum { OPT_ALL_SYSCALLS = 256 };

static int on_option(int opt, const char *arg, void *ctx)
{
    (void)arg;
    if (opt != OPT_ALL_SYSCALLS)
        return CS_EXIT_USAGE;
    *(bool *)ctx = true;
    return 0;
}

int cs_cmd_stat(int argc, char **argv)
{
    static const struct option own_long[] = {
        {"all-syscalls", no_argument, NULL, OPT_ALL_SYSCALLS},
        {NULL, 0, NULL, 0},
    };
    bool all_syscalls = false;
    const struct cs_target_cli cli = {
        .name = "stat",
        .flags = CS_TARGET_JSON,
        .usage = usage,
        .own_long = own_long,
        .on_option = on_option,
        .ctx = &all_syscalls,
    };
    struct cs_target_opts to = {0};
    int prc = cs_target_begin(&cli, argc, argv, &to);
    if (prc)
        return cs_target_exit_code(prc);
    int pid = to.pid;
    bool launched = to.launched;
    uint64_t duration_ns = to.duration_ns;
    char why[512] = "";
    if (launched && cs_launch_release(pid) != 0) {
        fprintf(stderr, "coscope: cannot start '%s': %s\n", to.cmd[0], strerror(errno));
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return CS_EXIT_FAILURE;
    }
    int rc = CS_EXIT_OK;
    struct session s = {0};
    s.all_syscalls = all_syscalls;
    struct cs_corun_target target;
    cs_stat_init(&s.stat, pid);
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pidfd < 0) {
        rc = cs_corun_report_error("stat", pid, -ESRCH, "");
        goto cleanup;
    }
    int err = launched ? open_launched(pid, &target, why, sizeof why)
                       : cs_corun_open(pid, &target, why, sizeof why);
    if (err == -ENOENT) { /* no libcorun: any event loop, from its system calls */
        rc = cs_foreign_stat_run(pid, launched, duration_ns, to.json);
        goto cleanup;
    }
    if (err) {
        rc = cs_corun_report_error("stat", pid, err, why);
        if (launched)
            kill(pid, SIGKILL); /* we started it for nothing */
        goto cleanup;
    }
    err = attach_probes(&s, &target, why, sizeof why);
    if (err) {
        fprintf(stderr, "coscope: %s\n", why);
        rc = cs_target_attach_exit(err);
        goto cleanup;
    }
    err = sample(&s, &target); /* the baseline */
    if (err) {
        rc = cs_corun_report_error("stat", pid, err, "its task list could not be read");
        goto cleanup;
    }
    /* Tools and tests wait for this line: from here on, the runtime keeps statistics. */
    fprintf(stderr, "coscope: collecting statistics of process %d (%s)\n", pid, target.mapped_path);

    cs_target_catch_stop();

    int64_t t0 = now_ns(), sample_ms = SAMPLE_MS;
    bool exited = false;
    while (!cs_stop_requested) {
        int64_t left_ms = sample_ms;
        if (duration_ns) {
            int64_t left = (int64_t)duration_ns - (now_ns() - t0);
            if (left <= 0)
                break;
            if (left / 1000000 < left_ms)
                left_ms = left / 1000000 + 1;
        }
        struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
        if (poll(&pfd, 1, (int)left_ms) > 0) {
            exited = true;
            break;
        }
        ring_buffer__poll(s.rb, 0);
        int64_t sample_start = now_ns();
        err = sample(&s, &target);
        int64_t took_ms = (now_ns() - sample_start) / 1000000;
        sample_ms = took_ms * SAMPLE_DUTY > SAMPLE_MS ? took_ms * SAMPLE_DUTY : SAMPLE_MS;
        if (err == -ESRCH) {
            exited = true;
            break;
        }
    }
    if (!exited)
        sample(&s, &target); /* the last figures */
    ring_buffer__poll(s.rb, 0);
    s.stat.lost_events = s.skel->bss->lost_events;
    cs_blocking_read(&s.blocking, s.blocking.syscalls_on ? bpf_map__fd(s.skel->maps.blocking) : -1,
                     s.blocking.exec_on ? bpf_map__fd(s.skel->maps.exec) : -1);
    s.stat.blocking = &s.blocking;
    detach_probes(&s); /* the semaphores drop back to 0 before we print */
    if (to.json)
        cs_stat_write_json(stdout, &s.stat);
    else
        cs_stat_write_text(stdout, &s.stat);
    if (exited && cs_target_exited(pid, launched))
        rc = CS_EXIT_NO_PROCESS;
cleanup:
    detach_probes(&s);
    if (launched && rc != CS_EXIT_OK)
        waitpid(pid, NULL, WNOHANG);
    if (pidfd >= 0)
        close(pidfd);
    cs_stat_free(&s.stat);
    cs_blocking_free(&s.blocking);
    return rc;
}
