/* Screens of `coscope top`: each draws a cs_view (read-only) into rows [top, bottom). */
#ifndef CS_SCREENS_H
#define CS_SCREENS_H

#include "ui.h"
#include "view.h"

/* Draws one whole frame of the current screen (curses sends only what changed). */
void cs_frame_draw(const struct cs_view *v, struct cs_ui *ui);

/* The header: always on top. Returns the first row below it. */
int cs_screen_header(const struct cs_view *v, const struct cs_ui *ui);
/* The bottom key line. */
void cs_screen_footer(const struct cs_view *v, const struct cs_ui *ui);

void cs_screen_stalls(const struct cs_view *v, struct cs_ui *ui, int top, int bottom);
void cs_screen_stall_detail(const struct cs_view *v, struct cs_ui *ui, int top, int bottom);
void cs_screen_loops(const struct cs_view *v, struct cs_ui *ui, int top, int bottom);
void cs_screen_tasks(const struct cs_view *v, struct cs_ui *ui, int top, int bottom);
void cs_screen_help(const struct cs_view *v, struct cs_ui *ui, int top, int bottom);

/* A log2 histogram (corun_debug.h buckets) as one bar per bucket, from the first to the
 * last non-empty one, in columns [x, x + width) from row y; returns the next free row. */
int cs_draw_hist(int y, int x, int width, int bottom, const char *title, const uint64_t *hist);

void cs_screen_task_detail(const struct cs_view *v, struct cs_ui *ui, int top, int bottom);

/* One row of the tasks screen: a loop (task < 0) or a task at a depth of the tree. */
struct cs_task_row {
    size_t loop;
    long task;
    int depth;
    bool has_children;
    bool collapsed;
};
/*
 * The rows the tasks screen shows, in order, into ui->rows; returns how many. Cached in
 * `ui` (task_rows.c): rebuilt only when the snapshot, the order, the filter, the folds or
 * the followed task change, re-sorting from the last order (nearly sorted: cheap).
 */
size_t cs_tasks_rows(const struct cs_view *v, struct cs_ui *ui);
/* Keeps the tasks cursor on its task; returns the row count. */
size_t cs_tasks_follow(const struct cs_view *v, struct cs_ui *ui);
/* Frees the row cache. */
void cs_tasks_rows_free(struct cs_ui *ui);
/* The tasks of v->tasks by state (ended ones left out), counted by the last row build
 * in its pass over the tasks: false if that build was not of this very snapshot. */
bool cs_tasks_state_counts(const struct cs_view *v, const struct cs_ui *ui, size_t *n,
                           size_t by_state[5]);
bool cs_ui_is_collapsed(const struct cs_ui *ui, uint64_t task_id);

/* Keeps the stalls cursor on its stall; called before drawing and before keys. */
void cs_stalls_follow(const struct cs_view *v, struct cs_ui *ui);

#endif
