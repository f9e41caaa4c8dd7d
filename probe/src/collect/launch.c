#include "launch.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

/*
 * execvp without its fallback: execvp runs a file the kernel refuses with ENOEXEC (a text
 * file without "#!") through /bin/sh, and coscope would then watch a shell. Searches PATH
 * the way execvp does (a name with a '/' is used as is; EACCES on one directory does not
 * stop the search) and returns the errno of the exec that failed.
 */
static int exec_without_shell(char *const argv[])
{
    const char *name = argv[0];
    if (!*name)
        return ENOENT;
    if (strchr(name, '/')) {
        execv(name, argv);
        return errno;
    }
    const char *path = getenv("PATH");
    if (!path)
        path = "/bin:/usr/bin";
    bool denied = false;
    for (const char *dir = path;; dir++) {
        const char *end = strchrnul(dir, ':');
        char file[PATH_MAX];
        int n = end == dir ? snprintf(file, sizeof file, "%s", name) /* "": this directory */
                           : snprintf(file, sizeof file, "%.*s/%s", (int)(end - dir), dir, name);
        if (n > 0 && (size_t)n < sizeof file) {
            execv(file, argv);
            if (errno == EACCES)
                denied = true;
            else if (errno != ENOENT && errno != ENOTDIR && errno != ELOOP &&
                     errno != ENAMETOOLONG && errno != ESTALE)
                return errno; /* found, but it cannot run (ENOEXEC …) */
        }
        if (!*end)
            break;
        dir = end;
    }
    return denied ? EACCES : ENOENT;
}

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
        int err = exec_without_shell(argv);
        if (write(report[1], &err, sizeof err) < 0)
            _exit(127);
        _exit(127);
    }
    close(report[1]);
    int err = 0;
    /* EINTR: a stop signal caught (cs_target_catch_stop) while the command starts */
    ssize_t got;
    do
        got = read(report[0], &err, sizeof err);
    while (got < 0 && errno == EINTR);
    close(report[0]);
    int status;
    pid_t waited;
    do
        waited = waitpid(pid, &status, 0);
    while (waited < 0 && errno == EINTR);
    if (waited != pid)
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
