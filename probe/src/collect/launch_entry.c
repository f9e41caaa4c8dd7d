#include "launch_entry.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

/* The program's entry point, from the aux vector the kernel gave it. */
static int entry_of(int pid, uint64_t *entry)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/auxv", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    Elf64_auxv_t av;
    int err = -ENOENT;
    while (read(fd, &av, sizeof av) == (ssize_t)sizeof av && av.a_type != AT_NULL) {
        if (av.a_type == AT_ENTRY) {
            *entry = av.a_un.a_val;
            err = 0;
            break;
        }
    }
    close(fd);
    return err;
}

int cs_launch_run_to_entry(int pid)
{
#if defined(__x86_64__)
    uint64_t entry = 0;
    int err = entry_of(pid, &entry);
    if (err)
        return err;
    errno = 0;
    long orig = ptrace(PTRACE_PEEKTEXT, pid, (void *)entry, NULL);
    if (errno)
        return -errno;
    long trap = (long)(((unsigned long)orig & ~0xfful) | 0xcc); /* int3 */
    if (ptrace(PTRACE_POKETEXT, pid, (void *)entry, (void *)trap) != 0)
        return -errno;
    int sig = 0;
    for (;;) {
        if (ptrace(PTRACE_CONT, pid, NULL, (void *)(long)sig) != 0)
            return -errno;
        int status;
        pid_t waited;
        do /* EINTR: a stop signal the command line catches */
            waited = waitpid(pid, &status, 0);
        while (waited < 0 && errno == EINTR);
        if (waited != pid)
            return -errno;
        if (!WIFSTOPPED(status))
            return -ESRCH; /* exited (or was killed) before its first instruction */
        sig = WSTOPSIG(status);
        if (sig != SIGTRAP)
            continue; /* a signal for the program: deliver it and go on */
        struct user_regs_struct regs;
        if (ptrace(PTRACE_GETREGS, pid, NULL, &regs) != 0)
            return -errno;
        if (regs.rip != entry + 1) {
            sig = 0; /* a trap that is not ours: not expected before the entry point */
            continue;
        }
        /* Put the instruction back and step back onto it. */
        if (ptrace(PTRACE_POKETEXT, pid, (void *)entry, (void *)orig) != 0)
            return -errno;
        regs.rip = entry;
        if (ptrace(PTRACE_SETREGS, pid, NULL, &regs) != 0)
            return -errno;
        return 0;
    }
#else
    (void)pid;
    (void)entry_of;
    return -ENOTSUP;
#endif
}
