#include "privileges.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define CAP_SYS_ADMIN_BIT 21
#define CAP_PERFMON_BIT   38
#define CAP_BPF_BIT       39

static uint64_t effective_caps(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return 0;
    char line[256];
    uint64_t caps = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "CapEff: %" SCNx64, &caps) == 1)
            break;
    fclose(f);
    return caps;
}

bool cs_have_bpf_privileges(char *why, size_t why_len)
{
    uint64_t caps = effective_caps();
    bool admin = caps & (1ull << CAP_SYS_ADMIN_BIT);
    bool bpf = admin || (caps & (1ull << CAP_BPF_BIT));
    bool perfmon = admin || (caps & (1ull << CAP_PERFMON_BIT));
    if (bpf && perfmon)
        return true;
    snprintf(why, why_len, "permission denied: missing %s%s%s (run as root, or grant them)",
             bpf ? "" : "CAP_BPF", !bpf && !perfmon ? " and " : "", perfmon ? "" : "CAP_PERFMON");
    return false;
}
