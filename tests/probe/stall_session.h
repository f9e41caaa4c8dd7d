// Test helpers for `coscope stalls`: start a target and coscope as child processes,
// talk to the target over its stdin/stdout, and pick apart coscope's JSON lines.
#pragma once

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <string>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <vector>

#include <catch2/catch.hpp>

#include "test_util.h"

inline double mono_ms()
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

// A child process with a pipe to its stdin, a pipe from its stdout and stderr in a file.
struct child_proc {
    pid_t pid = -1;
    int in_fd = -1;
    int out_fd = -1;
    std::string err_path;
    std::string buffered;
    int exit_status = -1; // exit code or 128+signal once reaped

    child_proc() = default;
    child_proc(const child_proc &) = delete;
    child_proc &operator=(const child_proc &) = delete;

    bool start(const std::vector<std::string> &argv, const char *wrapper = nullptr)
    {
        int in[2], out[2];
        if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC))
            return false;
        char tmpl[] = "/tmp/cs-test-stderr-XXXXXX";
        int efd = mkstemp(tmpl);
        err_path = tmpl;
        pid = fork();
        if (pid == 0) {
            dup2(in[0], 0);
            dup2(out[1], 1);
            dup2(efd, 2);
            std::vector<char *> args;
            std::string wrapped;
            if (wrapper) {
                for (auto &a : argv)
                    wrapped += "'" + a + "' ";
                args = {(char *)"/bin/sh", (char *)"-c", nullptr, nullptr};
                wrapped = std::string(wrapper) + " " + wrapped;
                args[2] = (char *)wrapped.c_str();
            } else {
                for (auto &a : argv)
                    args.push_back((char *)a.c_str());
                args.push_back(nullptr);
            }
            execv(args[0], args.data());
            _exit(127);
        }
        close(in[0]);
        close(out[1]);
        close(efd);
        in_fd = in[1];
        out_fd = out[0];
        return pid > 0;
    }

    void send(const std::string &line)
    {
        std::string l = line + "\n";
        if (write(in_fd, l.data(), l.size()) < 0)
            perror("write");
    }

    // Next stdout line into `line`; false after timeout_ms or at EOF.
    bool next_line(std::string &line, int timeout_ms)
    {
        double deadline = mono_ms() + timeout_ms;
        for (;;) {
            auto nl = buffered.find('\n');
            if (nl != std::string::npos) {
                line = buffered.substr(0, nl);
                buffered.erase(0, nl + 1);
                return true;
            }
            int left = (int)(deadline - mono_ms());
            if (left <= 0)
                return false;
            struct pollfd pfd = {out_fd, POLLIN, 0};
            if (poll(&pfd, 1, left) <= 0)
                continue;
            char buf[4096];
            ssize_t n = read(out_fd, buf, sizeof buf);
            if (n <= 0)
                return false;
            buffered.append(buf, (size_t)n);
        }
    }

    // Next stdout line, or "" after timeout_ms / EOF.
    std::string read_line(int timeout_ms)
    {
        std::string line;
        return next_line(line, timeout_ms) ? line : "";
    }

    // All remaining stdout lines until EOF (or timeout_ms).
    std::vector<std::string> read_all(int timeout_ms)
    {
        std::vector<std::string> lines;
        double deadline = mono_ms() + timeout_ms;
        std::string line;
        while (mono_ms() < deadline && next_line(line, (int)(deadline - mono_ms()) + 1))
            lines.push_back(line);
        return lines;
    }

    std::string err() const
    {
        return slurp_file(err_path);
    }

    // Waits until stderr contains `what`; false after timeout_ms.
    bool wait_err(const std::string &what, int timeout_ms)
    {
        double deadline = mono_ms() + timeout_ms;
        while (mono_ms() < deadline) {
            if (err().find(what) != std::string::npos)
                return true;
            if (exited())
                return err().find(what) != std::string::npos;
            usleep(20000);
        }
        return false;
    }

    bool exited()
    {
        if (exit_status >= 0)
            return true;
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            exit_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
            return true;
        }
        return false;
    }

    // Waits for exit up to timeout_ms; -1 if still running.
    int wait_exit(int timeout_ms)
    {
        double deadline = mono_ms() + timeout_ms;
        while (!exited() && mono_ms() < deadline)
            usleep(10000);
        return exit_status;
    }

    ~child_proc()
    {
        if (pid > 0 && !exited()) {
            kill(pid, SIGKILL);
            waitpid(pid, nullptr, 0);
        }
        if (in_fd >= 0)
            close(in_fd);
        if (out_fd >= 0)
            close(out_fd);
        if (!err_path.empty())
            unlink(err_path.c_str());
    }
};

// The number after "key": in a JSON line, or -1.
inline long long json_number(const std::string &line, const std::string &key)
{
    auto at = line.find("\"" + key + "\":");
    if (at == std::string::npos)
        return -1;
    return std::atoll(line.c_str() + at + key.size() + 3);
}

inline bool json_has(const std::string &line, const std::string &fragment)
{
    return line.find(fragment) != std::string::npos;
}

