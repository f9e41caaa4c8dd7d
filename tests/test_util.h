// Helpers shared by the test suites: run a command and capture what it printed.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

struct command_result {
    int status; // exit code, or 128+signal
    std::string out;
    std::string err;
};

// The rest of an open stream.
inline std::string slurp_stream(FILE *f)
{
    std::string s;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0)
        s.append(buf, n);
    return s;
}

inline std::string slurp_file(const std::string &path)
{
    std::string s;
    if (FILE *f = std::fopen(path.c_str(), "r")) {
        s = slurp_stream(f);
        std::fclose(f);
    }
    return s;
}

// Runs `cmd` through /bin/sh; stdout and stderr are captured separately.
inline command_result run_command(const std::string &cmd)
{
    char out_path[] = "/tmp/cs-test-out-XXXXXX";
    char err_path[] = "/tmp/cs-test-err-XXXXXX";
    int ofd = mkstemp(out_path), efd = mkstemp(err_path);
    close(ofd);
    close(efd);
    std::string full = cmd + " >" + out_path + " 2>" + err_path;
    int raw = std::system(full.c_str());
    command_result r;
    r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
    r.out = slurp_file(out_path);
    r.err = slurp_file(err_path);
    unlink(out_path);
    unlink(err_path);
    return r;
}

// A PID no process has: that of a child that has exited and been reaped (the kernel hands
// PIDs out in turn, so it is not reused before the PID space wraps). Unlike a number above
// /proc/sys/kernel/pid_max, which coscope refuses as a bad PID, it is a valid one.
inline int unused_pid()
{
    pid_t pid = fork();
    if (pid == 0)
        _exit(0);
    waitpid(pid, nullptr, 0);
    return pid;
}
