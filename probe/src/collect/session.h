/*
 * One attach session: everything a verb (stalls, stat, top, record) does to watch a process
 * — pidfd, the stall collector, the loop threads found now and later, the libcorun
 * attribution and task source when the target has libcorun, noticing the target's exit,
 * and tearing it all down without harming the target. A verb opens a session with the
 * parts it needs (`watch`), hands it hooks, polls it, and wires what comes out to outputs.
 *
 * Order of a session's life:
 *   cs_session_open   attach (a launched command not stopped at its entry point is
 *                     released first, so that its runtime is mapped)
 *   ...               the verb attaches what else it needs (record: task births and ends)
 *   cs_session_start  release a launched command held at its entry point
 *   cs_session_poll   every few ms until the verb stops or cs_session_exited()
 *   cs_session_close  detach everything; the target keeps running
 */
#ifndef CS_SESSION_H
#define CS_SESSION_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slow_iter.h"
#include "model.h"
#include "stall_collector.h"

/* The parts of a session beyond the stall collector, as a mask. */
enum cs_watch {
    /* libcorun targets: a stall is one task's slice and names its task; slow iterations. */
    CS_WATCH_ATTRIB = 1u << 0,
    /* libcorun targets: the task table, long slices and task ends (top, record). */
    CS_WATCH_TASKS = 1u << 1,
    /* The stall engine on the loop threads, found now and later (stalls, top, record). */
    CS_WATCH_STALLS = 1u << 2,
    /* libcorun's own statistics (stat), with the semaphores that make the runtime keep
     * them; a target without libcorun gets the stall engine's loop statistics instead. */
    CS_WATCH_CORUN_STAT = 1u << 3,
};

struct cs_session_loop;

struct cs_session_hooks {
    /* Each stall that passes the rate limit, ongoing and final (after attribution). */
    void (*stall)(const struct cs_stall *s, void *arg);
    /* libcorun: an iteration over the threshold although none of its slices was. */
    void (*slow_iter)(const struct cs_slow_iter *it, void *arg);
    /* A thread starts being watched as a loop (its comm may be ""). */
    void (*loop_added)(const struct cs_session_loop *loop, void *arg);
    /* Something the user should know, one line without "coscope: " (NULL: dropped). */
    void (*note)(const char *line, void *arg);
    void *arg;
};

struct cs_session_opts {
    int pid;
    int tid;       /* watch this thread as the loop; 0: detect loop threads, now and later */
    bool launched; /* started by coscope and held until released */
    bool at_entry; /* ...held at its entry point (its libraries are mapped) */
    unsigned watch;
    /* The stall collector's options (pid and notes are filled in by the session). */
    struct cs_stall_opts stall;
    bool all_syscalls; /* CS_WATCH_CORUN_STAT: every system call, not only blocking ones */
};

struct cs_session;
struct cs_corun_tasks;
struct cs_corun_attrib;
struct cs_corun_stat;
struct cs_corun_target;

/*
 * Attaches to opts->pid. 0, or a negative errno with one sentence in `why`: -ESRCH (no such
 * process, or it exited), -EPERM/-EACCES (permission), -ENOMEM, -EPROTO (a libcorun debug
 * table that cannot be read), anything else: the kernel lacks something
 * (cs_target_attach_exit maps them to exit codes).
 */
int cs_session_open(const struct cs_session_opts *opts, const struct cs_session_hooks *hooks,
                    struct cs_session **out, char *why, size_t why_len);

/* Releases a launched command held at its entry point (a no-op otherwise). 0 or -errno. */
int cs_session_start(struct cs_session *s);

/*
 * Waits up to `timeout_ms` for kernel events and handles them; notices the target's exit;
 * finds new loop threads; refreshes the libcorun side. 0, or a negative errno when the
 * kernel's events cannot be read.
 */
int cs_session_poll(struct cs_session *s, int timeout_ms);

/*
 * Polls every `poll_ms` until *stop is set, the target exits or `duration_ns` (0: no limit)
 * has passed, then reads what the kernel already produced. 0, or the negative errno of
 * cs_session_poll that ended it.
 */
int cs_session_run(struct cs_session *s, uint64_t duration_ns, int poll_ms,
                   const volatile sig_atomic_t *stop);

/*
 * Coscope stops while the target runs on: each stall still in progress gets one final
 * record, marked unfinished (cs_session_run does this itself).
 */
void cs_session_finish(struct cs_session *s);

/* Has the target exited (seen by cs_session_poll)? */
bool cs_session_exited(const struct cs_session *s);

/* Polls readable when the target exits; an fd that polls readable when events wait. */
int cs_session_exit_fd(const struct cs_session *s);
int cs_session_event_fd(const struct cs_session *s);

/* The parts, for the verbs that read more of them. Tasks and attribution may be NULL. */
struct cs_model *cs_session_model(const struct cs_session *s);
struct cs_collector *cs_session_collector(const struct cs_session *s);
struct cs_corun_tasks *cs_session_tasks(const struct cs_session *s);
struct cs_corun_attrib *cs_session_attrib(const struct cs_session *s);
/* CS_WATCH_CORUN_STAT on a libcorun target: its statistics and the runtime found (NULL
 * for a target without libcorun: the stall engine's figures stand in). */
struct cs_corun_stat *cs_session_corun_stat(const struct cs_session *s);
const struct cs_corun_target *cs_session_corun_target(const struct cs_session *s);

/* The loop threads watched so far, oldest first (i < cs_session_loop_count). */
struct cs_session_loop {
    int tid;
    char comm[CS_MODEL_COMM_LEN]; /* as it was when the thread was added */
    /* How it was found (docs/stalls.md): "given" (-T), "launched" (the command coscope
     * started), "debug_table" (libcorun's), "waiting" (in a wait call when sampled),
     * "wait_calls" (busy making them), "stuck" (the main thread of a process with an
     * event fd, stuck outside its wait call when nothing else qualified). */
    const char *found_by;
};
size_t cs_session_loop_count(const struct cs_session *s);
const struct cs_session_loop *cs_session_loop(const struct cs_session *s, size_t i);

/* Detaches everything (the target keeps running) and frees. NULL is fine. */
void cs_session_close(struct cs_session *s);

#endif
