// The statistics the stats semaphore turns on (timing.h, stats.c): what they count when a
// tracer attaches, detaches and attaches again. The tests set the semaphore themselves,
// as the kernel does when a uprobe attaches to corun:stats.
#include <catch2/catch.hpp>

#include "corun_test_util.h"

#include "internal.h"

#if CORUN_WITH_PROBES
namespace
{

uint64_t hist_total(const uint64_t *h)
{
    uint64_t n = 0;
    for (unsigned i = 0; i < CORUN_LL_BUCKETS; i++)
        n += h[i];
    return n;
}

// The largest value the highest non-empty bucket can hold (corun_ll_upper), 0 if none.
uint64_t hist_top_ns(const uint64_t *h)
{
    uint64_t top = 0;
    for (unsigned i = 0; i < CORUN_LL_BUCKETS; i++)
        if (h[i])
            top = corun_ll_upper(i);
    return top;
}

} // namespace

TEST_CASE("poll wait is not inflated by the time nobody was attached")
{
    uint64_t first = 0, detached = 0, again = 0;
    run_main_void([&] {
        co_loop *loop = co_loop_current();
        corun_stats_semaphore++;
        for (int i = 0; i < 3; i++)
            co_sleep(ms_ns(2));
        first = loop->poll_wait_ns;
        corun_stats_semaphore--;
        // Detached: the loop waits a long time in epoll_wait; nobody is counting.
        co_sleep(ms_ns(1000));
        detached = loop->poll_wait_ns;
        corun_stats_semaphore++;
        for (int i = 0; i < 3; i++)
            co_sleep(ms_ns(2));
        again = loop->poll_wait_ns;
        corun_stats_semaphore--;
    });
    REQUIRE(first > 0);
    // Attached again, three 2 ms sleeps wait a few ms, not the detached second.
    REQUIRE(again > detached);
    REQUIRE(again - detached < (uint64_t)ms_ns(500));
}

TEST_CASE("a ready time stamped before a detach does not count as a delay after re-attach")
{
    uint64_t top_ns = 0, counted = 0;
    run_main_void([&] {
        co_loop *loop = co_loop_current();
        corun_stats_semaphore++;
        co_yield ();
        co_yield (); // the loop listens now
        corun_stats_semaphore--;
        co_yield (); // readied while the loop still listens, resumed when it no longer does
        co_sleep(ms_ns(300)); // woken while nobody counts
        corun_stats_semaphore++;
        co_yield ();
        co_yield ();
        counted = hist_total(loop->sched_hist);
        top_ns = hist_top_ns(loop->sched_hist);
        corun_stats_semaphore--;
    });
    REQUIRE(counted > 0);
    REQUIRE(top_ns < 268000000); // nothing near the 300 ms since the stale stamp
}

TEST_CASE("with statistics on, every resume of a yielding task counts one scheduling delay")
{
    uint64_t sched = 0, polls = 0, wakes = 0, top_ns = 0;
    run_main_void([&] {
        co_loop *loop = co_loop_current();
        corun_stats_semaphore++;
        co_yield (); // from the next iteration on, the loop listens
        uint64_t before = hist_total(loop->sched_hist);
        co_task *t = spawn([](intptr_t *) {
            for (int i = 0; i < 1000; i++)
                co_yield ();
            return 0;
        });
        while (!co_task_done(t))
            co_sleep(ms_ns(1));
        sched = hist_total(loop->sched_hist) - before;
        top_ns = hist_top_ns(loop->sched_hist);
        polls = t->stats ? t->stats->polls : 0;
        wakes = t->stats ? t->stats->wakes : 0;
        co_join(t, nullptr, CO_NO_DEADLINE);
        corun_stats_semaphore--;
    });
    REQUIRE(polls == 1001);
    REQUIRE(wakes == 1001);
    // t's 1001 resumes, and main's own.
    REQUIRE(sched >= 1001);
    REQUIRE(top_ns < 1000000000); // every delay below 1 s, generous on a loaded machine
}
#endif
