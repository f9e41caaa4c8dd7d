/*
 * `coscope stalls` on libcorun targets. For libcorun a stall is a long *slice* of one task
 * (docs/architecture.md: resume -> suspend), not the whole iteration the foreign-loop engine
 * (stall_collector.c) measures between two epoll waits. The engine's records are the
 * trigger and the source of stacks; this module turns each into the stall(s) of the task
 * slices inside it:
 *   - a record still in progress is kept only while the loop's current slice (read from
 *     target memory through the debug table) is past the threshold, and then describes that
 *     slice: its start, the task, its on/off-CPU time and blocking calls so far (off-CPU log
 *     in corun.bpf.c);
 *   - a finished record becomes one stall per long slice inside it (corun:slice_long, with
 *     the slice's own on/off-CPU time and blocking calls computed in BPF), and is dropped if
 *     there is none: an iteration that is long only because many short slices add up is a
 *     *slow iteration* (corun:iter_long), reported through its own callback.
 * A process without libcorun gets engine records as they are (task NULL).
 */
#ifndef CS_CORUN_ATTRIBUTION_H
#define CS_CORUN_ATTRIBUTION_H

#include <stdbool.h>
#include <stdint.h>

#include "slow_iter.h"
#include "model.h"
#include "stall_collector.h" /* cs_note_fn */

struct cs_corun_attrib;

/* Always returns a handle (NULL only when out of memory); it finds libcorun in `pid` now or,
 * for a command that has not mapped it yet (`retry`), a little later. What it could not
 * attach goes to `note` (stall_collector.h). */
struct cs_corun_attrib *cs_corun_attrib_new(int pid, bool retry, uint64_t threshold_ns,
                                            cs_note_fn note, void *note_arg);

typedef void (*cs_slow_iter_cb)(const struct cs_slow_iter *it, void *arg);
/* Slow iterations go to `cb`, at most `max_per_sec` a second (0: all); the rest are counted
 * in the model's suppressed counter. */
void cs_corun_attrib_on_slow_iter(struct cs_corun_attrib *a, unsigned max_per_sec,
                                  struct cs_model *model, cs_slow_iter_cb cb, void *arg);

/* The stall collector's annotator (stall_collector.h); `attrib` is the handle. */
int cs_corun_attrib_annotate(struct cs_stall *s, unsigned idx, void *attrib);

/* Reads the probes' events (slow iterations are reported from here); call every few ms. */
void cs_corun_attrib_poll(struct cs_corun_attrib *a);

/* Is the target a libcorun process (known so far)? */
bool cs_corun_attrib_active(const struct cs_corun_attrib *a);

/* Slow iterations reported so far. */
uint64_t cs_corun_attrib_slow_iters(const struct cs_corun_attrib *a);

/* Detaches the probes and frees. */
void cs_corun_attrib_free(struct cs_corun_attrib *a);

#endif
