/*
 * The pprof encoder (report_pprof.c) takes the model's stalls, not a recording, so that
 * both `coscope report --format pprof` (a recording's stalls) and `coscope stalls --pprof`
 * (the stalls a live session kept) write the same profile.
 */
#ifndef CS_REPORT_PPROF_H
#define CS_REPORT_PPROF_H

#include <stdint.h>
#include <stdio.h>

#include "model.h"

struct cs_pprof_input {
    const struct cs_stall *const *stalls; /* in the order they started */
    size_t nstalls;
    const char *exe;      /* the target's executable, or NULL */
    uint64_t time_ns;     /* wall-clock start of the profile, 0 if unknown */
    uint64_t duration_ns; /* how long the stalls were watched, 0 if unknown */
};

/* The stalls as a gzipped profile.proto. 0, -ENOMEM or -EIO. */
int cs_pprof_write(FILE *out, const struct cs_pprof_input *in);

/* The stalls `model` kept (its most recent ones), with the executable of /proc/PID/exe;
 * closes `f`. 0, or -1 with errno set. */
int cs_pprof_write_model(FILE *f, const struct cs_model *model, int pid, uint64_t wall_ns,
                         uint64_t duration_ns);

#endif
