#include "cmd_top.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bpf_support.h"
#include "cs_defs.h"
#include "duration.h"
#include "exit_codes.h"
#include "keys.h"
#include "launch.h"
#include "launch_entry.h"
#include "live_source.h"
#include "loop_detect.h"
#include "privileges.h"
#include "replay_source.h"
#include "screens.h"
#include "stall_format.h"
#include "term.h"
#include "ui.h"

#define DEFAULT_INTERVAL_NS 500000000ull
#define MIN_INTERVAL_NS     100000000ull  /* 10 Hz */
#define MAX_INTERVAL_NS     1000000000ull /* 1 Hz */
#define TICK_MS             20            /* the collector looks for ongoing stalls this often */
#define EXIT_LINGER_NS      2000000000ull /* the header says the target exited, then we go */

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: coscope top (-p PID | -- CMD [ARGS...]) [options]\n"
                 "\n"
                 "A live dashboard of a process's event loops: loop threads and their CPU use,\n"
                 "stalls as they happen (an ongoing one grows on screen), their causes and\n"
                 "stacks. Press ? inside for the keys, q to quit (an attached process keeps\n"
                 "running; a command started with -- CMD is stopped).\n"
                 "\n"
                 "  -p, --pid PID          attach to a running process\n"
                 "  -i, --interval DUR     redraw every DUR, 100ms to 1s (default 500ms)\n"
                 "  -t, --threshold DUR    a stall is a slice longer than DUR (default 50ms)\n"
                 "  -d, --duration DUR     quit after DUR (default: until q)\n"
                 "      --replay FILE      play a recording (coscope record) in the same\n"
                 "                         screens: space pause, n step, + - speed\n"
                 "  -h, --help             this text\n"
                 "\n"
                 "Durations take ns, us, ms or s suffixes (a bare number is ms).\n"
                 "Exit codes: 0 ok, 2 usage, 3 no such process / it exited, 4 permission,\n"
                 "5 the kernel lacks something needed.\n");
}

