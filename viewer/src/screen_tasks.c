/*
 * The tasks screen (libcorun targets): per loop, the spawn tree or the await graph of
 * its tasks, with sortable columns, collapsible subtrees and a name filter.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_tasks.h"
#include "screens.h"
#include "task_lints.h"
#include "task_tree.h"
#include "term.h"

#define MAX_DEPTH 64

static const char *const col_names[CS_TCOL_COUNT] = {
    "ID", "NAME", "STATE", "WAITING ON", "POLLS", "BUSY", "SCHEDp99", "AGE",
};

bool cs_ui_is_collapsed(const struct cs_ui *ui, uint64_t task_id)
{
    for (size_t i = 0; i < ui->ncollapsed; i++)
        if (ui->collapsed[i] == task_id)
            return true;
    return false;
}

static uint64_t p99_ns(const struct cs_task *t)
{
    return t->has_stats ? cs_hist_quantile_ns(t->sched_hist, 0.99) : 0;
}

struct sort_ctx {
    const struct cs_corun_loop *loop;
    enum cs_task_col col;
    bool desc;
};

static int cmp_u64(uint64_t a, uint64_t b)
{
    return a < b ? -1 : a > b;
}

static int cmp_tasks(const void *pa, const void *pb, void *arg)
{
    const struct sort_ctx *c = arg;
    const struct cs_task *a = &c->loop->tasks[*(const long *)pa];
    const struct cs_task *b = &c->loop->tasks[*(const long *)pb];
    int r = 0;
    switch (c->col) {
    case CS_TCOL_ID:
        r = cmp_u64(a->id, b->id);
        break;
    case CS_TCOL_NAME:
        r = strcmp(a->name, b->name);
        break;
    case CS_TCOL_STATE:
        r = cmp_u64(a->state, b->state);
        break;
    case CS_TCOL_WAITING:
        r = cmp_u64(a->wait_reason, b->wait_reason);
        break;
    case CS_TCOL_POLLS:
        r = cmp_u64(a->polls, b->polls);
        break;
    case CS_TCOL_BUSY:
        r = cmp_u64(a->busy_ns, b->busy_ns);
        break;
    case CS_TCOL_P99:
        r = cmp_u64(p99_ns(a), p99_ns(b));
        break;
    case CS_TCOL_AGE:
        r = cmp_u64((uint64_t)b->created_ns, (uint64_t)a->created_ns); /* older first */
        break;
    case CS_TCOL_COUNT:
        break;
    }
    if (!r)
        r = cmp_u64(a->id, b->id);
    return c->desc ? -r : r;
}

struct build {
    const struct cs_ui *ui;
    const struct cs_corun_loop *loop;
    size_t loop_i;
    struct cs_task_tree tree;
    char *match; /* per task: its name or a descendant's matches the filter */
    struct cs_task_row *rows;
    size_t n, max;
};

static bool mark_matches(struct build *b, long i, int depth)
{
    bool m = strstr(b->loop->tasks[i].name, b->ui->filter) != NULL ||
             b->loop->tasks[i].id == b->ui->follow_task_id; /* followed: always shown */
    if (depth < MAX_DEPTH)
        for (long c = b->tree.first_child[i]; c >= 0; c = b->tree.next_sibling[c])
            m |= mark_matches(b, c, depth + 1);
    b->match[i] = m;
    return m;
}

/* The list starting at `first` (linked by next_sibling), in the chosen order. */
static size_t sorted_list(const struct build *b, long first, long *out)
{
    size_t n = 0;
    for (long c = first; c >= 0; c = b->tree.next_sibling[c])
        out[n++] = c;
    struct sort_ctx ctx = {b->loop, b->ui->sort_col, b->ui->sort_desc};
    qsort_r(out, n, sizeof *out, cmp_tasks, &ctx);
    return n;
}

static void add_task(struct build *b, long i, int depth)
{
    if (b->n >= b->max || (b->match && !b->match[i]))
        return;
    const struct cs_task *t = &b->loop->tasks[i];
    struct cs_task_row *r = &b->rows[b->n++];
    r->loop = b->loop_i;
    r->task = i;
    r->depth = depth;
    r->has_children = b->tree.first_child[i] >= 0;
    r->collapsed = r->has_children && cs_ui_is_collapsed(b->ui, t->id);
    if (!r->has_children || r->collapsed || depth >= MAX_DEPTH)
        return;
    long *kids = malloc(b->loop->ntasks * sizeof *kids);
    if (!kids)
        return;
    size_t n = sorted_list(b, b->tree.first_child[i], kids);
    for (size_t k = 0; k < n; k++)
        add_task(b, kids[k], depth + 1);
    free(kids);
}

