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
 * A task cancelled before it first ran never runs its function; one that returns 0 with
 * a cancellation still pending (it cancelled itself, say) ends cancelled too.
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
/* co_now_ns() + duration_ns. A negative duration gives a deadline already past (a
 * computed "time left" that went negative expires at once, like asyncio's timeout(-1));
 * a duration beyond the clock's range gives CO_NO_DEADLINE. */
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
 * A task cancelled before it first runs never calls its function. If that function would
 * have freed its arg, set release here (after co_spawn, before the task runs): it is then
 * called with arg instead, on the loop's thread. NULL removes it. Returns 0, CO_EINVAL for
 * NULL t or a task of another loop.
 */
CO_API int co_set_arg_release(co_task *t, void (*release)(void *arg));

/*
 * Waits until t finishes, then fills *out (may be NULL), frees t and returns 0.
 * Returns CO_ETIMEDOUT / CO_ECANCELED if the wait was cut short: t then keeps running and
 * the handle stays valid (unlike asyncio's `await task`, which cancels the task when the
 * awaiting task is cancelled: that is co_wait_for). CO_EINVAL for a detached task, a
 * group's child or one of another loop.
 */
CO_API int co_join(co_task *t, struct co_outcome *out, int64_t deadline_ns);

/*
 * asyncio.wait_for(task, timeout): waits until t finishes or deadline_ns passes. If the
 * wait is cut short (the deadline, or the caller is cancelled), t is cancelled and waited
 * for (shielded: it cannot be interrupted again); with a deadline already past, t is
 * cancelled at once (a task that has not started never runs). In every case t is then
 * joined: *out (may be NULL) says how t ended and the handle is gone. Returns 0 if t
 * finished in time, CO_ETIMEDOUT if the deadline passed, CO_ECANCELED if the caller was
 * cancelled; CO_EINVAL as co_join.
 */
CO_API int co_wait_for(co_task *t, struct co_outcome *out, int64_t deadline_ns);

/* Gives up the handle: t is freed when it finishes (if it fails, debug mode says so). */
CO_API int co_detach(co_task *t);

/*
 * Requests cancellation of t (see "Cancellation" above). Returns 0 when the request was
 * made, 1 when t had already finished (nothing to cancel: asyncio's cancel() returning
 * False), CO_EINVAL for NULL or a task of another loop. May be called on oneself: the
 * next suspension returns CO_ECANCELED (or, if the task returns 0 first, it ends
 * cancelled).
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

/* Lets every task that is ready now run once, then continues (asyncio.sleep(0)). Returns
 * 0, or CO_ECANCELED if the task was cancelled meanwhile or the deadline of a co_timeout
 * scope it is in has passed (so a loop of yields is cut short like any wait). */
CO_API int co_yield (void);
/* Waits duration_ns (co_sleep) or until deadline_ns (co_sleep_until). 0 when slept. */
CO_API int co_sleep(int64_t duration_ns);
CO_API int co_sleep_until(int64_t deadline_ns);

/*
 * asyncio.gather(..., return_exceptions=True): waits for all n (distinct) tasks to
 * finish, then joins them all, fills outs[i] (may be NULL) and returns 0 if every task
 * succeeded, otherwise the error (CO_ECANCELED included) of the first unsuccessful task
 * in array order. If the wait is cut short (deadline, the caller is cancelled), every
 * task is cancelled and waited for (asyncio cancels a cancelled gather's children), then
 * joined as well, and CO_ETIMEDOUT / CO_ECANCELED is returned. In every case but
 * CO_EINVAL, CO_EPERM and CO_ENOMEM, the handles are gone when it returns.
 */
CO_API int co_gather(co_task *const *tasks, size_t n, struct co_outcome *outs, int64_t deadline_ns);

/*
 * asyncio.gather's default (fail fast): as co_gather, but returns as soon as one task
 * fails (an error other than CO_ECANCELED), with that error: the failure that happened
 * first in time, not in array order. The other tasks are then cancelled and waited for
 * (asyncio leaves them running; a C task nobody joins would leak), and all are joined;
 * outs[i] says how each ended. Returns 0 if every task succeeded; if none failed but one
 * was cancelled, CO_ECANCELED; CO_ETIMEDOUT / CO_ECANCELED if the wait was cut short
 * (every task then cancelled and joined, as in co_gather).
 */
