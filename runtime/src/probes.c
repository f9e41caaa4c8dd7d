/*
 * The USDT semaphores (see probes.h). They live in the .probes section, where tools
 * (perf, bpftrace, libbpf's USDT support) expect them; the kernel updates them in place.
 */
#include "probes.h"

#if CORUN_WITH_PROBES
#define CO__DEFINE_SEMAPHORE(name)                                                                 \
    __attribute__((visibility("default"),                                                          \
                   section(".probes"))) volatile unsigned short corun_##name##_semaphore;
CO__PROBE_LIST(CO__DEFINE_SEMAPHORE)
#else
typedef int co__no_probes; /* ISO C wants something in a translation unit */
#endif
