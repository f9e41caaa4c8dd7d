#include "proc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

int cs_thread_syscall(int pid, int tid)
{
    char path[96], buf[64] = "";
    snprintf(path, sizeof path, "/proc/%d/task/%d/syscall", pid, tid);
    read_line(path, buf, sizeof buf);
    if (!buf[0])
        return -2;
    if (!strncmp(buf, "running", 7))
        return -1;
    return atoi(buf);
}

bool cs_proc_is_go(int pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/exe", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool go = false;
    elf_version(EV_CURRENT);
    Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
    size_t shstrndx;
    if (elf && elf_getshdrstrndx(elf, &shstrndx) == 0) {
        for (Elf_Scn *scn = elf_nextscn(elf, NULL); scn && !go; scn = elf_nextscn(elf, scn)) {
            GElf_Shdr sh;
            const char *name =
                gelf_getshdr(scn, &sh) ? elf_strptr(elf, shstrndx, sh.sh_name) : NULL;
            go = name && (!strcmp(name, ".go.buildinfo") || !strcmp(name, ".note.go.buildid"));
        }
    }
    elf_end(elf);
    close(fd);
    return go;
}

bool cs_proc_has_event_fd(int pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd", pid);
    int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    if (!d) {
        if (dfd >= 0)
            close(dfd);
        return false;
    }
    bool found = false;
    struct dirent *de;
    while (!found && (de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char target[64];
        ssize_t n = readlinkat(dfd, de->d_name, target, sizeof target - 1);
        if (n <= 0)
            continue;
        target[n] = 0;
        found =
            !strcmp(target, "anon_inode:[eventpoll]") || !strcmp(target, "anon_inode:[io_uring]");
    }
    closedir(d);
    return found;
}

int cs_proc_may_trace(int pid, char *why, size_t why_len)
{
    char path[64], exe[64];
    snprintf(path, sizeof path, "/proc/%d/exe", pid);
    /* The kernel reads this link for us only if ptrace_may_access(PTRACE_MODE_READ_FSCREDS)
     * lets us: the same test as for the target's maps and stacks, made before any probe
     * is attached (BPF capabilities alone would let us watch anyone's process). */
    if (readlink(path, exe, sizeof exe) >= 0)
        return 0;
    int err = errno;
    if (err != EACCES && err != EPERM)
        return err == ENOENT && kill(pid, 0) != 0 && errno == ESRCH ? -ESRCH : 0;
    struct stat st;
    snprintf(path, sizeof path, "/proc/%d", pid);
    if (stat(path, &st) != 0)
        snprintf(why, why_len, "%s", strerror(err));
    else if (st.st_uid != geteuid())
        snprintf(why, why_len,
                 "it runs as uid %u, coscope as uid %u: run coscope as that user, or with "
                 "CAP_SYS_PTRACE",
                 (unsigned)st.st_uid, (unsigned)geteuid());
    else
        snprintf(why, why_len,
                 "the kernel refuses to let this user read it (not dumpable?): "
                 "run coscope with CAP_SYS_PTRACE");
    return -EACCES;
}

bool cs_proc_is_kernel_thread(int pid)
{
    enum { PF_KTHREAD_FLAG = 0x00200000 }; /* include/linux/sched.h */
    char path[64], line[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    bool got = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    /* "PID (COMM) STATE PPID PGRP SESSION TTY TPGID FLAGS …": COMM may hold ") ", so
     * the fields start after its last ')' */
    char *rest = got ? strrchr(line, ')') : NULL;
    unsigned long flags;
    if (!rest || sscanf(rest + 1, " %*c %*d %*d %*d %*d %*d %lu", &flags) != 1)
        return false;
    return flags & PF_KTHREAD_FLAG;
}
