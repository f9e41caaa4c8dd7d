/* One libcorun task in full, its histograms drawn as bars. */
#include <stdio.h>
#include <string.h>

#include "model_tasks.h"
#include "screens.h"
#include "task_warnings.h"
#include "task_tree.h"
#include "term.h"

/* How a finished task ended, and whether someone still has to join it. */
static int draw_outcome(const struct cs_view *v, const struct cs_task *t, int y, int bottom)
{
    char e[96], a[32];
    uint64_t unjoined_ns = cs_lints_unjoined_ns(v->lints, t->id);
    if (t->state != CORUN_TASK_DONE || y >= bottom)
        return y;
    if (!t->outcome_known)
        cs_term_put(y++, 1, CS_ROLE_DIM,
                    "outcome unknown (the target's libcorun debug table is version 1)");
    else if (t->outcome == CORUN_OUTCOME_ERROR)
        cs_term_put(y++, 1, CS_ROLE_NORMAL, "outcome: failed, returned %s",
                    cs_task_error_text(t->error, e, sizeof e));
    else
        cs_term_put(y++, 1, CS_ROLE_DIM, "outcome: %s%s%s",
                    t->outcome == CORUN_OUTCOME_CANCELLED ? "cancelled" : "ok",
                    unjoined_ns ? ", not joined yet after " : "",
                    unjoined_ns ? cs_fmt_duration(unjoined_ns, a, sizeof a) : "");
    return y;
}

/* One line per warning (task_warnings.h), with the figure behind it. */
static int draw_lints(const struct cs_view *v, const struct cs_task *t, int y, int bottom)
{
    const struct cs_task_lint *l = cs_lints_find(v->lints, t->id);
    char a[32], thr[32];
    cs_fmt_duration(v->threshold_ns, thr, sizeof thr);
    if (!l)
        return y;
    if ((l->kinds & CS_LINT_LONG_SLICE) && y < bottom)
        cs_term_put(y++, 1, CS_ROLE_ALERT, "! never yielded for %s (one slice > threshold %s)",
                    cs_fmt_duration(l->longest_slice_ns, a, sizeof a), thr);
    if ((l->kinds & CS_LINT_BLOCKING) && y < bottom)
        cs_term_put(y++, 1, CS_ROLE_ALERT,
                    "! blocked in syscall %s for %s on the loop thread (inside its slice)",
                    l->syscall, cs_fmt_duration(l->syscall_ns, a, sizeof a));
    if ((l->kinds & CS_LINT_READY_LONG) && y < bottom)
        cs_term_put(y++, 1, CS_ROLE_ALERT, "! woken but not run for %s (threshold %s)",
                    cs_fmt_duration(l->ready_ns, a, sizeof a), thr);
    /* The outcome line above gives the error. */
    if ((l->kinds & CS_LINT_UNJOINED) && y < bottom && l->outcome_known) {
        cs_term_put(y++, 1, CS_ROLE_ALERT, "! failed and never joined for %s",
                    cs_fmt_duration(l->done_ns, a, sizeof a));
    } else if ((l->kinds & CS_LINT_UNJOINED) && y < bottom) {
        cs_term_put(y++, 1, CS_ROLE_ALERT,
                    "! finished and not joined for %s (outcome unknown: debug table v1)",
                    cs_fmt_duration(l->done_ns, a, sizeof a));
    }
    return y;
}

void cs_screen_task_detail(const struct cs_view *v, struct cs_ui *ui, int top, int bottom)
{
    if (!ui->task_detail) {
        cs_term_put(top + 1, 2, CS_ROLE_NORMAL, "No task selected.");
        return;
    }
    /* Live values while the task exists; the last copy once it has finished. */
    const struct cs_task *t = ui->task_detail;
    const struct cs_corun_loop *loop = NULL;
    bool gone = true;
    for (size_t i = 0; v->tasks && i < v->tasks->nloops; i++) {
        if (v->tasks->loops[i].id != ui->task_detail_loop_id)
            continue;
        loop = &v->tasks->loops[i];
        long ti = cs_task_index(loop, ui->task_detail->id);
        if (ti >= 0 && !cs_view_task_ended_ns(v, ui->task_detail->id)) {
            *ui->task_detail = loop->tasks[ti];
            gone = false;
        }
    }
    char a[32], b[32], waiting[64] = "";
    cs_term_fill(top, 0, CS_ROLE_LABEL);
    cs_term_put(top, 0, CS_ROLE_LABEL, " Task %llu \"%s\"%s", (unsigned long long)t->id, t->name,
                gone ? "  -- finished" : "");
    int y = top + 1;
    if (loop && !gone)
        cs_task_waiting_on(loop, t, waiting, sizeof waiting);
    cs_term_put(y++, 1, CS_ROLE_NORMAL, "state %s%s%s   parent %llu   loop %llu (tid %d)",
                gone ? "done" : cs_task_state_name(t->state), waiting[0] ? ", waiting on " : "",
                waiting, (unsigned long long)t->parent_id,
                (unsigned long long)ui->task_detail_loop_id, loop ? loop->tid : 0);
    if (!gone)
        y = draw_outcome(v, t, y, bottom);
    y = draw_lints(v, t, y, bottom);
    if (t->has_stats) {
        cs_term_put(y++, 1, CS_ROLE_NORMAL, "polls %llu   busy %s   wakes %llu   sched p99 %s",
                    (unsigned long long)t->polls, cs_fmt_duration(t->busy_ns, a, sizeof a),
                    (unsigned long long)t->wakes,
                    cs_fmt_duration(cs_hist_quantile_ns(t->sched_hist, 0.99), b, sizeof b));
    } else {
        cs_term_put(y++, 1, CS_ROLE_DIM,
                    "no per-task statistics (the runtime keeps them only "
                    "while coscope holds corun:stats)");
        return;
    }
    y++;
    y = cs_draw_hist(y, 0, cs_term_cols(), bottom, "scheduling latency: ready -> resumed",
                     t->sched_hist);
    cs_draw_hist(y, 0, cs_term_cols(), bottom, "poll (busy slice): resumed -> suspended",
                 t->poll_hist);
}