CO_API int co_gather_fail_fast(co_task *const *tasks, size_t n, struct co_outcome *outs,
                               int64_t deadline_ns);

/* Waits until one of the n tasks has finished; returns its index (it is not joined). */
CO_API int co_wait_any(co_task *const *tasks, size_t n, int64_t deadline_ns);

/* Readiness of any file descriptor. Returns the ready subset of `events` (> 0). Level-
 * triggered: it reports what the poller saw when the task was woken, never a stale edge.
 * A regular file is always ready. Any fd may be closed with close(2) while nobody waits
 * on it, except the sockets the calls below create (see co_close). */
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
 * stack). When deadline_ns passes, the suspending call running in the scope then (or the
 * next one, co_yield included) returns CO_ECANCELED, once, as if the task were cancelled:
 * a co_group created in the scope cancels its children, and clean-up code after it may
 * wait again. co_timeout_end() returns CO_ETIMEDOUT if the scope's deadline cut a wait
 * short, else 0. When nested scopes expire together, only the outermost reports
 * CO_ETIMEDOUT (as in asyncio). A deadline already past expires at the first suspension.
 * Scopes nest and must be ended in reverse order; CO_EINVAL otherwise.
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
 * Like co_group_spawn, and *out receives the child's handle, to cancel that one child
 * (co_cancel: a cancelled child is not a failure, the group goes on) or to ask
 * co_task_done. The handle stays valid until co_group_destroy(g); co_join and co_detach
 * refuse it (CO_EINVAL): the group owns the child. CO_EINVAL if out is NULL.
 */
CO_API int co_group_spawn_task(co_group *g, co_task **out, co_task_fn fn, void *arg,
                               const struct co_spawn_opts *opts);
/*
 * Waits for every child. Returns 0 if all succeeded, else the first failure. A failure
 * while the owner is not yet in co_group_wait also cancels the owner (its current or next
 * wait returns CO_ECANCELED, asyncio's TaskGroup interrupting its body); co_group_wait
 * takes that cancellation back and returns the failure. If the wait is cut short
 * (deadline, cancellation of the owner), the children are cancelled and waited for, and
 * CO_ETIMEDOUT / CO_ECANCELED is returned. If the owner was cancelled while the group was
 * open (co_cancel, or an expired co_timeout scope the group was created in), it returns
 * CO_ECANCELED even if the body consumed the cancellation. A child's failure outranks
 * both.
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

/* ==== I/O AND SYNCHRONISATION LAYER (rt-io) ============================================ */

/* ---- Status codes of the I/O and synchronisation layer ------------------------------ */

enum {
    CO_EAGAIN = -EAGAIN,   /* try_* calls: not possible without waiting */
    CO_EDEADLK = -EDEADLK, /* acquiring a lock the task already holds */
};

/* ---- Synchronisation primitives (asyncio.Lock/Semaphore/Event/Condition/Queue) ------ *
 *
 * They belong to one loop: use them only from tasks of the loop that first used them.
 * They need no destruction except co_queue (which owns a buffer). Every wait is FIFO-fair:
 * a release hands the resource to the longest waiter, newcomers do not barge in. Every
 * suspending call takes a deadline and returns CO_ETIMEDOUT / CO_ECANCELED when cut
 * short; a waiter cut short after being handed the resource passes it on to the next
 * waiter (it is never lost). The struct fields are private. */

struct co__wq_node;
struct co_waitq {
    struct co__wq_node *head, *tail;
};

/* A mutual-exclusion lock (not re-entrant). Any task may release it, as in asyncio. A
 * contended acquire fires the lock_contended probe; debug mode warns about a task that
 * returns while holding a lock. */
struct co_lock {
    co_task *owner;
    struct co_waitq waiters;
};
#define CO_LOCK_INIT                                                                               \
    {                                                                                              \
        0,                                                                                         \
        {                                                                                          \
            0, 0                                                                                   \
        }                                                                                          \
    }
