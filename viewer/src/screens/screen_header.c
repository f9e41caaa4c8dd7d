/* The header (always shown) and the key line at the bottom. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "hist_ll.h"
#include "model_tasks.h"
#include "mono_clock.h"
#include "screens.h"
#include "term.h"

static const char *const tab_names[] = {"1 Stalls", "2 Loops", "3 Tasks"};

/*
 * A header row is a list of fields. When the row is too narrow, whole fields go, least
 * important first: a value cut in half ("sched p50 2us p9") reads as a wrong value.
 */
struct hfield {
    char text[128];
    enum cs_role role;
    int drop; /* 0: kept always; higher: dropped sooner */
};

#define HFIELDS_MAX 40

struct hrow {
    struct hfield f[HFIELDS_MAX];
    size_t n;
};

static void __attribute__((format(printf, 4, 5)))
hadd(struct hrow *r, int drop, enum cs_role role, const char *fmt, ...)
{
    if (r->n == HFIELDS_MAX)
        return;
    struct hfield *f = &r->f[r->n++];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->text, sizeof f->text, fmt, ap);
    va_end(ap);
    f->role = role;
    f->drop = drop;
}

/* Draws the fields of `r` that fit in [x, x + width) on row y; returns the next column. */
static int hdraw(int y, int x, int width, struct hrow *r)
{
    bool keep[HFIELDS_MAX];
    int total = 0;
    for (size_t i = 0; i < r->n; i++) {
        keep[i] = true;
        total += (int)strlen(r->f[i].text);
    }
    while (total > width) {
        /* The most droppable field; among equals the rightmost (lists lose their tail). */
        size_t worst = r->n;
        for (size_t i = 0; i < r->n; i++)
            if (keep[i] && r->f[i].drop > 0 && (worst == r->n || r->f[i].drop >= r->f[worst].drop))
                worst = i;
        if (worst == r->n)
            break; /* only fields kept always: the terminal clips them */
        keep[worst] = false;
        total -= (int)strlen(r->f[worst].text);
    }
    for (size_t i = 0; i < r->n; i++)
        if (keep[i])
            x = cs_term_put(y, x, r->f[i].role, "%s", r->f[i].text);
    return x;
}

/*
 * Row 2, right of the stall figures: how fast the loops go round (iterations a second,
 * from their iteration histograms: the runtime's for libcorun, the engine's slices for
 * other loops) and the scheduling latency ready -> resumed over all tasks (libcorun).
 */
static void add_loop_rates(const struct cs_view *v, const struct cs_ui *ui, struct hrow *row)
{
    static uint64_t prev_iters, prev_ns;
    static double rate = -1;
    uint64_t sched[CS_VIEW_HIST_BUCKETS] = {0}, sched_n = 0, iters = 0;
    bool has_sched = false, has_iters = false;
    for (size_t i = 0; i < v->nloops; i++) {
        const struct cs_view_loop *l = &v->loops[i];
        if (l->has_iter_hist) {
            has_iters = true;
            for (int k = 0; k < CS_VIEW_HIST_BUCKETS; k++)
                iters += l->iter_hist[k];
        }
        if (l->has_sched_hist) {
            has_sched = true;
            for (int k = 0; k < CS_VIEW_HIST_BUCKETS; k++) {
                sched[k] += l->sched_hist[k];
                sched_n += l->sched_hist[k];
            }
        }
    }
    uint64_t now = cs_mono_ns();
    if (!ui->paused && has_iters) {
        if (!prev_ns || iters < prev_iters) { /* first frame, or another source */
            prev_ns = now;
            prev_iters = iters;
        } else if (now - prev_ns >= 1000000000ull) {
            rate = (double)(iters - prev_iters) * 1e9 / (double)(now - prev_ns);
            prev_ns = now;
            prev_iters = iters;
        }
    }
    char a[32], b[32];
    if (has_iters && rate >= 0)
        hadd(row, 5, CS_ROLE_NORMAL, "  %.0f iter/s", rate);
    if (has_sched && sched_n)
        hadd(row, 6, CS_ROLE_NORMAL, "  sched p50 %s p99 %s",
             cs_fmt_duration(cs_log2_quantile_ns(sched, CS_VIEW_HIST_BUCKETS, 0.5), a, sizeof a),
             cs_fmt_duration(cs_log2_quantile_ns(sched, CS_VIEW_HIST_BUCKETS, 0.99), b, sizeof b));
}

