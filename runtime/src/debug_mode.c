/* Debug mode: warnings on stderr about misuse and slow code (see corun.h). */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define DEFAULT_SLOW_SLICE_NS (100 * 1000 * 1000)

struct co__debug_config co__debug = {.enabled = 0, .slow_slice_ns = DEFAULT_SLOW_SLICE_NS};

static pthread_once_t env_once = PTHREAD_ONCE_INIT;

static void read_env(void)
{
    const char *v = getenv("CORUN_DEBUG");
    if (v && *v && strcmp(v, "0") != 0)
        co__debug.enabled = 1;
}

void co__debug_init_from_env(void)
{
    pthread_once(&env_once, read_env);
}

void co_debug_enable(int64_t slow_slice_ns)
{
    co__debug_init_from_env(); /* so a later co_run does not undo this */
    if (slow_slice_ns > 0)
        co__debug.slow_slice_ns = slow_slice_ns;
    co__debug.enabled = 1;
}

int co_debug_enabled(void)
{
    co__debug_init_from_env();
    return co__debug.enabled;
}

void co__debug_warn(const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* One write per warning: lines from several loop threads do not interleave. */
    fprintf(stderr, "corun: warning: %s\n", line);
}
