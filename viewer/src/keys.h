/* Every key of `coscope top` is handled here, in one place. */
#ifndef CS_KEYS_H
#define CS_KEYS_H

#include "ui.h"
#include "view.h"

/* Applies key `ch` to the UI state; `v` is the picture on screen. */
void cs_keys_handle(struct cs_ui *ui, int ch, const struct cs_view *v);

#endif
