#include "keys.h"

#include <curses.h>

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
    ui->detail_duration_ns = cs_view_stall_duration_ns(v, s);
    ui->detail_scroll = 0;
    ui->back = CS_SCREEN_STALLS;
    ui->screen = CS_SCREEN_STALL_DETAIL;
}

static void go_back(struct cs_ui *ui)
{
    if (ui->screen == CS_SCREEN_HELP || ui->screen == CS_SCREEN_STALL_DETAIL)
        ui->screen = ui->back;
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
    case CS_SCREEN_TASKS:
        break;
    }
}

static void show(struct cs_ui *ui, enum cs_screen s)
{
    ui->screen = s;
}

void cs_keys_handle(struct cs_ui *ui, int ch, const struct cs_view *v)
{
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
    default:
        break; /* KEY_RESIZE and anything else: the next frame redraws at the new size */
    }
}