static int bad_usage(const char *fmt, const char *arg)
{
    fprintf(stderr, "coscope top: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (see 'coscope top --help')\n");
    return CS_EXIT_USAGE;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct top_opts {
    int pid;
    char **cmd;
    const char *replay; /* --replay FILE: a recording instead of a process */
    uint64_t interval_ns, threshold_ns, duration_ns;
};

static int parse(int argc, char **argv, struct top_opts *o)
{
    static const struct option longopts[] = {
        {"pid", required_argument, NULL, 'p'},
        {"interval", required_argument, NULL, 'i'},
        {"threshold", required_argument, NULL, 't'},
        {"duration", required_argument, NULL, 'd'},
        {"replay", required_argument, NULL, 'R'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    opterr = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "+p:i:t:d:h", longopts, NULL)) != -1) {
        char *end;
        switch (opt) {
        case 'p':
            o->pid = (int)strtol(optarg, &end, 10);
            if (*end || o->pid <= 0)
                return bad_usage("bad PID '%s'", optarg);
            break;
        case 'i':
            if (cs_parse_duration_ns(optarg, &o->interval_ns) || o->interval_ns < MIN_INTERVAL_NS ||
                o->interval_ns > MAX_INTERVAL_NS)
                return bad_usage("bad interval '%s' (100ms to 1s, e.g. 500ms)", optarg);
            break;
        case 't':
            if (cs_parse_duration_ns(optarg, &o->threshold_ns) || !o->threshold_ns)
                return bad_usage("bad threshold '%s' (e.g. 50ms, 2s, 500us)", optarg);
            break;
        case 'd':
            if (cs_parse_duration_ns(optarg, &o->duration_ns) || !o->duration_ns)
                return bad_usage("bad duration '%s' (e.g. 10s, 500ms)", optarg);
            break;
        case 'R':
            o->replay = optarg;
            break;
        case 'h':
            usage(stdout);
            return -1;
        default:
            return bad_usage("unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    o->cmd = optind < argc ? &argv[optind] : NULL;
    if (o->replay && (o->cmd || o->pid))
        return bad_usage("--replay FILE takes no process%s", "");
    if (o->replay)
        return 0;
    if (o->cmd && o->pid)
        return bad_usage("give either -p PID or -- CMD, not both%s", "");
    if (!o->cmd && !o->pid)
        return bad_usage("which process? give -p PID or -- CMD%s", "");
    return 0;
}

/* Checks that need no terminal yet: privileges, the process, the kernel. */
static int preflight(const struct top_opts *o)
{
    char why[256] = "";
    if (!cs_have_bpf_privileges(why, sizeof why)) {
        fprintf(stderr, "coscope: %s\n", why);
        return CS_EXIT_PERMISSION;
    }
    if (o->pid && kill(o->pid, 0) != 0 && errno == ESRCH) {
        fprintf(stderr, "coscope: no such process %d\n", o->pid);
        return CS_EXIT_NO_PROCESS;
    }
    return cs_bpf_require();
}

/* The one thread's loop: stdin, kernel events and the target's exit, and a redraw timer. */
static void run(struct cs_live *live, const struct top_opts *o)
{
    struct cs_ui ui = {.screen = CS_SCREEN_STALLS, .interval_ms = (int)(o->interval_ns / 1000000)};
    static struct cs_view live_view, frozen;
    bool have_frozen = false;
    uint64_t t0 = now_ns(), next_frame_ns = 0, exited_at_ns = 0;
    while (!stop_requested && !ui.quit) {
        uint64_t now = now_ns();
        if (o->duration_ns && now - t0 >= o->duration_ns)
            break;
        if (exited_at_ns && now - exited_at_ns >= EXIT_LINGER_NS)
            break;
        int timeout_ms = TICK_MS;
        if (next_frame_ns > now && (next_frame_ns - now) / 1000000 < TICK_MS)
            timeout_ms = (int)((next_frame_ns - now) / 1000000);
        struct pollfd fds[3] = {
            {.fd = STDIN_FILENO, .events = POLLIN},
            {.fd = cs_live_event_fd(live), .events = POLLIN},
            {.fd = exited_at_ns ? -1 : cs_live_exit_fd(live), .events = POLLIN},
        };
        if (poll(fds, 3, timeout_ms) < 0 && errno != EINTR)
            break;
        if (cs_live_process(live))
            break;
        if (cs_live_target_exited(live) && !exited_at_ns) {
            exited_at_ns = now_ns();
            next_frame_ns = 0; /* say so at once */
        }
        cs_live_view(live, &live_view);

        bool dirty = false;
        int ch;
        while ((ch = cs_term_key()) != -1) {
            cs_keys_handle(&ui, ch, have_frozen ? &frozen : &live_view);
            dirty = true;
            /* Pause freezes the picture; the collector keeps filling the model. */
            if (ui.paused && !have_frozen)
                have_frozen = cs_view_freeze(&frozen, &live_view) == 0;
            else if (!ui.paused && have_frozen) {
                cs_view_release(&frozen);
                have_frozen = false;
            }
        }
        now = now_ns();
        if (ui.quit || (!dirty && now < next_frame_ns))
            continue;
        if (have_frozen)
            frozen.target_exited = live_view.target_exited; /* news that cannot wait */
        cs_frame_draw(have_frozen ? &frozen : &live_view, &ui);
        if (now >= next_frame_ns)
            next_frame_ns = now + o->interval_ns;
    }
    if (have_frozen)
        cs_view_release(&frozen);
    if (ui.have_detail)
        cs_stall_release(&ui.detail);
    free(ui.task_detail);
    cs_tasks_rows_free(&ui);
}

/*
 * Starts CMD (stopped) with its output in a log file and stdin from /dev/null: the
 * terminal belongs to the dashboard. Returns the pid or a negative errno.
 */
static int launch_quietly(char **cmd, char *log_path, size_t log_len)
{
    snprintf(log_path, log_len, "/tmp/coscope-top-%d.log", (int)getpid());
    int log_fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    int saved[3] = {dup(0), dup(1), dup(2)};
    if (log_fd >= 0 && null_fd >= 0) {
        fflush(stdout);
        fflush(stderr);
        dup2(null_fd, 0);
        dup2(log_fd, 1);
        dup2(log_fd, 2);
    } else {
        log_path[0] = 0;
    }
    int pid = cs_launch_stopped(cmd);
    for (int fd = 0; fd < 3; fd++) {
        if (saved[fd] >= 0) {
            dup2(saved[fd], fd);
            close(saved[fd]);
        }
    }
    if (log_fd >= 0)
        close(log_fd);
    if (null_fd >= 0)
        close(null_fd);
    return pid;
}

/* A command coscope started ends with the dashboard: SIGTERM, then SIGKILL after 2 s. */
static void stop_launched(int pid, const char *name)
{
    kill(pid, SIGTERM);
    for (int i = 0; i < 200; i++) {
        if (waitpid(pid, NULL, WNOHANG) == pid) {
            fprintf(stderr, "coscope: stopped %s\n", name);
            return;
        }
        usleep(10000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    fprintf(stderr, "coscope: killed %s (it ignored SIGTERM)\n", name);
}

void cs_top_tune_malloc(void)
{
    /*
     * Each snapshot brings arrays of 100 000-entry size (task tree, rows): keep them on
     * the heap and the freed space in the process, instead of an mmap/munmap and a page
     * fault per 4 KiB for every snapshot (measured: most of a rebuild's time).
     */
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 128 << 20);
}

int cs_cmd_top(int argc, char **argv)
{
    struct top_opts o = {
        .interval_ns = DEFAULT_INTERVAL_NS,
        .threshold_ns = CS_DEFAULT_THRESHOLD_NS,
    };
    int rc = parse(argc, argv, &o);
    if (rc)
        return rc < 0 ? CS_EXIT_OK : rc;
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        fprintf(stderr, "coscope: top needs a terminal (in scripts use 'coscope stalls')\n");
        return CS_EXIT_USAGE;
    }
    if (o.replay) /* replay_source.c: the same screens over a recording */
        return cs_replay_top(o.replay, o.interval_ns, o.duration_ns, cs_frame_draw);
    rc = preflight(&o);
    if (rc)
        return rc;

    int pid = o.pid;
    bool launched = false;
    char log_path[64] = "";
    if (o.cmd) {
        pid = launch_quietly(o.cmd, log_path, sizeof log_path);
        if (pid < 0)
            return pid == -ENOENT || pid == -EACCES ? CS_EXIT_USAGE : CS_EXIT_NO_PROCESS;
        launched = true;
        /* Up to its first instruction: libcorun is mapped then, so the task probes attach
         * before anything runs (failing that, they attach on a later retry). */
        cs_launch_run_to_entry(pid);
    }
    char why[256] = "";
    struct cs_live *live = NULL;
    int err = cs_live_open(pid, launched, o.threshold_ns, &live, why, sizeof why);
    if (err) {
        fprintf(stderr, "coscope: %s\n", why);
        if (launched)
            kill(pid, SIGKILL);
        return err == -EPERM || err == -EACCES ? CS_EXIT_PERMISSION
               : err == -ESRCH                 ? CS_EXIT_NO_PROCESS
                                               : CS_EXIT_KERNEL;
    }
    if (cs_term_open(why, sizeof why)) {
        fprintf(stderr, "coscope: %s\n", why);
        cs_live_close(live);
        if (launched)
            kill(pid, SIGKILL);
        return CS_EXIT_USAGE;
    }
    atexit(cs_term_close); /* any exit() path still gives the terminal back */
    struct sigaction sa = {0};
    sa.sa_handler = on_stop_signal; /* no SA_RESTART: poll returns at once */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    if (launched && cs_launch_release(pid) != 0) {
        cs_term_close();
        fprintf(stderr, "coscope: cannot start '%s': %s\n", o.cmd[0], strerror(errno));
        cs_live_close(live);
        return CS_EXIT_FAILURE;
    }

    cs_top_tune_malloc();
    run(live, &o);

    cs_term_close();
    if (launched && !cs_live_target_exited(live))
        stop_launched(pid, o.cmd[0]);
    rc = CS_EXIT_OK;
    struct cs_view v;
    cs_live_view(live, &v);
    cs_summary_write_text(stdout, v.model);
    if (cs_live_target_exited(live)) {
        if (launched) {
            int status = 0;
            waitpid(pid, &status, 0);
            fprintf(stderr, "coscope: %s exited\n", o.cmd[0]);
        } else {
            fprintf(stderr, "coscope: process %d exited\n", pid);
            rc = CS_EXIT_NO_PROCESS;
        }
    }
    if (launched && log_path[0])
        fprintf(stderr, "coscope: the output of %s is in %s\n", o.cmd[0], log_path);
    cs_live_close(live);
    return rc;
}
