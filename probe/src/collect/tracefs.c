#include "tracefs.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

static const char *const candidates[] = {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"};
static const char *root;

static int has_events(const char *dir)
{
    char path[256];
    snprintf(path, sizeof path, "%s/events/syscalls", dir);
    return access(path, R_OK) == 0;
}

int cs_tracefs_setup(char *why, size_t why_len)
{
    for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++) {
        if (has_events(candidates[i])) {
            root = candidates[i];
            return 0;
        }
    }
    /* Not mounted: mount it where only coscope sees it, leaving the host as it was. */
    if (unshare(CLONE_NEWNS) != 0) {
        int err = errno;
        snprintf(why, why_len, "cannot make a private mount namespace for tracefs: %s",
                 strerror(err));
        return -err;
    }
    if (mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
        mount("tracefs", candidates[0], "tracefs", 0, NULL) != 0) {
        int err = errno;
        snprintf(why, why_len, "cannot mount tracefs at %s: %s", candidates[0], strerror(err));
        return -err;
    }
    if (!has_events(candidates[0])) {
        snprintf(why, why_len, "tracefs has no syscall events (CONFIG_FTRACE_SYSCALLS)");
        return -ENOENT;
    }
    root = candidates[0];
    return 0;
}

int cs_tracefs_event_id(const char *category, const char *name)
{
    if (!root)
        return -ENOENT;
    char path[512];
    snprintf(path, sizeof path, "%s/events/%s/%s/id", root, category, name);
    FILE *f = fopen(path, "r");
    if (!f)
        return -errno;
    int id = -ENOENT;
    if (fscanf(f, "%d", &id) != 1)
        id = -EINVAL;
    fclose(f);
    return id;
}
