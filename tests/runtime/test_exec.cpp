// co_to_thread and the file helpers: blocking work off the loop thread.
#include "rt_io_test_util.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <pthread.h>
#include <string>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

namespace
{

void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, nullptr);
}

std::atomic<int> jobs_finished{0};

intptr_t blocking_double(void *arg)
{
    sleep_ms(30);
    jobs_finished++;
    return (intptr_t)arg * 2;
}

intptr_t report_thread(void *)
{
    return (intptr_t)pthread_self();
}

} // namespace

TEST_CASE("co_to_thread runs blocking work on another thread while the loop keeps running")
{
    int rc = run_in_loop([] {
        struct ticks_t {
            int n = 0;
        } ticks;
        co_task *ticker = spawn_named(
            "ticker",
            [](void *p, intptr_t *) -> int {
                auto *t = static_cast<ticks_t *>(p);
                while (co_sleep(ms_ns(2)) == 0)
                    t->n++;
                return 0;
            },
            &ticks);
        intptr_t result = 0;
        CHECK(co_to_thread(blocking_double, (void *)21, &result) == 0);
        CHECK(result == 42);
        CHECK(ticks.n >= 1); // the loop ran the ticker during the 30 ms job
        intptr_t tid = 0;
        CHECK(co_to_thread(report_thread, nullptr, &tid) == 0);
        CHECK((pthread_t)tid != pthread_self());
        co_cancel(ticker);
        co_join(ticker, nullptr, CO_NO_DEADLINE);
        return 0;
    });
    REQUIRE(rc == 0);
}

TEST_CASE("many tasks can wait on the executor at once and all get their own result")
{
    CHECK(co_executor_set_threads(0) == CO_EINVAL);
    CHECK(co_executor_set_threads(4) == 0);
    int rc = run_in_loop([] {
        struct job_t {
            intptr_t in, out = -1;
            int rc = 1;
        } jobs[12];
        co_task *t[12];
        for (int i = 0; i < 12; i++) {
            jobs[i].in = i;
            t[i] = spawn_named(
                "offload",
                [](void *p, intptr_t *) -> int {
                    auto *j = static_cast<job_t *>(p);
                    j->rc = co_to_thread(blocking_double, (void *)j->in, &j->out);
                    return j->rc;
                },
                &jobs[i]);
        }
        CHECK(co_gather(t, 12, nullptr, CO_NO_DEADLINE) == 0);
        for (int i = 0; i < 12; i++) {
            CHECK(jobs[i].rc == 0);
            CHECK(jobs[i].out == 2 * i);
        }
        CHECK(co_executor_threads() >= 1);
        CHECK(co_executor_threads() <= 4);
        return 0;
    });
    REQUIRE(rc == 0);
}

TEST_CASE("a task cancelled while its job runs returns at once; the job still finishes")
{
    jobs_finished = 0;
    int rc = run_in_loop([] {
        struct st_t {
            int rc = 1;
            int64_t returned_ns = 0;
        } st;
        co_task *t = spawn_named(
            "offload",
            [](void *p, intptr_t *) -> int {
                auto *s = static_cast<st_t *>(p);
                intptr_t r;
                s->rc = co_to_thread(
                    [](void *) -> intptr_t {
                        sleep_ms(1000);
                        jobs_finished++;
                        return 1;
                    },
                    nullptr, &r);
                s->returned_ns = co_now_ns();
                return s->rc;
            },
            &st);
        co_sleep(ms_ns(10));
        int64_t cancel_ns = co_now_ns();
        co_cancel(t);
        co_join(t, nullptr, CO_NO_DEADLINE);
        CHECK(st.rc == CO_ECANCELED);
        CHECK(jobs_finished == 0);                      // not waited for ...
        CHECK(st.returned_ns - cancel_ns < ms_ns(800)); // ... so well before the 1 s job ends
        return 0;
    });
    REQUIRE(rc == 0);
    for (int i = 0; i < 500 && jobs_finished == 0; i++)
        sleep_ms(10);
    CHECK(jobs_finished == 1); // the abandoned job ran to its end on its thread
}

TEST_CASE("co_to_thread refuses bad arguments and calls outside a task")
{
    intptr_t r;
    CHECK(co_to_thread(report_thread, nullptr, &r) == CO_EINVAL); // no loop here
    int rc = run_in_loop([] {
        intptr_t r2;
        CHECK(co_to_thread(nullptr, nullptr, &r2) == CO_EINVAL);
        return 0;
    });
    REQUIRE(rc == 0);
}

TEST_CASE("file helpers write, read back, append and fsync a file off the loop")
{
    static std::string path;
    path = "/tmp/corun-file-test-" + std::to_string(getpid());
    int rc = run_in_loop([] {
        const char *text = "first line\n";
        CHECK(co_file_write_all(path.c_str(), text, strlen(text), CO_FILE_FSYNC) == 0);
        CHECK(co_file_write_all(path.c_str(), "second\n", 7, CO_FILE_APPEND) == 0);
        char *data = nullptr;
        size_t len = 0;
        CHECK(co_file_read_all(path.c_str(), &data, &len) == 0);
        CHECK(len == strlen(text) + 7);
        CHECK(std::string(data) == "first line\nsecond\n");
        free(data);
        CHECK(co_file_read_all("/nonexistent/dir/file", &data, &len) == -ENOENT);
        CHECK(co_file_write_all("/nonexistent/dir/file", "x", 1, 0) == -ENOENT);
        CHECK(co_file_write_all(path.c_str(), "x", 1, 0x100) == CO_EINVAL);
        int fd = open(path.c_str(), O_WRONLY);
        CHECK(co_fsync(fd) == 0);
        close(fd);
        CHECK(co_fsync(-1) == CO_EINVAL);
        // a /proc file reports size 0 but has content
        CHECK(co_file_read_all("/proc/self/status", &data, &len) == 0);
        CHECK(len > 0);
        free(data);
        return 0;
    });
    unlink(path.c_str());
    REQUIRE(rc == 0);
}

TEST_CASE("a forked child can use the executor the parent already used")
{
    if (const char *w = getenv("MESON_EXE_WRAPPER"); w && *w) { // see under_emulator()
        WARN("skipped under qemu-user: fork() after threads is not reliable there");
        return;
    }
    int rc = run_in_loop([] {
        intptr_t r = 0;
        CHECK(co_to_thread(blocking_double, (void *)1, &r) == 0);
        return 0;
    });
    REQUIRE(rc == 0);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        intptr_t r = 0;
        int crc = co_run(
            [](void *p, intptr_t *) -> int {
                return co_to_thread(blocking_double, (void *)5, static_cast<intptr_t *>(p));
            },
            &r, nullptr);
        _exit(crc == 0 && r == 10 ? 0 : 1);
    }
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
}
