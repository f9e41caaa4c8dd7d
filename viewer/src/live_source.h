/*
 * The live source of `coscope top`: the stall collector attached to one process, the
 * model it fills, and what only a live run knows (stalls in progress, the CPU use of the
 * loop threads, whether the target is still there). Driven from the viewer's own poll
 * loop; it never blocks.
 */
#ifndef CS_LIVE_SOURCE_H
#define CS_LIVE_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "view.h"

struct cs_live;

struct cs_live_opts {
    int pid;       /* already checked to exist */
    int tid;       /* -T: the loop thread; 0: detect them */
    bool launched; /* coscope started it, held; its only thread is the loop */
    bool at_entry; /* ...held at its entry point (libcorun mapped): released by start */
    uint64_t threshold_ns;
};

/*
 * Attaches (collect/session.h). Returns 0 or a negative errno (-EPERM: permission, -ESRCH:
 * gone, anything else: the kernel lacks something) with one sentence in `why`.
 */
int cs_live_open(const struct cs_live_opts *o, struct cs_live **out, char *why, size_t why_len);
/* Releases a launched command held at its entry point. 0 or -errno. */
int cs_live_start(struct cs_live *l);
void cs_live_close(struct cs_live *l);

/* Notes for the user (one line each, without "coscope: "), oldest first, up to 8: printed
 * by the verb on stderr when the terminal is its own. */
size_t cs_live_note_count(const struct cs_live *l);
const char *cs_live_note(const struct cs_live *l, size_t i);

/* Fds to poll for input: kernel events, and the target's exit (pidfd). */
int cs_live_event_fd(const struct cs_live *l);
int cs_live_exit_fd(const struct cs_live *l);

/* Handles whatever is ready and does the periodic work. Never blocks. 0 or -errno. */
int cs_live_process(struct cs_live *l);

bool cs_live_target_exited(const struct cs_live *l);
size_t cs_live_loop_count(const struct cs_live *l);

/* Fills the picture the screens draw (it points into `l`: valid until the next process). */
void cs_live_view(const struct cs_live *l, struct cs_view *v);

#endif
