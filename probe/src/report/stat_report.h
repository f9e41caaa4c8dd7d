/* `coscope stat`'s summary: per loop and per task, as text or one JSON object. */
#ifndef CS_STAT_REPORT_H
#define CS_STAT_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "model_tasks.h"

void cs_stat_write_text(FILE *out, const struct cs_stat *st);
void cs_stat_write_json(FILE *out, const struct cs_stat *st);

/* Opens stat's JSON object on `out` with the members every kind of loop starts with:
 * pid, duration_us, lost_events. */
struct cs_json;
void cs_stat_json_begin(struct cs_json *w, FILE *out, int pid, uint64_t duration_ns,
                        uint64_t lost_events);

#endif
