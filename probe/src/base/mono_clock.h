/* CLOCK_MONOTONIC in nanoseconds: the clock of bpf_ktime_get_ns and of every t_ns here. */
#ifndef CS_MONO_CLOCK_H
#define CS_MONO_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t cs_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#endif
