/*
 * `coscope report --format chrome`: Chrome trace-event JSON (chrome://tracing, Perfetto
 * UI). One track per loop thread; on it a slice per recorded task poll (cat "task": every
 * poll with `record --polls`, else the long ones) and each stall (cat "stall", with an
 * instant marker where it began); each task's life as an async span (cat "task_life"),
 * slow iterations (cat "slow_iteration"); with `--polls`, a flow arrow (cat "wake") per wake
 * edge, from inside the waker's poll to the woken task's next poll. Times in µs from the
 * start of the recording, to the ns ("12.345").
 */
#include <stdio.h>
#include <stdlib.h>

#include "cs_sort.h"
#include "json_writer.h"
#include "model_tasks.h"
#include "report_summary.h"

/*
 * Times in µs with ns precision ("12.345"): a poll of 2 µs and the wake inside it stay
 * distinct, and slices nest exactly as they did (a stall encloses its polls; whole µs
 * would cut the stall's end before its last poll's and break the nesting viewers need).
 */
static void key_us_ns(struct cs_json *w, const struct cs_report *r, const char *k, uint64_t t_ns)
{
    cs_json_key(w, k);
    cs_json_milli(w, t_ns > r->t0_ns ? t_ns - r->t0_ns : 0);
}

static void key_dur(struct cs_json *w, uint64_t duration_ns)
{
    cs_json_key(w, "dur");
    cs_json_milli(w, duration_ns);
}

static void event_head(struct cs_json *w, const char *ph, const char *name, const char *cat,
                       int pid, int tid)
{
    cs_json_begin_object(w);
    cs_json_kv_string(w, "ph", ph);
    cs_json_kv_string(w, "name", name);
    if (cat)
        cs_json_kv_string(w, "cat", cat);
    cs_json_key(w, "pid");
    cs_json_int(w, pid);
    cs_json_key(w, "tid");
    cs_json_int(w, tid);
}

static void write_metadata(struct cs_json *w, const struct cs_report *r, int pid)
{
    char name[128];
    const struct cs_rec_target *t = &r->rec->target;
    snprintf(name, sizeof name, "%s (%d)", r->rec->has_target ? t->comm : "?", pid);
    event_head(w, "M", "process_name", NULL, pid, 0);
    cs_json_key(w, "args");
    cs_json_begin_object(w);
    cs_json_kv_string(w, "name", name);
    cs_json_end_object(w);
    cs_json_end_object(w);
    for (size_t i = 0; i < r->nloops; i++) {
        snprintf(name, sizeof name, "loop %s (%d)", r->loops[i].comm, r->loops[i].tid);
        event_head(w, "M", "thread_name", NULL, pid, r->loops[i].tid);
        cs_json_key(w, "args");
        cs_json_begin_object(w);
        cs_json_kv_string(w, "name", name);
        cs_json_end_object(w);
        cs_json_end_object(w);
    }
}

/* An index of the polls: by task (for the arrows) or by thread (for the spans that must
 * enclose them), then by start. */
struct poll_ref {
    uint64_t key; /* the task id, or the thread id */
    uint64_t start_ns, end_ns;
    int tid;
};

static int cmp_poll(const void *a, const void *b)
{
    const struct poll_ref *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->start_ns < y->start_ns ? -1 : x->start_ns > y->start_ns;
}

/* The index of the first poll of `key` starting at or after `t_ns` (a bound). */
static size_t polls_from(const struct poll_ref *p, size_t n, uint64_t key, uint64_t t_ns)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (p[mid].key < key || (p[mid].key == key && p[mid].start_ns < t_ns))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/*
 * A stall or slow iteration is timed by the runtime's clock, a poll by its probes a little
 * later: the poll that straddles either end would break the nesting a viewer needs on one
 * track. The span is widened to enclose it (by the probes' delay, a few µs).
 */
static void enclose_polls(const struct poll_ref *by_thread, size_t n, int tid, uint64_t *start,
                          uint64_t *end)
{
    const struct poll_ref *p = by_thread;
    uint64_t key = (uint64_t)tid;
    size_t k = polls_from(p, n, key, *start);
    if (k > 0 && p[k - 1].key == key && p[k - 1].end_ns > *start)
        *start = p[k - 1].start_ns;
    k = polls_from(p, n, key, *end);
    if (k > 0 && p[k - 1].key == key && p[k - 1].end_ns > *end)
        *end = p[k - 1].end_ns;
}

