// SIGINT/SIGTERM as cancellation of the main task (opt-in), checked in child processes.
#include "rt_io_test_util.h"

#include <csignal>
#include <sys/wait.h>
#include <unistd.h>

namespace
{

int ready_fd = -1;

// Exit codes: 0 = cancelled by the signal as specified.
int signal_child_main(void *, intptr_t *)
{
    if (co_signal_cancel(co_self()) != 0)
        return 20;
    if (co_signal_cancel(co_self()) != CO_EBUSY)
        return 21;
    char b = 'r';
    if (write(ready_fd, &b, 1) != 1)
        return 22;
    int rc = co_sleep(ms_ns(20000));
    if (rc != CO_ECANCELED)
        return 23;
    // after the cancellation the task can still wait (clean-up) normally
    if (co_sleep(ms_ns(1)) != 0)
        return 24;
    return 0;
}

int run_signal_child(int signo)
{
    int p[2];
    REQUIRE(pipe(p) == 0);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        ready_fd = p[1];
        signal(SIGINT, SIG_DFL); // not Catch2's fatal-signal handlers: the defaults
        signal(SIGTERM, SIG_DFL);
        int rc = co_run(signal_child_main, nullptr, nullptr);
        if (rc != 0)
            _exit(rc > 0 ? rc : 100);
        if (co_signal_received() != signo)
            _exit(30);
        // co_run is over: the default action is back, the signal now kills
        raise(signo);
        _exit(31);
    }
    close(p[1]);
    char b;
    REQUIRE(read(p[0], &b, 1) == 1);
    close(p[0]);
    kill(pid, signo);
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}

} // namespace

TEST_CASE("SIGINT cancels the main task that opted in, then the default action returns")
{
    CHECK(run_signal_child(SIGINT) == 128 + SIGINT);
}

TEST_CASE("SIGTERM cancels the main task that opted in")
{
    CHECK(run_signal_child(SIGTERM) == 128 + SIGTERM);
}

TEST_CASE("co_signal_cancel only accepts the calling task")
{
    CHECK(co_signal_cancel(nullptr) == CO_EINVAL);
    int rc = run_in_loop([] {
        co_task *t = spawn_named(
            "other", [](void *, intptr_t *) -> int { return 0; }, nullptr);
        CHECK(co_signal_cancel(t) == CO_EINVAL);
        co_join(t, nullptr, CO_NO_DEADLINE);
        return 0;
    });
    REQUIRE(rc == 0);
}
