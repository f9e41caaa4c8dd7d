#include "corun_errors.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "exit_codes.h"
#include "proc.h"

int cs_corun_report_error(const char *verb, int pid, int err, const char *why)
{
    char comm[32];
    cs_proc_comm(pid, comm, sizeof comm);
    switch (err) {
    case -ESRCH:
        fprintf(stderr, "coscope: no such process %d\n", pid);
        return CS_EXIT_NO_PROCESS;
    case -ENOENT:
        fprintf(stderr, "coscope: PID %d (%s) does not use libcorun: %s needs its task table\n",
                pid, comm, verb);
        return CS_EXIT_NOT_CORUN;
    case -EPERM:
    case -EACCES:
        fprintf(stderr, "coscope: PID %d (%s): %s\n", pid, comm, why);
        return CS_EXIT_PERMISSION;
    case -EPROTO:
        fprintf(stderr, "coscope: PID %d (%s): %s\n", pid, comm, why);
        return CS_EXIT_NOT_CORUN;
    case -ENOMEM:
        fprintf(stderr, "coscope: out of memory\n");
        return CS_EXIT_FAILURE;
    default:
        fprintf(stderr, "coscope: PID %d (%s): %s (%s)\n", pid, comm, why, strerror(-err));
        return CS_EXIT_FAILURE;
    }
}