CO_API int co_lock_init(struct co_lock *l);
/* 0 when acquired; CO_EDEADLK if the caller already holds it. */
CO_API int co_lock_acquire(struct co_lock *l, int64_t deadline_ns);
/* 0 when acquired at once, CO_EAGAIN when held (or others wait). */
CO_API int co_lock_try_acquire(struct co_lock *l);
/* CO_EINVAL if the lock is not held. */
CO_API int co_lock_release(struct co_lock *l);
CO_API int co_lock_locked(const struct co_lock *l);

/* A counting semaphore; the bounded kind refuses a release above its initial value
 * (CO_EINVAL, asyncio.BoundedSemaphore's ValueError). */
struct co_sem {
    int64_t value;
    int64_t bound; /* -1: unbounded */
    struct co_waitq waiters;
};
CO_API int co_sem_init(struct co_sem *s, unsigned value);
CO_API int co_sem_init_bounded(struct co_sem *s, unsigned value);
CO_API int co_sem_acquire(struct co_sem *s, int64_t deadline_ns);
CO_API int co_sem_try_acquire(struct co_sem *s); /* CO_EAGAIN when it would wait */
CO_API int co_sem_release(struct co_sem *s);
CO_API int co_sem_value(const struct co_sem *s);

/* An event: set() wakes every waiter and lets later waits pass until clear(). */
struct co_event {
    int is_set;
    struct co_waitq waiters;
};
#define CO_EVENT_INIT                                                                              \
    {                                                                                              \
        0,                                                                                         \
        {                                                                                          \
            0, 0                                                                                   \
        }                                                                                          \
    }
CO_API int co_event_init(struct co_event *e);
CO_API int co_event_set(struct co_event *e);
CO_API int co_event_clear(struct co_event *e);
CO_API int co_event_is_set(const struct co_event *e);
CO_API int co_event_wait(struct co_event *e, int64_t deadline_ns);

/* A condition variable over a co_lock. co_cond_wait must be called holding the lock
 * (else CO_EPERM); it releases it, waits for a notify, and re-acquires it before
 * returning — even when cut short (the status then says why). notify returns how many
 * waiters it woke. */
struct co_cond {
    struct co_lock *lock;
    struct co_waitq waiters;
};
CO_API int co_cond_init(struct co_cond *c, struct co_lock *lock);
CO_API int co_cond_wait(struct co_cond *c, int64_t deadline_ns);
/* Waits until pred(arg) is true (checked under the lock, before each wait). */
CO_API int co_cond_wait_for(struct co_cond *c, int (*pred)(void *arg), void *arg,
                            int64_t deadline_ns);
CO_API int co_cond_notify(struct co_cond *c, int n);
CO_API int co_cond_notify_all(struct co_cond *c);

/* A FIFO queue of fixed-size items (copied in and out), bounded or unbounded.
 * put waits while the queue is full, get while it is empty. After co_queue_close: put
 * returns CO_ECLOSED, get drains what is left and then returns CO_ECLOSED (the consumer's
 * "end of stream"). try_put/try_get return CO_EAGAIN instead of waiting. */
struct co_queue {
    void *buf;
    size_t item_size, capacity, head, count;
    size_t items_reserved, slots_reserved;
    int closed;
    struct co_waitq getters, putters;
    int unbounded;
    size_t unfinished; /* items put and not yet marked done */
    struct co_waitq joiners;
};
/* co_queue_init's capacity for a queue without bound (asyncio.Queue(maxsize=0)): its
 * buffer grows as needed, put never waits (it returns CO_ENOMEM if the buffer cannot). */
#define CO_QUEUE_UNBOUNDED ((size_t)0)
/* capacity: the most items the queue holds, or CO_QUEUE_UNBOUNDED. CO_EINVAL for a zero
 * item size or a buffer size that overflows, CO_ENOMEM. */
