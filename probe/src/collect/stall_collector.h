/*
 * The stall collector: loads stalls.bpf.c, watches chosen loop threads of one process,
 * turns kernel events into cs_stall records (symbolized, rate-limited) in the model.
 */
#ifndef CS_STALL_COLLECTOR_H
#define CS_STALL_COLLECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "stall_stacks.h"

/* A note for the user: one line, without "coscope: note: ". */
typedef void (*cs_note_fn)(const char *line, void *arg);

struct cs_stall_opts {
    int pid;
    uint64_t threshold_ns;
    enum cs_stack_mode stack_mode;
    uint32_t stack_bytes;      /* DWARF stack window */
    unsigned max_per_sec;      /* rate limit of reported stalls, 0 = none */
    uint64_t ongoing_every_ns; /* repeat an ongoing record this often while it lasts */
    bool stats;                /* `coscope stat`: keep per-thread loop statistics too */
    cs_note_fn note;           /* what was not as asked (e.g. a costlier fallback) */
    void *note_arg;
};

/* Called for each record that passes the rate limit (ongoing and final). */
typedef void (*cs_stall_cb)(const struct cs_stall *s, void *arg);

struct cs_collector;

/*
 * Fills in what the engine cannot know (the libcorun task: corun_attribution.h) before a
 * record reaches the rate limit, the model and the callback. Called with idx 0 on a copy of
 * the engine's record (stacks not yet filled in); returns < 0 to drop it, 0 to deliver it,
 * > 0 to deliver it and be called again with idx + 1 on a fresh copy (one engine slice that
 * holds several stalls of the annotator's own definition).
 */
typedef int (*cs_stall_annotate_fn)(struct cs_stall *s, unsigned idx, void *arg);
void cs_collector_set_annotator(struct cs_collector *c, cs_stall_annotate_fn fn, void *arg);

/*
 * Loads and attaches the BPF side. Returns 0 or a negative errno (-EPERM: permission;
 * anything else: the kernel lacks something) with one sentence in `why`.
 */
int cs_collector_open(const struct cs_stall_opts *opts, struct cs_model *model, cs_stall_cb cb,
                      void *cb_arg, struct cs_collector **out, char *why, size_t why_len);

/* Starts watching thread `tid` as a loop thread. 0, -EEXIST, -ESRCH, or another -errno. */
int cs_collector_add_thread(struct cs_collector *c, int tid, char *why, size_t why_len);
bool cs_collector_has_thread(const struct cs_collector *c, int tid);
size_t cs_collector_thread_count(const struct cs_collector *c);

/*
 * Waits up to `timeout_ms` for kernel events, handles them, and reports stalls still in
 * progress. Returns 0 or a negative errno.
 */
int cs_collector_poll(struct cs_collector *c, int timeout_ms);

/*
 * An fd that polls readable when kernel events wait (then call cs_collector_poll(c, 0)).
 * Ongoing stalls are found by cs_collector_poll itself, so call it every few ms anyway.
 */
int cs_collector_fd(const struct cs_collector *c);

/*
 * Gives each watched thread whose state is still unknown the slice it is in right now
 * (stalls.bpf.c, seed_slices): a thread stuck since before attach is reported at once,
 * with its start and stack. Called by cs_collector_add_thread; 0, or -EOPNOTSUPP when
 * the kernel refused the task iterator (then such a stall is seen when it ends).
 */
int cs_collector_seed(struct cs_collector *c);

/*
 * Threads of the target, not watched yet, that made at least `min_waits` wait calls
 * (on an epoll fd, ring, or descriptors: not sleeps) since the last call: busy loops,
 * which /proc sampling rarely finds in their wait call. Up to `max` TIDs; how many.
 */
int cs_collector_busy_waiters(struct cs_collector *c, uint64_t min_waits, int *tids, size_t max);

/*
 * Coscope stops while the target runs on: each stall still in progress gets its final
 * record (unfinished), counted like any other.
 */
void cs_collector_finish(struct cs_collector *c);

/* Detaches everything (the target keeps running) and frees. */
void cs_collector_close(struct cs_collector *c);

/*
 * `coscope stat` (opts.stats): the statistics kept for loop thread `tid` since it was
 * added. The slice or wait call in progress is not in them: `slice_start_ns` (0: none)
 * and `out->wait_start_ns` say since when. 0, or a negative errno.
 */
struct cs_loop_stat;
int cs_collector_loop_stat(const struct cs_collector *c, int tid, struct cs_loop_stat *out,
                           uint64_t *slice_start_ns);

/*
 * `coscope stat`: the blocking-call tallies of every loop thread, one by one: call with
 * *cursor = 0 first; returns 1 with the next entry, 0 at the end, or a negative errno.
 */
struct cs_block_key;
struct cs_block_stat;
int cs_collector_next_block_stat(const struct cs_collector *c, uint64_t *cursor,
                                 struct cs_block_key *key, struct cs_block_stat *out);

/* Was the global (costly) syscall fallback used because tracefs could not be had? */
bool cs_collector_uses_fallback(const struct cs_collector *c);
/* Slice edges from libcorun's corun:poll_enter/poll_exit probes (no syscall tracepoints). */
bool cs_collector_uses_corun_edges(const struct cs_collector *c);

#endif