// The "stack":[...] array of a stall line (the most frequent / blocking stack).
inline std::string json_main_stack(const std::string &line)
{
    auto at = line.find("\"stack\":[");
    if (at == std::string::npos)
        return "";
    bool in_string = false;
    for (size_t i = at + 9; i < line.size(); i++) {
        char c = line[i];
        if (in_string && c == '\\')
            i++;
        else if (c == '"')
            in_string = !in_string;
        else if (!in_string && c == ']')
            return line.substr(at, i + 1 - at);
    }
    return line.substr(at);
}

// total_us of syscall `name` in a stall line, or -1.
inline long long json_syscall_us(const std::string &line, const std::string &name)
{
    auto at = line.find("{\"name\":\"" + name + "\"");
    if (at == std::string::npos)
        return -1;
    return json_number(line.substr(at), "total_us");
}

inline std::vector<std::string> final_stalls(const std::vector<std::string> &lines)
{
    std::vector<std::string> out;
    for (auto &l : lines)
        if (json_has(l, "\"type\":\"stall\"") && json_has(l, "\"ongoing\":false"))
            out.push_back(l);
    return out;
}

// A target event loop ready for commands, and `coscope stalls --json` attached to it.
struct stall_session {
    child_proc target;
    child_proc cs;

    void start(const std::string &target_path, std::vector<std::string> extra = {})
    {
        REQUIRE(target.start({target_path}));
        REQUIRE(target.read_line(10000) == "ready");
        std::vector<std::string> argv = {
            COSCOPE_EXE, "stalls", "-p", std::to_string(target.pid), "--json", "--max-rate", "0"};
        argv.insert(argv.end(), extra.begin(), extra.end());
        REQUIRE(cs.start(argv));
        INFO(cs.err());
        REQUIRE(cs.wait_err("watching 1 loop thread", 20000));
    }

    // Runs one stall command in the target; returns what the target measured (ms).
    double inject(const std::string &command)
    {
        target.send(command);
        std::string done = target.read_line(20000);
        REQUIRE(done.rfind("done ", 0) == 0);
        return std::atof(done.c_str() + 5);
    }

    // Stops coscope (SIGINT) and returns everything it printed.
    std::vector<std::string> finish()
    {
        usleep(300000); // let the last wait call be entered and the event read
        kill(cs.pid, SIGINT);
        auto lines = cs.read_all(20000);
        CHECK(cs.wait_exit(10000) == 0);
        return lines;
    }
};

// The final records whose stack mentions `symbol`.
inline std::vector<std::string> stalls_with(const std::vector<std::string> &lines,
                                            const std::string &symbol)
{
    std::vector<std::string> out;
    for (auto &l : final_stalls(lines))
        if (json_has(l, "\"symbol\":\"" + symbol + "\""))
            out.push_back(l);
    return out;
}

// The final records in which syscall `name` blocked for more than min_us.
inline std::vector<std::string> stalls_blocked_in(const std::vector<std::string> &lines,
                                                  const std::string &name, long long min_us)
{
    std::vector<std::string> out;
    for (auto &l : final_stalls(lines))
        if (json_syscall_us(l, name) > min_us)
            out.push_back(l);
    return out;
}

// Sum of "total_us" over the syscalls of a stall line: its blocking time.
inline long long json_blocked_us(const std::string &line)
{
    long long sum = 0;
    for (size_t at = line.find("\"total_us\":"); at != std::string::npos;
         at = line.find("\"total_us\":", at + 1))
        sum += std::atoll(line.c_str() + at + 11);
    return sum;
}

// coscope's duration is the whole slice; the target measured only the stall inside it.
// At least 90% of what the target measured; at most 110% + 15 ms once the time the loop
// spent preempted (off-CPU outside any blocking call: a loaded machine) is taken out.
inline void check_duration(const std::string &stall, double measured_ms)
{
    double got_ms = (double)json_number(stall, "duration_us") / 1e3;
    double preempted_ms = (double)(json_number(stall, "off_cpu_us") - json_blocked_us(stall)) / 1e3;
    if (preempted_ms < 0)
        preempted_ms = 0;
    INFO("coscope " << got_ms << " ms (" << preempted_ms << " ms preempted), target measured "
                    << measured_ms << " ms");
    CHECK(got_ms >= measured_ms * 0.9);
    CHECK(got_ms - preempted_ms <= measured_ms * 1.1 + 15);
}

// One line per final stall: duration, on/off-CPU and syscalls (for failure messages).
inline std::string stalls_overview(const std::vector<std::string> &lines)
{
    std::string out;
    for (auto &l : final_stalls(lines)) {
        out += "stall " + std::to_string(json_number(l, "duration_us")) + " us, on " +
               std::to_string(json_number(l, "on_cpu_us")) + ", off " +
               std::to_string(json_number(l, "off_cpu_us"));
        auto at = l.find("\"syscalls\":[");
        if (at != std::string::npos)
            out += " " + l.substr(at, l.find(']', at) - at + 1);
        out += "\n";
    }
    return out;
}