CO_API int co_queue_init(struct co_queue *q, size_t item_size, size_t capacity);
/* Closes (waking every waiter) and frees the buffer. */
CO_API void co_queue_destroy(struct co_queue *q);
CO_API int co_queue_put(struct co_queue *q, const void *item, int64_t deadline_ns);
CO_API int co_queue_get(struct co_queue *q, void *item, int64_t deadline_ns);
CO_API int co_queue_try_put(struct co_queue *q, const void *item);
CO_API int co_queue_try_get(struct co_queue *q, void *item);
CO_API int co_queue_close(struct co_queue *q);
/* asyncio's task_done()/join(): every item put counts as unfinished until a consumer
 * calls co_queue_task_done for it (after processing it). co_queue_task_done returns
 * CO_EINVAL when called more times than items were put. co_queue_join waits until no item
 * is unfinished: 0 then (at once if none is), CO_ETIMEDOUT / CO_ECANCELED if cut short,
 * CO_ECLOSED if the queue is destroyed meanwhile, CO_EPERM outside a task. */
CO_API int co_queue_task_done(struct co_queue *q);
CO_API int co_queue_join(struct co_queue *q, int64_t deadline_ns);
CO_API size_t co_queue_len(const struct co_queue *q);
CO_API int co_queue_closed(const struct co_queue *q);

/* ---- Executor: blocking work off the loop (asyncio.to_thread) ----------------------- *
 *
 * co_to_thread runs fn(arg) on a process-wide thread pool while the calling task waits
 * without blocking its loop, and stores fn's return value in *result (may be NULL).
 * The pool starts lazily (one thread more whenever none is idle) up to
 * co_executor_set_threads() threads (default: number of CPUs + 4, at most 32).
 * Cancellation: a running job cannot be interrupted. A cancelled task gets CO_ECANCELED
 * at once; its job still runs to the end on its thread, and its result is dropped. So fn
 * must not use memory that the task frees after cancellation (pass heap memory it owns). */
CO_API int co_to_thread(intptr_t (*fn)(void *arg), void *arg, intptr_t *result);
CO_API int co_executor_set_threads(unsigned n);
/* Threads started so far. */
CO_API unsigned co_executor_threads(void);

/* Whole-file helpers, run on the executor (so they are cancellable in the same way: the
 * system calls finish on their thread, the task returns CO_ECANCELED at once).
 * co_file_read_all stores a malloc'ed, NUL-terminated copy of the file in *data (free it)
 * and its length in *len (may be NULL). co_file_write_all creates or truncates the file
 * (mode 0644), or appends with CO_FILE_APPEND, and fsyncs it with CO_FILE_FSYNC. */
enum co_file_flags {
    CO_FILE_FSYNC = 1u << 0,
    CO_FILE_APPEND = 1u << 1,
};
CO_API int co_file_read_all(const char *path, char **data, size_t *len);
CO_API int co_file_write_all(const char *path, const void *data, size_t len, unsigned flags);
CO_API int co_fsync(int fd);

/* ---- Sockets: TCP (IPv4, IPv6) and Unix stream sockets ------------------------------ *
 *
 * Every fd these calls return is non-blocking and close-on-exec. Addresses are numeric
 * ("127.0.0.1", "::1"): a name look-up would block the loop (resolve names with
 * co_to_thread + getaddrinfo). Each call that can wait takes a deadline; errors are
 * negative errno codes (-ECONNREFUSED, -EPIPE, -EMFILE, ...). Close sockets with co_close,
 * which also wakes (with CO_ECLOSED) any task of the loop still waiting on the fd. The
 * loop keeps these sockets registered with its poller from their first wait until
 * co_close (a request then costs no epoll_ctl): closing one with close(2) instead leaves
 * a stale registration that a later fd of the same number, not created by these calls,
 * could inherit. */
struct sockaddr;
/* Listening sockets; host NULL or "" = every IPv4 address; port 0 = any free port
 * (co_local_port tells which); backlog 0 = SOMAXCONN. Return the fd. */
CO_API int co_tcp_listen(const char *host, uint16_t port, int backlog);
CO_API int co_unix_listen(const char *path, int backlog);
CO_API int co_listen(const struct sockaddr *addr, unsigned addr_len, int backlog);
/* The local port of a TCP socket. */
CO_API int co_local_port(int fd);
/* Waits for a connection; returns its fd (TCP_NODELAY set). addr/addr_len may be NULL.
 * Running out of fds returns -EMFILE and leaves the listener usable. */
