/*
 * top_frames: how long `coscope top` takes to draw a frame of its tasks screen with N
 * live tasks, and how much memory it holds (docs/performance.md, viewer section).
 *
 *   top_frames [--tasks N] [--frames F] [--rows R] [--cols C] [--sort id|busy|name]
 *              [--clock cpu|wall]
 *
 * It fills a libcorun snapshot with N tasks (main, 100 workers, the rest connections
 * spread over the workers, stats on), opens a curses terminal of R x C writing to
 * /dev/null, and draws F frames of the tasks screen the way `top` does at 10 Hz with a
 * snapshot every 250 ms: every third frame gets a new snapshot (a fresh copy with 1% of
 * the tasks' counters moved, the old one freed after, as the live source does), and the
 * per-task warnings look at it. The cursor moves a row every frame. Prints one JSON line:
 * median and p99 ms per frame, the frames with a new snapshot apart, peak RSS, and the
 * machine's load average at the end (figures from a loaded machine say so).
 * --sort busy is the moving-column case: 1% of the tasks' busy times grow between two
 * snapshots, so every snapshot re-sorts (from the last order).
 * Goals: <= 10 ms a frame and <= 256 MiB with 100 000 tasks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "cmd_top.h"
#include "keys.h"
#include "model_tasks.h"
#include "screens.h"
#include "task_warnings.h"
#include "corun_tasks.h"
#include "term.h"
#include "ui.h"
#include "view.h"

/* Frames are timed in this thread's CPU time: on a shared, loaded machine wall time
 * mostly measures the other processes (the wall-clock figures are printed too). */
