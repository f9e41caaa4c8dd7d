/* Generators (async for): a producer task yields values to a consumer, one at a time.
 *
 * Lazy like a Python async generator: the producer only runs when the consumer asks for
 * the next value (co_gen_next), and stops at each co_gen_yield until asked again. A value
 * produced while the consumer's wait was cut short (deadline, cancellation) is kept for
 * its next co_gen_next, never dropped. */
#include <stdlib.h>

#include "waitq.h"

struct co_gen {
    co_task *producer;
    co_gen_fn fn;
    void *arg;
    struct co_waitq consumer_q; /* the consumer waiting for a value */
    struct co_waitq producer_q; /* the producer waiting for a request */
    intptr_t value;
    bool has_value;
    bool requested; /* the consumer wants a value the producer has not yielded yet */
    bool finished;
    int status; /* the producer's return, once finished */
};

/* Parks the producer until the consumer asks for a value. */
static int wait_request(struct co_gen *g)
{
    while (!g->requested) {
        struct co__wq_node w;
        int rc = co__waitq_wait(&g->producer_q, &w, CORUN_WAIT_GEN, g, CO_NO_DEADLINE);
        if (rc)
            return rc;
    }
    return 0;
}

static int producer_main(void *arg, intptr_t *result)
{
    (void)result;
    struct co_gen *g = arg;
    int rc = wait_request(g);
    if (rc == 0)
        rc = g->fn(g, g->arg);
    g->status = rc;
    g->finished = true;
    co__waitq_wake_first(&g->consumer_q, 0);
    return rc == CO_ECANCELED ? 0 : rc; /* a closed generator is no failure of the task */
}

int co_gen_spawn(co_gen **out, co_gen_fn fn, void *arg, const struct co_spawn_opts *opts)
{
    if (!out || !fn)
        return CO_EINVAL;
    struct co_gen *g = calloc(1, sizeof *g);
    if (!g)
        return CO_ENOMEM;
    g->fn = fn;
    g->arg = arg;
    struct co_spawn_opts o = opts ? *opts : (struct co_spawn_opts){0};
    o.flags &= ~(unsigned)CO_SPAWN_DETACHED; /* co_gen_close joins it */
    if (!o.name)
        o.name = "generator";
    int rc = co_spawn(&g->producer, producer_main, g, &o);
    if (rc < 0) {
        free(g);
        return rc;
    }
    *out = g;
    return 0;
}

int co_gen_yield(co_gen *g, intptr_t value)
{
    if (!g || co__current() != g->producer)
        return CO_EINVAL;
    g->value = value;
    g->has_value = true;
    g->requested = false;
    co__waitq_wake_first(&g->consumer_q, 0);
    return wait_request(g); /* CO_ECANCELED: the generator is being closed */
}

int co_gen_next(co_gen *g, intptr_t *value, int64_t deadline_ns)
{
    if (!g || !co__current() || co__current() == g->producer)
        return CO_EINVAL;
    if (!co__waitq_empty(&g->consumer_q))
        return CO_EBUSY; /* one consumer at a time */
    while (!g->has_value) {
        if (g->finished)
            return g->status ? g->status : CO_ECLOSED;
        if (!g->requested) {
            g->requested = true;
            co__waitq_wake_first(&g->producer_q, 0);
        }
        struct co__wq_node w;
        int rc = co__waitq_wait(&g->consumer_q, &w, CORUN_WAIT_GEN, g, deadline_ns);
        if (rc)
            return rc; /* the request stays: a value produced meanwhile is kept */
    }
    g->has_value = false;
    if (value)
        *value = g->value;
    return 0;
}

int co_gen_close(co_gen *g)
{
    if (!g)
        return CO_EINVAL;
    if (!co__current())
        return CO_EPERM;
    co_cancel(g->producer); /* a no-op if it already finished */
    /* The producer must be gone before g is freed: do not let our own cancellation cut
     * this wait short (it is delivered at our next suspension). */
    co_shield_begin();
    struct co_outcome out = {0};
    int rc = co_join(g->producer, &out, CO_NO_DEADLINE);
    co_shield_end();
    free(g);
    if (rc)
        return rc;
    return out.error == CO_ECANCELED ? 0 : out.error;
}