static void write_stall(struct cs_json *w, const struct cs_report *r, const struct cs_stall *s,
                        int pid, const struct poll_ref *tp, size_t ntp)
{
    char name[160];
    uint64_t start = s->start_ns, end = s->start_ns + s->duration_ns;
    enclose_polls(tp, ntp, s->tid, &start, &end);
    snprintf(name, sizeof name, "stall: %s", cs_report_stall_owner(s));
    event_head(w, "X", name, "stall", pid, s->tid);
    key_us_ns(w, r, "ts", start);
    key_dur(w, end - start);
    cs_json_key(w, "args");
    cs_json_begin_object(w);
    cs_json_kv_uint(w, "duration_us", s->duration_ns / 1000);
    cs_json_kv_uint(w, "on_cpu_us", s->on_cpu_ns / 1000);
    cs_json_kv_uint(w, "off_cpu_us", s->off_cpu_ns / 1000);
    if (s->task)
        cs_json_kv_uint(w, "task_id", s->task_id);
    for (unsigned i = 0; i < s->nsyscalls; i++) {
        char k[48];
        snprintf(k, sizeof k, "blocked_in_%s_us", s->syscalls[i].name);
        cs_json_kv_uint(w, k, s->syscalls[i].total_ns / 1000);
    }
    if (s->nstacks && s->stacks[0].nframes) {
        char frame[256];
        cs_report_frame_name(&s->stacks[0].frames[0], frame, sizeof frame);
        cs_json_kv_string(w, "top_frame", frame);
    }
    cs_json_end_object(w);
    cs_json_end_object(w);
    /* A marker that shows even when zoomed out. */
    event_head(w, "i", "stall", "stall", pid, s->tid);
    key_us_ns(w, r, "ts", s->start_ns);
    cs_json_kv_string(w, "s", "t");
    cs_json_end_object(w);
}

/*
 * Perfetto binds a flow's "s" to the slice open on its track at its time, and an "f" with
 * "bp":"e" likewise: "s" sits at the wake, inside the waker's poll; "f" in the middle of the
 * woken task's next poll (at its start, the order of two events at one time would decide). A wake
 * by the loop itself (waker 0: a timer, an fd, a posted call) has no poll to start from: no arrow.
 * Neither has a wake whose waker's poll or woken's next poll was not recorded (before the start,
 * after the end, lost).
 */
static void write_wake(struct cs_json *w, const struct cs_report *r, const struct cs_rec_wake *wk,
                       size_t id, int pid, const struct poll_ref *by_task, size_t npolls)
{
    if (!wk->waker_id)
        return;
    /* the waker's last poll starting at or before the wake must still run at it */
    size_t k = wk->t_ns < UINT64_MAX ? polls_from(by_task, npolls, wk->waker_id, wk->t_ns + 1) : 0;
    if (k == 0 || by_task[k - 1].key != wk->waker_id || wk->t_ns > by_task[k - 1].end_ns)
        return;
    const struct poll_ref *from = &by_task[k - 1];
    k = polls_from(by_task, npolls, wk->woken_id, wk->t_ns);
    if (k == npolls || by_task[k].key != wk->woken_id)
        return;
    const struct poll_ref *to = &by_task[k];
    event_head(w, "s", "wake", "wake", pid, from->tid);
    key_us_ns(w, r, "ts", wk->t_ns);
    cs_json_kv_uint(w, "id", id);
    cs_json_end_object(w);
    event_head(w, "f", "wake", "wake", pid, to->tid);
    key_us_ns(w, r, "ts", to->start_ns + (to->end_ns - to->start_ns) / 2);
    cs_json_kv_uint(w, "id", id);
    cs_json_kv_string(w, "bp", "e");
    cs_json_end_object(w);
}

/* Every poll's slice, and two indexes of them: by task for the arrows, by thread for
 * the spans that must enclose them (NULL without polls, or without memory). */
