/* co_to_thread: blocking work on a process-wide thread pool (asyncio.to_thread).
 *
 * The calling task parks; a worker runs the job and posts the completion back to the
 * task's loop with co_loop_post (the loop's eventfd wakes it). A job is heap-allocated
 * because it may outlive the wait: a cancelled task returns CO_ECANCELED at once while
 * its job, which cannot be interrupted, runs to the end on its worker.
 *
 * Who frees a job is settled by one atomic state, so that a worker never touches a loop
 * that may be gone: PENDING -> DONE (the worker finished first: it posts the completion,
 * and the task — still parked, so its loop is alive — receives it and frees the job) or
 * PENDING -> ABANDONED (the task gave up first: the worker frees the job itself and
 * never posts). A task cancelled after DONE waits, shielded, for the completion that is
 * already on its way. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "executor.h"

struct co__job {
    struct co__job *next; /* pool FIFO link */
    intptr_t (*fn)(void *arg);
    void *arg;
    intptr_t result;
    struct co_loop *loop;
    struct co_task *task; /* NULL once the waiter gave up */
    void (*abandoned)(void *arg, intptr_t result);
    uint64_t task_id;
    int64_t submit_ns;
    atomic_int state; /* enum job_state */
    bool completed;   /* job_complete ran (loop thread only) */
};

enum job_state { JOB_PENDING, JOB_DONE, JOB_ABANDONED };

enum { POOL_MAX_THREADS = 1024 };

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct co__job *head, *tail;
    unsigned threads, idle, max_threads;
} pool = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static unsigned default_threads(void)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (cpus < 1)
        cpus = 1;
    return cpus + 4 < 32 ? (unsigned)cpus + 4 : 32; /* asyncio's default */
}

int co_executor_set_threads(unsigned n)
{
    if (n == 0 || n > POOL_MAX_THREADS)
        return CO_EINVAL;
    pthread_mutex_lock(&pool.mu);
    pool.max_threads = n; /* running threads above a lowered limit stay (they are idle) */
    pthread_mutex_unlock(&pool.mu);
    return 0;
}

unsigned co_executor_threads(void)
{
    pthread_mutex_lock(&pool.mu);
    unsigned n = pool.threads;
    pthread_mutex_unlock(&pool.mu);
    return n;
}

/* Runs on the loop thread that submitted the job; the task is parked waiting for it. */
static void job_complete(void *arg)
{
    struct co__job *job = arg;
    job->completed = true;
    co__unpark(job->task, 0);
}

static void *worker_main(void *unused)
{
    (void)unused;
    pthread_mutex_lock(&pool.mu);
    for (;;) {
        while (!pool.head) {
            pool.idle++;
            pthread_cond_wait(&pool.cv, &pool.mu);
            pool.idle--;
        }
        struct co__job *job = pool.head;
        pool.head = job->next;
        if (!pool.head)
            pool.tail = NULL;
        pthread_mutex_unlock(&pool.mu);

        int64_t start_ns = now_ns();
        CO_PROBE2(exec_start, job, job->task_id);
        job->result = job->fn(job->arg);
        int64_t done_ns = now_ns();
        CO_PROBE4(exec_done, job, job->task_id, start_ns - job->submit_ns, done_ns - start_ns);
        (void)start_ns; /* only the probes use them (two clock reads per thread hop) */
        (void)done_ns;
        int expected = JOB_PENDING;
        if (atomic_compare_exchange_strong(&job->state, &expected, JOB_DONE)) {
            /* The task waits for this post, so its loop is alive; the post can only fail
             * for lack of memory: retry rather than strand the task. */
            int rc;
            while ((rc = co_loop_post(job->loop, job_complete, job)) == CO_ENOMEM)
                usleep(1000);
        } else { /* abandoned: nobody wants the result */
            if (job->abandoned)
                job->abandoned(job->arg, job->result);
            free(job);
        }

        pthread_mutex_lock(&pool.mu);
    }
    return NULL;
}

/* Called with pool.mu held. Workers block every signal: process-directed signals
 * (SIGINT...) must reach the threads that run loops, not a worker. */
static int spawn_worker_locked(void)
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_t th;
    int err = pthread_create(&th, &attr, worker_main, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    if (err)
        return -err;
    pthread_setname_np(th, "corun-exec");
    pool.threads++;
    return 0;
}

/* A forked child has none of the parent's workers (and maybe a mutex held by one): start
 * from an empty pool. Jobs queued in the parent are the parent's. */
static void pool_after_fork_child(void)
{
    pthread_mutex_init(&pool.mu, NULL);
    pthread_cond_init(&pool.cv, NULL);
    pool.head = pool.tail = NULL;
    pool.threads = pool.idle = 0;
}

static void pool_register_atfork(void)
{
    pthread_atfork(NULL, NULL, pool_after_fork_child);
}

static int submit(struct co__job *job)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, pool_register_atfork);
    pthread_mutex_lock(&pool.mu);
    if (!pool.max_threads)
        pool.max_threads = default_threads();
    /* Start threads lazily: one more whenever no worker is idle, up to the limit. */
    if (pool.idle == 0 && pool.threads < pool.max_threads) {
        int rc = spawn_worker_locked();
        if (rc && pool.threads == 0) {
            pthread_mutex_unlock(&pool.mu);
            return rc == -ENOMEM ? CO_ENOMEM : rc;
        }
    }
    job->next = NULL;
    if (pool.tail)
        pool.tail->next = job;
    else
        pool.head = job;
    pool.tail = job;
    pthread_cond_signal(&pool.cv);
    pthread_mutex_unlock(&pool.mu);
    return 0;
}

int co__to_thread(intptr_t (*fn)(void *arg), void *arg,
                  void (*abandoned)(void *arg, intptr_t result), intptr_t *result)
{
    struct co_task *self = co__current();
    if (!fn || !self)
        return CO_EINVAL;
    struct co__job *job = calloc(1, sizeof *job);
    int rc = job ? 0 : CO_ENOMEM;
    if (job) {
        job->fn = fn;
        job->arg = arg;
        job->abandoned = abandoned;
        job->loop = self->loop;
        job->task = self;
        job->task_id = self->id;
        job->submit_ns = now_ns();
        CO_PROBE2(exec_submit, job, job->task_id);
        rc = submit(job);
    }
    if (rc) {
        free(job);
        if (abandoned)
            abandoned(arg, 0);
        return rc;
    }
    do {
        rc = co__park(CORUN_WAIT_EXECUTOR, job, CO_NO_DEADLINE);
    } while (rc == 0 && !job->completed);
    if (rc == 0) {
        if (result)
            *result = job->result;
        free(job);
        return 0;
    }
    int expected = JOB_PENDING;
    if (atomic_compare_exchange_strong(&job->state, &expected, JOB_ABANDONED))
        return rc; /* the worker cleans up when fn returns */
    /* fn has finished and its completion is being posted: wait for it (shielded, it is
     * imminent) so that the job is not freed under the posted callback. */
    co_shield_begin();
    while (!job->completed)
        co__park(CORUN_WAIT_EXECUTOR, job, CO_NO_DEADLINE);
    co_shield_end();
    if (abandoned)
        abandoned(arg, job->result);
    free(job);
    return rc;
}

int co_to_thread(intptr_t (*fn)(void *arg), void *arg, intptr_t *result)
{
    return co__to_thread(fn, arg, NULL, result);
}
