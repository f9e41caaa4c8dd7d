/* corun-groups: structured concurrency — a task group whose failing child cancels its
 * siblings, and a timeout scope that cancels a whole group.
 *
 *   corun-groups
 *
 * Prints what happens, one line per event, e.g.
 *   fetch-a: done
 *   fetch-b: failed (Input/output error)
 *   fetch-c: cancelled
 *   group 1: Input/output error
 *   slow-0: cancelled ... slow-2: cancelled
 *   group 2: timed out after 30 ms */
#include <stdio.h>

#include "corun.h"

struct job {
    const char *name;
    int64_t sleep_ns;
    int fail; /* return -EIO after sleeping */
};

static int worker(void *arg, intptr_t *result)
{
    (void)result;
    const struct job *j = arg;
    int rc = co_sleep(j->sleep_ns);
    if (rc == CO_ECANCELED) {
        printf("%s: cancelled\n", j->name); /* clean-up would go here */
        return rc;
    }
    if (j->fail) {
        printf("%s: failed (%s)\n", j->name, co_strerror(-EIO));
        return -EIO;
    }
    printf("%s: done\n", j->name);
    return 0;
}

static int spawn_all(co_group *g, struct job *jobs, int n)
{
    for (int i = 0; i < n; i++) {
        struct co_spawn_opts opts = {.name = jobs[i].name};
        int rc = co_group_spawn(g, worker, &jobs[i], &opts);
        if (rc)
            return rc;
    }
    return 0;
}

static int main_task(void *arg, intptr_t *result)
{
    (void)arg;
    (void)result;
    /* 1. The first failure cancels the siblings and is what the group returns. */
    static struct job first[] = {{"fetch-a", 10 * 1000 * 1000, 0},
                                 {"fetch-b", 50 * 1000 * 1000, 1},
                                 {"fetch-c", 10 * 1000000000LL, 0}};
    co_group *g;
    int rc = co_group_create(&g);
    if (rc)
        return rc;
    spawn_all(g, first, 3);
    rc = co_group_wait(g, CO_NO_DEADLINE);
    co_group_destroy(g);
    printf("group 1: %s\n", co_strerror(rc));

    /* 2. A timeout scope around a group: when it expires, the wait is cancelled, the
     * children with it, and co_timeout_end reports the timeout. */
    static struct job slow[] = {{"slow-0", 10 * 1000000000LL, 0},
                                {"slow-1", 10 * 1000000000LL, 0},
                                {"slow-2", 10 * 1000000000LL, 0}};
    struct co_timeout scope;
    co_timeout_begin(&scope, co_deadline_in(30 * 1000 * 1000));
    rc = co_group_create(&g);
    if (rc == 0) {
        spawn_all(g, slow, 3);
        co_group_wait(g, CO_NO_DEADLINE);
        co_group_destroy(g);
    }
    rc = co_timeout_end(&scope);
    printf("group 2: %s\n", rc == CO_ETIMEDOUT ? "timed out after 30 ms" : co_strerror(rc));
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    (void)argv;
    if (argc > 1) {
        fprintf(stderr, "corun-groups: takes no arguments\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    return co_run(main_task, NULL, NULL) == 0 ? 0 : 1;
}
