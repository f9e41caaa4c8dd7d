#include "cmd_stalls.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "corun_attribution.h"
#include "corun_slow_iter.h"
#include "cs_defs.h"
#include "duration.h"
#include "exit_codes.h"
#include "launch.h"
#include "link_teardown.h"
#include "loop_detect.h"
#include "model.h"
#include "mono_clock.h"
#include "stall_collector.h"
#include "stall_format.h"
#include "target_options.h"

#define POLL_MS       5  /* ongoing stalls are reported within ~2 polls of the threshold */
#define RESCAN_ROUNDS 20 /* samples per loop-thread scan (one per poll tick) */
#define MAX_TIDS      256

static void usage(FILE *out)
{
    fprintf(out, "usage: coscope stalls (-p PID | -T TID | -- CMD [ARGS...]) [options]\n"
                 "\n"
                 "Streams event-loop stalls of a process as they happen: slices of a loop\n"
                 "thread (from leaving its wait call to entering one again) longer than the\n"
                 "threshold, with on/off-CPU time, the system calls that blocked, and stacks.\n"
                 "On a libcorun target a stall is one task's slice (resume to suspend) and\n"
                 "names the task; an iteration longer than the threshold although none of its\n"
                 "slices was is reported as a slow iteration, with its tasks.\n"
                 "\n"
                 "  -p, --pid PID          attach to a running process\n"
                 "  -T, --tid TID          watch this thread as the loop (default: detect them)\n"
                 "  -t, --threshold DUR    report slices longer than DUR (default 50ms)\n"
                 "  -d, --duration DUR     stop after DUR (default: until Ctrl-C or exit)\n"
                 "      --json             one JSON object per line (docs/cli.md)\n"
                 "      --stack=MODE       fp, dwarf or auto (default auto)\n"
                 "      --stack-bytes N    user stack copied for DWARF unwinding (default 16k)\n"
                 "      --max-rate N       report at most N stalls per second (default 10)\n"
                 "  -h, --help             this text\n"
                 "\n"
                 "Durations take ns, us, ms or s suffixes (a bare number is ms).\n"
                 "Exit codes: 0 ok, 2 usage, 3 no such process / it exited, 4 permission,\n"
                 "5 the kernel lacks something needed.\n");
}

struct output {
    bool json;
};

static void print_stall(const struct cs_stall *s, void *arg)
{
    const struct output *o = arg;
    if (o->json)
        cs_stall_write_json(stdout, s);
    else
        cs_stall_write_text(stdout, s);
}

static void print_slow_iter(const struct cs_slow_iter *it, void *arg)
{
    const struct output *o = arg;
    if (o->json)
        cs_slow_iter_write_json(stdout, it);
    else
        cs_slow_iter_write_text(stdout, it);
}

static void free_attrib(void *attrib)
{
    cs_corun_attrib_free(attrib);
}

static void add_loop(struct cs_collector *c, struct cs_model *m, int pid, int tid)
{
    if (cs_collector_has_thread(c, tid))
        return;
    char why[256] = "";
    int err = cs_collector_add_thread(c, tid, why, sizeof why);
    if (err && err != -ESRCH) {
        fprintf(stderr, "coscope: %s\n", why);
        return;
    }
    char path[96], comm[32] = "";
    snprintf(path, sizeof path, "/proc/%d/task/%d/comm", pid, tid);
    FILE *f = fopen(path, "r");
    if (f) {
        if (fgets(comm, sizeof comm, f))
            comm[strcspn(comm, "\n")] = 0;
        fclose(f);
    }
    cs_model_add_loop(m, tid, comm);
}

/* stalls' own options: how stacks are taken and how many stalls are reported */
enum { OPT_STACK = 256, OPT_STACK_BYTES, OPT_MAX_RATE };

static int on_option(int opt, const char *arg, void *ctx)
{
    struct cs_stall_opts *opts = ctx;
    char *end;
    uint64_t v;
    switch (opt) {
    case OPT_STACK:
        if (!strcmp(arg, "fp"))
            opts->stack_mode = CS_STACK_FP;
        else if (!strcmp(arg, "dwarf"))
            opts->stack_mode = CS_STACK_DWARF;
        else if (!strcmp(arg, "auto"))
            opts->stack_mode = CS_STACK_AUTO;
        else
            return cs_target_bad_usage("stalls", "bad --stack '%s' (fp, dwarf or auto)", arg);
        return 0;
    case OPT_STACK_BYTES:
        if (cs_parse_bytes(arg, &v) || v < 512 || v > 65536)
            return cs_target_bad_usage("stalls", "bad --stack-bytes '%s' (512 to 64k)", arg);
        opts->stack_bytes = (uint32_t)v;
        return 0;
    case OPT_MAX_RATE:
        v = strtoull(arg, &end, 10);
        if (*end || !*arg)
            return cs_target_bad_usage("stalls", "bad --max-rate '%s'", arg);
        opts->max_per_sec = (unsigned)v;
        return 0;
    }
    return CS_EXIT_USAGE;
}

