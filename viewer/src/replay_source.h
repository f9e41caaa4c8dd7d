/*
 * The replay source of `coscope top --replay FILE`: a recording (docs/file-format.md)
 * played back on a virtual clock into the same picture (view.h) the live source fills,
 * so every screen works unchanged. The clock runs at a chosen speed, pauses, and steps
 * from one recorded event to the next.
 */
#ifndef CS_REPLAY_SOURCE_H
#define CS_REPLAY_SOURCE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "ui.h"
#include "view.h"

struct cs_replay;

/*
 * Loads `path`. Returns 0, or the exit code for what is wrong with it (the reason is on
 * stderr; a truncated recording only warns and loads).
 */
int cs_replay_open(const char *path, struct cs_replay **out);
void cs_replay_close(struct cs_replay *r);

/* Moves the clock to real time `now_ns` (at the current speed, unless paused). */
void cs_replay_tick(struct cs_replay *r, uint64_t now_ns);

/*
 * The replay's keys: space/p pause, n (and . outside the tasks screen) steps to the next
 * event, + / - (] / [ on every screen) double / halve the speed. Returns false for any
 * other key (the screens' own).
 */
bool cs_replay_key(struct cs_replay *r, int ch, enum cs_screen screen);

/* Fills the picture at the clock's time (it points into `r`: valid until the next call). */
void cs_replay_view(struct cs_replay *r, struct cs_view *v);

typedef void (*cs_replay_draw_fn)(const struct cs_view *v, struct cs_ui *ui);

/*
 * `coscope top --replay FILE`: takes the terminal, plays the recording until q (or
 * SIGINT/SIGTERM, or `duration_ns` of real time if non-zero), gives the terminal back.
 * `draw` is top's frame function. Returns the exit code.
 */
int cs_replay_top(const char *path, uint64_t interval_ns, uint64_t duration_ns,
                  cs_replay_draw_fn draw);

#endif
