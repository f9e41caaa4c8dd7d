// Helpers for the libcorun I/O-layer tests: run a body as a loop's main task.
#pragma once

#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "corun.h"

// Runs fn as co_run's main task and returns its status (fn may use REQUIRE only through
// recorded values: Catch2 assertions must not unwind through coroutine stacks).
template <typename F> inline int run_in_loop(F fn)
{
    struct box {
        F *f;
    } b{&fn};
    return co_run(
        [](void *arg, intptr_t *) -> int {
            auto *bx = static_cast<box *>(arg);
            return (*bx->f)();
        },
        &b, nullptr);
}

// Spawns a task running a captureless-convertible callable with an argument.
inline co_task *spawn_named(const char *name, co_task_fn fn, void *arg)
{
    co_task *t = nullptr;
    struct co_spawn_opts opts = {};
    opts.name = name;
    if (co_spawn(&t, fn, arg, &opts) != 0)
        return nullptr;
    return t;
}

inline int64_t ms_ns(int64_t ms)
{
    return ms * 1000 * 1000;
}
