/* The help screen: every key, and what the figures mean. */
#include <stddef.h>

#include "screens.h"
#include "term.h"

static const char *const help_lines[] = {
    "Keys",
    "  1 s          stalls: newest first, an ongoing stall on top while it grows",
    "  2 l          loops: each loop thread, its CPU use and its stalls",
    "  3 t          tasks (libcorun targets)",
    "  Tab          next screen",
    "  Up Down j k  move the cursor (PgUp PgDn Home End g G too)",
    "  Enter        the selected stall or task in full (stacks with file:line; a",
    "               task's histograms, warnings and what it waits on)",
    "  Esc Left h   back from a detail screen or from help",
    "  mouse        a click selects a row or a screen tab; the wheel moves",
    "  p Space      pause: freeze the picture (collection goes on; p again resumes)",
    "  ?            this help (Up Down scroll it)",
    "  q            quit (detaches; a -- CMD that coscope started is stopped)",
    "",
    "Tasks screen",
    "  a            spawn tree <-> await graph (who waits on whom)",
    "  < > (, .)    sort by the previous / next column;  r  reverse the sort",
    "  /            filter by name (Enter keeps it, Esc clears it)",
    "  - + (Left Right)  fold / unfold the subtree under the cursor",
    "  f            follow the task under the cursor (again: stop)",
    "",
    "Replay (top --replay FILE)",
    "  p Space      pause / play;  n  step to the next event (paused)",
    "  [ ]          half / double the speed (+ - too, outside the tasks screen)",
    "",
    "What the figures mean",
    "  stall      the loop thread stayed away from its wait call (epoll_wait, poll,",
    "             select, io_uring_enter) longer than the threshold (-t)",
    "  cause      CPU when the thread mostly ran; else the system call it blocked",
    "             in longest (read, fsync, nanosleep ...), else off-CPU (preempted)",
    "  on/off-CPU time the thread ran / was switched out during the stall",
    "  lost       kernel events dropped (ring buffer full): figures are incomplete",
    "  CPU        share of one CPU the loop thread used over the last second",
    "",
    "Task warnings (the ! column of the tasks screen; Enter shows them in full)",
    "  Y          never yielded: one busy slice longer than the threshold",
    "  B          blocked in a system call on the loop thread, inside its slice",
    "  R          woken but not run for longer than the threshold",
    "  J          failed (returned an error) and nobody joined it for over 1 s",
    "             (or the threshold if longer); ended well or cancelled: no warning",
    "  dim        the task has ended: it fades out after a few seconds",
};

void cs_screen_help(const struct cs_view *v, struct cs_ui *ui, int top, int bottom)
{
    (void)v;
    size_t n = sizeof help_lines / sizeof help_lines[0];
    if (ui->help_scroll < 0)
        ui->help_scroll = 0;
    if ((size_t)ui->help_scroll >= n)
        ui->help_scroll = (int)n - 1;
    for (size_t i = (size_t)ui->help_scroll; i < n && top < bottom; i++, top++) {
        const char *s = help_lines[i];
        cs_term_put(top, 1, s[0] && s[0] != ' ' ? CS_ROLE_TITLE : CS_ROLE_NORMAL, "%s", s);
    }
}
