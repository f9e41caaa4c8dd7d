/*
 * `coscope record`: the same collectors as `stalls` (stall engine + task attribution) and
 * `top` (libcorun task snapshots, statistics and long slices), written to one file as
 * they go (record_writer.h), or kept in a window until a trigger fires (--flight).
 */
#include "cmd_record.h"

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

#include "cs_defs.h"
#include "duration.h"
#include "exit_codes.h"
#include "model.h"
#include "mono_clock.h"
#include "model_tasks.h"
#include "record_polls.h"
#include "record_target.h"
#include "record_tasks.h"
#include "record_writer.h"
#include "session.h"
#include "stall_collector.h"
#include "stalls.h"
#include "target_options.h"
#include "corun_tasks.h"
#include "model_tasks.h"

#define POLL_MS           5
#define MAX_TIDS          256
#define MAX_TRIGGERS      8
#define STATS_EVERY_NS    1000000000ull
#define DEFAULT_AFTER_NS  2000000000ull
#define DEFAULT_FLIGHT_MB 64
#define MAX_STALLS_PER_S  100 /* a flood of stalls is counted (LOST.suppressed), not kept */

static void usage(FILE *out)
{
    fprintf(out, "usage: coscope record (-p PID | -- CMD [ARGS...]) -o FILE [options]\n"
                 "\n"
                 "Records what coscope sees of a process to FILE, as it goes: loops, stalls with\n"
                 "their stacks (symbolized), and for libcorun targets the task lifecycle, long\n"
                 "task slices and the runtime's statistics. Read it with 'coscope report FILE'\n"
                 "or 'coscope top --replay FILE'. The format is in docs/file-format.md.\n"
                 "\n"
                 "  -p, --pid PID          attach to a running process\n"
                 "  -o, --output FILE      the recording to write (required)\n"
                 "  -d, --duration DUR     stop after DUR (default: until Ctrl-C or exit)\n"
                 "  -t, --threshold DUR    a stall is a slice longer than DUR (default 50ms)\n"
                 "      --flight DUR       flight recorder: keep the last DUR in memory and write\n"
                 "                         FILE only when a trigger fires\n"
                 "      --trigger SPEC     with --flight: 'stall>DUR' (repeatable, up to 8)\n"
                 "      --after DUR        with --flight: keep recording DUR after the trigger\n"
                 "                         (default 2s), then stop\n"
                 "      --flight-max MB    with --flight: memory bound of the window (default 64)\n"
                 "      --polls            libcorun: every task poll and wake edge, not only\n"
                 "                         long slices (Chrome flow arrows); costs the target\n"
                 "                         ~3 probe hits per request, ~1-2 us each with the\n"
                 "                         programs (corun-echo: +60-110%% CPU per request)\n"
                 "      --no-lifecycle     libcorun: tasks only from snapshots (every 250 ms),\n"
                 "                         not from corun:task_spawn/task_done (2 probe hits\n"
                 "                         per task): short tasks go unnamed, ended ones keep\n"
                 "                         their last snapshot's figures (not with --polls)\n"
                 "      --force            write FILE even if it is a symbolic link (or has\n"
                 "                         other hard links)\n"
                 "  -h, --help             this text\n"
                 "\n"
                 "Durations take ns, us, ms or s suffixes (a bare number is ms).\n"
                 "Exit codes: 0 ok, 1 the file could not be written (disk full...), 2 usage,\n"
                 "3 no such process / it exited, 4 permission, 5 the kernel lacks something.\n");
}

struct trigger {
    char text[CS_REC_NAME_LEN];
    uint64_t stall_over_ns;
};

struct rec_opts {
    struct cs_target_opts target; /* -p PID | -- CMD, -d, -t */
    const char *path;
    uint64_t flight_ns, after_ns;
    uint64_t flight_max_bytes;
    struct trigger triggers[MAX_TRIGGERS];
    int ntriggers;
    bool polls;
    bool no_lifecycle;
    bool after_given; /* --after: only with --flight */
    bool force;       /* --force */
};

