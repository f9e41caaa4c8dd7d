// Sockets on libcorun: TCP over loopback and Unix socket pairs, deadlines, cancellation.
#include "rt_io_test_util.h"

#include <cstring>
#include <string>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace
{

struct echo_server {
    int lfd = -1;
    int served = 0;
};

int echo_conn(void *arg, intptr_t *)
{
    int fd = (int)(intptr_t)arg;
    char buf[512];
    for (;;) {
        ssize_t n = co_read(fd, buf, sizeof buf, CO_NO_DEADLINE);
        if (n <= 0 || co_write_all(fd, buf, (size_t)n, CO_NO_DEADLINE) < 0)
            break;
    }
    co_close(fd);
    return 0;
}

int echo_accept(void *arg, intptr_t *)
{
    auto *s = static_cast<echo_server *>(arg);
    for (;;) {
        int fd = co_accept(s->lfd, nullptr, nullptr, CO_NO_DEADLINE);
        if (fd < 0)
            return fd == CO_ECANCELED ? 0 : fd;
        s->served++;
        struct co_spawn_opts o = {};
        o.name = "echo-conn";
        o.flags = CO_SPAWN_DETACHED;
        co_spawn(nullptr, echo_conn, (void *)(intptr_t)fd, &o);
    }
}

// Connects to the echo server, sends msg, reads it back with co_readn.
int echo_roundtrip(int fd, const std::string &msg)
{
    ssize_t w = co_write_all(fd, msg.data(), msg.size(), co_deadline_in(ms_ns(5000)));
    if (w != (ssize_t)msg.size())
        return w < 0 ? (int)w : -1;
    std::string back(msg.size(), '\0');
    ssize_t r = co_readn(fd, &back[0], back.size(), co_deadline_in(ms_ns(5000)));
    if (r != (ssize_t)msg.size())
        return r < 0 ? (int)r : -1;
    return back == msg ? 0 : -2;
}

} // namespace

TEST_CASE("a TCP client and server on IPv4 loopback exchange data")
{
    int rc = run_in_loop([] {
        echo_server srv;
        srv.lfd = co_tcp_listen("127.0.0.1", 0, 16);
        CHECK(srv.lfd >= 0);
        int port = co_local_port(srv.lfd);
        CHECK(port > 0);
        co_task *acc = spawn_named("accept", echo_accept, &srv);
        for (int i = 0; i < 3; i++) {
            int fd = co_tcp_connect("127.0.0.1", (uint16_t)port, co_deadline_in(ms_ns(5000)));
            CHECK(fd >= 0);
            CHECK(echo_roundtrip(fd, "hello " + std::to_string(i)) == 0);
            std::string big(200000, 'x'); // more than a socket buffer: partial writes
            CHECK(echo_roundtrip(fd, big) == 0);
            CHECK(co_close(fd) == 0);
        }
        CHECK(srv.served == 3);
        co_cancel(acc);
        CHECK(co_join(acc, nullptr, CO_NO_DEADLINE) == 0);
        co_close(srv.lfd);
        return 0;
    });
    REQUIRE(rc == 0);
}

TEST_CASE("a TCP client and server on IPv6 loopback exchange data")
{
    int probe = socket(AF_INET6, SOCK_STREAM, 0);
    if (probe < 0) {
        WARN("no IPv6 on this machine");
        return;
    }
    close(probe);
    int rc = run_in_loop([] {
        echo_server srv;
        srv.lfd = co_tcp_listen("::1", 0, 16);
        if (srv.lfd == -EADDRNOTAVAIL)
            return 0; // IPv6 present but ::1 not configured
        CHECK(srv.lfd >= 0);
        int port = co_local_port(srv.lfd);
        co_task *acc = spawn_named("accept", echo_accept, &srv);
        int fd = co_tcp_connect("::1", (uint16_t)port, co_deadline_in(ms_ns(5000)));
        CHECK(fd >= 0);
        CHECK(echo_roundtrip(fd, "over IPv6") == 0);
        co_close(fd);
        co_cancel(acc);
        co_join(acc, nullptr, CO_NO_DEADLINE);
        co_close(srv.lfd);
        return 0;
    });
    REQUIRE(rc == 0);
}

