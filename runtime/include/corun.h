/*
 * corun.h — libcorun, a small coroutine runtime with Python asyncio's semantics, in C.
 *
 * Read this header top to bottom: it is the documentation.
 *
 * The model
 * ---------
 * - A *loop* (co_loop) belongs to one thread. co_run() creates one on the calling thread,
 *   runs a main task on it and returns when main has returned and every other task of the
 *   loop has finished. Several threads may each run their own loop side by side.
 * - A *task* (co_task) is a plain C function running on its own stack (stackful
 *   coroutine). Any co_* call that can wait ("suspending call") switches back to the loop,
 *   which runs other tasks until the awaited thing happens.
 * - Tasks of a loop run one at a time on the loop's thread: no locks are needed between
 *   them. Task handles must only be used from their own loop's thread; other threads talk
 *   to a loop through co_loop_post().
 *
 * Errors
 * ------
 * Every call returns a status: 0 (or a non-negative value where documented) on success,
 * a negative errno-style code on failure. co_strerror() names them. Invalid arguments
 * return CO_EINVAL (never crash); running out of memory returns CO_ENOMEM and leaves the
 * loop running.
 *
 * Deadlines
 * ---------
 * Every suspending call takes an absolute deadline, `int64_t deadline_ns` on the
 * CLOCK_MONOTONIC clock (co_now_ns()), or CO_NO_DEADLINE. When it passes, the call
 * returns CO_ETIMEDOUT. co_deadline_in(ns) computes "now + ns".
 *
 * Cancellation (asyncio's rules)
 * ------------------------------
 * co_cancel(t) makes t's current suspension (or its next one, if t is not suspended)
 * return CO_ECANCELED, once. The task may then clean up — further calls work normally —
 * and must finish; returning CO_ECANCELED from the task function marks it "cancelled".
 * co_shield_begin()/co_shield_end() defer cancellation over a section. Cancelling a task
 * also cancels the children of the task groups it owns.
 */
#ifndef CORUN_H
#define CORUN_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define CO_API __attribute__((visibility("default")))
#else
#define CO_API
#endif

/* ---- Errors ------------------------------------------------------------------------- */

enum {
    CO_OK = 0,
    CO_EINVAL = -EINVAL,       /* an argument is invalid (NULL handle, bad size, ...) */
    CO_ENOMEM = -ENOMEM,       /* out of memory (or of stack mappings) */
    CO_ECANCELED = -ECANCELED, /* the waiting task was cancelled */
    CO_ETIMEDOUT = -ETIMEDOUT, /* the deadline (or a co_timeout scope) passed */
    CO_ECLOSED = -ESHUTDOWN,   /* the object (loop, queue, fd, ...) was closed */
    CO_EBUSY = -EBUSY,         /* already in use (a loop on this thread, an fd waiter) */
    CO_EPERM = -EPERM,         /* not allowed here (e.g. a suspending call outside a task) */
};

/* A short English description of a status code (any negative errno works too). */
CO_API const char *co_strerror(int err);

/* ---- Time ---------------------------------------------------------------------------- */

#define CO_NO_DEADLINE ((int64_t)-1)

/* CLOCK_MONOTONIC in nanoseconds: the clock of every deadline (and of bpf_ktime_get_ns). */
CO_API int64_t co_now_ns(void);
/* co_now_ns() + duration_ns; CO_NO_DEADLINE if duration_ns < 0. */
CO_API int64_t co_deadline_in(int64_t duration_ns);

/* ---- Loops --------------------------------------------------------------------------- */

typedef struct co_loop co_loop;
typedef struct co_task co_task;

/*
 * A task function. It returns 0 on success or a negative status (its error); it may store
 * a result value in *result (initially 0). Returning CO_ECANCELED means "I was cancelled".
 */
typedef int (*co_task_fn)(void *arg, intptr_t *result);