struct recorder {
    const struct rec_opts *o;
    int pid;
    struct cs_rec_writer *w;
    struct cs_session *sess;
    struct cs_model *model;    /* the session's */
    struct cs_collector *coll; /* the session's */
    struct cs_rec_tasks *tasks;
    struct cs_corun_tasks *tsrc; /* the session's: NULL only when out of memory */
    struct cs_rec_polls *polls;  /* --polls */
    int64_t last_snap_ns;
    uint64_t next_stats_ns;
    struct cs_task_slice last_slice; /* the newest slice written */
    bool have_last_slice;
    uint64_t lost_written, suppressed_written;
    uint64_t stalls;
    int tids[MAX_TIDS]; /* loop threads watched */
    size_t ntids;
    uint64_t next_engine_stats_ns;
    bool reaped;                 /* a launched target that exited was waited for */
    const struct trigger *fired; /* flight: the trigger that fired, not yet handled */
    uint64_t fired_ns;
};

static int parse_trigger(const char *text, struct trigger *t)
{
    if (strncmp(text, "stall>", 6) || cs_parse_duration_ns(text + 6, &t->stall_over_ns) ||
        !t->stall_over_ns)
        return -EINVAL;
    snprintf(t->text, sizeof t->text, "%s", text);
    return 0;
}

enum {
    OPT_FLIGHT = 256,
    OPT_TRIGGER,
    OPT_AFTER,
    OPT_FLIGHT_MAX,
    OPT_POLLS,
    OPT_NO_LIFECYCLE,
    OPT_FORCE
};

/* record's own options: the file, and the flight recorder */
static int on_option(int opt, const char *arg, void *ctx)
{
    struct rec_opts *o = ctx;
    switch (opt) {
    case 'o':
        o->path = arg;
        return 0;
    case OPT_FLIGHT:
        if (cs_parse_duration_ns(arg, &o->flight_ns) || !o->flight_ns)
            return cs_target_bad_usage("record", "bad --flight '%s' (e.g. 30s)", arg);
        return 0;
    case OPT_TRIGGER:
        if (o->ntriggers == MAX_TRIGGERS)
            return cs_target_bad_usage("record", "too many triggers (at most 8)");
        if (parse_trigger(arg, &o->triggers[o->ntriggers]))
            return cs_target_bad_usage("record", "bad --trigger '%s' (e.g. 'stall>200ms')", arg);
        o->ntriggers++;
        return 0;
    case OPT_AFTER:
        if (cs_parse_duration_ns(arg, &o->after_ns))
            return cs_target_bad_usage("record", "bad --after '%s' (e.g. 2s)", arg);
        o->after_given = true;
        return 0;
    case OPT_FLIGHT_MAX:
        if (cs_parse_count(arg, &o->flight_max_bytes) || !o->flight_max_bytes ||
            o->flight_max_bytes > 65536)
            return cs_target_bad_usage("record", "bad --flight-max '%s' (MB, 1 to 65536)", arg);
        o->flight_max_bytes <<= 20;
        return 0;
    case OPT_POLLS:
        o->polls = true;
        return 0;
    case OPT_NO_LIFECYCLE:
        o->no_lifecycle = true;
        return 0;
    case OPT_FORCE:
        o->force = true;
        return 0;
    }
    return CS_EXIT_USAGE;
}

/* After the target and the options were parsed: what only record needs. */
static int check(void *ctx)
{
    const struct rec_opts *o = ctx;
    if (!o->path)
        return cs_target_bad_usage("record", "where to? give -o FILE");
    if (o->ntriggers && !o->flight_ns)
        return cs_target_bad_usage("record", "--trigger needs --flight DUR");
    if (o->after_given && !o->flight_ns)
        return cs_target_bad_usage("record", "--after needs --flight DUR");
    if (o->polls && o->no_lifecycle)
        return cs_target_bad_usage("record", "--polls and --no-lifecycle do not go together");
    if (o->flight_ns && !o->ntriggers)
        return cs_target_bad_usage("record", "--flight needs at least one --trigger");
    return 0;
}

