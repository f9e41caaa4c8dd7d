/* The tasks screen. The libcorun task model is not wired into the viewer yet. */
#include "screens.h"
#include "term.h"

void cs_screen_tasks(const struct cs_view *v, struct cs_ui *ui, int top, int bottom)
{
    (void)ui;
    (void)bottom;
    cs_term_fill(top, 0, CS_ROLE_LABEL);
    cs_term_put(top, 0, CS_ROLE_LABEL, " Tasks");
    if (v->has_tasks)
        return;
    cs_term_put(top + 2, 2, CS_ROLE_NORMAL, "Tasks need libcorun.");
    cs_term_put(top + 3, 2, CS_ROLE_NORMAL,
                "Process %d is watched as a foreign event loop: coscope sees its loop", v->pid);
    cs_term_put(top + 4, 2, CS_ROLE_NORMAL,
                "threads and their stalls from kernel tracepoints, but not its tasks.");
    cs_term_put(top + 6, 2, CS_ROLE_NORMAL,
                "The Stalls (1) and Loops (2) screens work for any event loop.");
}
