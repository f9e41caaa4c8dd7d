/*
 * Not libcorun, but exports a `corun_debug` symbol that looks like its debug table, with
 * a version (FAKE_VERSION) or magic (FAKE_MAGIC) this coscope must refuse. Prints "ready",
 * then waits to be killed.
 *
 * FAKE_LATE_RELOCATION=MS plays a process caught while the dynamic loader starts it: the
 * table's registry pointer holds a link-time-like offset (below the load address) for MS
 * milliseconds after "ready", then the real address of an empty registry. MS < 0: never.
 */
#include <stdio.h>
#include <unistd.h>

#include "corun_debug.h"

#ifndef FAKE_VERSION
#define FAKE_VERSION CORUN_DEBUG_VERSION
#endif
#ifndef FAKE_MAGIC
#define FAKE_MAGIC                                                                                 \
    {                                                                                              \
        'C', 'O', 'R', 'U', 'N', 'D', 'B', 'G'                                                     \
    }
#endif

#ifdef FAKE_LATE_RELOCATION
/* Writable (corun_debug.h declares the real one const): the same symbol, another C name. */
__attribute__((visibility("default"),
               used)) struct corun_debug fake_table __asm__("corun_debug") = {
    .magic = FAKE_MAGIC,
    .version = FAKE_VERSION,
    .size = sizeof(struct corun_debug),
    .registry = 0x1f380u, /* an offset, as before the dynamic loader's fix-up */
    /* A layout the reader accepts (every field at 0 of a 4 KiB struct): no loop is ever
     * read, the registry stays empty. */
    .hist_buckets = CORUN_LL_BUCKETS,
    .stats_hist_buckets = CORUN_HIST_BUCKETS,
    .pointer_size = 8,
    .loop = {.size = 4096},
    .task = {.size = 4096, .name_size = 1},
    .stats = {.size = 4096},
};
#define corun_debug fake_table
#else
__attribute__((visibility("default"), used)) const struct corun_debug corun_debug = {
    .magic = FAKE_MAGIC,
    .version = FAKE_VERSION,
    .size = sizeof(struct corun_debug),
};
#endif

int main(void)
{
    printf("ready %u\n", corun_debug.version);
    fflush(stdout);
#ifdef FAKE_LATE_RELOCATION
    static struct corun_registry empty; /* no loops */
    if (FAKE_LATE_RELOCATION >= 0) {
        usleep(FAKE_LATE_RELOCATION * 1000);
        __atomic_store_n(&corun_debug.registry, (uint64_t)(uintptr_t)&empty, __ATOMIC_RELEASE);
    }
#endif
    for (;;)
        pause();
}
