/* `coscope stat`'s summary: per loop and per task, as text or one JSON object. */
#ifndef CS_STAT_REPORT_H
#define CS_STAT_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "model_tasks.h"

void cs_stat_write_text(FILE *out, const struct cs_stat *st);
void cs_stat_write_json(FILE *out, const struct cs_stat *st);

#endif
