#include "keys.h"

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_tasks.h"

#include "screens.h"
#include "term.h"

#define KEY_ESC 27
#define CTRL(c) ((c)&0x1f)

static int page_rows(void)
{
    int r = cs_term_rows() - 7; /* header, column heading, key line */
    return r > 1 ? r : 1;
}

/* Moves a cursor by `delta` within [0, n). */
static size_t move_cursor(size_t at, long delta, size_t n)
{
    if (!n)
        return 0;
    long to = (long)at + delta;
    if (to < 0)
        to = 0;
    if (to >= (long)n)
        to = (long)n - 1;
    return (size_t)to;
}

static void open_detail(struct cs_ui *ui, const struct cs_view *v)
{
    if (ui->stall_sel >= cs_view_stall_count(v))
        return;
    const struct cs_stall *s = cs_view_stall(v, ui->stall_sel);
    if (ui->have_detail)
        cs_stall_release(&ui->detail);
    ui->have_detail = cs_stall_copy(&ui->detail, s) == 0;
    const char *task = cs_view_stall_task(v, s);
    if (ui->have_detail && !ui->detail.task && task)
        ui->detail.task = strdup(task); /* released with the copy */
    ui->detail_duration_ns = cs_view_stall_duration_ns(v, s);
    ui->detail_scroll = 0;
    ui->back = CS_SCREEN_STALLS;
    ui->screen = CS_SCREEN_STALL_DETAIL;
}

static void go_back(struct cs_ui *ui)
{
    if (ui->screen == CS_SCREEN_HELP || ui->screen == CS_SCREEN_STALL_DETAIL ||
        ui->screen == CS_SCREEN_TASK_DETAIL)
        ui->screen = ui->back;
}

static void open_task_detail(struct cs_ui *ui, const struct cs_view *v)
{
    size_t n = cs_tasks_follow(v, ui);
    if (ui->task_sel >= n || ui->rows[ui->task_sel].task < 0)
        return;
    const struct cs_corun_loop *loop = &v->tasks->loops[ui->rows[ui->task_sel].loop];
    if (!ui->task_detail)
        ui->task_detail = malloc(sizeof *ui->task_detail);
    if (!ui->task_detail)
        return;
    *ui->task_detail = loop->tasks[ui->rows[ui->task_sel].task];
    ui->task_detail_loop_id = loop->id;
    ui->back = CS_SCREEN_TASKS;
    ui->screen = CS_SCREEN_TASK_DETAIL;
}

/* Collapses (or expands) the subtree under the cursor. */
static void set_collapsed(struct cs_ui *ui, bool collapse)
{
    uint64_t id = ui->sel_task_id;
    if (!id)
        return;
    for (size_t i = 0; i < ui->ncollapsed; i++) {
        if (ui->collapsed[i] == id) {
            if (!collapse)
                ui->collapsed[i] = ui->collapsed[--ui->ncollapsed];
            return;
        }
    }
    if (collapse && ui->ncollapsed < CS_UI_MAX_COLLAPSED)
        ui->collapsed[ui->ncollapsed++] = id;
}

/* While the filter is being typed, keys are text. Returns true if the key was taken. */
static bool filter_key(struct cs_ui *ui, int ch)
{
    if (!ui->filter_editing)
        return false;
    size_t len = strlen(ui->filter);
    if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
        ui->filter_editing = false;
    } else if (ch == 27) {
        ui->filter[0] = 0;
        ui->filter_editing = false;
    } else if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
        if (len)
            ui->filter[len - 1] = 0;
    } else if (ch >= 32 && ch < 127 && len + 1 < sizeof ui->filter) {
        ui->filter[len] = (char)ch;
        ui->filter[len + 1] = 0;
    }
    ui->task_sel = 0;
    ui->task_top = 0;
    return true;
}

/*
 * After a re-sort: a followed task keeps the cursor; otherwise the cursor keeps its row
 * and is re-pinned to whatever task the new order put there.
 */