/* The command line, the target's checks, and -- CMD started: cs_target_begin. */
static int begin(int argc, char **argv, struct rec_opts *o)
{
    static const struct option own_long[] = {
        {"output", required_argument, NULL, 'o'},
        {"flight", required_argument, NULL, OPT_FLIGHT},
        {"trigger", required_argument, NULL, OPT_TRIGGER},
        {"after", required_argument, NULL, OPT_AFTER},
        {"flight-max", required_argument, NULL, OPT_FLIGHT_MAX},
        {"polls", no_argument, NULL, OPT_POLLS},
        {"no-lifecycle", no_argument, NULL, OPT_NO_LIFECYCLE},
        {"force", no_argument, NULL, OPT_FORCE},
        {NULL, 0, NULL, 0},
    };
    const struct cs_target_cli cli = {
        .name = "record",
        .flags = CS_TARGET_THRESHOLD,
        .usage = usage,
        .own_long = own_long,
        .own_short = "o:",
        .on_option = on_option,
        .check = check,
        .ctx = o,
    };
    return cs_target_begin(&cli, argc, argv, &o->target);
}

static void writer_failed(struct recorder *r)
{
    int err = cs_rec_writer_error(r->w);
    if (err && !cs_stop_requested) {
        fprintf(stderr, "coscope: writing %s failed (%s): the recording stops after %llu records\n",
                r->o->path, strerror(-err), (unsigned long long)cs_rec_writer_records(r->w));
        cs_stop_requested = 1;
    }
}

static void on_stall(const struct cs_stall *s, void *arg)
{
    struct recorder *r = arg;
    if (r->o->flight_ns && !r->fired && !cs_rec_writer_fired(r->w))
        for (int i = 0; i < r->o->ntriggers; i++)
            if (s->duration_ns > r->o->triggers[i].stall_over_ns) {
                r->fired = &r->o->triggers[i];
                r->fired_ns = cs_mono_ns();
                break;
            }
    if (s->ongoing)
        return;
    r->stalls++;
    if (cs_rec_encode_stall(cs_rec_writer_begin(r->w), s) == 0)
        cs_rec_writer_commit(r->w, s->start_ns + s->duration_ns, false);
    writer_failed(r);
}

static void on_slow_iter(const struct cs_slow_iter *it, void *arg)
{
    struct recorder *r = arg;
    if (cs_rec_encode_slow_iter(cs_rec_writer_begin(r->w), it) == 0)
        cs_rec_writer_commit(r->w, it->start_ns + it->duration_ns, false);
    writer_failed(r);
}

/* The session watches a new loop thread: a LOOP record. */
static void on_loop_added(const struct cs_session_loop *loop, void *arg)
{
    struct recorder *r = arg;
    int tid = loop->tid;
    const char *comm = loop->comm;
    struct cs_rec_loop l = {.t_ns = cs_mono_ns(), .tid = tid};
    snprintf(l.comm, sizeof l.comm, "%s", comm);
    if (r->ntids < MAX_TIDS)
        r->tids[r->ntids++] = tid;
    if (cs_rec_encode_loop(cs_rec_writer_begin(r->w), &l) == 0)
        cs_rec_writer_commit(r->w, l.t_ns, true);
}

static void print_note(const char *line, void *arg)
{
    (void)arg;
    fprintf(stderr, "coscope: %s\n", line);
}

