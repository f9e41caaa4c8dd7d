#include "record_target.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <elfutils/libdwelf.h>
#include <gelf.h>

#include "cs_config.h"
#include "mono_clock.h"
#include "proc.h"

/* The GNU build-id of the executable, as hex: cheap (one ELF note), so always taken. */
static void read_build_id(const char *path, char *hex, size_t len)
{
    hex[0] = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    elf_version(EV_CURRENT);
    Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
    const void *id = NULL;
    ssize_t n = elf ? dwelf_elf_gnu_build_id(elf, &id) : -1;
    for (ssize_t i = 0; i < n && (size_t)(2 * i + 2) < len; i++)
        snprintf(hex + 2 * i, 3, "%02x", ((const unsigned char *)id)[i]);
    if (elf)
        elf_end(elf);
    close(fd);
}

void cs_rec_target_describe(int pid, uint64_t threshold_ns, uint32_t flags, struct cs_rec_target *t)
{
    memset(t, 0, sizeof *t);
    t->pid = pid;
    t->threshold_ns = threshold_ns;
    t->flags = flags;
    snprintf(t->version, sizeof t->version, "%s", COSCOPE_VERSION);
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    t->start_realtime_ns = (uint64_t)wall.tv_sec * 1000000000ull + (uint64_t)wall.tv_nsec;
    t->start_mono_ns = cs_mono_ns();
    cs_proc_comm(pid, t->comm, sizeof t->comm);
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/exe", pid);
    ssize_t n = readlink(path, t->exe, sizeof t->exe - 1);
    t->exe[n > 0 ? n : 0] = 0;
    read_build_id(path, t->build_id, sizeof t->build_id);
}