static void resorted(struct cs_ui *ui, const struct cs_view *v)
{
    if (ui->follow_task_id || !v->tasks)
        return;
    size_t n = cs_tasks_rows(v, ui);
    if (!n)
        return;
    size_t at = ui->task_sel < n ? ui->task_sel : n - 1;
    const struct cs_corun_loop *loop = &v->tasks->loops[ui->rows[at].loop];
    ui->sel_loop_id = loop->id;
    ui->sel_task_id = ui->rows[at].task >= 0 ? loop->tasks[ui->rows[at].task].id : 0;
}

/* `f`: follow the task under the cursor, or stop following. */
static void toggle_follow(struct cs_ui *ui, const struct cs_view *v)
{
    if (ui->follow_task_id) {
        ui->follow_task_id = 0;
        return;
    }
    size_t n = cs_tasks_follow(v, ui);
    if (ui->task_sel >= n || ui->rows[ui->task_sel].task < 0)
        return;
    const struct cs_task *t =
        &v->tasks->loops[ui->rows[ui->task_sel].loop].tasks[ui->rows[ui->task_sel].task];
    ui->follow_task_id = t->id;
    snprintf(ui->follow_name, sizeof ui->follow_name, "%s", t->name);
}

/* Keys only the tasks screen has. Returns true if the key was taken. */
static bool tasks_key(struct cs_ui *ui, int ch, const struct cs_view *v)
{
    if (ui->screen != CS_SCREEN_TASKS)
        return false;
    switch (ch) {
    case 'a':
        ui->await_graph = !ui->await_graph;
        return true;
    case '<':
    case ',':
        cs_tasks_follow(v, ui);
        ui->sort_col = (ui->sort_col + CS_TCOL_COUNT - 1) % CS_TCOL_COUNT;
        resorted(ui, v);
        return true;
    case '>':
    case '.':
        cs_tasks_follow(v, ui);
        ui->sort_col = (ui->sort_col + 1) % CS_TCOL_COUNT;
        resorted(ui, v);
        return true;
    case 'r':
        cs_tasks_follow(v, ui);
        ui->sort_desc = !ui->sort_desc;
        resorted(ui, v);
        return true;
    case 'f':
        toggle_follow(ui, v);
        return true;
    case '/':
        ui->filter_editing = true;
        return true;
    case '-':
    case KEY_LEFT:
        set_collapsed(ui, true);
        return true;
    case '+':
    case '=':
    case KEY_RIGHT:
        set_collapsed(ui, false);
        return true;
    case '\n':
    case '\r':
    case KEY_ENTER:
        open_task_detail(ui, v);
        return true;
    default:
        return false;
    }
}

static void show(struct cs_ui *ui, enum cs_screen s)
{
    ui->screen = s;
}

/* Up/down-like keys: what they move depends on the screen. */
static void move_by(struct cs_ui *ui, const struct cs_view *v, long delta)
{
    switch (ui->screen) {
    case CS_SCREEN_STALLS:
        cs_stalls_follow(v, ui);
        ui->stall_sel = move_cursor(ui->stall_sel, delta, cs_view_stall_count(v));
        ui->sel_tid = 0; /* re-pinned to the stall now under the cursor */
        cs_stalls_follow(v, ui);
        break;
    case CS_SCREEN_LOOPS:
        ui->loop_sel = move_cursor(ui->loop_sel, delta, v->nloops);
        break;
    case CS_SCREEN_STALL_DETAIL:
        ui->detail_scroll = (int)move_cursor((size_t)ui->detail_scroll, delta,
                                             ui->detail_lines > 0 ? (size_t)ui->detail_lines : 1);
        break;
    case CS_SCREEN_HELP:
        ui->help_scroll = (int)move_cursor((size_t)ui->help_scroll, delta, 64);
        break;
    case CS_SCREEN_TASKS: {
        size_t n = cs_tasks_follow(v, ui);
        ui->task_sel = move_cursor(ui->task_sel, delta, n);
        if (n) { /* re-pinned to the row now under the cursor */
            const struct cs_task_row *r = &ui->rows[ui->task_sel];
            const struct cs_corun_loop *loop = &v->tasks->loops[r->loop];
            ui->sel_loop_id = loop->id;
            ui->sel_task_id = r->task >= 0 ? loop->tasks[r->task].id : 0;
            cs_tasks_follow(v, ui);
        }
        break;
    }
    case CS_SCREEN_TASK_DETAIL:
        break;
    }
}

