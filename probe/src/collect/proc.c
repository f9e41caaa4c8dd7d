#include "proc.h"

#include <stdio.h>
#include <string.h>

static void read_line(const char *path, char *buf, unsigned len)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return;
    if (fgets(buf, (int)len, f))
        buf[strcspn(buf, "\n")] = 0;
    fclose(f);
}

void cs_proc_comm(int pid, char *buf, unsigned len)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/comm", pid);
    snprintf(buf, len, "?");
    read_line(path, buf, len);
}

void cs_thread_comm(int pid, int tid, char *buf, unsigned len)
{
    char path[96];
    snprintf(path, sizeof path, "/proc/%d/task/%d/comm", pid, tid);
    if (len)
        buf[0] = 0;
    read_line(path, buf, len);
}
