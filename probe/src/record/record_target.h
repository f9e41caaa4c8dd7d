/* The TARGET record of a live process: who it is (pid, comm, exe, build-id) and when. */
#ifndef CS_RECORD_TARGET_H
#define CS_RECORD_TARGET_H

#include <stdint.h>

#include "record_types.h"

/* Fills `t` from /proc/PID (missing pieces stay empty). */
void cs_rec_target_describe(int pid, uint64_t threshold_ns, uint32_t flags,
                            struct cs_rec_target *t);

#endif
