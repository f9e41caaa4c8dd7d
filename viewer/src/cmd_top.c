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
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cs_defs.h"
#include "duration.h"
#include "exit_codes.h"
#include "keys.h"
#include "launch.h"
#include "launch_entry.h"
#include "live_source.h"
#include "loop_detect.h"
#include "mono_clock.h"
#include "replay_source.h"
#include "safe_file.h"
#include "screens.h"
#include "stall_format.h"
#include "target_options.h"
#include "term.h"
#include "ui.h"

#define DEFAULT_INTERVAL_NS 500000000ull
#define MIN_INTERVAL_NS     100000000ull  /* 10 Hz */
#define MAX_INTERVAL_NS     1000000000ull /* 1 Hz */
#define TICK_MS             20            /* the collector looks for ongoing stalls this often */
#define EXIT_LINGER_NS      2000000000ull /* the header says the target exited, then we go */

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

struct top_opts {
    struct cs_target_opts target; /* -p PID | -- CMD, -d, -t */
    const char *replay;           /* --replay FILE: a recording instead of a process */
    uint64_t interval_ns;
};

enum { OPT_REPLAY = 'R' };

/* top's own options: the redraw interval, and a recording instead of a process */
static int on_option(int opt, const char *arg, void *ctx)
{
    struct top_opts *o = ctx;
    switch (opt) {
    case 'i':
        if (cs_parse_duration_ns(arg, &o->interval_ns) || o->interval_ns < MIN_INTERVAL_NS ||
            o->interval_ns > MAX_INTERVAL_NS)
            return cs_target_bad_usage("top", "bad interval '%s' (100ms to 1s, e.g. 500ms)", arg);
        return 0;
    case OPT_REPLAY:
        o->replay = arg;
        return 0;
    }
    return CS_EXIT_USAGE;
}

/* 0, CS_TARGET_HELP, or CS_EXIT_USAGE after one line on stderr. */
static int parse(int argc, char **argv, struct top_opts *o)
{
    static const struct option own_long[] = {
        {"interval", required_argument, NULL, 'i'},
        {"replay", required_argument, NULL, OPT_REPLAY},
        {NULL, 0, NULL, 0},
    };
    const struct cs_target_cli cli = {
        .name = "top",
        .flags = CS_TARGET_THRESHOLD,
        .usage = usage,
        .own_long = own_long,
        .own_short = "i:",
        .on_option = on_option,
        .ctx = o,
    };
    int rc = cs_target_parse_options(&cli, argc, argv, &o->target);
    if (rc)
        return rc;
    if (o->replay && (o->target.cmd || o->target.pid))
        return cs_target_bad_usage("top", "--replay FILE takes no process");
    if (o->replay)
        return 0;
    return cs_target_check_choice(&cli, &o->target);
}

