#include "loop_detect.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "syscall_names.h"

#define MAX_TASKS 1024

struct task_tally {
    int tid;
    int waits;
};

/* The syscall number thread `tid` is in now (first field of .../syscall), -1 if running. */
static int current_syscall(int pid, int tid)
{
    char path[96];
    snprintf(path, sizeof path, "/proc/%d/task/%d/syscall", pid, tid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -2;
    char buf[64] = "";
    int nr = -2;
    if (fgets(buf, sizeof buf, f)) {
        if (!strncmp(buf, "running", 7))
            nr = -1;
        else
            nr = atoi(buf);
    }
    fclose(f);
    return nr;
}

struct cs_loop_scan {
    int pid;
    int rounds, done;
    size_t ntasks;
    struct task_tally tally[MAX_TASKS];
};

struct cs_loop_scan *cs_loop_scan_new(int pid, int rounds)
{
    struct cs_loop_scan *s = calloc(1, sizeof *s);
    if (s) {
        s->pid = pid;
        s->rounds = rounds;
    }
    return s;
}

void cs_loop_scan_free(struct cs_loop_scan *s)
{
    free(s);
}

int cs_loop_scan_round(struct cs_loop_scan *s)
{
    char dir_path[64];
    snprintf(dir_path, sizeof dir_path, "/proc/%d/task", s->pid);
    DIR *d = opendir(dir_path);
    if (!d)
        return -ESRCH;
    struct dirent *de;
    while ((de = readdir(d))) {
        int tid = atoi(de->d_name);
        if (tid <= 0)
            continue;
        size_t i = 0;
        while (i < s->ntasks && s->tally[i].tid != tid)
            i++;
        if (i == s->ntasks) {
            if (s->ntasks == MAX_TASKS)
                continue;
            s->tally[s->ntasks].tid = tid;
            s->tally[s->ntasks++].waits = 0;
        }
        if (cs_syscall_is_wait(current_syscall(s->pid, tid)))
            s->tally[i].waits++;
    }
    closedir(d);
    return ++s->done >= s->rounds;
}

int cs_loop_scan_result(struct cs_loop_scan *s, int *tids, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < s->ntasks && n < max; i++)
        if (s->tally[i].waits * 4 >= s->done && s->done > 0)
            tids[n++] = s->tally[i].tid;
    s->ntasks = 0;
    s->done = 0;
    return (int)n;
}

int cs_loop_detect(int pid, int rounds, int interval_ms, int *tids, size_t max)
{
    struct cs_loop_scan *s = cs_loop_scan_new(pid, rounds);
    if (!s)
        return -ENOMEM;
    int r;
    while ((r = cs_loop_scan_round(s)) == 0) {
        struct timespec ts = {interval_ms / 1000, (long)(interval_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    int n = r < 0 ? r : cs_loop_scan_result(s, tids, max);
    cs_loop_scan_free(s);
    return n;
}

bool cs_loop_waiting_now(int pid)
{
    struct cs_loop_scan *s = cs_loop_scan_new(pid, 1);
    if (!s)
        return false;
    int tids[1];
    bool waiting = cs_loop_scan_round(s) > 0 && cs_loop_scan_result(s, tids, 1) > 0;
    cs_loop_scan_free(s);
    return waiting;
}

int cs_tgid_of(int tid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/status", tid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -ESRCH;
    char line[256];
    int tgid = -ESRCH;
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "Tgid:", 5)) {
            tgid = atoi(line + 5);
            break;
        }
    }
    fclose(f);
    return tgid;
}

int cs_thread_exists(int pid, int tid)
{
    char path[96];
    snprintf(path, sizeof path, "/proc/%d/task/%d", pid, tid);
    return access(path, F_OK) == 0;
}
