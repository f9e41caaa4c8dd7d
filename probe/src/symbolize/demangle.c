#include "demangle.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libiberty/demangle.h>

/* Rust's legacy mangling ends in "::h" and 16 hex digits, a hash of the crate; perf
 * drops it. libiberty drops it too unless asked to be verbose: this is the guard for a
 * name it left as is. */
static void strip_rust_hash(char *name)
{
    size_t len = strlen(name);
    if (len < 19)
        return;
    char *h = name + len - 19;
    if (strncmp(h, "::h", 3) != 0)
        return;
    for (const char *p = h + 3; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return;
    *h = '\0';
}

bool cs_demangle(const char *name, char *buf, size_t len)
{
    /* Only the two manglings we know: "_Z" (C++, Rust legacy) and "_R" (Rust v0). Any
     * other name goes untouched (libiberty would try old GNU styles on it). */
    if (!name || name[0] != '_' || (name[1] != 'Z' && name[1] != 'R'))
        return false;
    char *out = cplus_demangle(name, DMGL_PARAMS | DMGL_ANSI | DMGL_AUTO);
    if (!out)
        return false;
    strip_rust_hash(out);
    snprintf(buf, len, "%s", out);
    free(out);
    return true;
}
