// Helpers for the libcorun tests: run C++ lambdas as tasks.
#pragma once

#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "corun.h"

using task_body = std::function<int(intptr_t *)>;

inline int corun_test_trampoline(void *arg, intptr_t *result)
{
    auto *f = static_cast<task_body *>(arg);
    int r = (*f)(result);
    delete f;
    return r;
}

// A task cancelled before it first ran never calls the trampoline: free its body here.
inline void corun_test_release(void *arg)
{
    delete static_cast<task_body *>(arg);
}

// Runs body as co_run's main task; returns co_run's status.
inline int run_main(task_body body, intptr_t *result = nullptr)
{
    return co_run(corun_test_trampoline, new task_body(std::move(body)), result);
}

inline int run_main_void(std::function<void()> body)
{
    return run_main([body](intptr_t *) {
        body();
        return 0;
    });
}

// Spawns body as a task (on the current loop); returns the handle (nullptr on failure).
inline co_task *spawn(task_body body, const char *name = nullptr, unsigned flags = 0,
                      size_t stack = 0, int *status = nullptr)
{
    co_spawn_opts opts{name, stack, flags};
    co_task *t = nullptr;
    auto *f = new task_body(std::move(body));
    int r = co_spawn((flags & CO_SPAWN_DETACHED) ? nullptr : &t, corun_test_trampoline, f, &opts);
    if (r != 0)
        delete f;
    else if (t)
        co_set_arg_release(t, corun_test_release);
    if (status)
        *status = r;
    return t;
}

inline int group_spawn(co_group *g, task_body body, const char *name = nullptr)
{
    co_spawn_opts opts{name, 0, 0};
    auto *f = new task_body(std::move(body));
    int r = co_group_spawn(g, corun_test_trampoline, f, &opts);
    if (r != 0)
        delete f;
    return r;
}

// group_spawn that also returns the child's handle (co_group_spawn_task).
inline co_task *group_spawn_task(co_group *g, task_body body, const char *name = nullptr)
{
    co_spawn_opts opts{name, 0, 0};
    auto *f = new task_body(std::move(body));
    co_task *t = nullptr;
    if (co_group_spawn_task(g, &t, corun_test_trampoline, f, &opts) != 0)
        delete f;
    else
        co_set_arg_release(t, corun_test_release);
    return t;
}

// Is this test binary running under an emulator (a cross build's exe_wrapper, qemu-user:
// docs/building.md)? meson sets MESON_EXE_WRAPPER for the tests it runs through one.
// qemu-user cannot do what a few tests need: another process reading ours at our
// addresses (its guest addresses are not the host's), an address-space limit (it reserves
// the guest's address space up front), fork() after threads were started.
inline bool under_emulator()
{
    const char *w = std::getenv("MESON_EXE_WRAPPER");
    return w && *w;
}

constexpr int64_t ms_ns(int64_t ms)
{
    return ms * 1000000;
}
