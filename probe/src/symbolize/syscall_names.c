#include "syscall_names.h"

#include <stdio.h>
#include <sys/syscall.h>

#include "cs_defs.h"

static const char *const names[] = {
#include "syscall_names.inc"
};

const char *cs_syscall_name(int nr, char *buf, int buf_len)
{
    if (nr == CS_NO_SYSCALL)
        return "(no syscall)";
    if (nr >= 0 && (unsigned)nr < sizeof names / sizeof names[0] && names[nr])
        return names[nr];
    snprintf(buf, (size_t)buf_len, "syscall_%d", nr);
    return buf;
}

const char *const cs_wait_syscalls[] = {
    "epoll_wait", "epoll_pwait", "epoll_pwait2", "poll",
    "ppoll",      "select",      "pselect6",     "io_uring_enter",
};
const int cs_wait_syscall_count = sizeof cs_wait_syscalls / sizeof cs_wait_syscalls[0];

bool cs_syscall_is_wait(int nr)
{
    switch (nr) {
    case SYS_epoll_wait:
    case SYS_epoll_pwait:
    case SYS_epoll_pwait2:
    case SYS_poll:
    case SYS_ppoll:
    case SYS_select:
    case SYS_pselect6:
    case SYS_io_uring_enter:
        return true;
    default:
        return false;
    }
}
