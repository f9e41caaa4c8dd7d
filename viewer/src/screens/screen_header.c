/* The header (always shown) and the key line at the bottom. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "model_tasks.h"
#include "mono_clock.h"
#include "screens.h"
#include "term.h"

static const char *const tab_names[] = {"1 Stalls", "2 Loops", "3 Tasks"};

/*
 * Row 2, right of the stall figures: how fast the loops go round (iterations a second,
 * from their iteration histograms: the runtime's for libcorun, the engine's slices for
 * other loops) and the scheduling latency ready -> resumed over all tasks (libcorun).
 */
static void draw_loop_rates(const struct cs_view *v, const struct cs_ui *ui, int x)
{
    static uint64_t prev_iters, prev_ns;
    static double rate = -1;
    uint64_t sched[CS_TASK_HIST_BUCKETS] = {0}, iters = 0;
    bool has_sched = false, has_iters = false;
    for (size_t i = 0; i < v->nloops; i++) {
        const struct cs_view_loop *l = &v->loops[i];
        if (l->has_iter_hist) {
            has_iters = true;
            iters += cs_hist_total(l->iter_hist);
        }
        if (l->has_sched_hist) {
            has_sched = true;
            for (int k = 0; k < CS_TASK_HIST_BUCKETS; k++)
                sched[k] += l->sched_hist[k];
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
        x = cs_term_put(2, x, CS_ROLE_NORMAL, "  %.0f iter/s", rate);
    if (has_sched && cs_hist_total(sched))
        cs_term_put(2, x, CS_ROLE_NORMAL, "  sched p50 %s p99 %s",
                    cs_fmt_duration(cs_hist_quantile_ns(sched, 0.5), a, sizeof a),
                    cs_fmt_duration(cs_hist_quantile_ns(sched, 0.99), b, sizeof b));
}

int cs_screen_header(const struct cs_view *v, const struct cs_ui *ui)
{
    int cols = cs_term_cols();
    char buf[64];

    /* Row 0: who, how, and a clock (the clock wins when the row is short). */
    cs_term_fill(0, 0, CS_ROLE_TITLE);
    struct tm tm;
    localtime_r(&v->now_wall, &tm);
    strftime(buf, sizeof buf, "%H:%M:%S", &tm);
    char title[160];
    snprintf(title, sizeof title, "coscope top  pid %d (%s)  %s, %s", v->pid, v->comm,
             v->launched ? "launched" : "attached", v->attach_mode);
    int title_w = cols - 10 > 0 ? cols - 10 : 0;
    cs_term_put(0, 0, CS_ROLE_TITLE, "%.*s", title_w, title);
    cs_term_put(0, cols - 9, CS_ROLE_TITLE, "%s", buf);

    /* Row 1: loop threads and how busy each is. */
    int x = cs_term_put(1, 0, CS_ROLE_NORMAL, "Loops %zu:", v->nloops);
    if (!v->nloops)
        cs_term_put(1, x, CS_ROLE_DIM, " none found yet (looking for threads in a wait call)");
    for (size_t i = 0; i < v->nloops && x < cols - 12; i++) {
        const struct cs_view_loop *l = &v->loops[i];
        if (cs_view_loop_util(l) >= 0)
            x = cs_term_put(1, x, CS_ROLE_NORMAL, " %d %s %.0f%%%s", l->tid, l->comm,
                            cs_view_loop_util(l), i + 1 < v->nloops ? "," : "");
        else
            x = cs_term_put(1, x, CS_ROLE_NORMAL, " %d %s%s", l->tid, l->comm,
                            i + 1 < v->nloops ? "," : "");
        if (l->in_stall)
            x = cs_term_put(1, x, CS_ROLE_ONGOING, " STALLED");
    }

    /* libcorun: tasks by state, after the loops. */
    if (v->tasks && x < cols - 20) {
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
        x = cs_term_put(1, x, CS_ROLE_NORMAL, "  Tasks %zu: %zu running, %zu ready, %zu waiting", n,
                        by_state[CORUN_TASK_RUNNING], by_state[CORUN_TASK_READY],
                        by_state[CORUN_TASK_WAITING]);
        /* Finished, not joined yet (joined tasks are gone from the runtime's list). */
        if (by_state[CORUN_TASK_DONE])
            cs_term_put(1, x, CS_ROLE_NORMAL, ", %zu done", by_state[CORUN_TASK_DONE]);
    }

    /* Row 2: stalls so far, the worst, lost events (never silent). */
    x = cs_term_put(2, 0, CS_ROLE_NORMAL, "Stalls: %llu", (unsigned long long)v->stalls);
    if (v->stalls)
        x = cs_term_put(2, x, CS_ROLE_NORMAL, "  worst %s (tid %d)",
                        cs_fmt_duration(v->worst_ns, buf, sizeof buf), v->worst_tid);
    if (v->nongoing)
        x = cs_term_put(2, x, CS_ROLE_ONGOING, "  ongoing %zu", v->nongoing);
    x = cs_term_put(2, x, CS_ROLE_NORMAL, "  >%s",
                    cs_fmt_duration(v->threshold_ns, buf, sizeof buf));
    x = cs_term_put(2, x, CS_ROLE_NORMAL, "  ");
    x = cs_term_put(2, x, v->lost ? CS_ROLE_ALERT : CS_ROLE_NORMAL, "lost %llu",
                    (unsigned long long)v->lost);
    if (v->suppressed)
        x = cs_term_put(2, x, CS_ROLE_NORMAL, "  rate-limited %llu",
                        (unsigned long long)v->suppressed);
    draw_loop_rates(v, ui, x);

    /* Row 3: screen tabs and the state of the picture. */
    x = 0;
    for (int i = 0; i < 3; i++) {
        bool on =
            (int)ui->screen == i || (ui->screen == CS_SCREEN_STALL_DETAIL && i == CS_SCREEN_STALLS);
        x = cs_term_put(3, x, on ? CS_ROLE_SELECTED : CS_ROLE_NORMAL, " %s ", tab_names[i]);
        x = cs_term_put(3, x, CS_ROLE_NORMAL, " ");
    }
    if (ui->screen == CS_SCREEN_HELP)
        x = cs_term_put(3, x, CS_ROLE_SELECTED, " ? Help ");
    if (v->target_exited)
        x = cs_term_put(3, x + 1, CS_ROLE_ALERT, " process %d exited ", v->pid);
    if (ui->paused)
        cs_term_put(3, x + 1, CS_ROLE_ALERT, " PAUSED (p resumes) ");
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