/* Long task slices the task source saw since the last call. */
static void write_slices(struct recorder *r)
{
    static struct cs_task_slice got[CS_TASK_SLICES_MAX];
    size_t n = cs_corun_tasks_slices(r->tsrc, got, CS_TASK_SLICES_MAX), from = 0;
    if (r->have_last_slice)
        for (size_t i = n; i-- > 0;)
            if (got[i].tid == r->last_slice.tid && got[i].start_ns == r->last_slice.start_ns) {
                from = i + 1;
                break;
            }
    for (size_t i = from; i < n; i++) {
        struct cs_rec_slice s = {
            .start_ns = got[i].start_ns,
            .duration_ns = got[i].end_ns - got[i].start_ns,
            .tid = got[i].tid,
            .task_id = got[i].task_id,
        };
        snprintf(s.name, sizeof s.name, "%s", got[i].task);
        if (cs_rec_encode_slice(cs_rec_writer_begin(r->w), &s) == 0)
            cs_rec_writer_commit(r->w, got[i].end_ns, false);
        r->last_slice = got[i];
        r->have_last_slice = true;
    }
}

static void write_lost(struct recorder *r, bool always)
{
    uint64_t lost = cs_model_lost(r->model) + cs_rec_polls_lost(r->polls);
    uint64_t sup = cs_model_suppressed(r->model);
    if (!always && lost == r->lost_written && sup == r->suppressed_written)
        return;
    struct cs_rec_lost l = {.t_ns = cs_mono_ns(), .lost_events = lost, .suppressed = sup};
    if (cs_rec_encode_lost(cs_rec_writer_begin(r->w), &l) == 0 &&
        cs_rec_writer_commit(r->w, l.t_ns, false) == 0) {
        r->lost_written = lost;
        r->suppressed_written = sup;
    }
}

/* The task side: a new snapshot means spawns, exits and (now and then) statistics. */
static void tick_tasks(struct recorder *r, uint64_t now, bool force_stats)
{
    if (!r->tsrc)
        return;
    write_slices(r);
    cs_rec_polls_tick(r->polls);
    const struct cs_corun_snapshot *snap = cs_corun_tasks_snapshot(r->tsrc);
    if (!snap || (snap->taken_ns == r->last_snap_ns && !force_stats))
        return;
    r->last_snap_ns = snap->taken_ns;
    bool stats = force_stats || now >= r->next_stats_ns;
    if (stats)
        r->next_stats_ns = now + STATS_EVERY_NS;
    cs_rec_tasks_add(r->tasks, r->w, snap, stats);
}

/*
 * A loop without libcorun has no runtime figures: the stall engine's own (iterations,
 * busy and wait time, the slice histogram, kept in the kernel) stand in, as LOOP_STATS
 * with loop_id 0 and no scheduling latency (docs/file-format.md).
 */
static void write_engine_stats(struct recorder *r, uint64_t now, bool force)
{
    if ((r->tsrc && cs_corun_tasks_snapshot(r->tsrc)) || (!force && now < r->next_engine_stats_ns))
        return;
    r->next_engine_stats_ns = now + STATS_EVERY_NS;
    for (size_t i = 0; i < r->ntids; i++) {
        struct cs_loop_stat st;
        uint64_t slice_start = 0;
        if (cs_collector_loop_stat(r->coll, r->tids[i], &st, &slice_start))
            continue;
        struct cs_rec_loop_stats ls = {
            .t_ns = now,
            .tid = r->tids[i],
            .iterations = st.iterations,
            .busy_ns = st.busy_ns,
            .poll_wait_ns = st.wait_ns,
        };
        for (unsigned k = 0; k < CS_STAT_LL_BUCKETS; k++) /* log-linear both */
            ls.iter_hist[k] = st.slice_hist[k];
        if (cs_rec_encode_loop_stats(cs_rec_writer_begin(r->w), &ls) == 0)
            cs_rec_writer_commit(r->w, now, false);
    }
}

static int fire(struct recorder *r)
{
    char why[400] = "";
    if (cs_rec_writer_fire(r->w, why, sizeof why)) {
        fprintf(stderr, "coscope: %s\n", why);
        return -1;
    }
    struct cs_rec_trigger t = {.t_ns = r->fired_ns};
    snprintf(t.what, sizeof t.what, "%s", r->fired->text);
    if (cs_rec_encode_trigger(cs_rec_writer_begin(r->w), &t) == 0)
        cs_rec_writer_commit(r->w, t.t_ns, false);
    cs_rec_tasks_write_live(r->tasks, r->w, cs_mono_ns());
    write_lost(r, true);
    fprintf(stderr, "coscope: trigger '%s' fired: writing %s for %.1f s more\n", r->fired->text,
            r->o->path, (double)r->o->after_ns / 1e9);
    return 0;
}