size_t cs_tasks_rows(const struct cs_view *v, const struct cs_ui *ui, struct cs_task_row *rows,
                     size_t max)
{
    size_t n = 0;
    if (!v->tasks)
        return 0;
    for (size_t li = 0; li < v->tasks->nloops && n < max; li++) {
        const struct cs_corun_loop *loop = &v->tasks->loops[li];
        rows[n++] = (struct cs_task_row){.loop = li, .task = -1};
        struct build b = {.ui = ui, .loop = loop, .loop_i = li, .rows = rows, .n = n, .max = max};
        if (!loop->ntasks ||
            cs_task_tree_build(&b.tree, loop, ui->await_graph ? CS_TREE_AWAIT : CS_TREE_SPAWN))
            continue;
        long *roots = malloc(loop->ntasks * sizeof *roots);
        if (ui->filter[0]) {
            b.match = calloc(loop->ntasks, 1);
            if (b.match)
                for (long r = b.tree.first_root; r >= 0; r = b.tree.next_sibling[r])
                    mark_matches(&b, r, 0);
        }
        if (roots) {
            size_t nr = sorted_list(&b, b.tree.first_root, roots);
            for (size_t k = 0; k < nr; k++)
                add_task(&b, roots[k], 0);
        }
        n = b.n;
        free(roots);
        free(b.match);
        cs_task_tree_free(&b.tree);
    }
    return n;
}

size_t cs_tasks_follow(const struct cs_view *v, struct cs_ui *ui, struct cs_task_row *rows,
                       size_t max)
{
    size_t n = cs_tasks_rows(v, ui, rows, max);
    if (ui->follow_task_id && ui->sel_task_id != ui->follow_task_id)
        ui->follow_task_id = 0; /* the cursor was moved away */
    if (!n) {
        ui->task_sel = 0;
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        const struct cs_corun_loop *loop = &v->tasks->loops[rows[i].loop];
        uint64_t id = rows[i].task >= 0 ? loop->tasks[rows[i].task].id : 0;
        if (loop->id == ui->sel_loop_id && id == ui->sel_task_id) {
            ui->task_sel = i;
            break;
        }
    }
    if (ui->task_sel >= n)
        ui->task_sel = n - 1;
    if (ui->follow_task_id) {
        const struct cs_task_row *r = &rows[ui->task_sel];
        if (r->task < 0 || v->tasks->loops[r->loop].tasks[r->task].id != ui->follow_task_id)
            ui->follow_task_id = 0; /* it is gone: nothing left to follow */
    }
    const struct cs_corun_loop *loop = &v->tasks->loops[rows[ui->task_sel].loop];
    ui->sel_loop_id = loop->id;
    ui->sel_task_id = rows[ui->task_sel].task >= 0 ? loop->tasks[rows[ui->task_sel].task].id : 0;
    return n;
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
    cs_term_put(y, 0, role, " loop %llu  tid %d  %zu tasks  %llu iterations  %s",
                (unsigned long long)loop->id, loop->tid, loop->ntasks,
                (unsigned long long)loop->iterations, cur);
}

static void draw_task_row(const struct cs_view *v, const struct cs_task_row *r, int y,
                          enum cs_role role)
{
    const struct cs_corun_loop *loop = &v->tasks->loops[r->loop];
    const struct cs_task *t = &loop->tasks[r->task];
    char name[128], waiting[64], polls[16] = "-", busy[16] = "-", p99[16] = "-", age[16] = "-";
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
    /* An ended task fades: dim, "ended", until the source drops it a few seconds later. */
    bool ended = cs_view_task_ended_ns(v, t->id) != 0;
    if (ended && role == CS_ROLE_NORMAL)
        role = CS_ROLE_DIM;
    if (ended)
        waiting[0] = 0;
    const struct cs_task_lint *lint = cs_lints_find(v->lints, t->id);
    int x = cs_term_put(y, 0, lint && role != CS_ROLE_SELECTED ? CS_ROLE_ALERT : role, "%c",
                        cs_lint_letter(lint));
    cs_term_put(y, x, role, "%5llu %-20.20s %-7.7s %-14.14s %6s %7s %7s %6s",
                (unsigned long long)t->id, name, ended ? "ended" : cs_task_state_name(t->state),
                waiting, polls, busy, p99, age);
}

void cs_screen_tasks(const struct cs_view *v, struct cs_ui *ui, int top, int bottom)
{
    /* Column headings; the sort column is marked. */
    static const int widths[CS_TCOL_COUNT] = {6, 21, 8, 15, 7, 8, 8, 7};
    cs_term_fill(top, 0, CS_ROLE_LABEL);
    if (!v->has_tasks) {
        cs_term_put(top, 0, CS_ROLE_LABEL, " Tasks");
        no_tasks(v, top);
        return;
    }
    int x = 0;
    for (int c = 0; c < CS_TCOL_COUNT; c++) {
        char h[32];
        bool right = c == CS_TCOL_ID || c >= CS_TCOL_POLLS;
        const char *sorted = (int)ui->sort_col == c ? (ui->sort_desc ? "v" : "^") : "";
        if (right)
            snprintf(h, sizeof h, "%*s%s", widths[c] - (int)strlen(sorted) - 1, col_names[c],
                     sorted);
        else
            snprintf(h, sizeof h, " %s%s", col_names[c], sorted);
        cs_term_put(top, x, CS_ROLE_LABEL, "%s", h);
        x += widths[c];
    }
    cs_term_put(top, 0, CS_ROLE_LABEL, "!"); /* the warnings column (task_lints.h) */
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

    static struct cs_task_row rows[CS_MAX_TASK_ROWS];
    size_t n = cs_tasks_follow(v, ui, rows, CS_MAX_TASK_ROWS);
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
            draw_task_row(v, &rows[i], y, role);
    }
}
