/* One frame of `coscope top`: the header, the current screen, the key line. */
#include "screens.h"
#include "term.h"

void cs_frame_draw(const struct cs_view *v, struct cs_ui *ui)
{
    cs_term_begin_frame();
    /* The tasks' rows first: their build counts tasks by state for the header. */
    if (ui->screen == CS_SCREEN_TASKS && v->has_tasks)
        cs_tasks_rows(v, ui);
    int top = cs_screen_header(v, ui);
    int bottom = cs_term_rows() - 1; /* the key line */
    switch (ui->screen) {
    case CS_SCREEN_STALLS:
        cs_screen_stalls(v, ui, top, bottom);
        break;
    case CS_SCREEN_LOOPS:
        cs_screen_loops(v, ui, top, bottom);
        break;
    case CS_SCREEN_TASKS:
        cs_screen_tasks(v, ui, top, bottom);
        break;
    case CS_SCREEN_STALL_DETAIL:
        cs_screen_stall_detail(v, ui, top, bottom);
        break;
    case CS_SCREEN_HELP:
        cs_screen_help(v, ui, top, bottom);
        break;
    case CS_SCREEN_TASK_DETAIL:
        cs_screen_task_detail(v, ui, top, bottom);
        break;
    }
    cs_screen_footer(v, ui);
    cs_term_end_frame();
}
