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

#include "cs_defs.h"
#include "duration.h"
#include "exit_codes.h"
#include "report_pprof.h"
#include "safe_file.h"
#include "session.h"
#include "stall_format.h"
#include "target_options.h"

#define POLL_MS 5 /* ongoing stalls are reported within ~2 polls of the threshold */

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
                 "      --pprof FILE       at exit, write the stalls as a gzipped pprof profile\n"
                 "      --force            write FILE even if it is a symbolic link (or has\n"
                 "                         other hard links)\n"
                 "  -h, --help             this text\n"
                 "\n"
                 "Durations take ns, us, ms or s suffixes (a bare number is ms).\n"
                 "Loop threads are found by what they do (docs/stalls.md): in a wait call, busy\n"
                 "making wait calls, listed by libcorun, or stuck at attach; a stall already in\n"
                 "progress at attach is reported at once, and one still going at exit gets a\n"
                 "final record marked unfinished.\n"
                 "\n"
                 "Exit codes: 0 ok, 2 usage, 3 no such process / it exited, 4 permission,\n"
                 "5 the kernel lacks something needed, 10 not an event loop (a Go program).\n");
}

struct output {
    bool json;
    int pid;
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

/* Each loop thread as it starts being watched, the ones found later included. */
static void print_loop(const struct cs_session_loop *loop, void *arg)
{
    const struct output *o = arg;
    if (o->json)
        cs_loop_write_json(stdout, o->pid, loop->tid, loop->comm, loop->found_by);
    else
        fprintf(stderr, "coscope: loop thread %d (%s), found by: %s\n", loop->tid, loop->comm,
                loop->found_by);
}

static void print_note(const char *line, void *arg)
{
    (void)arg;
    fprintf(stderr, "coscope: %s\n", line);
}

/* stalls' own options: how stacks are taken and how many stalls are reported */
enum { OPT_STACK = 256, OPT_STACK_BYTES, OPT_MAX_RATE, OPT_PPROF, OPT_FORCE };

struct stalls_args {
    struct cs_stall_opts opts;
    const char *pprof; /* --pprof FILE, or NULL */
    bool force;        /* --force: FILE may be a symbolic link */
};

static int on_option(int opt, const char *arg, void *ctx)
{
    struct stalls_args *args = ctx;
    struct cs_stall_opts *opts = &args->opts;
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
        if (cs_parse_count(arg, &v) || v > UINT32_MAX)
            return cs_target_bad_usage("stalls", "bad --max-rate '%s' (a count, e.g. 10)", arg);
        opts->max_per_sec = (unsigned)v;
        return 0;
    case OPT_PPROF:
        args->pprof = arg;
        return 0;
    case OPT_FORCE:
        args->force = true;
        return 0;
    }
    return CS_EXIT_USAGE;
}

static uint64_t now_ns(clockid_t clk)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int cs_cmd_stalls(int argc, char **argv)
{
    static const struct option own_long[] = {
        {"stack", required_argument, NULL, OPT_STACK},
        {"stack-bytes", required_argument, NULL, OPT_STACK_BYTES},
        {"max-rate", required_argument, NULL, OPT_MAX_RATE},
        {"pprof", required_argument, NULL, OPT_PPROF},
        {"force", no_argument, NULL, OPT_FORCE},
        {NULL, 0, NULL, 0},
    };
    struct stalls_args args = {
        .opts = {.stack_mode = CS_STACK_AUTO, .stack_bytes = 16384, .max_per_sec = 10},
    };
    struct cs_stall_opts opts;
    const struct cs_target_cli cli = {
        .name = "stalls",
        .flags = CS_TARGET_TID | CS_TARGET_THRESHOLD | CS_TARGET_JSON,
        .usage = usage,
        .own_long = own_long,
        .on_option = on_option,
        .ctx = &args,
    };
    struct cs_target_opts to = {.threshold_ns = CS_DEFAULT_THRESHOLD_NS};
    int prc = cs_target_begin(&cli, argc, argv, &to);
    if (prc)
        return cs_target_exit_code(prc);
    struct output out = {.json = to.json, .pid = to.pid};
    opts = args.opts;
    opts.threshold_ns = to.threshold_ns;
    /* Opened before attaching: a path that cannot be written fails now, not after a run. */
    FILE *pprof = NULL;
    char why[400] = "";
    if (args.pprof && !(pprof = cs_fopen_output(args.pprof, args.force, why, sizeof why))) {
        fprintf(stderr, "coscope: %s\n", why);
        return CS_EXIT_USAGE;
    }
    const struct cs_session_opts so = {
        .pid = to.pid,
        .tid = to.tid,
        .launched = to.launched,
        .at_entry = to.at_entry,
        .watch = CS_WATCH_STALLS | CS_WATCH_ATTRIB,
        .stall = opts,
    };
    const struct cs_session_hooks hooks = {
        .stall = print_stall,
        .slow_iter = print_slow_iter,
        .loop_added = print_loop,
        .note = print_note,
        .arg = &out,
    };
    int rc = CS_EXIT_OK;
    struct cs_session *sess = NULL;
    int err = cs_session_open(&so, &hooks, &sess, why, sizeof why);
    if (err) {
        fprintf(stderr, "coscope: %s\n", why);
        rc = err == -ESRCH ? CS_EXIT_NO_PROCESS : cs_target_attach_exit(err);
        goto cleanup;
    }
    if (!cs_session_loop_count(sess))
        fprintf(stderr,
                "coscope: no event-loop thread found in process %d yet (none in a wait call, "
                "making wait calls, or stuck); watching for one (or give -T TID)\n",
                to.pid);
    if (cs_session_start(sess) != 0) {
        fprintf(stderr, "coscope: cannot start '%s': %s\n", to.cmd[0], strerror(errno));
        rc = CS_EXIT_FAILURE;
        goto cleanup;
    }

    /* Tools and tests wait for this line: from here on, stalls are seen. */
    size_t nloops = cs_session_loop_count(sess);
    fprintf(stderr, "coscope: watching %zu loop thread%s of process %d\n", nloops,
            nloops == 1 ? "" : "s", to.pid);

    cs_target_catch_stop();

    uint64_t run_start = now_ns(CLOCK_MONOTONIC), run_wall = now_ns(CLOCK_REALTIME);
    err = cs_session_run(sess, to.duration_ns, POLL_MS, &cs_stop_requested);
    if (err) {
        fprintf(stderr, "coscope: reading BPF events: %s\n", strerror(-err));
        rc = CS_EXIT_FAILURE;
    }
    struct cs_model *model = cs_session_model(sess);
    if (out.json)
        cs_summary_write_json(stdout, model);
    else
        cs_summary_write_text(stdout, model);
    if (pprof && cs_pprof_write_model(pprof, model, to.pid, run_wall,
                                      now_ns(CLOCK_MONOTONIC) - run_start) != 0) {
        fprintf(stderr, "coscope: cannot write %s: %s\n", args.pprof, strerror(errno));
        rc = CS_EXIT_FAILURE;
    }
    pprof = NULL;
    if (cs_session_exited(sess) && cs_target_exited(to.pid, to.launched))
        rc = CS_EXIT_NO_PROCESS;
cleanup:
    if (pprof) {
        fclose(pprof);
        unlink(args.pprof); /* nothing was watched: leave no empty profile behind */
    }
    cs_session_close(sess);
    return rc;
}
