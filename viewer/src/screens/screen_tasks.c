/*
 * The tasks screen (libcorun targets): per loop, the spawn tree or the await graph of
 * its tasks, with sortable columns, collapsible subtrees and a name filter.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "columns.h"
#include "model_tasks.h"
#include "screens.h"
#include "spawn_sites.h"
#include "task_warnings.h"
#include "task_tree.h"
#include "term.h"

static const char *const col_names[CS_TCOL_COUNT] = {
    "ID", "NAME", "STATE", "WAITING ON", "POLLS", "BUSY", "SCHEDp99", "AGE", "IDLE", "SPAWN SITE",
};

/* Widths and how soon each goes on a narrow terminal: SPAWN SITE first, then IDLE,
 * SCHEDp99, POLLS, AGE, BUSY; the tree and what a task waits on stay. */
static const struct cs_col task_cols[CS_TCOL_COUNT] = {
    [CS_TCOL_ID] = {"ID", 5, 0, true, 0, 0},
    [CS_TCOL_NAME] = {"NAME", 20, 1, false, 0, 0},
    [CS_TCOL_STATE] = {"STATE", 7, 1, false, 0, 0},
    [CS_TCOL_WAITING] = {"WAITING ON", 14, 1, false, 0, 0},
    [CS_TCOL_POLLS] = {"POLLS", 6, 1, true, 3, 0},
    [CS_TCOL_BUSY] = {"BUSY", 7, 1, true, 1, 0},
    [CS_TCOL_P99] = {"SCHEDp99", 9, 1, true, 4, 0},
    [CS_TCOL_AGE] = {"AGE", 6, 1, true, 2, 0},
    [CS_TCOL_IDLE] = {"IDLE", 6, 1, true, 5, 0},
    [CS_TCOL_SPAWN] = {"SPAWN SITE", 0, 2, false, 6, 11},
};

static uint64_t p99_ns(const struct cs_task *t)
{
    return t->has_stats ? cs_hist_quantile_ns(t->sched_hist, 0.99) : 0;
}

static void no_tasks(const struct cs_view *v, int top)
{
    cs_term_put(top + 2, 2, CS_ROLE_NORMAL, "Tasks need libcorun.");
    cs_term_put(top + 3, 2, CS_ROLE_NORMAL,
                "Process %d is watched as a foreign event loop: coscope sees its loop", v->pid);
    cs_term_put(top + 4, 2, CS_ROLE_NORMAL,
                "threads and their stalls from kernel tracepoints, but not its tasks.");
    if (v->tasks_why[0])
        cs_term_put(top + 5, 2, CS_ROLE_DIM, "(%s)", v->tasks_why);
    cs_term_put(top + 7, 2, CS_ROLE_NORMAL,
                "The Stalls (1) and Loops (2) screens work for any event loop.");
}

static void draw_loop_row(const struct cs_view *v, const struct cs_task_row *r, int y,
                          enum cs_role role)
{
    const struct cs_corun_loop *loop = &v->tasks->loops[r->loop];
    char cur[128] = "idle";
    long ci = loop->current_task_id ? cs_task_index(loop, loop->current_task_id) : -1;
    if (ci >= 0)
        snprintf(cur, sizeof cur, "running %s", loop->tasks[ci].name);
    char line[256], cell[256];
    snprintf(line, sizeof line, " loop %llu  tid %d  %zu tasks  %llu iterations  %s",
             (unsigned long long)loop->id, loop->tid, loop->ntasks,
             (unsigned long long)loop->iterations, cur);
    /* Narrow: the words that fit, not a task name cut in half. */
    cs_cell(cell, sizeof cell, line, cs_term_cols(), false);
    cs_term_put(y, 0, role, "%s", cell);
}

/* Where a task was spawned: the name the source gave the spawner's return address
 * ("stall_task (stallgen.c:148)"), else the address itself. */
static void spawn_site(const struct cs_view *v, uint64_t pc, char *buf, size_t len)
{
    const char *name = cs_spawn_sites_name(v->spawn_sites, pc);
    if (!pc)
        snprintf(buf, len, "-");
    else if (name)
        snprintf(buf, len, "%s", name);
    else
        snprintf(buf, len, "%#llx", (unsigned long long)pc);
}