/* libcorun: tasks by state, after the loops. */
static void add_task_counts(const struct cs_view *v, const struct cs_ui *ui, struct hrow *row)
{
    /* Counted once per snapshot: with 100 000 tasks a count is a 60 MB walk. */
    static const struct cs_corun_snapshot *counted;
    static int64_t counted_at;
    static size_t counted_ended, n, by_state[5];
    bool fresh =
        counted == v->tasks && counted_at == v->tasks->taken_ns && counted_ended == v->nended;
    counted = v->tasks;
    counted_at = v->tasks->taken_ns;
    counted_ended = v->nended;
    if (!fresh) {
        n = 0;
        memset(by_state, 0, sizeof by_state);
        /* On the tasks screen the row build has counted them in its own pass. */
        fresh = cs_tasks_state_counts(v, ui, &n, by_state);
    }
    for (size_t i = 0; !fresh && i < v->tasks->nloops; i++) {
        for (size_t k = 0; k < v->tasks->loops[i].ntasks; k++) {
            /* 680-byte records: the hardware prefetcher loses the stride at pages. */
            if (k + 8 < v->tasks->loops[i].ntasks)
                __builtin_prefetch(&v->tasks->loops[i].tasks[k + 8].state);
            if (v->nended && cs_view_task_ended_ns(v, v->tasks->loops[i].tasks[k].id))
                continue; /* fading out: no longer a task */
            uint32_t st = v->tasks->loops[i].tasks[k].state;
            by_state[st < 5 ? st : 0]++;
            n++;
        }
    }
    hadd(row, 2, CS_ROLE_NORMAL, "  Tasks %zu: %zu running, %zu ready, %zu waiting", n,
         by_state[CORUN_TASK_RUNNING], by_state[CORUN_TASK_READY], by_state[CORUN_TASK_WAITING]);
    /* Finished, not joined yet (joined tasks are gone from the runtime's list). */
    if (by_state[CORUN_TASK_DONE])
        hadd(row, 4, CS_ROLE_NORMAL, ", %zu done", by_state[CORUN_TASK_DONE]);
}

