// A real terminal for tests: a private tmux server (its own -L socket, no config) with
// one session running an interactive shell. Tests type with send-keys and read what a
// person would see with capture-pane. The server is killed when the object goes away.
#pragma once

#include <arpa/inet.h>
#include <cstdio>
#include <netinet/in.h>
#include <sys/socket.h>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

#include "probe/stall_session.h"

struct tmux_screen {
    std::string socket;

    explicit tmux_screen(int cols = 100, int rows = 30)
    {
        // Unique per test process and instance: other tests may run tmux too.
        static int instance;
        socket = "cs-viewer-test-" + std::to_string(getpid()) + "-" + std::to_string(instance++);
        run("-f /dev/null new-session -d -s top -x " + std::to_string(cols) + " -y " +
            std::to_string(rows) + " \"env -i PATH=/usr/bin:/bin HOME=/tmp TERM=screen " +
            "LANG=C.UTF-8 PS1='cs-shell$ ' sh\"");
    }
    tmux_screen(const tmux_screen &) = delete;
    tmux_screen &operator=(const tmux_screen &) = delete;
    ~tmux_screen()
    {
        // tmux leaves its socket file behind: remove it too.
        std::string path = run("display-message -p '#{socket_path}'");
        run("kill-server");
        path = path.substr(0, path.find('\n'));
        if (path.find(socket) != std::string::npos)
            unlink(path.c_str());
    }

    // Runs `tmux -L socket ARGS`; returns its stdout.
    std::string run(const std::string &args) const
    {
        std::string cmd = "tmux -L " + socket + " " + args + " 2>/dev/null";
        std::string out;
        FILE *p = popen(cmd.c_str(), "r");
        if (!p)
            return out;
        char buf[4096];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, p)) > 0)
            out.append(buf, n);
        pclose(p);
        return out;
    }

    // Types a command line into the shell and presses Enter.
    void type_line(const std::string &line) const
    {
        run("send-keys -t top -l '" + line + "'");
        run("send-keys -t top Enter");
    }

    // Presses keys by tmux name, separated by spaces ("q", "Enter", "Escape", "Down").
    void keys(const std::string &names) const
    {
        // Each name quoted: "?" must not meet the shell's globbing.
        std::string quoted;
        size_t at = 0;
        while (at < names.size()) {
            size_t sp = names.find(' ', at);
            if (sp == std::string::npos)
                sp = names.size();
            quoted += " '" + names.substr(at, sp - at) + "'";
            at = sp + 1;
        }
        run("send-keys -t top" + quoted);
    }

    std::string screen() const
    {
        return run("capture-pane -p -t top");
    }

    // Waits until the screen shows `text`; returns the screen (check it contains text).
    std::string wait_for(const std::string &text, int timeout_ms = 15000) const
    {
        double deadline = mono_ms() + timeout_ms;
        std::string s;
        do {
            s = screen();
            if (s.find(text) != std::string::npos)
                return s;
            usleep(100000);
        } while (mono_ms() < deadline);
        return s;
    }

    // Waits until `pred(screen)` holds; returns the last screen.
    template <class Pred> std::string wait_until(Pred pred, int timeout_ms = 15000) const
    {
        double deadline = mono_ms() + timeout_ms;
        std::string s;
        do {
            s = screen();
            if (pred(s))
                return s;
            usleep(100000);
        } while (mono_ms() < deadline);
        return s;
    }

    void resize(int cols, int rows) const
    {
        run("resize-window -t top -x " + std::to_string(cols) + " -y " + std::to_string(rows));
    }

    // The pid of the shell in the pane.
    int shell_pid() const
    {
        return std::atoi(run("display-message -p -t top '#{pane_pid}'").c_str());
    }
};

// The pid of a child of `parent` whose comm is `comm`, or -1.
inline int child_named(int parent, const std::string &comm)
{
    std::string tasks =
        "/proc/" + std::to_string(parent) + "/task/" + std::to_string(parent) + "/children";
    std::string kids = slurp_file(tasks);
    size_t at = 0;
    while (at < kids.size()) {
        int pid = std::atoi(kids.c_str() + at);
        if (pid > 0) {
            std::string c = slurp_file("/proc/" + std::to_string(pid) + "/comm");
            if (c.substr(0, c.find('\n')) == comm)
                return pid;
        }
        size_t sp = kids.find(' ', at);
        if (sp == std::string::npos)
            break;
        at = sp + 1;
    }
    return -1;
}

inline int count_lines(const std::string &s)
{
    int n = 0;
    for (char c : s)
        n += c == '\n';
    return n;
}

inline std::string line_of(const std::string &screen, int i)
{
    size_t at = 0;
    for (int k = 0; k < i; k++) {
        at = screen.find('\n', at);
        if (at == std::string::npos)
            return "";
        at++;
    }
    return screen.substr(at, screen.find('\n', at) - at);
}

// A TCP port nobody listens on now (the kernel's choice for port 0), or 0.
inline int free_tcp_port()
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int port = 0;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}
