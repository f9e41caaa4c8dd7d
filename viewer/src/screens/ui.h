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
    CS_SCREEN_TASK_DETAIL,
};

/* Columns of the tasks screen, in screen order; also the sort keys. */
enum cs_task_col {
    CS_TCOL_ID,
    CS_TCOL_NAME,
    CS_TCOL_STATE,
    CS_TCOL_WAITING,
    CS_TCOL_POLLS,
    CS_TCOL_BUSY,
    CS_TCOL_P99,
    CS_TCOL_AGE,
    CS_TCOL_IDLE,  /* since it last ran (suspended or made ready) */
    CS_TCOL_SPAWN, /* where it was spawned: the spawner's return address, named by the source */
    CS_TCOL_COUNT,
};

#define CS_UI_MAX_COLLAPSED 128

struct cs_task;            /* model_tasks.h */
struct cs_task_row;        /* screens.h */
struct cs_task_rows_cache; /* task_rows.c */

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

    /* Tasks screen: tree or await graph, sorting, filter, collapsed subtrees. */
    bool await_graph;
    enum cs_task_col sort_col;
    bool sort_desc;
    char filter[32];
    bool filter_editing;
    uint64_t collapsed[CS_UI_MAX_COLLAPSED]; /* task ids */
    size_t ncollapsed;
    size_t task_sel, task_top;
    struct cs_task_row *rows; /* cs_tasks_rows(): the rows of the tasks screen */
    size_t nrows;
    struct cs_task_rows_cache *rows_cache;
    uint64_t sel_task_id; /* the cursor follows its task; 0: a loop row */
    uint64_t sel_loop_id;
    /* `f`: the cursor is pinned to this task (0: not following) - across re-sorts, and
     * past the filter; without it a re-sort keeps the cursor on its row (htop's way). */
    uint64_t follow_task_id;
    char follow_name[64];

    /* Where the list screen just drawn put its first row and which item that is (mouse). */
    int list_y, list_rows;
    size_t list_first;

    /* Task detail: followed live by id; the copy stays if the task finishes. */
    struct cs_task *task_detail;
    uint64_t task_detail_loop_id;
};

#endif
