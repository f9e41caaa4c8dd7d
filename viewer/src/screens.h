/* Screens of `coscope top`: each draws a cs_view (read-only) into rows [top, bottom). */
#ifndef CS_SCREENS_H
#define CS_SCREENS_H

#include "ui.h"
#include "view.h"

/* The header: always on top. Returns the first row below it. */
int cs_screen_header(const struct cs_view *v, const struct cs_ui *ui);
/* The bottom key line. */
void cs_screen_footer(const struct cs_view *v, const struct cs_ui *ui);

void cs_screen_stalls(const struct cs_view *v, struct cs_ui *ui, int top, int bottom);
void cs_screen_stall_detail(const struct cs_view *v, struct cs_ui *ui, int top, int bottom);
void cs_screen_loops(const struct cs_view *v, struct cs_ui *ui, int top, int bottom);
void cs_screen_tasks(const struct cs_view *v, struct cs_ui *ui, int top, int bottom);
void cs_screen_help(const struct cs_view *v, struct cs_ui *ui, int top, int bottom);

/* Keeps the stalls cursor on its stall; called before drawing and before keys. */
void cs_stalls_follow(const struct cs_view *v, struct cs_ui *ui);

#endif
