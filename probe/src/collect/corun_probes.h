/*
 * The one place that opens, configures, loads and attaches libcorun's BPF object
 * (corun.bpf.c). A caller names the programs it needs as a mask; only those load and attach,
 * the maps none of them uses shrink to nothing (hash maps are preallocated: `blocking` and
 * `exec` alone would take ~7 MB), and every rodata offset comes from the target's debug
 * table. Attaching a USDT probe raises its semaphore: the runtime then does the work behind
 * it (keeps statistics, times slices) until the probes close.
 */
#ifndef CS_CORUN_PROBES_H
#define CS_CORUN_PROBES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "corun_target.h"

enum cs_corun_prog {
    CS_CORUN_PROG_SLICES = 1u << 0,   /* corun:slice_long -> ring `slices` */
    CS_CORUN_PROG_ITERS = 1u << 1,    /* corun:iter_long -> ring `iters` */
    CS_CORUN_PROG_STATS = 1u << 2,    /* corun:stats: its semaphore keeps per-task stats */
    CS_CORUN_PROG_SWITCH = 1u << 3,   /* sched_switch: off-CPU log, blocking at switch */
    CS_CORUN_PROG_SYSCALLS = 1u << 4, /* sys_enter + sys_exit: every call -> `blocking` */
    CS_CORUN_PROG_EXEC = 1u << 5,     /* corun:exec_done -> map `exec` */
    CS_CORUN_PROG_LIFE = 1u << 6,     /* corun:task_spawn, task_done (end) -> ring `polls` */
    CS_CORUN_PROG_POLLS = 1u << 7,    /* every poll and wake -> ring `polls` */
};

struct cs_corun_probe_params {
    uint64_t min_slice_ns;   /* SLICES: pass on slices at least this long */
    uint64_t min_iter_ns;    /* ITERS: pass on iterations at least this long */
    bool block_at_switch;    /* SWITCH: count the calls that blocked into `blocking` */
    size_t polls_ring_bytes; /* LIFE, POLLS: a power of two, at least a page (0: 256 KiB) */
};

/* The maps a caller reads or fills itself. */
enum cs_corun_map {
    CS_CORUN_MAP_SLICES,
    CS_CORUN_MAP_ITERS,
    CS_CORUN_MAP_OFFCPU,
    CS_CORUN_MAP_BLOCKING,
    CS_CORUN_MAP_EXEC,
    CS_CORUN_MAP_POLLS,
};

struct cs_corun_probes;
struct ring_buffer;

/*
 * Loads the programs of `want` (`p` NULL: defaults) for target `t` and attaches them;
 * BPF-typed tracepoints fall back to raw ones when the kernel refuses them. A program that
 * cannot attach is left out (cs_corun_probes_attached says which did) unless it is in
 * `required`: then, and when loading fails, a negative errno and the reason in `why`.
 */
int cs_corun_probes_open(const struct cs_corun_target *t, unsigned want, unsigned required,
                         const struct cs_corun_probe_params *p, struct cs_corun_probes **out,
                         char *why, size_t why_len);

/* The programs of `want` that attached (every program of a bit, or the bit is off). */
unsigned cs_corun_probes_attached(const struct cs_corun_probes *p);

/* Why `prog` (one bit) did not attach: a negative errno; 0 if it did or was not wanted. */
int cs_corun_probes_error(const struct cs_corun_probes *p, unsigned prog);

/* A map's fd, -1 without probes. */
int cs_corun_probes_map_fd(const struct cs_corun_probes *p, enum cs_corun_map m);

/* A reader of ring map `m` (SLICES, ITERS or POLLS) calling fn(ctx, ...) per event, owned by
 * the probes (freed on close); NULL with errno set. */
typedef int (*cs_corun_event_fn)(void *ctx, void *data, size_t len);
struct ring_buffer *cs_corun_probes_ring(struct cs_corun_probes *p, enum cs_corun_map m,
                                         cs_corun_event_fn fn, void *ctx);

/* Gives loop thread `tid` (its loop at `loop_addr`) an off-CPU log, if it has none yet. */
void cs_corun_probes_watch_loop(struct cs_corun_probes *p, int tid, uint64_t loop_addr);

/* Events the programs dropped so far (a ring or map full). */
uint64_t cs_corun_probes_lost(const struct cs_corun_probes *p);

/* Detaches every link concurrently (each uprobe detach waits for RCU), frees; NULL is fine. */
void cs_corun_probes_close(struct cs_corun_probes *p);

#endif
