/*
 * `coscope report --format chrome`: Chrome trace-event JSON (chrome://tracing, Perfetto
 * UI). One track per loop thread; on it a slice per recorded task poll (cat "task") and
 * each stall (cat "stall", with an instant marker where it began); each task's life as an
 * async span (cat "task_life"), slow iterations (cat "slow_iteration"); flow arrows from the
 * waker's track to the woken task's where wake edges were recorded. Times in µs from the
 * start of the recording.
 */
#include <stdio.h>

#include "json_writer.h"
#include "report_summary.h"

static uint64_t us(const struct cs_report *r, uint64_t t_ns)
{
    return t_ns > r->t0_ns ? (t_ns - r->t0_ns) / 1000 : 0;
}

static void key_uint(struct cs_json *w, const char *k, uint64_t v)
{
    cs_json_key(w, k);
    cs_json_uint(w, v);
}

static void key_str(struct cs_json *w, const char *k, const char *v)
{
    cs_json_key(w, k);
    cs_json_string(w, v);
}

static void event_head(struct cs_json *w, const char *ph, const char *name, const char *cat,
                       int pid, int tid)
{
    cs_json_begin_object(w);
    key_str(w, "ph", ph);
    key_str(w, "name", name);
    if (cat)
        key_str(w, "cat", cat);
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
    key_str(w, "name", name);
    cs_json_end_object(w);
    cs_json_end_object(w);
    for (size_t i = 0; i < r->nloops; i++) {
        snprintf(name, sizeof name, "loop %s (%d)", r->loops[i].comm, r->loops[i].tid);
        event_head(w, "M", "thread_name", NULL, pid, r->loops[i].tid);
        cs_json_key(w, "args");
        cs_json_begin_object(w);
        key_str(w, "name", name);
        cs_json_end_object(w);
        cs_json_end_object(w);
    }
}

static void write_stall(struct cs_json *w, const struct cs_report *r, const struct cs_stall *s,
                        int pid)
{
    char name[160];
    snprintf(name, sizeof name, "stall: %s", cs_report_stall_owner(s));
    event_head(w, "X", name, "stall", pid, s->tid);
    key_uint(w, "ts", us(r, s->start_ns));
    key_uint(w, "dur", s->duration_ns / 1000);
    cs_json_key(w, "args");
    cs_json_begin_object(w);
    key_uint(w, "on_cpu_us", s->on_cpu_ns / 1000);
    key_uint(w, "off_cpu_us", s->off_cpu_ns / 1000);
    if (s->task)
        key_uint(w, "task_id", s->task_id);
    for (unsigned i = 0; i < s->nsyscalls; i++) {
        char k[48];
        snprintf(k, sizeof k, "blocked_in_%s_us", s->syscalls[i].name);
        key_uint(w, k, s->syscalls[i].total_ns / 1000);
    }
    if (s->nstacks && s->stacks[0].nframes) {
        char frame[256];
        cs_report_frame_name(&s->stacks[0].frames[0], frame, sizeof frame);
        key_str(w, "top_frame", frame);
    }
    cs_json_end_object(w);
    cs_json_end_object(w);
    /* A marker that shows even when zoomed out. */
    event_head(w, "i", "stall", "stall", pid, s->tid);
    key_uint(w, "ts", us(r, s->start_ns));
    key_str(w, "s", "t");
    cs_json_end_object(w);
}

static void write_wake(struct cs_json *w, const struct cs_report *r, const struct cs_rec_wake *wk,
                       size_t id, int pid)
{
    const struct cs_rec_task *from = cs_recording_task(r->rec, wk->waker_id);
    const struct cs_rec_task *to = cs_recording_task(r->rec, wk->woken_id);
    if (!from || !to)
        return;
    const char *phases[2] = {"s", "f"};
    const struct cs_rec_task *ends[2] = {from, to};
    for (int k = 0; k < 2; k++) {
        event_head(w, phases[k], "wake", "wake", pid, ends[k]->spawn.loop_tid);
        key_uint(w, "ts", us(r, wk->t_ns));
        key_uint(w, "id", id);
        if (k == 1)
            key_str(w, "bp", "e");
        cs_json_end_object(w);
    }
}

void cs_report_write_chrome(FILE *out, const struct cs_report *r)
{
    const struct cs_recording *rec = r->rec;
    int pid = rec->has_target ? rec->target.pid : 0;
    struct cs_json w;
    cs_json_init(&w, out);
    cs_json_begin_object(&w);
    key_str(&w, "displayTimeUnit", "ms");
    cs_json_key(&w, "traceEvents");
    cs_json_begin_array(&w);
    write_metadata(&w, r, pid);
    for (size_t i = 0; i < rec->nslices; i++) {
        const struct cs_rec_slice *s = &rec->slices[i];
        event_head(&w, "X", s->name[0] ? s->name : "task", "task", pid, s->tid);
        key_uint(&w, "ts", us(r, s->start_ns));
        key_uint(&w, "dur", s->duration_ns / 1000);
        cs_json_end_object(&w);
    }
    for (size_t i = 0; i < r->nstalls; i++)
        write_stall(&w, r, r->by_start[i], pid);
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
            key_uint(&w, "ts", us(r, at[k]));
            key_uint(&w, "id", t->spawn.id);
            if (k == 0) {
                cs_json_key(&w, "args");
                cs_json_begin_object(&w);
                key_uint(&w, "task_id", t->spawn.id);
                key_uint(&w, "parent_id", t->spawn.parent_id);
                cs_json_end_object(&w);
            }
            cs_json_end_object(&w);
        }
    }
    for (size_t i = 0; i < rec->nslow_iters; i++) {
        const struct cs_slow_iter *it = &rec->slow_iters[i];
        event_head(&w, "X", "slow iteration", "slow_iteration", pid, it->tid);
        key_uint(&w, "ts", us(r, it->start_ns));
        key_uint(&w, "dur", it->duration_ns / 1000);
        cs_json_key(&w, "args");
        cs_json_begin_object(&w);
        key_uint(&w, "slices", it->tasks_run);
        cs_json_end_object(&w);
        cs_json_end_object(&w);
    }
    for (size_t i = 0; i < rec->nwakes; i++)
        write_wake(&w, r, &rec->wakes[i], i + 1, pid);
    cs_json_end_array(&w);
    cs_json_end_object(&w);
    fputc('\n', out);
}
