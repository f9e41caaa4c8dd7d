/*
 * DWARF unwinding of a copied user stack (like `perf --call-graph dwarf`): registers
 * and a window of the stack taken in BPF, unwound here with libdwfl from .eh_frame /
 * .debug_frame; libdwfl falls back to frame pointers for a frame without CFI.
 */
#ifndef CS_UNWIND_DWARF_H
#define CS_UNWIND_DWARF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stalls.h"
#include "symbolize.h"

struct cs_unwinder;

/* Unwinds with the modules of `sym`'s process. NULL on failure. */
struct cs_unwinder *cs_unwinder_new(struct cs_symbolizer *sym);
void cs_unwinder_free(struct cs_unwinder *u);

/*
 * Unwinds `raw` into up to `max` program counters, innermost first. is_return[i] says
 * pcs[i] is a return address (symbolize it at pc-1). Returns the number of frames.
 */
int cs_unwind(struct cs_unwinder *u, const struct cs_raw_stack_event *raw, uint64_t *pcs,
              bool *is_return, int max);

#endif