/* Target, collectors and the loop threads; then the loop until stopped. */
static int run(struct recorder *r, bool launched, char **cmd)
{
    const struct rec_opts *o = r->o;
    char why[400] = "";
    const struct cs_session_opts so = {
        .pid = r->pid,
        .launched = launched,
        .at_entry = o->target.at_entry,
        .watch = CS_WATCH_STALLS | CS_WATCH_ATTRIB | CS_WATCH_TASKS,
        .stall =
            {
                .threshold_ns = o->target.threshold_ns,
                .stack_mode = CS_STACK_AUTO,
                .stack_bytes = 16384,
                .max_per_sec = MAX_STALLS_PER_S,
                .ongoing_every_ns = 100000000ull,
                .stats = true, /* loop figures for loops without libcorun */
            },
    };
    const struct cs_session_hooks hooks = {
        .stall = on_stall,
        .slow_iter = on_slow_iter,
        .loop_added = on_loop_added,
        .note = print_note,
        .arg = r,
    };
    int err = cs_session_open(&so, &hooks, &r->sess, why, sizeof why);
    if (err) {
        fprintf(stderr, "coscope: %s\n", why);
        return err == -ESRCH ? CS_EXIT_NO_PROCESS : cs_target_attach_exit(err);
    }
    int rc = CS_EXIT_OK;
    r->model = cs_session_model(r->sess);
    r->coll = cs_session_collector(r->sess);
    r->tsrc = cs_session_tasks(r->sess);
    /* Task births and ends (unless --no-lifecycle); every poll and wake with --polls: on
     * before a launched command held at its entry point runs its first task. */
    if (r->tsrc && (o->polls || !o->no_lifecycle))
        r->polls = cs_rec_polls_new(r->pid, r->w, r->tasks, o->polls, launched);
    if (cs_session_start(r->sess) != 0) {
        fprintf(stderr, "coscope: cannot start '%s': %s\n", cmd[0], strerror(errno));
        rc = CS_EXIT_FAILURE;
        goto out;
    }
    tick_tasks(r, cs_mono_ns(), false);
    /* Tools and tests wait for this line: from here on, everything seen is recorded. */
    size_t nloops = cs_session_loop_count(r->sess);
    if (!nloops)
        fprintf(stderr,
                "coscope: no event-loop thread found in process %d yet (none in a wait call, "
                "making wait calls, or stuck); watching for one (or give -T TID)\n",
                r->pid);
    fprintf(stderr, "coscope: recording %zu loop thread%s of process %d to %s%s\n", nloops,
            nloops == 1 ? "" : "s", r->pid, o->path,
            o->flight_ns ? " (flight recorder: written when a trigger fires)" : "");

    uint64_t t0 = cs_mono_ns();
    uint32_t reason = CS_REC_END_STOPPED;
    bool exited = false;
    while (!cs_stop_requested) {
        uint64_t now = cs_mono_ns();
        if (o->target.duration_ns && now - t0 >= o->target.duration_ns)
            break;
        if (r->fired && !cs_rec_writer_fired(r->w) && fire(r)) {
            rc = CS_EXIT_FAILURE;
            break;
        }
        if (r->fired && now - r->fired_ns >= o->after_ns) {
            reason = CS_REC_END_FLIGHT;
            break;
        }
        if (cs_session_poll(r->sess, POLL_MS)) {
            reason = CS_REC_END_ERROR;
            rc = CS_EXIT_FAILURE;
            break;
        }
        if (cs_session_exited(r->sess)) {
            exited = true;
            reason = CS_REC_END_EXITED;
            break;
        }
        now = cs_mono_ns();
        tick_tasks(r, now, false);
        write_engine_stats(r, now, false);
        write_lost(r, false);
        writer_failed(r);
    }
    cs_session_poll(r->sess, 0); /* what the kernel already produced */
    cs_session_finish(r->sess);  /* stalls still going: their final, unfinished records */
    if (r->fired && !cs_rec_writer_fired(r->w) && fire(r)) /* fired by that last batch */
        rc = CS_EXIT_FAILURE;
    tick_tasks(r, cs_mono_ns(), true); /* the last slices and figures (kept if it exited) */
    write_engine_stats(r, cs_mono_ns(), true);
    write_lost(r, true);
    if (cs_rec_writer_error(r->w))
        rc = CS_EXIT_FAILURE;
    struct cs_rec_trailer tr = {
        .end_ns = cs_mono_ns(), .records = cs_rec_writer_records(r->w), .reason = reason};
    if (cs_rec_encode_trailer(cs_rec_writer_begin(r->w), &tr) == 0)
        cs_rec_writer_commit(r->w, tr.end_ns, false);
    if (!cs_rec_writer_fired(r->w))
        fprintf(stderr, "coscope: no trigger fired: nothing written\n");
    else
        fprintf(stderr, "coscope: wrote %llu records (%llu stalls, %zu tasks) to %s\n",
                (unsigned long long)cs_rec_writer_records(r->w), (unsigned long long)r->stalls,
                cs_rec_tasks_seen(r->tasks), o->path);
    if (exited) {
        if (cs_target_exited(r->pid, launched))
            rc = CS_EXIT_NO_PROCESS;
        r->reaped = launched;
    }
out:
    cs_rec_polls_free(r->polls);
    r->polls = NULL;
    cs_session_close(r->sess);
    r->sess = NULL;
    r->coll = NULL;
    r->model = NULL;
    r->tsrc = NULL;
    return rc;
}

