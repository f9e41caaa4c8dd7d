/* Testing async code: run each test as a co_run main task, give every wait a deadline (a
 * hung test fails instead of hanging), and check outcomes, not timings. */
#include <stdio.h>

#include "corun.h"

static int failures;
#define EXPECT(cond)                                                                               \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            printf("FAILED: %s (line %d)\n", #cond, __LINE__);                                     \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

/* The code under test: waits for a request on a queue and answers it. */
static int doubler(void *arg, intptr_t *result)
{
    struct co_queue *q = arg;
    int n;
    int rc = co_queue_get(q, &n, CO_NO_DEADLINE);
    *result = 2 * n;
    return rc;
}

static int test_doubler_answers(void *arg, intptr_t *result)
{
    (void)arg;
    (void)result;
    struct co_queue q;
    co_queue_init(&q, sizeof(int), 1);
    co_task *t;
    co_spawn(&t, doubler, &q, NULL);
    int n = 21;
    EXPECT(co_queue_put(&q, &n, co_deadline_in(1000000000)) == 0);
    struct co_outcome out;
    EXPECT(co_join(t, &out, co_deadline_in(1000000000)) == 0); /* never wait forever */
    EXPECT(out.error == 0 && out.value == 42);
    co_queue_destroy(&q);
    return 0;
}

static int test_doubler_can_be_cancelled(void *arg, intptr_t *result)
{
    (void)arg;
    (void)result;
    struct co_queue q;
    co_queue_init(&q, sizeof(int), 1);
    co_task *t;
    co_spawn(&t, doubler, &q, NULL);
    co_yield (); /* let it reach its wait */
    co_cancel(t);
    struct co_outcome out;
    EXPECT(co_join(t, &out, co_deadline_in(1000000000)) == 0);
    EXPECT(out.error == CO_ECANCELED);
    co_queue_destroy(&q);
    return 0;
}

int main(void)
{
    co_task_fn tests[] = {test_doubler_answers, test_doubler_can_be_cancelled};
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
        EXPECT(co_run(tests[i], NULL, NULL) == 0); /* a fresh loop per test */
    printf("%s\n", failures ? "some tests failed" : "all tests passed");
    return failures ? 1 : 0;
}
