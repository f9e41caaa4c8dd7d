/* Command-line value parsing shared by the libcorun examples (header-only, static). */
#ifndef CORUN_EXAMPLE_ARGS_H
#define CORUN_EXAMPLE_ARGS_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A TCP port 1..65535; -1 when s is not one. */
static inline int example_parse_port(const char *s)
{
    if (!s || !*s)
        return -1;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < 1 || v > 65535)
        return -1;
    return (int)v;
}

/* A non-negative integer; -1 when s is not one. */
static inline long long example_parse_count(const char *s)
{
    if (!s || !*s || *s == '-')
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end)
        return -1;
    return v;
}

/* A duration such as "150ms", "2s", "1.5s", "800us", "500ns" (the unit is required);
 * returns nanoseconds, or -1 when s is not a duration. */
static inline int64_t example_parse_duration_ns(const char *s)
{
    if (!s || !*s || *s == '-' || *s == '+')
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || v < 0)
        return -1;
    double scale;
    if (strcmp(end, "ns") == 0)
        scale = 1;
    else if (strcmp(end, "us") == 0)
        scale = 1e3;
    else if (strcmp(end, "ms") == 0)
        scale = 1e6;
    else if (strcmp(end, "s") == 0)
        scale = 1e9;
    else
        return -1;
    double ns = v * scale;
    if (ns > 9.2e18)
        return -1;
    return (int64_t)(ns + 0.5);
}

#endif
