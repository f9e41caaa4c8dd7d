// Helpers for the asyncio conformance tests: each TEST_CASE mirrors the behaviour a test of
// CPython's Lib/test/test_asyncio asserts (its name says which), written against corun.h.
// Timings have generous margins: the machine running them may be busy.
#pragma once

#include "corun_test_util.h"

// Milliseconds since start_ns.
inline int64_t elapsed_ms(int64_t start_ns)
{
    return (co_now_ns() - start_ns) / 1000000;
}

// A task body that sleeps ms and stores what co_sleep returned in *rc.
inline task_body sleeper(int64_t ms, int *rc)
{
    return [ms, rc](intptr_t *) {
        *rc = co_sleep(ms_ns(ms));
        return *rc;
    };
}

// A task body that sleeps ms, then fails with error.
inline task_body fail_after(int64_t ms, int error)
{
    return [ms, error](intptr_t *) {
        int rc = co_sleep(ms_ns(ms));
        return rc != 0 ? rc : error;
    };
}
