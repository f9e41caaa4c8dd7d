/* Every key of `coscope top` is handled here, in one place. */
#ifndef CS_KEYS_H
#define CS_KEYS_H

#include <stdbool.h>

#include "ui.h"
#include "view.h"

/* Applies key `ch` to the UI state; `v` is the picture on screen. */
void cs_keys_handle(struct cs_ui *ui, int ch, const struct cs_view *v);
/* A mouse click at (y, x): a list row selects it, a tab switches screens; the wheel
 * moves the cursor. */
void cs_keys_click(struct cs_ui *ui, const struct cs_view *v, int y, int x, bool wheel_up,
                   bool wheel_down);

#endif