int cs_screen_header(const struct cs_view *v, const struct cs_ui *ui)
{
    int cols = cs_term_cols();
    char buf[64];
    struct hrow row;

    /* Row 0: who, how, and a clock (the clock wins when the row is short). */
    cs_term_fill(0, 0, CS_ROLE_TITLE);
    struct tm tm;
    localtime_r(&v->now_wall, &tm);
    strftime(buf, sizeof buf, "%H:%M:%S", &tm);
    row.n = 0;
    hadd(&row, 2, CS_ROLE_TITLE, "coscope top  ");
    hadd(&row, 0, CS_ROLE_TITLE, "pid %d (%s)", v->pid, v->comm);
    if (v->replay_of) {
        /* A recording played back: its clock first, the file name goes first. */
        const char *base = strrchr(v->replay_of, '/');
        hadd(&row, 1, CS_ROLE_TITLE, "  replay %s", v->attach_mode ? v->attach_mode : "");
        hadd(&row, 3, CS_ROLE_TITLE, " of %.60s", base ? base + 1 : v->replay_of);
    } else {
        hadd(&row, 1, CS_ROLE_TITLE, "  %s", v->launched ? "launched" : "attached");
        hadd(&row, 3, CS_ROLE_TITLE, ", %s", v->attach_mode ? v->attach_mode : "");
    }
    hdraw(0, 0, cols - 10 > 0 ? cols - 10 : 0, &row);
    cs_term_put(0, cols - 9, CS_ROLE_TITLE, "%s", buf);

    /* Row 1: loop threads and how busy each is, then the tasks by state. */
    row.n = 0;
    hadd(&row, 0, CS_ROLE_NORMAL, "Loops %zu:", v->nloops);
    if (!v->nloops)
        hadd(&row, 5, CS_ROLE_DIM, " none found yet (looking for threads in a wait call)");
    for (size_t i = 0; i < v->nloops; i++) {
        const struct cs_view_loop *l = &v->loops[i];
        /* The first loop outlives the task counts; the others go before them. */
        int drop = i ? 3 : 1;
        if (cs_view_loop_util(l) >= 0)
            hadd(&row, drop, CS_ROLE_NORMAL, " %d %s %.0f%%%s", l->tid, l->comm,
                 cs_view_loop_util(l), i + 1 < v->nloops ? "," : "");
        else
            hadd(&row, drop, CS_ROLE_NORMAL, " %d %s%s", l->tid, l->comm,
                 i + 1 < v->nloops ? "," : "");
        if (l->in_stall)
            hadd(&row, drop, CS_ROLE_ONGOING, " STALLED");
    }
    if (v->tasks)
        add_task_counts(v, ui, &row);
    hdraw(1, 0, cols, &row);

    /* Row 2: stalls so far, the worst, lost events (never silent). */
    row.n = 0;
    hadd(&row, 0, CS_ROLE_NORMAL, "Stalls: %llu", (unsigned long long)v->stalls);
    if (v->stalls)
        hadd(&row, 3, CS_ROLE_NORMAL, "  worst %s (tid %d)",
             cs_fmt_duration(v->worst_ns, buf, sizeof buf), v->worst_tid);
    if (v->nongoing)
        hadd(&row, 0, CS_ROLE_ONGOING, "  ongoing %zu", v->nongoing);
    hadd(&row, 4, CS_ROLE_NORMAL, "  >%s", cs_fmt_duration(v->threshold_ns, buf, sizeof buf));
    hadd(&row, 0, CS_ROLE_NORMAL, "  ");
    hadd(&row, 0, v->lost ? CS_ROLE_ALERT : CS_ROLE_NORMAL, "lost %llu",
         (unsigned long long)v->lost);
    if (v->suppressed)
        hadd(&row, 1, CS_ROLE_NORMAL, "  rate-limited %llu", (unsigned long long)v->suppressed);
    add_loop_rates(v, ui, &row);
    hdraw(2, 0, cols, &row);

    /* Row 3: screen tabs and the state of the picture. */
    row.n = 0;
    for (int i = 0; i < 3; i++) {
        bool on =
            (int)ui->screen == i || (ui->screen == CS_SCREEN_STALL_DETAIL && i == CS_SCREEN_STALLS);
        hadd(&row, 0, on ? CS_ROLE_SELECTED : CS_ROLE_NORMAL, " %s ", tab_names[i]);
        hadd(&row, 0, CS_ROLE_NORMAL, " ");
    }
    if (ui->screen == CS_SCREEN_HELP)
        hadd(&row, 2, CS_ROLE_SELECTED, " ? Help ");
    if (v->target_exited) {
        hadd(&row, 0, CS_ROLE_NORMAL, " ");
        hadd(&row, 0, CS_ROLE_ALERT, " process %d exited ", v->pid);
    }
    if (ui->paused) {
        hadd(&row, 0, CS_ROLE_NORMAL, " ");
        hadd(&row, 0, CS_ROLE_ALERT, " PAUSED (p resumes) ");
    }
    hdraw(3, 0, cols, &row);
    return 4;
}

void cs_screen_footer(const struct cs_view *v, const struct cs_ui *ui)
{
    (void)v;
    int y = cs_term_rows() - 1;
    const char *keys;
    switch (ui->screen) {
    case CS_SCREEN_STALL_DETAIL:
        keys = "Esc back  j/k scroll  p pause  ? help  q quit";
        break;
    case CS_SCREEN_HELP:
        keys = "Esc back  q quit";
        break;
    case CS_SCREEN_TASK_DETAIL:
        keys = "Esc back  p pause  ? help  q quit";
        break;
    case CS_SCREEN_TASKS:
        keys = "Enter detail  a await  < > sort  r rev  / filter  - + fold  f follow  q quit";
        break;
    default:
        keys = "Enter stacks  j/k move  1-3/Tab screens  p pause  ? help  q quit";
        break;
    }
    cs_term_put(y, 0, CS_ROLE_DIM, "%s", keys);
}
