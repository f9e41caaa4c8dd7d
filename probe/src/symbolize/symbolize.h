/*
 * Addresses in a target process → function+offset, module, file:line (elfutils libdwfl).
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

/*
 * Fills `f` for `addr`. `is_return`: addr is a return address (looked up at addr-1, so
 * a call at the end of a function is not put in the next one). Strings in `f` belong
 * to the symbolizer and live until cs_symbolizer_free.
 */
void cs_symbolize(struct cs_symbolizer *s, uint64_t addr, bool is_return, struct cs_frame *f);

/* The libdwfl session (for the DWARF unwinder, which shares its modules). */
Dwfl *cs_symbolizer_dwfl(struct cs_symbolizer *s);
int cs_symbolizer_pid(const struct cs_symbolizer *s);

#endif
