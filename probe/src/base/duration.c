#include "duration.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int cs_parse_duration_ns(const char *text, uint64_t *out_ns)
{
    static const struct {
        const char *suffix;
        double ns;
    } units[] = {{"ns", 1}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"", 1e6}};
    if (!text || !*text || *text == '-' || *text == '+')
        return -EINVAL;
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || !isfinite(v) || v < 0)
        return -EINVAL;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (!strcmp(end, units[i].suffix)) {
            double ns = v * units[i].ns;
            if (ns > 1e19)
                return -EINVAL;
            *out_ns = (uint64_t)(ns + 0.5);
            return 0;
        }
    }
    return -EINVAL;
}

int cs_parse_bytes(const char *text, uint64_t *out_bytes)
{
    if (!text || !*text || *text == '-' || *text == '+')
        return -EINVAL;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || end == text)
        return -EINVAL;
    unsigned long long mult = 1;
    if (!strcmp(end, "k") || !strcmp(end, "K"))
        mult = 1024;
    else if (!strcmp(end, "m") || !strcmp(end, "M"))
        mult = 1024 * 1024;
    else if (*end)
        return -EINVAL;
    if (v > UINT64_MAX / mult)
        return -EINVAL;
    *out_bytes = v * mult;
    return 0;
}

int cs_parse_count(const char *text, uint64_t *out)
{
    /* strtoull alone takes "-1" (as 2^64-1), " 5" and "+5" */
    if (!text || *text < '0' || *text > '9')
        return -EINVAL;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || *end)
        return -EINVAL;
    *out = v;
    return 0;
}