/*
 * Runs main_fn(arg) as the task "main" on a new loop on this thread. When main returns,
 * the tasks still alive are cancelled and waited for (debug mode names them), then the
 * loop is destroyed. Returns main's status and stores its result in *result (may be NULL);
 * returns CO_EBUSY if this thread already runs a loop, CO_ENOMEM if the loop cannot be
 * set up.
 */
CO_API int co_run(co_task_fn main_fn, void *arg, intptr_t *result);

/* The loop running on this thread, or NULL. */
CO_API co_loop *co_loop_current(void);
/* The process-unique id of a loop (1, 2, ...); 0 for NULL. */
CO_API uint64_t co_loop_id(const co_loop *loop);

/*
 * Calls fn(arg) on loop's thread, soon (asyncio's call_soon_threadsafe). Safe from any
 * thread and from signal-free contexts; callbacks run in order of posting, outside any
 * task (they may spawn tasks). The caller must know the loop is still alive (e.g. because
 * a task of it waits for this post). Returns CO_ECLOSED once the loop is shutting down.
 */
CO_API int co_loop_post(co_loop *loop, void (*fn)(void *arg), void *arg);

/* ---- Tasks --------------------------------------------------------------------------- */

#define CO_STACK_DEFAULT_BYTES ((size_t)64 * 1024)
#define CO_STACK_MIN_BYTES     ((size_t)16 * 1024)
#define CO_TASK_NAME_MAX       32 /* including the NUL; longer names are truncated */

enum co_spawn_flags {
    CO_SPAWN_DETACHED = 1u << 0, /* nobody joins: freed when it finishes */
};

struct co_spawn_opts {
    const char *name;        /* for debugging and coscope; NULL = "task" */
    size_t stack_size_bytes; /* 0 = CO_STACK_DEFAULT_BYTES; at least CO_STACK_MIN_BYTES */
    unsigned flags;          /* enum co_spawn_flags */
};

/* How a finished task ended. */
struct co_outcome {
    int error;      /* what the task function returned: 0, CO_ECANCELED, or its error */
    intptr_t value; /* the result it stored */
};

/*
 * Creates a task running fn(arg) on the current loop (from a task or a posted callback);
 * it starts when the loop next runs ready tasks. *out receives the handle (may be NULL
 * only with CO_SPAWN_DETACHED). The handle stays valid until co_join() returns 0 for it,
 * or co_detach(). The spawning task is recorded as the parent.
 */
CO_API int co_spawn(co_task **out, co_task_fn fn, void *arg, const struct co_spawn_opts *opts);

/*
 * Waits until t finishes, then fills *out (may be NULL), frees t and returns 0.
 * Returns CO_ETIMEDOUT / CO_ECANCELED if the wait was cut short: t then keeps running and
 * the handle stays valid. CO_EINVAL for a detached task or one of another loop.
 */
CO_API int co_join(co_task *t, struct co_outcome *out, int64_t deadline_ns);

/* Gives up the handle: t is freed when it finishes (if it fails, debug mode says so). */
CO_API int co_detach(co_task *t);

/*
 * Requests cancellation of t (see "Cancellation" above). A no-op (returns 0) on a
 * finished task. May be called on oneself: the next suspension returns CO_ECANCELED.
 */
CO_API int co_cancel(co_task *t);

/* The running task, or NULL outside tasks (e.g. in a posted callback). */
CO_API co_task *co_self(void);
/* Name and id of t, or of the running task when t is NULL. ids are unique per process. */
CO_API const char *co_task_name(const co_task *t);
CO_API uint64_t co_task_id(const co_task *t);
/* Whether t has finished (a finished task's join does not wait). */
CO_API int co_task_done(const co_task *t);

/* ---- Waiting ------------------------------------------------------------------------- */

/* Lets every task that is ready now run once, then continues (asyncio.sleep(0)). */
CO_API int co_yield (void);
/* Waits duration_ns (co_sleep) or until deadline_ns (co_sleep_until). 0 when slept. */
CO_API int co_sleep(int64_t duration_ns);
CO_API int co_sleep_until(int64_t deadline_ns);

