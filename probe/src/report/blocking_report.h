/* `coscope stat` on libcorun: the blocking and executor calls (model/blocking.h), as text
 * sections and as the "blocking_calls" / "executor" members of stat's JSON object. */
#ifndef CS_BLOCKING_REPORT_H
#define CS_BLOCKING_REPORT_H

#include <stdio.h>

#include "blocking.h"
#include "json_writer.h"

void cs_blocking_write_text(FILE *out, const struct cs_blocking_stat *b, const struct cs_stat *st);
void cs_blocking_write_json(struct cs_json *w, const struct cs_blocking_stat *b,
                            const struct cs_stat *st);

#endif
