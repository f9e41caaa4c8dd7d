/*
 * The loops screen: each loop thread with its utilisation (and a sparkline of the last
 * minute) and its stalls; below, the selected loop's iteration-duration and
 * scheduling-latency histograms.
 */
#include <stdio.h>
#include <string.h>

#include "columns.h"
#include "screens.h"
#include "term.h"

/* On a narrow terminal LAST goes first, then FROM, then STALLED. */
enum { NCOLS = 9 };
static const struct cs_col cols[NCOLS] = {
    {"TID", 7, 1, true, 0, 0},     {"THREAD", 15, 1, false, 0, 0}, {"UTIL", 4, 1, true, 0, 0},
    {"FROM", 7, 1, false, 2, 0},   {"STALLS", 6, 1, true, 0, 0},   {"WORST", 8, 1, true, 0, 0},
    {"STALLED", 8, 1, true, 1, 0}, {"LAST", 9, 1, true, 3, 0},     {"NOW", 7, 2, false, 0, 0},
};

static void draw_loop(const struct cs_view *v, const struct cs_view_loop *l, int y, bool selected,
                      const bool *shown, const int *width)
{
    char tid[16], util[16] = "?", worst[32] = "-", stalled[32] = "-", last[32] = "-", nstalls[24];
    snprintf(tid, sizeof tid, "%d", l->tid);
    snprintf(nstalls, sizeof nstalls, "%llu", (unsigned long long)l->stalls);
    if (cs_view_loop_util(l) >= 0)
        snprintf(util, sizeof util, "%.0f%%", cs_view_loop_util(l));
    if (l->stalls) {
        cs_fmt_duration(l->worst_ns, worst, sizeof worst);
        cs_fmt_duration(l->stalled_ns, stalled, sizeof stalled);
        uint64_t ago_s = v->now_ns > l->last_stall_end_ns
                             ? (v->now_ns - l->last_stall_end_ns) / 1000000000ull
                             : 0;
        snprintf(last, sizeof last, "%llus ago", (unsigned long long)ago_s);
    }
    enum cs_role role = selected ? CS_ROLE_SELECTED : CS_ROLE_NORMAL;
    if (selected)
        cs_term_fill(y, 0, role);
    const char *cells[NCOLS] = {
        tid, l->comm, util, l->util_from ? l->util_from : "", nstalls, worst, stalled, last, ""};
    int x = cs_cols_row(y, 0, role, cols, NCOLS - 1, shown, width, cells);
    x += cols[NCOLS - 1].gap;
    if (l->in_stall)
        cs_term_put(y, x, CS_ROLE_ONGOING, "STALLED");
    else
        cs_term_put(y, x, role, "%s", v->target_exited ? "gone" : "ok");
    /* The second row: utilisation over the last minute, one cell a second; the newest
     * seconds when the row is narrower than the minute. */
    size_t n = l->nutil, room = cs_term_cols() > 33 ? (size_t)(cs_term_cols() - 33) : 0;
    if (n > room)
        n = room;
    x = cs_term_put(y + 1, 0, CS_ROLE_DIM, " %21s last %2zus ", "", n);
    cs_term_spark(y + 1, x, l->util_hist + (l->nutil - n), n);
}

void cs_screen_loops(const struct cs_view *v, struct cs_ui *ui, int top, int bottom)
{
    cs_term_fill(top, 0, CS_ROLE_LABEL);
    bool shown[NCOLS];
    int width[NCOLS];
    cs_cols_fit(cols, NCOLS, cs_term_cols(), shown, width);
    const char *heads[NCOLS];
    for (int c = 0; c < NCOLS; c++)
        heads[c] = cols[c].name;
    cs_cols_row(top, 0, CS_ROLE_LABEL, cols, NCOLS, shown, width, heads);
    top++;
    if (!v->nloops) {
        cs_term_put(top + 1, 2, CS_ROLE_NORMAL,
                    "No loop thread found yet: watching for a thread that waits in "
                    "epoll_wait/poll/select.");
        return;
    }
    if (ui->loop_sel >= v->nloops)
        ui->loop_sel = v->nloops - 1;
    /* Two rows per loop; the list scrolls so the selected one shows. */
    size_t fit = bottom - top > 8 ? (size_t)(bottom - top - 8) / 2 : 1;
    if (fit > v->nloops)
        fit = v->nloops;
    size_t first = ui->loop_sel >= fit ? ui->loop_sel - fit + 1 : 0;
    ui->list_y = top;
    ui->list_rows = 0; /* two rows per item: clicks are mapped below */
    ui->list_first = first;
    int y = top;
    for (size_t i = first; i < v->nloops && i < first + fit; i++, y += 2)
        draw_loop(v, &v->loops[i], y, i == ui->loop_sel, shown, width);
    ui->list_rows = y - top;

    char t[32], util[96], stalled[64];
    const struct cs_view_loop *l = &v->loops[ui->loop_sel];
    snprintf(util, sizeof util, "UTIL: busy share of the last second (%s).",
             l->util_from && l->util_from[0] == 'r'   ? "the runtime's busy vs poll wait"
             : l->util_from && l->util_from[0] == 'e' ? "slices vs wait calls"
                                                      : "CPU use");
    snprintf(stalled, sizeof stalled, "STALLED: time in stalls > %s.",
             cs_fmt_duration(v->threshold_ns, t, sizeof t));
    /* One line where it fits, else two: an 80-column terminal must read all of it. */
    if (strlen(util) + 1 + strlen(stalled) + 2 <= (size_t)cs_term_cols()) {
        cs_term_put(y, 1, CS_ROLE_DIM, "%s %s", util, stalled);
    } else {
        cs_term_put(y, 1, CS_ROLE_DIM, "%s", util);
        cs_term_put(++y, 1, CS_ROLE_DIM, "%s", stalled);
    }
    y += 2;
    /* The selected loop's histograms, side by side. */
    int half = cs_term_cols() / 2;
    if (l->has_iter_hist)
        cs_draw_hist(y, 0, half, bottom, "iteration duration", l->iter_hist);
    else
        cs_term_put(y, 1, CS_ROLE_DIM, "iteration durations: none yet");
    if (l->has_sched_hist)
        cs_draw_hist(y, half, cs_term_cols() - half, bottom, "sched latency (ready->run)",
                     l->sched_hist);
    else
        cs_term_put(y, half + 1, CS_ROLE_DIM, "%s",
                    v->has_tasks ? "sched latency: no statistics yet"
                                 : "sched latency: needs libcorun");
}
