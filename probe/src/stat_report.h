/* `coscope stat`'s summary: per loop and per task, as text or one JSON object. */
#ifndef CS_STAT_REPORT_H
#define CS_STAT_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "model_tasks.h"

void cs_stat_write_text(FILE *out, const struct cs_stat *st);
void cs_stat_write_json(FILE *out, const struct cs_stat *st);

/* One histogram as a text line (label, n, p50/p90/p99/max) or a JSON member `key`. */
struct cs_json;
void cs_stat_hist_text(FILE *out, const char *label, const uint64_t *h);
void cs_stat_hist_json(struct cs_json *w, const char *key, const uint64_t *h);
void cs_stat_format_ns(uint64_t ns, char *buf, size_t len);

#endif
