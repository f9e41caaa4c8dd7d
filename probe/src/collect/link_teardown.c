#include "link_teardown.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include <bpf/libbpf.h>

static void *destroy_one(void *arg)
{
    bpf_link__destroy(arg);
    return NULL;
}

void cs_links_destroy(struct bpf_link **links, size_t n)
{
    pthread_t *th = calloc(n ? n : 1, sizeof *th);
    bool *started = calloc(n ? n : 1, sizeof *started);
    for (size_t i = 0; i < n; i++) {
        if (!links[i])
            continue;
        started[i] = th && started && pthread_create(&th[i], NULL, destroy_one, links[i]) == 0;
        if (!started || !started[i])
            bpf_link__destroy(links[i]);
    }
    for (size_t i = 0; i < n; i++) {
        if (started && started[i])
            pthread_join(th[i], NULL);
        links[i] = NULL;
    }
    free(th);
    free(started);
}

struct cs_teardown {
    pthread_t th;
    void (*fn)(void *);
    void *arg;
};

static void *run(void *arg)
{
    struct cs_teardown *t = arg;
    t->fn(t->arg);
    return NULL;
}

struct cs_teardown *cs_teardown_start(void (*fn)(void *), void *arg)
{
    struct cs_teardown *t = malloc(sizeof *t);
    if (t) {
        t->fn = fn;
        t->arg = arg;
        if (pthread_create(&t->th, NULL, run, t) == 0)
            return t;
        free(t);
    }
    fn(arg);
    return NULL;
}

void cs_teardown_join(struct cs_teardown *t)
{
    if (!t)
        return;
    pthread_join(t->th, NULL);
    free(t);
}