int cs_cmd_record(int argc, char **argv)
{
    struct rec_opts o = {
        .target.threshold_ns = CS_DEFAULT_THRESHOLD_NS,
        .after_ns = DEFAULT_AFTER_NS,
        .flight_max_bytes = (uint64_t)DEFAULT_FLIGHT_MB << 20,
    };
    int prc = begin(argc, argv, &o);
    if (prc)
        return cs_target_exit_code(prc);

    char why[400] = "";
    struct recorder r = {.o = &o, .pid = o.target.pid};
    bool launched = o.target.launched;
    int rc = CS_EXIT_FAILURE;
    int err = o.flight_ns
                  ? cs_rec_writer_open_flight(o.path, o.flight_ns, (size_t)o.flight_max_bytes, &r.w)
                  : cs_rec_writer_open(o.path, o.force, &r.w, why, sizeof why);
    if (err) {
        fprintf(stderr, "coscope: %s\n", o.flight_ns ? "out of memory" : why);
        if (!o.flight_ns)
            rc = CS_EXIT_USAGE; /* like report -o: the path given cannot be written */
        goto cleanup;
    }
    cs_rec_writer_set_force(r.w, o.force);
    struct cs_rec_target t;
    cs_rec_target_describe(r.pid, o.target.threshold_ns, o.flight_ns ? CS_REC_TARGET_FLIGHT : 0,
                           &t);
    if (cs_rec_encode_target(cs_rec_writer_begin(r.w), &t) ||
        cs_rec_writer_commit(r.w, t.start_mono_ns, true)) {
        fprintf(stderr, "coscope: cannot write %s\n", o.path);
        goto cleanup;
    }
    r.tasks = cs_rec_tasks_new(r.pid);
    if (!r.tasks)
        goto cleanup;

    cs_target_catch_stop();
    rc = run(&r, launched, o.target.cmd);
cleanup:
    if (launched && !r.reaped) {
        kill(r.pid, SIGTERM); /* a command we started ends with its recording */
        waitpid(r.pid, NULL, 0);
    }
    cs_rec_tasks_free(r.tasks);
    cs_rec_writer_close(r.w);
    return rc;
}