/* Selects the list item at `index` on the current screen. */
static void select_item(struct cs_ui *ui, const struct cs_view *v, size_t index)
{
    switch (ui->screen) {
    case CS_SCREEN_STALLS:
        cs_stalls_follow(v, ui);
        move_by(ui, v, (long)index - (long)ui->stall_sel);
        break;
    case CS_SCREEN_LOOPS:
        ui->loop_sel = move_cursor(ui->list_first + (index - ui->list_first) / 2, 0, v->nloops);
        break;
    case CS_SCREEN_TASKS: {
        cs_tasks_follow(v, ui);
        move_by(ui, v, (long)index - (long)ui->task_sel);
        break;
    }
    default:
        break;
    }
}

void cs_keys_click(struct cs_ui *ui, const struct cs_view *v, int y, int x, bool wheel_up,
                   bool wheel_down)
{
    if (wheel_up || wheel_down) {
        move_by(ui, v, wheel_up ? -3 : 3);
        return;
    }
    /* The tab line (row 3 of the header): " 1 Stalls "  " 2 Loops "  " 3 Tasks ". */
    if (y == 3) {
        static const int tab_w[] = {10, 9, 9};
        for (int i = 0, at = 0; i < 3; at += tab_w[i] + 1, i++)
            if (x >= at && x < at + tab_w[i])
                show(ui, (enum cs_screen)i);
        return;
    }
    if (ui->screen > CS_SCREEN_TASKS || y < ui->list_y || y >= ui->list_y + ui->list_rows)
        return;
    select_item(ui, v, ui->list_first + (size_t)(y - ui->list_y));
}

void cs_keys_handle(struct cs_ui *ui, int ch, const struct cs_view *v)
{
    if (filter_key(ui, ch) || tasks_key(ui, ch, v))
        return;
    switch (ch) {
    case 'q':
    case 'Q':
        ui->quit = true;
        break;
    case '?':
    case KEY_F(1):
        if (ui->screen == CS_SCREEN_HELP) {
            go_back(ui);
        } else {
            ui->back = ui->screen;
            ui->help_scroll = 0;
            ui->screen = CS_SCREEN_HELP;
        }
        break;
    case 'p':
    case 'P':
    case ' ':
        ui->paused = !ui->paused;
        break;
    case '1':
    case 's':
        show(ui, CS_SCREEN_STALLS);
        break;
    case '2':
    case 'l':
        show(ui, CS_SCREEN_LOOPS);
        break;
    case '3':
    case 't':
        show(ui, CS_SCREEN_TASKS);
        break;
    case '\t':
        if (ui->screen <= CS_SCREEN_TASKS)
            show(ui, (ui->screen + 1) % 3);
        else
            go_back(ui);
        break;
    case KEY_ESC:
    case KEY_LEFT:
    case KEY_BACKSPACE:
    case 127:
    case 'h':
        go_back(ui);
        break;
    case '\n':
    case '\r':
    case KEY_ENTER:
    case KEY_RIGHT:
        if (ui->screen == CS_SCREEN_STALLS)
            open_detail(ui, v);
        break;
    case KEY_UP:
    case 'k':
        move_by(ui, v, -1);
        break;
    case KEY_DOWN:
    case 'j':
        move_by(ui, v, 1);
        break;
    case KEY_PPAGE:
    case CTRL('b'):
        move_by(ui, v, -page_rows());
        break;
    case KEY_NPAGE:
    case CTRL('f'):
        move_by(ui, v, page_rows());
        break;
    case KEY_HOME:
    case 'g':
        move_by(ui, v, -1000000);
        break;
    case KEY_END:
    case 'G':
        move_by(ui, v, 1000000);
        break;
    case KEY_MOUSE: {
        struct cs_term_mouse m;
        if (cs_term_mouse(&m))
            cs_keys_click(ui, v, m.y, m.x, m.wheel_up, m.wheel_down);
        break;
    }
    default:
        break; /* KEY_RESIZE and anything else: the next frame redraws at the new size */
    }
}
