/* The state of the `coscope top` screen: which screen, where the cursor is, paused. */
#ifndef CS_UI_H
#define CS_UI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "view.h"

enum cs_screen {
    CS_SCREEN_STALLS,
    CS_SCREEN_LOOPS,
    CS_SCREEN_TASKS,
    CS_SCREEN_STALL_DETAIL,
    CS_SCREEN_HELP,
};

struct cs_ui {
    enum cs_screen screen;
    enum cs_screen back; /* where Esc returns from help and detail */
    bool paused;
    bool quit;
    int interval_ms;

    /* Stalls list: the cursor follows its stall (tid, seq) as new ones push it down. */
    size_t stall_sel, stall_top;
    int sel_tid;
    uint64_t sel_seq;
    bool sel_ongoing;

    size_t loop_sel;

    /* Stall detail: a copy taken on Enter, so it stays while the list moves on. */
    struct cs_stall detail;
    bool have_detail;
    uint64_t detail_duration_ns;
    int detail_scroll;
    int detail_lines; /* set by the screen: how far it can scroll */

    int help_scroll;
};

#endif