/*
 * Waits for all n tasks to finish, then joins them all, fills outs[i] (may be NULL) and
 * returns 0 if every task succeeded, otherwise the error of the first failed task in
 * array order. If the wait itself is cut short (deadline, cancellation), returns
 * CO_ETIMEDOUT / CO_ECANCELED and joins nothing: the handles stay valid.
 */
CO_API int co_gather(co_task *const *tasks, size_t n, struct co_outcome *outs, int64_t deadline_ns);

/* Waits until one of the n tasks has finished; returns its index (it is not joined). */
CO_API int co_wait_any(co_task *const *tasks, size_t n, int64_t deadline_ns);

/* Readiness of any file descriptor. Returns the ready subset of `events` (> 0). */
enum co_fd_events {
    CO_READABLE = 1u << 0,
    CO_WRITABLE = 1u << 1,
};
CO_API int co_wait_fd(int fd, unsigned events, int64_t deadline_ns);

/*
 * Shielding: between co_shield_begin() and co_shield_end(), cancellation (and the expiry
 * of co_timeout scopes opened outside the shield) is deferred; a cancellation requested
 * meanwhile is delivered at the first suspension after the shield ends. Nests.
 */
CO_API int co_shield_begin(void);
CO_API int co_shield_end(void);

/*
 * A scoped timeout (asyncio.timeout()): the caller provides the scope (usually on its
 * stack). When deadline_ns passes, every suspending call inside the scope returns
 * CO_ECANCELED (as if the task were cancelled, so a co_group inside it cancels its
 * children); co_timeout_end() then returns CO_ETIMEDOUT, or 0 if the deadline did not
 * pass. Scopes nest and must be ended in reverse order.
 */
struct co_timeout {
    /* private: filled by co_timeout_begin */
    int64_t deadline_ns;
    int expired;
    int shield_level;
    struct co_timeout *outer;
};
CO_API int co_timeout_begin(struct co_timeout *scope, int64_t deadline_ns);
CO_API int co_timeout_end(struct co_timeout *scope);

/* ---- Task groups (asyncio.TaskGroup, structured concurrency) -------------------------- */

typedef struct co_group co_group;

/* A group belongs to the task that creates it (its owner). */
CO_API int co_group_create(co_group **out);
/*
 * Spawns a child task into g (its handle belongs to the group: it is never joined by
 * hand). If a child fails (returns an error other than CO_ECANCELED), its siblings are
 * cancelled and the failure is what co_group_wait returns.
 */
CO_API int co_group_spawn(co_group *g, co_task_fn fn, void *arg, const struct co_spawn_opts *opts);
/*
 * Waits for every child. Returns 0 if all succeeded, else the first failure. If the wait
 * is cut short (deadline, cancellation of the owner), the children are cancelled and
 * waited for, and CO_ETIMEDOUT / CO_ECANCELED is returned.
 */
CO_API int co_group_wait(co_group *g, int64_t deadline_ns);
/* Cancels every child (they must still be waited for with co_group_wait). */
CO_API int co_group_cancel(co_group *g);
/* Frees g; children still running are cancelled and left to finish on their own. */
CO_API void co_group_destroy(co_group *g);

/* ---- Debug mode ---------------------------------------------------------------------- */

/*
 * Debug mode (also: environment CORUN_DEBUG=1) warns on stderr, with task names, about a
 * slice longer than the threshold (default 100 ms), a task that failed and was never
 * joined, tasks still alive when co_run ends, and a task that returned holding a lock.
 * slow_slice_ns <= 0 keeps the current threshold.
 */
CO_API void co_debug_enable(int64_t slow_slice_ns);
CO_API int co_debug_enabled(void);

/* ==== END OF CORE API ==================================================================
 * Sections below this line belong to the libcorun I/O and synchronisation layer
 * (locks, semaphores, events, conditions, queues, sockets, executor, generators,
 * signals). Add new sections after this marker.
 * ==================================================================================== */

#ifdef __cplusplus
}
#endif

#endif /* CORUN_H */
