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

#include "corun_errors.h"
#include "corun_stat.h"
#include "corun_target.h"
#include "cs_defs.h"
#include "exit_codes.h"
#include "mono_clock.h"
#include "session.h"
#include "stat_foreign.h"
#include "stat_report.h"
#include "target_options.h"

#define SAMPLE_MS 100 /* how often the target's statistics are read, at most */
#define SAMPLE_DUTY                                                                                \
    10 /* ...and at least this many times the last reading's length                                \
          apart, so coscope stays under ~10% of a CPU on huge targets */

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

static void print_note(const char *line, void *arg)
{
    (void)arg;
    fprintf(stderr, "coscope: %s\n", line);
}

/* libcorun: samples the runtime's own accounting until stopped, then prints it. */
static int corun_stat(struct cs_session *sess, const struct cs_target_opts *to)
{
    struct cs_corun_stat *cstat = cs_session_corun_stat(sess);
    int pid = to->pid;
    int err = cs_corun_stat_sample(cstat); /* the baseline */
    if (err)
        return cs_corun_report_error("stat", pid, err, "its task list could not be read");
    /* Tools and tests wait for this line: from here on, the runtime keeps statistics. */
    fprintf(stderr, "coscope: collecting statistics of process %d (%s)\n", pid,
            cs_session_corun_target(sess)->mapped_path);
    if (cs_session_start(sess) != 0) {
        fprintf(stderr, "coscope: cannot start '%s': %s\n", to->cmd[0], strerror(errno));
        return CS_EXIT_FAILURE;
    }
    cs_target_catch_stop();

    uint64_t t0 = cs_mono_ns(), sample_ms = SAMPLE_MS;
    bool exited = false;
    while (!cs_stop_requested) {
        uint64_t left_ms = sample_ms;
        if (to->duration_ns) {
            uint64_t spent = cs_mono_ns() - t0;
            if (spent >= to->duration_ns)
                break;
            if ((to->duration_ns - spent) / 1000000 < left_ms)
                left_ms = (to->duration_ns - spent) / 1000000 + 1;
        }
        cs_session_poll(sess, (int)left_ms);
        if (cs_session_exited(sess)) {
            exited = true;
            break;
        }
        uint64_t sample_start = cs_mono_ns();
        err = cs_corun_stat_sample(cstat);
        uint64_t took_ms = (cs_mono_ns() - sample_start) / 1000000;
        sample_ms = took_ms * SAMPLE_DUTY > SAMPLE_MS ? took_ms * SAMPLE_DUTY : SAMPLE_MS;
        if (err == -ESRCH) {
            exited = true;
            break;
        }
    }
    if (!exited)
        cs_corun_stat_sample(cstat); /* the last figures */
    /* The semaphores drop back to 0 before we print. */
    const struct cs_stat *st = cs_corun_stat_finish(cstat);
    if (to->json)
        cs_stat_write_json(stdout, st);
    else
        cs_stat_write_text(stdout, st);
    return exited && cs_target_exited(pid, to->launched) ? CS_EXIT_NO_PROCESS : CS_EXIT_OK;
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
    const struct cs_session_opts so = {
        .pid = pid,
        .launched = to.launched,
        .at_entry = to.at_entry,
        .watch = CS_WATCH_CORUN_STAT,
        .all_syscalls = all_syscalls,
        /* A target without libcorun: the stall engine's loop statistics. */
        .stall =
            {
                .threshold_ns = CS_DEFAULT_THRESHOLD_NS,
                .stack_mode = CS_STACK_FP, /* stat prints no stacks: no stack windows copied */
                .stack_bytes = 16384,
                .max_per_sec = 10,
                .stats = true,
            },
    };
    const struct cs_session_hooks hooks = {.note = print_note};
    char why[512] = "";
    struct cs_session *sess = NULL;
    int err = cs_session_open(&so, &hooks, &sess, why, sizeof why);
    if (err) {
        int rc;
        if (err == -ESRCH && to.launched) {
            fprintf(stderr, "coscope: %s\n", why);
            rc = CS_EXIT_NO_PROCESS;
        } else if (err == -EPROTO || err == -ESRCH) {
            rc = cs_corun_report_error("stat", pid, err, why);
        } else {
            fprintf(stderr, "coscope: %s\n", why);
            rc = cs_target_attach_exit(err);
        }
        if (to.launched)
            kill(pid, SIGKILL); /* we started it for nothing */
        return rc;
    }
    int rc = cs_session_corun_stat(sess) ? corun_stat(sess, &to) : cs_foreign_stat_run(sess, &to);
    cs_session_close(sess);
    if (to.launched && rc != CS_EXIT_OK)
        waitpid(pid, NULL, WNOHANG);
    return rc;
}