TEST_CASE("a Unix socket server and client exchange data")
{
    std::string path = "/tmp/corun-test-" + std::to_string(getpid()) + ".sock";
    unlink(path.c_str());
    struct ctx_t {
        const char *path;
    } ctx{path.c_str()};
    static ctx_t *cp;
    cp = &ctx;
    int rc = run_in_loop([] {
        echo_server srv;
        srv.lfd = co_unix_listen(cp->path, 8);
        CHECK(srv.lfd >= 0);
        co_task *acc = spawn_named("accept", echo_accept, &srv);
        int fd = co_unix_connect(cp->path, co_deadline_in(ms_ns(5000)));
        CHECK(fd >= 0);
        CHECK(echo_roundtrip(fd, "over a Unix socket") == 0);
        co_close(fd);
        co_cancel(acc);
        co_join(acc, nullptr, CO_NO_DEADLINE);
        co_close(srv.lfd);
        return 0;
    });
    unlink(path.c_str());
    REQUIRE(rc == 0);
}

TEST_CASE("reads on a socket pair wait for data, end at EOF, and honour deadlines")
{
    int rc = run_in_loop([] {
        int sv[2];
        CHECK(co_socketpair(sv) == 0);
        char buf[16];
        // nothing to read: the deadline cuts the wait
        int64_t t0 = co_now_ns();
        CHECK(co_read(sv[0], buf, sizeof buf, co_deadline_in(ms_ns(20))) == CO_ETIMEDOUT);
        CHECK(co_now_ns() - t0 >= ms_ns(19));
        // a writer task wakes the reader
        co_task *w = spawn_named(
            "writer",
            [](void *p, intptr_t *) -> int {
                int fd = (int)(intptr_t)p;
                co_sleep(ms_ns(5));
                return co_write_all(fd, "abcdef", 6, CO_NO_DEADLINE) == 6 ? 0 : -1;
            },
            (void *)(intptr_t)sv[1]);
        CHECK(co_readn(sv[0], buf, 6, co_deadline_in(ms_ns(5000))) == 6);
        CHECK(std::memcmp(buf, "abcdef", 6) == 0);
        CHECK(co_join(w, nullptr, CO_NO_DEADLINE) == 0);
        // readn over a stream that ends early: the peer closed
        CHECK(co_write_all(sv[1], "xy", 2, CO_NO_DEADLINE) == 2);
        co_close(sv[1]);
        CHECK(co_readn(sv[0], buf, 4, co_deadline_in(ms_ns(5000))) == CO_ECLOSED);
        CHECK(co_read(sv[0], buf, sizeof buf, CO_NO_DEADLINE) == 0); // EOF
        co_close(sv[0]);
        return 0;
    });
    REQUIRE(rc == 0);
}

TEST_CASE("writing to a closed peer is an EPIPE status, not a SIGPIPE")
{
    int rc = run_in_loop([] {
        int sv[2];
        CHECK(co_socketpair(sv) == 0);
        co_close(sv[1]);
        CHECK(co_write(sv[0], "x", 1, CO_NO_DEADLINE) == -EPIPE);
        co_close(sv[0]);
        return 0;
    });
    REQUIRE(rc == 0);
}

TEST_CASE("cancelling a task blocked in accept or read returns CO_ECANCELED to it")
{
    int rc = run_in_loop([] {
        int lfd = co_tcp_listen("127.0.0.1", 0, 4);
        CHECK(lfd >= 0);
        struct st_t {
            int fd;
            int rc = 1;
        } acc_st{lfd}, rd_st{-1};
        int sv[2];
        co_socketpair(sv);
        rd_st.fd = sv[0];
        co_task_fn accept_fn = [](void *p, intptr_t *) -> int {
            auto *s = static_cast<st_t *>(p);
            s->rc = co_accept(s->fd, nullptr, nullptr, CO_NO_DEADLINE);
            return 0;
        };
        co_task_fn read_fn = [](void *p, intptr_t *) -> int {
            auto *s = static_cast<st_t *>(p);
            char b[8];
            s->rc = (int)co_read(s->fd, b, sizeof b, CO_NO_DEADLINE);
            return 0;
        };
        co_task *a = spawn_named("acceptor", accept_fn, &acc_st);
        co_task *r = spawn_named("reader", read_fn, &rd_st);
        co_sleep(ms_ns(5));
        co_cancel(a);
        co_cancel(r);
        co_task *both[] = {a, r};
        CHECK(co_gather(both, 2, nullptr, CO_NO_DEADLINE) == 0);
        CHECK(acc_st.rc == CO_ECANCELED);
        CHECK(rd_st.rc == CO_ECANCELED);
        // accept with a deadline
        CHECK(co_accept(lfd, nullptr, nullptr, co_deadline_in(ms_ns(10))) == CO_ETIMEDOUT);
        co_close(sv[0]);
        co_close(sv[1]);
        co_close(lfd);
        return 0;
    });
    REQUIRE(rc == 0);
}

