/* Repairs a slice's off-CPU accounting when a context switch went unseen (see .c). */
#ifndef CS_STALL_REPAIR_H
#define CS_STALL_REPAIR_H

#include <stdbool.h>
#include <stdint.h>

#include "stalls.h"

/*
 * The off-CPU time of the ended slice `ev`, with its blocking-syscall tally `sys`
 * (`*nsys` entries, room for CS_MAX_SYSCALLS) brought in line with it. Sets *repaired
 * when the kernel's own counters show that a switch was missed and the figures were
 * corrected from them.
 */
uint64_t cs_stall_repair_off_cpu(const struct cs_stall_event *ev, struct cs_syscall_slot *sys,
                                 unsigned *nsys, bool *repaired);

#endif