static void draw_task_row(const struct cs_view *v, const struct cs_task_row *r, int y,
                          enum cs_role role, const bool *shown, const int *width)
{
    const struct cs_corun_loop *loop = &v->tasks->loops[r->loop];
    const struct cs_task *t = &loop->tasks[r->task];
    char name[128], waiting[64], polls[16] = "-", busy[16] = "-", p99[16] = "-", age[16] = "-",
                                 idle[16] = "-", site[160];
    int indent = r->depth * 2 < 12 ? r->depth * 2 : 12;
    const char *mark = r->has_children ? (r->collapsed ? "+" : "-") : " ";
    snprintf(name, sizeof name, "%*s%s%s", indent, "", mark, t->name);
    cs_task_waiting_on(loop, t, waiting, sizeof waiting);
    if (t->has_stats) {
        snprintf(polls, sizeof polls, "%llu", (unsigned long long)t->polls);
        cs_fmt_duration(t->busy_ns, busy, sizeof busy);
        if (cs_hist_total(t->sched_hist))
            cs_fmt_duration(p99_ns(t), p99, sizeof p99);
    }
    if (t->created_ns && v->tasks->taken_ns > t->created_ns)
        cs_fmt_duration((uint64_t)(v->tasks->taken_ns - t->created_ns), age, sizeof age);
    /* Idle: since it last ran; known while the runtime times tasks (coscope attached). */
    if (t->state == CORUN_TASK_RUNNING)
        snprintf(idle, sizeof idle, "0");
    else if (t->state != CORUN_TASK_DONE && t->waiting_since_ns > 0 &&
             v->tasks->taken_ns > t->waiting_since_ns)
        cs_fmt_duration((uint64_t)(v->tasks->taken_ns - t->waiting_since_ns), idle, sizeof idle);
    spawn_site(v, t->spawn_pc, site, sizeof site);
    /* An ended task fades: dim, "ended", until the source drops it a few seconds later. */
    bool ended = cs_view_task_ended_ns(v, t->id) != 0;
    if (ended && role == CS_ROLE_NORMAL)
        role = CS_ROLE_DIM;
    if (ended)
        waiting[0] = 0;
    const struct cs_task_lint *lint = cs_lints_find(v->lints, t->id);
    int x = cs_term_put(y, 0, lint && role != CS_ROLE_SELECTED ? CS_ROLE_ALERT : role, "%c",
                        cs_lint_letter(lint));
    bool failed = t->outcome_known && t->outcome == CORUN_OUTCOME_ERROR;
    char id[24];
    snprintf(id, sizeof id, "%llu", (unsigned long long)t->id);
    /* A failed task stays marked while it fades out: the failure is the news. */
    const char *state = failed ? "failed" : ended ? "ended" : cs_task_state_name(t->state);
    const char *cells[CS_TCOL_COUNT] = {id,   name, state, waiting, polls,
                                        busy, p99,  age,   idle,    site};
    cs_cols_row(y, x, role, task_cols, CS_TCOL_COUNT, shown, width, cells);
}

void cs_screen_tasks(const struct cs_view *v, struct cs_ui *ui, int top, int bottom)
{
    /* Column headings; the sort column is marked. */
    cs_term_fill(top, 0, CS_ROLE_LABEL);
    if (!v->has_tasks) {
        cs_term_put(top, 0, CS_ROLE_LABEL, " Tasks");
        no_tasks(v, top);
        return;
    }
    bool shown[CS_TCOL_COUNT];
    int width[CS_TCOL_COUNT];
    cs_cols_fit(task_cols, CS_TCOL_COUNT, cs_term_cols() - 1, shown, width); /* 1: the '!' */
    char heads[CS_TCOL_COUNT][32];
    const char *head_of[CS_TCOL_COUNT];
    for (int c = 0; c < CS_TCOL_COUNT; c++) {
        const char *sorted = (int)ui->sort_col == c ? (ui->sort_desc ? "v" : "^") : "";
        snprintf(heads[c], sizeof heads[c], "%s%s", col_names[c], sorted);
        head_of[c] = heads[c];
    }
    /* "! ID": the ID heading sits left, next to the warnings column's '!'. */
    struct cs_col head_cols[CS_TCOL_COUNT];
    memcpy(head_cols, task_cols, sizeof head_cols);
    head_cols[CS_TCOL_ID].right = false;
    snprintf(heads[CS_TCOL_ID], sizeof heads[CS_TCOL_ID], " %s%s", col_names[CS_TCOL_ID],
             ui->sort_col == CS_TCOL_ID ? (ui->sort_desc ? "v" : "^") : "");
    cs_cols_row(top, 1, CS_ROLE_LABEL, head_cols, CS_TCOL_COUNT, shown, width, head_of);
    cs_term_put(top, 0, CS_ROLE_LABEL, "!"); /* the warnings column (task_warnings.h) */
    top++;
    /* The last line above the key line says how the tree is drawn, and the filter. */
    int info_y = bottom - 1;
    int ix =
        cs_term_put(info_y, 0, CS_ROLE_DIM, " %s%s  sort: %s%s  ",
                    ui->await_graph ? "await graph (a: spawn tree)" : "spawn tree (a: await graph)",
                    v->tasks_stats ? "" : "  [no per-task statistics]", col_names[ui->sort_col],
                    ui->sort_desc ? " (descending)" : "");
    if (ui->follow_task_id)
        ix = cs_term_put(info_y, ix, CS_ROLE_ONGOING, "following %llu %.16s",
                         (unsigned long long)ui->follow_task_id, ui->follow_name) +
             2;
    if (ui->filter[0] || ui->filter_editing)
        cs_term_put(info_y, ix, ui->filter_editing ? CS_ROLE_SELECTED : CS_ROLE_NORMAL, "/%s%s",
                    ui->filter, ui->filter_editing ? "_" : "");
    bottom = info_y;

    size_t n = cs_tasks_follow(v, ui);
    const struct cs_task_row *rows = ui->rows;
    size_t height = bottom > top ? (size_t)(bottom - top) : 1;
    ui->list_y = top;
    ui->list_rows = (int)height;
    if (ui->task_sel < ui->task_top)
        ui->task_top = ui->task_sel;
    if (ui->task_sel >= ui->task_top + height)
        ui->task_top = ui->task_sel - height + 1;
    ui->list_first = ui->task_top;
    for (size_t i = ui->task_top; i < n && i - ui->task_top < height; i++) {
        int y = top + (int)(i - ui->task_top);
        enum cs_role role = i == ui->task_sel  ? CS_ROLE_SELECTED
                            : rows[i].task < 0 ? CS_ROLE_TITLE
                                               : CS_ROLE_NORMAL;
        if (i == ui->task_sel)
            cs_term_fill(y, 0, role);
        if (rows[i].task < 0)
            draw_loop_row(v, &rows[i], y, role);
        else
            draw_task_row(v, &rows[i], y, role, shown, width);
    }
}
