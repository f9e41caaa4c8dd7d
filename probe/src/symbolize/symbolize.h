/*
 * Addresses in a target process → function+offset, module, file:line (elfutils libdwfl),
 * with names demangled, inlined functions expanded (DWARF), and JIT code named by perf maps.
 * Module maps are read at creation (so a target that exits can still be symbolized)
 * and re-read on a miss; results are cached per address, strings interned.
 */
#ifndef CS_SYMBOLIZE_H
#define CS_SYMBOLIZE_H

#include <stdbool.h>
#include <stdint.h>

#include "model.h"

struct cs_symbolizer;
typedef struct Dwfl Dwfl;

/* Reads the module maps of `pid`. NULL on failure (errno set). */
struct cs_symbolizer *cs_symbolizer_new(int pid);
void cs_symbolizer_free(struct cs_symbolizer *s);

/* Inlined functions expanded per address, at most (deeper chains keep the innermost). */
#define CS_SYMBOLIZE_MAX_INLINE 8

/*
 * Fills out[0..max) for `addr`: the functions inlined there (kind CS_FRAME_INLINE),
 * innermost first, then the function the code is in (native), each with its file:line
 * as perf shows them. Code in anonymous executable memory is one CS_FRAME_JIT frame,
 * named by the target's perf map (/tmp/perf-PID.map). With fewer than all places, the
 * innermost inlined ones are left out. Returns how many (at least 1 when max > 0).
 */
unsigned cs_symbolize_inline(struct cs_symbolizer *s, uint64_t addr, bool is_return,
                             struct cs_frame *out, unsigned max);

/*
 * The function alone (the last frame of cs_symbolize_inline): fills `f` for `addr`. `is_return`:
 * addr is a return address (looked up at addr-1, so a call at the end of a function is not put in
 * the next one). Strings in `f` belong to the symbolizer and live until cs_symbolizer_free.
 */
void cs_symbolize(struct cs_symbolizer *s, uint64_t addr, bool is_return, struct cs_frame *f);

/* The libdwfl session (for the DWARF unwinder, which shares its modules). */
Dwfl *cs_symbolizer_dwfl(struct cs_symbolizer *s);
int cs_symbolizer_pid(const struct cs_symbolizer *s);

#endif