static clockid_t frame_clock = CLOCK_THREAD_CPUTIME_ID;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(frame_clock, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void fill(struct cs_corun_snapshot *snap, size_t n)
{
    memset(snap, 0, sizeof *snap);
    snap->pid = 1;
    snap->taken_ns = 1000000000000ll;
    snap->nloops = 1;
    snap->loops = calloc(1, sizeof *snap->loops);
    struct cs_corun_loop *l = &snap->loops[0];
    l->id = 1;
    l->tid = 1;
    l->ntasks = n;
    l->task_count = n;
    l->tasks = calloc(n, sizeof *l->tasks);
    if (!l->tasks) {
        perror("top_frames");
        exit(1);
    }
    for (size_t i = 0; i < n; i++) {
        struct cs_task *t = &l->tasks[i];
        t->id = i + 1;
        t->addr = 0x10000 + i * 4096;
        t->parent_id = i == 0 ? 0 : i <= 100 ? 1 : 2 + (i % 100);
        if (i == 0)
            snprintf(t->name, sizeof t->name, "main");
        else if (i <= 100)
            snprintf(t->name, sizeof t->name, "worker-%zu", i);
        else
            snprintf(t->name, sizeof t->name, "conn-%zu", i);
        t->state = i % 50 == 0 ? CORUN_TASK_READY : CORUN_TASK_WAITING;
        t->wait_reason = i <= 100 ? CORUN_WAIT_QUEUE : CORUN_WAIT_FD;
        t->wait_obj = i <= 100 ? 0x5000 : (uint64_t)(i % 1000 + 10);
        t->created_ns = snap->taken_ns - (int64_t)(rng() % 60000000000ull);
        t->has_stats = true;
        t->polls = rng() % 100000;
        t->busy_ns = rng() % 10000000000ull;
        t->wakes = t->polls;
        for (int k = 6; k < 20; k++) {
            t->sched_hist[k] = rng() % 100;
            t->poll_hist[k] = rng() % 100;
        }
    }
}

/* The next snapshot: a fresh copy, 1% of the tasks having run meanwhile. */
static void next_snapshot(struct cs_corun_snapshot *dst, const struct cs_corun_snapshot *src)
{
    if (cs_corun_snapshot_dup(dst, src)) {
        perror("top_frames");
        exit(1);
    }
    dst->taken_ns += 250000000;
    struct cs_corun_loop *l = &dst->loops[0];
    for (size_t k = 0; k < l->ntasks / 100; k++) {
        struct cs_task *t = &l->tasks[rng() % l->ntasks];
        t->polls += 1 + rng() % 10;
        t->busy_ns += rng() % 1000000;
        t->sched_hist[8 + rng() % 8]++;
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    size_t ntasks = 100000;
    int frames = 300, rows = 50, cols = 160;
    const char *sort = "id";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--tasks"))
            ntasks = strtoul(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--frames"))
            frames = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--rows"))
            rows = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--cols"))
            cols = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--sort"))
            sort = argv[i + 1];
        else if (!strcmp(argv[i], "--clock"))
            frame_clock = strcmp(argv[i + 1], "wall") ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC;
    }
    if (ntasks < 200 || frames < 3) {
        fprintf(stderr, "usage: top_frames [--tasks N>=200] [--frames F>=3] [--rows R] "
                        "[--cols C] [--sort id|busy|name]\n");
        return 2;
    }
    cs_top_tune_malloc();
    FILE *out = fopen("/dev/null", "w"), *in = fopen("/dev/null", "r");
    if (!out || !in || cs_term_open_virtual("xterm-256color", out, in, rows, cols, true)) {
        fprintf(stderr, "top_frames: cannot open a virtual terminal\n");
        return 1;
    }

    struct cs_corun_snapshot *snap = malloc(sizeof *snap);
    fill(snap, ntasks);
    struct cs_lint_table *lints = cs_lints_new(50000000);
    static struct cs_view v;
    v.pid = 1;
    snprintf(v.comm, sizeof v.comm, "bench");
    v.attach_mode = "benchmark";
    v.has_tasks = true;
    v.tasks_stats = true;
    v.threshold_ns = 50000000;
    v.nloops = 1;
    v.loops[0].tid = 1;
    v.loops[0].util_pct = 50;
    v.lints = lints;
    struct cs_ui ui = {.screen = CS_SCREEN_TASKS, .interval_ms = 100};
    ui.sort_col = !strcmp(sort, "busy")   ? CS_TCOL_BUSY
                  : !strcmp(sort, "name") ? CS_TCOL_NAME
                                          : CS_TCOL_ID;
    ui.sort_desc = ui.sort_col == CS_TCOL_BUSY;

    /* The first frame builds everything from scratch (a full sort, every cell sent): it is
     * reported on its own, the distribution is of the frames after it. */
    double t_first = now_ms();
    v.tasks = snap;
    cs_lints_snapshot(lints, snap);
    cs_frame_draw(&v, &ui);
    double first_ms = now_ms() - t_first;
    double *ms = calloc((size_t)frames, sizeof *ms);
    double *snap_ms = calloc((size_t)frames, sizeof *snap_ms);
    int nplain = 0, nsnap = 0;
    for (int f = 0; f < frames; f++) {
        struct cs_corun_snapshot *next = NULL;
        double t0 = now_ms();
        if (f % 3 == 2) { /* a new snapshot arrived (its reading is not the viewer's cost) */
            next = malloc(sizeof *next);
            next_snapshot(next, snap);
            t0 = now_ms();
            cs_lints_snapshot(lints, next);
        }
        v.tasks = next ? next : snap;
        v.now_ns = (uint64_t)v.tasks->taken_ns;
        v.now_wall = time(NULL);
        cs_keys_handle(&ui, 'j', &v);
        cs_frame_draw(&v, &ui);
        double dt = now_ms() - t0;
        if (next) {
            snap_ms[nsnap++] = dt;
            cs_corun_snapshot_free(snap);
            free(snap);
            snap = next;
        } else {
            ms[nplain++] = dt;
        }
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double load[1] = {-1};
    getloadavg(load, 1);
    cs_term_close();

    double all[frames];
    memcpy(all, ms, (size_t)nplain * sizeof *ms);
    memcpy(all + nplain, snap_ms, (size_t)nsnap * sizeof *ms);
    qsort(all, (size_t)frames, sizeof *all, cmp_double);
    qsort(ms, (size_t)nplain, sizeof *ms, cmp_double);
    qsort(snap_ms, (size_t)nsnap, sizeof *snap_ms, cmp_double);
    int p99 = (int)(0.99 * frames + 0.999999) - 1;
    printf("{\"bench\":\"top_frame\",\"tasks\":%zu,\"frames\":%d,\"size\":\"%dx%d\","
           "\"sort\":\"%s\",\"clock\":\"%s\",\"median_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f,"
           "\"median_ms_no_new_snapshot\":%.3f,\"median_ms_new_snapshot\":%.3f,"
           "\"first_frame_ms\":%.3f,\"peak_rss_mib\":%.1f,\"loadavg_1m\":%.2f}\n",
           ntasks, frames, cols, rows, sort, frame_clock == CLOCK_MONOTONIC ? "wall" : "cpu",
           all[frames / 2], all[p99 < 0 ? 0 : p99], all[frames - 1], ms[nplain / 2],
           snap_ms[nsnap / 2], first_ms, (double)ru.ru_maxrss / 1024.0, load[0]);
    free(ui.task_detail);
    cs_tasks_rows_free(&ui);
    cs_lints_free(lints);
    cs_corun_snapshot_free(snap);
    free(snap);
    free(ms);
    free(snap_ms);
    fclose(out);
    fclose(in);
    return 0;
}
