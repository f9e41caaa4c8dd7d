/* Writing stalls and the run summary: one JSON object per line, or readable text. */
#ifndef CS_STALL_FORMAT_H
#define CS_STALL_FORMAT_H

#include <stdio.h>

#include "model.h"
#include "slow_iter.h"

/* {"type":"stall",...} and a newline (docs/cli.md has the schema). */
void cs_stall_write_json(FILE *out, const struct cs_stall *s);
/* One readable block per stall, ending with a blank line. */
void cs_stall_write_text(FILE *out, const struct cs_stall *s);

/* {"type":"summary","stalls":N,"lost_events":N,"suppressed":N} and a newline. */
void cs_summary_write_json(FILE *out, const struct cs_model *m);
/* A thread starts being watched as a loop: {"type":"loop",...,"found_by"}. */
void cs_loop_write_json(FILE *out, int pid, int tid, const char *comm, const char *found_by);
void cs_summary_write_text(FILE *out, const struct cs_model *m);

/* {"type":"slow_iteration",...} on one line (docs/cli.md). */
void cs_slow_iter_write_json(FILE *out, const struct cs_slow_iter *it);
/* A readable block: a header line and one line per task. */
void cs_slow_iter_write_text(FILE *out, const struct cs_slow_iter *it);

#endif
