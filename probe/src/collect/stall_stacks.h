/*
 * Stacks of a stall: the blocking-call stack (taken when the loop thread went off-CPU)
 * and the on-CPU samples of the slice, read from BPF maps, unwound and symbolized.
 */
#ifndef CS_STALL_STACKS_H
#define CS_STALL_STACKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

struct cs_raw_stack_event;

enum cs_stack_mode {
    CS_STACK_FP = 0,    /* frame pointers, walked by the kernel */
    CS_STACK_DWARF = 1, /* registers + a stack window, unwound here with libdwfl */
    CS_STACK_AUTO = 2,  /* DWARF where it works, frame pointers otherwise */
};

struct cs_stall_stacks;

struct cs_stall_stacks *cs_stall_stacks_new(int pid, int stackmap_fd, int samples_fd,
                                            enum cs_stack_mode mode);
void cs_stall_stacks_free(struct cs_stall_stacks *ss);

/* A raw stack window from BPF (struct cs_raw_stack_event), kept until its stall ends. */
void cs_stall_stacks_add_raw(struct cs_stall_stacks *ss, const void *data, size_t size);

/* Drops everything kept for slice `seq` of `tid` (a stall suppressed by the rate limit). */
void cs_stall_stacks_forget(struct cs_stall_stacks *ss, int tid, uint64_t seq);

/*
 * Fills s->stacks / s->nstacks for stall (s->tid, s->seq): the on-CPU samples, most
 * frequent first, and the blocking stack `blocking_stack_id` (first when the stall was
 * mostly off-CPU). In DWARF/auto mode the blocking stack is unwound from `blocking_raw`
 * (NULL: the window that came with the stall event). `final`: the stall ended, so its
 * samples are consumed.
 */
void cs_stall_stacks_collect(struct cs_stall_stacks *ss, struct cs_stall *s, int blocking_stack_id,
                             const struct cs_raw_stack_event *blocking_raw, bool final);

/* Frees what cs_stall_stacks_collect allocated in `s` (strings belong to the symbolizer). */
void cs_stall_stacks_release(struct cs_stall *s);

/* Folds each stack that is the innermost part of a deeper one (an unwind cut short) into
 * it; the deeper stack takes the earlier place. Returns the new count. */
unsigned cs_stacks_fold_cut_short(struct cs_stack *st, unsigned n);

/* Samples or windows that could not be kept. */
uint64_t cs_stall_stacks_lost(const struct cs_stall_stacks *ss);

#endif
