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
#include "exit_codes.h"
#include "stat_foreign.h"
#include "launch.h"
#include "loop_detect.h"
#include "stat_report.h"
#include "target_options.h"
#include "mono_clock.h"

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

/* A freshly launched command maps libcorun only once its dynamic loader has run. */
static int open_launched(int pid, struct cs_corun_target *t, char *why, size_t why_len)
{
    int64_t deadline = (int64_t)cs_mono_ns() + (int64_t)LAUNCH_WAIT_MS * 1000000;
    for (;;) {
        int err = cs_corun_open(pid, t, why, why_len);
        /* Already in an event loop without libcorun: a foreign loop (foreign_stat.h). */
        if (err != -ENOENT || (int64_t)cs_mono_ns() > deadline || cs_loop_waiting_now(pid))
            return err;
        usleep(1000);
    }
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
    struct cs_corun_stat *cstat = NULL;
    struct cs_corun_target target;
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
    err = cs_corun_stat_open(&target, all_syscalls, &cstat, why, sizeof why);
    if (err) {
        fprintf(stderr, "coscope: %s\n", why);
        rc = cs_target_attach_exit(err);
        goto cleanup;
    }
    for (unsigned i = 0; cs_corun_stat_note(cstat, i); i++)
        fprintf(stderr, "coscope: note: %s\n", cs_corun_stat_note(cstat, i));
    err = cs_corun_stat_sample(cstat); /* the baseline */
    if (err) {
        rc = cs_corun_report_error("stat", pid, err, "its task list could not be read");
        goto cleanup;
    }
    /* Tools and tests wait for this line: from here on, the runtime keeps statistics. */
    fprintf(stderr, "coscope: collecting statistics of process %d (%s)\n", pid, target.mapped_path);

    cs_target_catch_stop();

    int64_t t0 = (int64_t)cs_mono_ns(), sample_ms = SAMPLE_MS;
    bool exited = false;
    while (!cs_stop_requested) {
        int64_t left_ms = sample_ms;
        if (duration_ns) {
            int64_t left = (int64_t)duration_ns - ((int64_t)cs_mono_ns() - t0);
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
        int64_t sample_start = (int64_t)cs_mono_ns();
        err = cs_corun_stat_sample(cstat);
        int64_t took_ms = ((int64_t)cs_mono_ns() - sample_start) / 1000000;
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
    if (to.json)
        cs_stat_write_json(stdout, st);
    else
        cs_stat_write_text(stdout, st);
    if (exited && cs_target_exited(pid, launched))
        rc = CS_EXIT_NO_PROCESS;
cleanup:
    cs_corun_stat_free(cstat);
    if (launched && rc != CS_EXIT_OK)
        waitpid(pid, NULL, WNOHANG);
    if (pidfd >= 0)
        close(pidfd);
    return rc;
}
