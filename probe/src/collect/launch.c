#include "launch.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

int cs_launch_stopped(char *const argv[])
{
    return cs_launch_stopped_io(argv, -1, -1);
}

int cs_launch_stopped_io(char *const argv[], int stdin_fd, int output_fd)
{
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0)
        return -errno;
    pid_t pid = fork();
    if (pid < 0)
        return -errno;
    if (pid == 0) {
        close(report[0]);
        /* only the child's descriptors move: coscope's own messages stay on its stderr */
        if (stdin_fd >= 0)
            dup2(stdin_fd, 0);
        if (output_fd >= 0) {
            dup2(output_fd, 1);
            dup2(output_fd, 2);
        }
        /* A tracee stops with SIGTRAP after a successful exec: probes attach then. */
        ptrace(PTRACE_TRACEME, 0, NULL, NULL);
        execvp(argv[0], argv);
        int err = errno;
        if (write(report[1], &err, sizeof err) < 0)
            _exit(127);
        _exit(127);
    }
    close(report[1]);
    int err = 0;
    ssize_t got = read(report[0], &err, sizeof err);
    close(report[0]);
    int status;
    if (waitpid(pid, &status, 0) != pid)
        return -errno;
    if (got == (ssize_t)sizeof err) {
        fprintf(stderr, "coscope: cannot run '%s': %s\n", argv[0], strerror(err));
        return -err;
    }
    if (!WIFSTOPPED(status)) {
        fprintf(stderr, "coscope: '%s' exited before it started\n", argv[0]);
        return -ESRCH;
    }
    return pid;
}

int cs_launch_release(int pid)
{
    if (ptrace(PTRACE_DETACH, pid, NULL, NULL) != 0)
        return -errno;
    return 0;
}