int cs_cmd_stalls(int argc, char **argv)
{
    static const struct option own_long[] = {
        {"stack", required_argument, NULL, OPT_STACK},
        {"stack-bytes", required_argument, NULL, OPT_STACK_BYTES},
        {"max-rate", required_argument, NULL, OPT_MAX_RATE},
        {NULL, 0, NULL, 0},
    };
    struct cs_stall_opts opts = {
        .stack_mode = CS_STACK_AUTO,
        .stack_bytes = 16384,
        .max_per_sec = 10,
    };
    const struct cs_target_cli cli = {
        .name = "stalls",
        .flags = CS_TARGET_TID | CS_TARGET_THRESHOLD | CS_TARGET_JSON,
        .usage = usage,
        .own_long = own_long,
        .on_option = on_option,
        .ctx = &opts,
    };
    struct cs_target_opts to = {.threshold_ns = CS_DEFAULT_THRESHOLD_NS};
    int prc = cs_target_begin(&cli, argc, argv, &to);
    if (prc)
        return cs_target_exit_code(prc);
    struct output out = {.json = to.json};
    opts.threshold_ns = to.threshold_ns;
    int pid = to.pid, tid = to.tid;
    bool launched = to.launched;
    char why[256] = "";
    int rc = CS_EXIT_OK;
    struct cs_model *model = cs_model_new(pid);
    struct cs_collector *coll = NULL;
    struct cs_corun_attrib *attrib = NULL; /* libcorun targets: which task stalled */
    struct cs_loop_scan *scan = NULL;
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (!model) {
        rc = CS_EXIT_FAILURE;
        goto cleanup;
    }
    if (pidfd < 0) {
        fprintf(stderr, "coscope: no such process %d\n", pid);
        rc = CS_EXIT_NO_PROCESS;
        goto cleanup;
    }
    opts.pid = pid;
    int err = cs_collector_open(&opts, model, print_stall, &out, &coll, why, sizeof why);
    if (err) {
        fprintf(stderr, "coscope: %s\n", why);
        rc = cs_target_attach_exit(err);
        goto cleanup;
    }
    attrib = cs_corun_attrib_new(pid, launched, opts.threshold_ns);
    if (attrib) {
        cs_collector_set_annotator(coll, cs_corun_attrib_annotate, attrib);
        cs_corun_attrib_on_slow_iter(attrib, opts.max_per_sec, model, print_slow_iter, &out);
    }
    if (tid) {
        add_loop(coll, model, pid, tid);
    } else if (launched) {
        add_loop(coll, model, pid, pid); /* the only thread so far */
    } else {
        int tids[MAX_TIDS];
        int n = cs_loop_detect(pid, RESCAN_ROUNDS, 10, tids, MAX_TIDS);
        if (n < 0) {
            fprintf(stderr, "coscope: no such process %d\n", pid);
            rc = CS_EXIT_NO_PROCESS;
            goto cleanup;
        }
        for (int i = 0; i < n; i++)
            add_loop(coll, model, pid, tids[i]);
        if (!n)
            fprintf(stderr,
                    "coscope: no event-loop thread found in process %d yet; "
                    "watching for one (or give -T TID)\n",
                    pid);
    }
    if (!tid)
        scan = cs_loop_scan_new(pid, RESCAN_ROUNDS);
    if (launched && cs_launch_release(pid) != 0) {
        fprintf(stderr, "coscope: cannot start '%s': %s\n", to.cmd[0], strerror(errno));
        rc = CS_EXIT_FAILURE;
        goto cleanup;
    }

    /* Tools and tests wait for this line: from here on, stalls are seen. */
    fprintf(stderr, "coscope: watching %zu loop thread%s of process %d\n",
            cs_collector_thread_count(coll), cs_collector_thread_count(coll) == 1 ? "" : "s", pid);

    cs_target_catch_stop();

    uint64_t t0 = cs_mono_ns(), next_scan_ns = t0 + 1000000000ull;
    bool exited = false;
    while (!cs_stop_requested) {
        if (to.duration_ns && cs_mono_ns() - t0 >= to.duration_ns)
            break;
        err = cs_collector_poll(coll, POLL_MS);
        cs_corun_attrib_poll(attrib);
        if (err) {
            fprintf(stderr, "coscope: reading BPF events: %s\n", strerror(-err));
            rc = CS_EXIT_FAILURE;
            break;
        }
        struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
        if (poll(&pfd, 1, 0) > 0) {
            exited = true;
            break;
        }
        /* New threads may become loops: one scan round per tick, a verdict every 20. */
        if (scan && cs_mono_ns() >= next_scan_ns) {
            int r = cs_loop_scan_round(scan);
            if (r > 0) {
                int tids[MAX_TIDS];
                int n = cs_loop_scan_result(scan, tids, MAX_TIDS);
                for (int i = 0; i < n; i++)
                    add_loop(coll, model, pid, tids[i]);
                next_scan_ns = cs_mono_ns() + 1000000000ull;
            }
        }
    }
    cs_collector_poll(coll, 0); /* what the kernel already produced */
    cs_corun_attrib_poll(attrib);
    if (out.json)
        cs_summary_write_json(stdout, model);
    else
        cs_summary_write_text(stdout, model);
    if (exited && cs_target_exited(pid, launched))
        rc = CS_EXIT_NO_PROCESS;
cleanup:;
    /* Both detach uprobes and perf events, each waiting for RCU: overlap them. */
    struct cs_teardown *td = cs_teardown_start(free_attrib, attrib);
    cs_loop_scan_free(scan);
    cs_collector_close(coll);
    cs_teardown_join(td);
    if (pidfd >= 0)
        close(pidfd);
    cs_model_free(model);
    return rc;
}