CO_API int co_accept(int listen_fd, struct sockaddr *addr, unsigned *addr_len, int64_t deadline_ns);
/* Connects; returns the fd. */
CO_API int co_tcp_connect(const char *host, uint16_t port, int64_t deadline_ns);
CO_API int co_unix_connect(const char *path, int64_t deadline_ns);
CO_API int co_connect(const struct sockaddr *addr, unsigned addr_len, int64_t deadline_ns);
/* A connected pair of Unix stream sockets (non-blocking). */
CO_API int co_socketpair(int fds[2]);
CO_API int co_fd_set_nonblocking(int fd);
/* Reads what is there (waiting until something is): bytes read, 0 at end of stream. */
CO_API ptrdiff_t co_read(int fd, void *buf, size_t len, int64_t deadline_ns);
/* Writes what fits (waiting until something does): bytes written. Never raises SIGPIPE:
 * a closed peer is -EPIPE. */
CO_API ptrdiff_t co_write(int fd, const void *buf, size_t len, int64_t deadline_ns);
/* Reads exactly len bytes: len, or CO_ECLOSED if the stream ended first, or an error (the
 * bytes read so far are then in buf, their count unknown: treat the stream as broken). */
CO_API ptrdiff_t co_readn(int fd, void *buf, size_t len, int64_t deadline_ns);
/* Writes all len bytes: len, or an error. */
CO_API ptrdiff_t co_write_all(int fd, const void *buf, size_t len, int64_t deadline_ns);
/* Wakes this loop's waiters on fd (CO_ECLOSED), forgets it, closes it. */
CO_API int co_close(int fd);

/* ---- Generators (async for) --------------------------------------------------------- *
 *
 * A producer task yields values to a consumer, one at a time and lazily: the producer
 * runs only when the consumer asks for the next value. The producer function gets the
 * generator and returns 0 when it has no more values (or an error, which the consumer
 * then receives):
 *
 *     static int count_to_3(co_gen *g, void *arg) {
 *         for (intptr_t i = 1; i <= 3; i++) {
 *             int rc = co_gen_yield(g, i);
 *             if (rc) return rc;           // the generator is being closed
 *         }
 *         return 0;
 *     }
 *     co_gen *g; co_gen_spawn(&g, count_to_3, NULL, NULL);
 *     intptr_t v;
 *     while (co_gen_next(g, &v, CO_NO_DEADLINE) == 0) printf("%ld\n", (long)v);
 *     co_gen_close(g);
 *
 * co_gen_next returns 0 with a value, CO_ECLOSED after the producer returned 0, the
 * producer's error if it failed, or CO_ETIMEDOUT / CO_ECANCELED if its own wait was cut
 * short (a value produced meanwhile is kept for the next call). co_gen_yield returns 0
 * when the consumer asks for more, CO_ECANCELED when the generator is closed (the
 * producer should then return). co_gen_close cancels the producer if it still runs,
 * waits for it and frees the generator; it returns the producer's failure, if any. */
typedef struct co_gen co_gen;
typedef int (*co_gen_fn)(co_gen *g, void *arg);
CO_API int co_gen_spawn(co_gen **out, co_gen_fn fn, void *arg, const struct co_spawn_opts *opts);
CO_API int co_gen_next(co_gen *g, intptr_t *value, int64_t deadline_ns);
CO_API int co_gen_yield(co_gen *g, intptr_t value);
CO_API int co_gen_close(co_gen *g);

/* ---- Signals: Ctrl-C as cancellation (opt-in) --------------------------------------- *
 *
 * co_signal_cancel(t) — called by t itself, usually the main task — makes SIGINT and
 * SIGTERM cancel t (as asyncio.run does for Ctrl-C) instead of killing the process: t's
 * current or next wait returns CO_ECANCELED, and it can shut down cleanly. The previous
 * handlers come back with co_signal_restore(), or by themselves when co_run ends.
 * co_signal_received() tells which signal arrived (0: none). One target per process:
 * CO_EBUSY if one is set already. */
CO_API int co_signal_cancel(co_task *t);
CO_API int co_signal_restore(void);
CO_API int co_signal_received(void);

/* ==== END OF I/O AND SYNCHRONISATION LAYER ============================================= */

#ifdef __cplusplus
}
#endif

#endif /* CORUN_H */
