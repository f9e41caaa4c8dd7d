/*
 * Task attribution for `coscope stalls` on libcorun targets: names the task whose slice
 * stalled. For libcorun a stall's culprit is a task slice (resume -> suspend), not the
 * whole iteration the foreign-loop engine measures, so:
 *   - a stall still in progress gets the loop's current task, read from target memory
 *     through the debug table;
 *   - a finished stall gets the task whose long slice (corun:slice_long USDT event,
 *     slices >= 250 us) overlaps it most; failing that, the task seen while it was ongoing.
 * A process without libcorun gets no attribution (task stays NULL).
 */
#ifndef CS_CORUN_ATTRIBUTION_H
#define CS_CORUN_ATTRIBUTION_H

#include <stdbool.h>

#include "model.h"

struct cs_corun_attrib;

/* Always returns a handle (NULL only when out of memory); it finds libcorun in `pid` now or,
 * for a command that has not mapped it yet (`retry`), on a later stall. */
struct cs_corun_attrib *cs_corun_attrib_new(int pid, bool retry);

/* Fills s->task / s->task_id (valid until the next call) if a task can be named. */
void cs_corun_attrib_annotate(struct cs_stall *s, void *attrib);

/* Is the target a libcorun process (known so far)? */
bool cs_corun_attrib_active(const struct cs_corun_attrib *a);

/* Detaches the probe and frees. */
void cs_corun_attrib_free(struct cs_corun_attrib *a);

#endif