static struct poll_ref *write_polls(struct cs_json *w, const struct cs_report *r, int pid,
                                    size_t *npolls, struct poll_ref **by_thread)
{
    const struct cs_recording *rec = r->rec;
    struct poll_ref *by_task = r->polls ? malloc(r->polls * sizeof *by_task) : NULL;
    struct poll_ref *tp = r->polls ? malloc(r->polls * sizeof *tp) : NULL;
    if (!by_task || !tp) {
        free(by_task);
        free(tp);
        by_task = NULL;
        tp = NULL;
    }
    size_t n = 0;
    for (size_t i = 0; i < rec->npolls; i++) {
        const struct cs_rec_slice *s = &rec->polls[i];
        char name[CS_REC_NAME_LEN + 32];
        if (s->name[0])
            snprintf(name, sizeof name, "%s", s->name);
        else /* born and gone between two snapshots: no TASK_SPAWN names it */
            snprintf(name, sizeof name, "task %llu", (unsigned long long)s->task_id);
        event_head(w, "X", name, "task", pid, s->tid);
        key_us_ns(w, r, "ts", s->start_ns);
        key_dur(w, s->duration_ns);
        cs_json_key(w, "args");
        cs_json_begin_object(w);
        cs_json_kv_uint(w, "task_id", s->task_id);
        cs_json_kv_string(w, "then",
                          s->wait_reason == CS_REC_WAIT_DONE ? "done"
                          : s->wait_reason == CORUN_WAIT_NONE
                              ? "ready" /* readied by itself */
                              : cs_wait_reason_name(s->wait_reason));
        cs_json_end_object(w);
        cs_json_end_object(w);
        if (by_task) {
            uint64_t end = s->start_ns + s->duration_ns;
            by_task[n] = (struct poll_ref){s->task_id, s->start_ns, end, s->tid};
            tp[n++] = (struct poll_ref){(uint64_t)s->tid, s->start_ns, end, s->tid};
        }
    }
    cs_qsort(by_task, n, sizeof *by_task, cmp_poll);
    cs_qsort(tp, n, sizeof *tp, cmp_poll);
    *npolls = n;
    *by_thread = tp;
    return by_task;
}

void cs_report_write_chrome(FILE *out, const struct cs_report *r)
{
    const struct cs_recording *rec = r->rec;
    int pid = rec->has_target ? rec->target.pid : 0;
    struct cs_json w;
    cs_json_init(&w, out);
    cs_json_begin_object(&w);
    cs_json_kv_string(&w, "displayTimeUnit", "ms");
    cs_json_key(&w, "traceEvents");
    cs_json_begin_array(&w);
    write_metadata(&w, r, pid);
    size_t npolls = 0;
    struct poll_ref *by_thread = NULL;
    struct poll_ref *by_task = write_polls(&w, r, pid, &npolls, &by_thread);
    for (size_t i = 0; i < rec->nslices && !r->polls; i++) { /* the long ones are polls too */
        const struct cs_rec_slice *s = &rec->slices[i];
        event_head(&w, "X", s->name[0] ? s->name : "task", "task", pid, s->tid);
        key_us_ns(&w, r, "ts", s->start_ns);
        key_dur(&w, s->duration_ns);
        cs_json_end_object(&w);
    }
    for (size_t i = 0; i < r->nstalls; i++)
        write_stall(&w, r, r->by_start[i], pid, by_thread, npolls);
    /* Each task's life as an async span (Perfetto groups them under the process). */
    uint64_t end_ns = r->t0_ns + r->duration_ns;
    for (size_t i = 0; i < rec->ntasks; i++) {
        const struct cs_rec_task *t = &rec->tasks[i];
        uint64_t from = t->spawn.t_ns > r->t0_ns ? t->spawn.t_ns : r->t0_ns;
        uint64_t to = t->done && t->done_ns > from ? t->done_ns : end_ns > from ? end_ns : from;
        const char *phases[2] = {"b", "e"};
        uint64_t at[2] = {from, to};
        for (int k = 0; k < 2; k++) {
            event_head(&w, phases[k], t->spawn.name[0] ? t->spawn.name : "task", "task_life", pid,
                       t->spawn.loop_tid);
            key_us_ns(&w, r, "ts", at[k]);
            cs_json_kv_uint(&w, "id", t->spawn.id);
            if (k == 0) {
                cs_json_key(&w, "args");
                cs_json_begin_object(&w);
                cs_json_kv_uint(&w, "task_id", t->spawn.id);
                cs_json_kv_uint(&w, "parent_id", t->spawn.parent_id);
                cs_json_end_object(&w);
            }
            cs_json_end_object(&w);
        }
    }
    for (size_t i = 0; i < rec->nslow_iters; i++) {
        const struct cs_slow_iter *it = &rec->slow_iters[i];
        uint64_t start = it->start_ns, end = it->start_ns + it->duration_ns;
        enclose_polls(by_thread, npolls, it->tid, &start, &end);
        event_head(&w, "X", "slow iteration", "slow_iteration", pid, it->tid);
        key_us_ns(&w, r, "ts", start);
        key_dur(&w, end - start);
        cs_json_key(&w, "args");
        cs_json_begin_object(&w);
        cs_json_kv_uint(&w, "slices", it->tasks_run);
        cs_json_end_object(&w);
        cs_json_end_object(&w);
    }
    for (size_t i = 0; i < rec->nwakes; i++)
        write_wake(&w, r, &rec->wakes[i], i + 1, pid, by_task, npolls);
    free(by_task);
    free(by_thread);
    cs_json_end_array(&w);
    cs_json_end_object(&w);
    fputc('\n', out);
}
