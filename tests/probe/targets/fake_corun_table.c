/*
 * Not libcorun, but exports a `corun_debug` symbol that looks like its debug table, with
 * a version (FAKE_VERSION) or magic (FAKE_MAGIC) this coscope must refuse. Prints "ready",
 * then waits to be killed.
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

__attribute__((visibility("default"), used)) const struct corun_debug corun_debug = {
    .magic = FAKE_MAGIC,
    .version = FAKE_VERSION,
    .size = sizeof(struct corun_debug),
};

int main(void)
{
    printf("ready %u\n", corun_debug.version);
    fflush(stdout);
    for (;;)
        pause();
}