/* The one thread's loop: stdin, kernel events and the target's exit, and a redraw timer. */
static void run(struct cs_live *live, const struct top_opts *o)
{
    struct cs_ui ui = {.screen = CS_SCREEN_STALLS, .interval_ms = (int)(o->interval_ns / 1000000)};
    static struct cs_view live_view, frozen;
    bool have_frozen = false;
    uint64_t t0 = cs_mono_ns(), next_frame_ns = 0, exited_at_ns = 0;
    while (!cs_stop_requested && !ui.quit) {
        uint64_t now = cs_mono_ns();
        if (o->target.duration_ns && now - t0 >= o->target.duration_ns)
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
            exited_at_ns = cs_mono_ns();
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
        now = cs_mono_ns();
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
 * The output of a command top started: the terminal belongs to the dashboard, so it goes
 * to a file in a fresh directory only this user can enter (top often runs as root, and a
 * predictable name in /tmp is anyone's to plant a link on). Removed at exit unless the
 * command failed and wrote something: then its path is printed once the screen is back.
 */
static struct {
    char dir[256];
    char path[300];
} top_log;

static void remove_log(void)
{
    if (!top_log.dir[0])
        return;
    unlink(top_log.path);
    rmdir(top_log.dir);
    top_log.dir[0] = 0;
}

/* The log's descriptor, or /dev/null's (with a note) when no private file can be made. */
static int open_log(const char *name)
{
    char why[400] = "";
    int err = cs_private_dir("top", top_log.dir, sizeof top_log.dir);
    if (err) {
        snprintf(why, sizeof why, "cannot make a private directory: %s", strerror(-err));
        top_log.dir[0] = 0;
    } else {
        snprintf(top_log.path, sizeof top_log.path, "%s/output.log", top_log.dir);
        int fd = cs_create_output(top_log.path, false, why, sizeof why);
        if (fd >= 0) {
            atexit(remove_log); /* any exit() path leaves nothing behind */
            return fd;
        }
        rmdir(top_log.dir);
        top_log.dir[0] = 0;
    }
    fprintf(stderr, "coscope: the output of %s is discarded (%s)\n", name, why);
    return open("/dev/null", O_WRONLY | O_CLOEXEC);
}

/* Starts CMD (stopped) with its output in the log and stdin from /dev/null. Returns the
 * pid or a negative errno (the reason said on stderr, which is still the terminal). */
static int launch_quietly(char **cmd)
{
    int log_fd = open_log(cmd[0]);
    int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    int pid = cs_launch_stopped_io(cmd, null_fd, log_fd);
    if (log_fd >= 0)
        close(log_fd);
    if (null_fd >= 0)
        close(null_fd);
    if (pid < 0)
        remove_log();
    return pid;
}

/* After a launched command ended by itself (`status` from waitpid): how, and whether its
 * log is kept. */
static void tell_command_end(const char *name, int status)
{
    bool failed = !WIFEXITED(status) || WEXITSTATUS(status) != 0;
    if (WIFSIGNALED(status))
        fprintf(stderr, "coscope: %s was killed by signal %d (%s)\n", name, WTERMSIG(status),
                strsignal(WTERMSIG(status)));
    else if (failed)
        fprintf(stderr, "coscope: %s exited with status %d\n", name, WEXITSTATUS(status));
    else
        fprintf(stderr, "coscope: %s exited\n", name);
    struct stat st;
    if (failed && top_log.dir[0] && stat(top_log.path, &st) == 0 && st.st_size > 0) {
        fprintf(stderr, "coscope: the output of %s is in %s\n", name, top_log.path);
        top_log.dir[0] = 0; /* kept */
    }
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

/* Prints the session's notes from the `from`-th on; returns how many there are. */
static size_t print_notes(const struct cs_live *live, size_t from)
{
    size_t n = cs_live_note_count(live);
    for (size_t i = from; i < n; i++)
        fprintf(stderr, "coscope: %s\n", cs_live_note(live, i));
    return n;
}

int cs_cmd_top(int argc, char **argv)
{
    struct top_opts o = {
        .interval_ns = DEFAULT_INTERVAL_NS,
        .target.threshold_ns = CS_DEFAULT_THRESHOLD_NS,
    };
    /* First of all: a SIGTERM while the probes load would otherwise kill coscope with no
     * summary; caught, it ends the dashboard as soon as there is one, like a later one. */
    cs_target_catch_stop();
    int rc = parse(argc, argv, &o);
    if (rc)
        return cs_target_exit_code(rc);
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        fprintf(stderr, "coscope: top needs a terminal (in scripts use 'coscope stalls')\n");
        return CS_EXIT_USAGE;
    }
    if (o.replay) /* replay_source.c: the same screens over a recording */
        return cs_replay_top(o.replay, o.interval_ns, o.target.duration_ns, cs_frame_draw);
    rc = cs_target_preflight(&o.target);
    if (rc)
        return rc;

    int pid = o.target.pid;
    char **cmd = o.target.cmd;
    bool launched = false, at_entry = false;
    if (cmd) {
        pid = launch_quietly(cmd);
        if (pid < 0)
            return cs_target_launch_exit(pid);
        launched = true;
        /* Up to its first instruction: libcorun is mapped then, so the task probes attach
         * before anything runs (failing that, they attach on a later retry). */
        at_entry = cs_launch_run_to_entry(pid) == 0;
    }
    char why[256] = "";
    struct cs_live *live = NULL;
    const struct cs_live_opts lo = {
        .pid = pid,
        .tid = o.target.tid,
        .launched = launched,
        .at_entry = at_entry,
        .threshold_ns = o.target.threshold_ns,
    };
    int err = cs_live_open(&lo, &live, why, sizeof why);
    if (err) {
        fprintf(stderr, "coscope: %s\n", why);
        if (launched)
            kill(pid, SIGKILL);
        remove_log();
        return cs_target_attach_exit(err);
    }
    size_t notes_told = print_notes(live, 0); /* before the screen is ours */
    if (cs_term_open(why, sizeof why)) {
        fprintf(stderr, "coscope: %s\n", why);
        cs_live_close(live);
        if (launched)
            kill(pid, SIGKILL);
        remove_log();
        return CS_EXIT_USAGE;
    }
    atexit(cs_term_close); /* any exit() path still gives the terminal back */
    if (cs_live_start(live) != 0) {
        cs_term_close();
        fprintf(stderr, "coscope: cannot start '%s': %s\n", cmd[0], strerror(errno));
        cs_live_close(live);
        return CS_EXIT_FAILURE;
    }

    cs_top_tune_malloc();
    run(live, &o);

    cs_term_close();
    print_notes(live, notes_told); /* the ones that came while the screen was ours */
    if (launched && !cs_live_target_exited(live))
        stop_launched(pid, cmd[0]);
    rc = CS_EXIT_OK;
    struct cs_view v;
    cs_live_view(live, &v);
    cs_summary_write_text(stdout, v.model);
    if (cs_live_target_exited(live) && launched) {
        int status = 0;
        waitpid(pid, &status, 0);
        tell_command_end(cmd[0], status);
    } else if (cs_live_target_exited(live)) {
        rc = cs_target_exited(pid, false);
    }
    remove_log(); /* unless tell_command_end kept it */
    cs_live_close(live);
    return rc;
}
