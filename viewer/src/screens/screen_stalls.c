/* The stalls screen: newest first, an ongoing stall on top while it grows. */
#include <stdio.h>
#include <time.h>

#include "columns.h"
#include "screens.h"
#include "term.h"

void cs_stalls_follow(const struct cs_view *v, struct cs_ui *ui)
{
    size_t n = cs_view_stall_count(v);
    if (!n) {
        ui->stall_sel = 0;
        ui->sel_tid = 0;
        return;
    }
    /* On the top row the cursor stays on top (the newest); elsewhere it follows its stall. */
    if (ui->sel_tid && ui->stall_sel > 0) {
        for (size_t i = 0; i < n; i++) {
            const struct cs_stall *s = cs_view_stall(v, i);
            if (s->tid == ui->sel_tid && s->seq == ui->sel_seq) {
                ui->stall_sel = i;
                break;
            }
        }
    }
    if (ui->stall_sel >= n)
        ui->stall_sel = n - 1;
    const struct cs_stall *s = cs_view_stall(v, ui->stall_sel);
    ui->sel_tid = s->tid;
    ui->sel_seq = s->seq;
    ui->sel_ongoing = s->ongoing;
}

static void wall_time(const struct cs_view *v, uint64_t mono_ns, char *buf, size_t len)
{
    time_t ago_s = v->now_ns > mono_ns ? (time_t)((v->now_ns - mono_ns) / 1000000000ull) : 0;
    time_t t = v->now_wall - ago_s;
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(buf, len, "%H:%M:%S", &tm);
}

static void cause_text(const struct cs_stall *s, char *buf, size_t len)
{
    const char *cause = cs_stall_cause(s);
    char d[32];
    for (unsigned i = 0; i < s->nsyscalls; i++) {
        if (cause == s->syscalls[i].name) {
            snprintf(buf, len, "%s %s", cause,
                     cs_fmt_duration(s->syscalls[i].total_ns, d, sizeof d));
            return;
        }
    }
    snprintf(buf, len, "%s", cause);
}

/* The columns; on a narrow terminal THREAD goes first, then OFF-CPU, ON-CPU, TASK. */
enum { NCOLS = 8 };
static const struct cs_col cols[NCOLS] = {
    {"START", 8, 0, false, 0, 0},  {"DURATION ", 9, 2, true, 0, 0}, {"TID", 7, 1, true, 0, 0},
    {"TASK", 12, 1, false, 3, 0},  {"CAUSE", 22, 1, false, 0, 0},   {"ON-CPU", 7, 1, true, 4, 0},
    {"OFF-CPU", 7, 1, true, 5, 0}, {"THREAD", 15, 2, false, 6, 0},
};

void cs_screen_stalls(const struct cs_view *v, struct cs_ui *ui, int top, int bottom)
{
    cs_stalls_follow(v, ui);
    cs_term_fill(top, 0, CS_ROLE_LABEL);
    bool shown[NCOLS];
    int width[NCOLS];
    cs_cols_fit(cols, NCOLS, cs_term_cols() - 1, shown, width); /* 1: the '>' of ongoing */
    const char *heads[NCOLS];
    for (int c = 0; c < NCOLS; c++)
        heads[c] = cols[c].name;
    int x = cs_term_put(top, 0, CS_ROLE_LABEL, " ");
    cs_cols_row(top, x, CS_ROLE_LABEL, cols, NCOLS, shown, width, heads);
    top++;
    size_t n = cs_view_stall_count(v);
    if (!n) {
        char t[32];
        cs_term_put(top + 1, 2, CS_ROLE_NORMAL, "No stall longer than %s yet.",
                    cs_fmt_duration(v->threshold_ns, t, sizeof t));
        cs_term_put(top + 2, 2, CS_ROLE_DIM,
                    "A stall: the loop thread stays away from its wait call (epoll_wait, "
                    "poll, ...) too long.");
        return;
    }
    size_t rows = bottom > top ? (size_t)(bottom - top) : 1;
    if (ui->stall_sel < ui->stall_top)
        ui->stall_top = ui->stall_sel;
    if (ui->stall_sel >= ui->stall_top + rows)
        ui->stall_top = ui->stall_sel - rows + 1;
    ui->list_y = top;
    ui->list_rows = (int)rows;
    ui->list_first = ui->stall_top;
    for (size_t i = ui->stall_top; i < n && (int)(i - ui->stall_top) < (int)rows; i++) {
        const struct cs_stall *s = cs_view_stall(v, i);
        int y = top + (int)(i - ui->stall_top);
        char when[16], dur[32], on[32], off[32], cause[48];
        wall_time(v, s->start_ns, when, sizeof when);
        uint64_t d_ns = cs_view_stall_duration_ns(v, s);
        cs_fmt_duration(d_ns, dur, sizeof dur);
        cs_fmt_duration(s->on_cpu_ns, on, sizeof on);
        /* Off-CPU of an ongoing stall keeps growing with the part not yet reported. */
        uint64_t off_ns = s->off_cpu_ns + (d_ns - s->duration_ns);
        cs_fmt_duration(s->ongoing ? off_ns : s->off_cpu_ns, off, sizeof off);
        cause_text(s, cause, sizeof cause);
        const char *task = cs_view_stall_task(v, s);
        enum cs_role role = i == ui->stall_sel ? CS_ROLE_SELECTED
                            : s->ongoing       ? CS_ROLE_ONGOING
                                               : CS_ROLE_NORMAL;
        if (i == ui->stall_sel)
            cs_term_fill(y, 0, role);
        /* An ongoing stall says so where the start time would be: it is happening now. */
        char dur_cell[40], tid[16];
        snprintf(dur_cell, sizeof dur_cell, "%s%c", dur, s->ongoing ? '+' : ' ');
        snprintf(tid, sizeof tid, "%d", s->tid);
        const char *cells[NCOLS] = {s->ongoing ? "ongoing" : when,
                                    dur_cell,
                                    tid,
                                    task ? task : "-",
                                    cause,
                                    on,
                                    off,
                                    s->comm};
        x = cs_term_put(y, 0, role, "%c", s->ongoing ? '>' : ' ');
        cs_cols_row(y, x, role, cols, NCOLS, shown, width, cells);
    }
}