TEST_CASE("connecting to a port nobody listens on reports ECONNREFUSED")
{
    int rc = run_in_loop([] {
        int lfd = co_tcp_listen("127.0.0.1", 0, 1);
        int port = co_local_port(lfd);
        co_close(lfd); // the port is now free
        CHECK(co_tcp_connect("127.0.0.1", (uint16_t)port, co_deadline_in(ms_ns(5000))) ==
              -ECONNREFUSED);
        return 0;
    });
    REQUIRE(rc == 0);
}

TEST_CASE("socket calls reject invalid arguments")
{
    int rc = run_in_loop([] {
        char b[4];
        CHECK(co_tcp_listen("not-an-address", 0, 1) == CO_EINVAL);
        CHECK(co_tcp_connect(nullptr, 1, CO_NO_DEADLINE) == CO_EINVAL);
        CHECK(co_tcp_connect("example.com", 80, CO_NO_DEADLINE) == CO_EINVAL); // no DNS
        CHECK(co_unix_listen("", 1) == CO_EINVAL);
        CHECK(co_unix_listen(std::string(200, 'a').c_str(), 1) == -ENAMETOOLONG);
        CHECK(co_read(-1, b, 4, CO_NO_DEADLINE) == CO_EINVAL);
        CHECK(co_write(3, nullptr, 4, CO_NO_DEADLINE) == CO_EINVAL);
        CHECK(co_readn(-1, b, 4, CO_NO_DEADLINE) == CO_EINVAL);
        CHECK(co_accept(-1, nullptr, nullptr, CO_NO_DEADLINE) == CO_EINVAL);
        CHECK(co_close(-1) == CO_EINVAL);
        CHECK(co_socketpair(nullptr) == CO_EINVAL);
        return 0;
    });
    REQUIRE(rc == 0);
}

namespace
{
// In a child with RLIMIT_NOFILE lowered: accept fails with EMFILE, the loop keeps going,
// and once an fd is free again accept works. Exit code 0 = all as specified.
int emfile_child_main(void *, intptr_t *)
{
    int lfd = co_tcp_listen("127.0.0.1", 0, 16);
    if (lfd < 0)
        return 10;
    int port = co_local_port(lfd);
    int client = co_tcp_connect("127.0.0.1", (uint16_t)port, co_deadline_in(ms_ns(5000)));
    if (client < 0)
        return 11;
    // use up every remaining fd
    std::vector<int> hog;
    for (;;) {
        int fd = dup(0);
        if (fd < 0)
            break;
        hog.push_back(fd);
    }
    int rc = co_accept(lfd, nullptr, nullptr, co_deadline_in(ms_ns(5000)));
    if (rc != -EMFILE)
        return 12;
    // the loop still runs: timers fire
    if (co_sleep(ms_ns(2)) != 0)
        return 13;
    close(hog.back());
    hog.pop_back();
    int fd = co_accept(lfd, nullptr, nullptr, co_deadline_in(ms_ns(5000)));
    if (fd < 0)
        return 14;
    for (int h : hog)
        close(h);
    co_close(fd);
    co_close(client);
    co_close(lfd);
    return 0;
}
} // namespace

TEST_CASE("accept out of file descriptors returns EMFILE and leaves the loop running")
{
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        struct rlimit rl = {64, 64};
        setrlimit(RLIMIT_NOFILE, &rl);
        int rc = co_run(emfile_child_main, nullptr, nullptr);
        _exit(rc < 0 ? 100 : rc);
    }
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("co_close wakes a task blocked reading that fd with CO_ECLOSED")
{
    int rc = run_in_loop([] {
        int sv[2];
        CHECK(co_socketpair(sv) == 0);
        struct st_t {
            int fd;
            long rc = 1;
        } st{sv[0]};
        co_task *r = spawn_named(
            "reader",
            [](void *p, intptr_t *) -> int {
                auto *s = static_cast<st_t *>(p);
                char b[8];
                s->rc = co_read(s->fd, b, sizeof b, CO_NO_DEADLINE);
                return 0;
            },
            &st);
        co_yield(); // the reader waits now
        CHECK(co_close(sv[0]) == 0);
        CHECK(co_join(r, nullptr, co_deadline_in(ms_ns(5000))) == 0);
        CHECK(st.rc == CO_ECLOSED);
        co_close(sv[1]);
        return 0;
    });
    REQUIRE(rc == 0);
}
