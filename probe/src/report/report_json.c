/* `coscope report --format json`: the text summary, machine-readable and stable. The
 * schema is in docs/report.md: keys are only ever added, never renamed or removed. */
#include <time.h>

#include "corun_debug.h"
#include "json_writer.h"
#include "report_summary.h"

#define REPORT_SCHEMA_VERSION 1

static uint64_t rel(const struct cs_report *r, uint64_t t)
{
    return t > r->t0_ns ? t - r->t0_ns : 0;
}

static void write_frames(struct cs_json *w, const struct cs_stall *s)
{
    cs_json_begin_array(w);
    for (unsigned i = 0; s->nstacks && i < s->stacks[0].nframes; i++) {
        const struct cs_frame *f = &s->stacks[0].frames[i];
        cs_json_begin_object(w);
        cs_json_key(w, "addr");
        cs_json_hex(w, f->addr);
        cs_json_kv_string(w, "symbol", f->symbol);
        cs_json_kv_uint(w, "offset", f->offset);
        cs_json_kv_string(w, "module", f->module);
        cs_json_kv_string(w, "file", f->file);
        cs_json_key(w, "line");
        if (f->line > 0)
            cs_json_int(w, f->line);
        else
            cs_json_null(w);
        cs_json_kv_string(w, "kind", cs_frame_kind_name(f->kind));
        cs_json_end_object(w);
    }
    cs_json_end_array(w);
}

static void write_stall(struct cs_json *w, const struct cs_report *r, const struct cs_stall *s)
{
    cs_json_begin_object(w);
    cs_json_kv_uint(w, "start_ns", rel(r, s->start_ns));
    cs_json_kv_uint(w, "duration_ns", s->duration_ns);
    cs_json_key(w, "tid");
    cs_json_int(w, s->tid);
    cs_json_kv_string(w, "comm", s->comm);
    cs_json_key(w, "task");
    if (s->task) {
        cs_json_begin_object(w);
        cs_json_kv_uint(w, "id", s->task_id);
        cs_json_kv_string(w, "name", s->task);
        cs_json_end_object(w);
    } else {
        cs_json_null(w);
    }
    cs_json_kv_uint(w, "on_cpu_ns", s->on_cpu_ns);
    cs_json_kv_uint(w, "off_cpu_ns", s->off_cpu_ns);
    cs_json_key(w, "unfinished");
    cs_json_bool(w, s->unfinished);
    cs_json_kv_string(w, "start", cs_stall_start_name(s->start));
    cs_json_key(w, "syscalls");
    cs_json_begin_array(w);
    for (unsigned i = 0; i < s->nsyscalls; i++) {
        cs_json_begin_object(w);
        cs_json_kv_string(w, "name", s->syscalls[i].name);
        cs_json_kv_uint(w, "count", s->syscalls[i].count);
        cs_json_kv_uint(w, "total_ns", s->syscalls[i].total_ns);
        cs_json_end_object(w);
    }
    cs_json_end_array(w);
    cs_json_key(w, "stack");
    write_frames(w, s);
    cs_json_end_object(w);
}

static void write_recording(struct cs_json *w, const struct cs_report *r)
{
    const struct cs_recording *rec = r->rec;
    cs_json_key(w, "recording");
    cs_json_begin_object(w);
    cs_json_kv_uint(w, "file_version", rec->version);
    cs_json_kv_uint(w, "records", rec->nrecords);
    cs_json_kv_uint(w, "duration_ns", r->duration_ns);
    cs_json_key(w, "complete");
    cs_json_bool(w, rec->has_trailer);
    cs_json_key(w, "warning");
    if (rec->message[0])
        cs_json_string(w, rec->message);
    else
        cs_json_null(w);
    cs_json_key(w, "triggers");
    cs_json_begin_array(w);
    for (size_t i = 0; i < rec->ntriggers; i++) {
        cs_json_begin_object(w);
        cs_json_kv_string(w, "trigger", rec->triggers[i].what);
        cs_json_kv_uint(w, "at_ns", rel(r, rec->triggers[i].t_ns));
        cs_json_end_object(w);
    }
    cs_json_end_array(w);
    cs_json_kv_uint(w, "lost_events", rec->lost.lost_events);
    cs_json_kv_uint(w, "suppressed_stalls", rec->lost.suppressed);
    cs_json_kv_uint(w, "polls", r->polls);
    cs_json_kv_uint(w, "wakes", r->wakes);
    cs_json_kv_uint(w, "wakes_by_loop", r->wakes_by_loop);
    cs_json_end_object(w);
}

static void write_target(struct cs_json *w, const struct cs_report *r)
{
    const struct cs_rec_target *t = &r->rec->target;
    cs_json_key(w, "target");
    if (!r->rec->has_target) {
        cs_json_null(w);
        return;
    }
    cs_json_begin_object(w);
    cs_json_key(w, "pid");
    cs_json_int(w, t->pid);
    cs_json_kv_string(w, "comm", t->comm);
    cs_json_kv_string(w, "exe", t->exe);
    cs_json_kv_string(w, "build_id", t->build_id[0] ? t->build_id : NULL);
    cs_json_kv_string(w, "coscope_version", t->version);
    cs_json_kv_uint(w, "start_realtime_ns", t->start_realtime_ns);
    cs_json_kv_uint(w, "threshold_ns", t->threshold_ns);
    cs_json_key(w, "flight");
    cs_json_bool(w, t->flags & CS_REC_TARGET_FLIGHT);
    cs_json_end_object(w);
}

static void write_loops(struct cs_json *w, const struct cs_report *r)
{
    /* 0: nothing was watched, so no stall could be seen (not a healthy loop). */
    cs_json_kv_uint(w, "loops_watched", r->nloops);
    cs_json_key(w, "loops");
    cs_json_begin_array(w);
    for (size_t i = 0; i < r->nloops; i++) {
        const struct cs_report_loop *l = &r->loops[i];
        cs_json_begin_object(w);
        cs_json_key(w, "tid");
        cs_json_int(w, l->tid);
        cs_json_kv_string(w, "comm", l->comm);
        cs_json_kv_uint(w, "stalls", l->stalls);
        cs_json_kv_uint(w, "stalled_ns", l->stalled_ns);
        cs_json_kv_uint(w, "worst_ns", l->worst_ns);
        cs_json_key(w, "runtime");
        if (l->has_stats) {
            cs_json_begin_object(w);
            cs_json_kv_uint(w, "loop_id", l->loop_id);
            cs_json_kv_uint(w, "iterations", l->iterations);
            cs_json_kv_uint(w, "busy_ns", l->busy_ns);
            cs_json_kv_uint(w, "poll_wait_ns", l->poll_wait_ns);
            cs_json_key(w, "source");
            cs_json_string(w, l->engine ? "engine" : "libcorun");
            const char *keys[2] = {"sched_p50_ns", "sched_p99_ns"};
            uint64_t vals[2] = {l->sched_p50_ns, l->sched_p99_ns};
            for (int k = 0; k < 2; k++) {
                cs_json_key(w, keys[k]);
                if (l->engine)
                    cs_json_null(w); /* a foreign loop has no scheduling latency */
                else
                    cs_json_uint(w, vals[k]);
            }
            cs_json_kv_uint(w, "iteration_p99_ns", l->iter_p99_ns);
            cs_json_end_object(w);
        } else {
            cs_json_null(w);
        }
        cs_json_end_object(w);
    }
    cs_json_end_array(w);
}

static const char *outcome_name(uint32_t outcome)
{
    switch (outcome) {
    case CORUN_OUTCOME_OK:
        return "ok";
    case CORUN_OUTCOME_ERROR:
        return "error";
    case CORUN_OUTCOME_CANCELLED:
        return "cancelled";
    default:
        return "unknown";
    }
}

static void write_tasks(struct cs_json *w, const struct cs_report *r)
{
    cs_json_key(w, "tasks");
    cs_json_begin_array(w);
    for (size_t i = 0; i < r->ntasks; i++) {
        const struct cs_report_task *t = &r->tasks[i];
        cs_json_begin_object(w);
        cs_json_kv_uint(w, "id", t->id);
        cs_json_kv_uint(w, "parent_id", t->parent_id);
        cs_json_kv_string(w, "name", t->name);
        cs_json_key(w, "loop_tid");
        cs_json_int(w, t->loop_tid);
        cs_json_kv_uint(w, "spawn_ns", t->spawn_ns);
        cs_json_key(w, "done_ns");
        if (t->done)
            cs_json_uint(w, t->done_ns);
        else
            cs_json_null(w);
        cs_json_key(w, "outcome");
        cs_json_string(w, t->outcome_known ? outcome_name(t->outcome) : NULL);
        cs_json_key(w, "error");
        if (t->outcome_known)
            cs_json_int(w, t->error);
        else
            cs_json_null(w);
        cs_json_key(w, "stats");
        if (t->has_stats) {
            cs_json_begin_object(w);
            cs_json_kv_uint(w, "polls", t->polls);
            cs_json_kv_uint(w, "busy_ns", t->busy_ns);
            cs_json_kv_uint(w, "wakes", t->wakes);
            cs_json_kv_uint(w, "sched_p50_ns", t->sched_p50_ns);
            cs_json_kv_uint(w, "sched_p99_ns", t->sched_p99_ns);
            cs_json_kv_uint(w, "sched_max_ns", t->sched_max_ns);
            cs_json_end_object(w);
        } else {
            cs_json_null(w);
        }
        cs_json_end_object(w);
    }
    cs_json_end_array(w);
}

static void metric(struct cs_json *w, const char *name, uint64_t value, const char *unit,
                   const char *limit)
{
    cs_json_key(w, name);
    cs_json_begin_object(w);
    cs_json_kv_uint(w, "value", value);
    cs_json_kv_string(w, "unit", unit);
    cs_json_kv_string(w, "better", "lower");
    if (limit)
        cs_json_kv_string(w, "limit", limit);
    cs_json_end_object(w);
}

/* A metric with three decimals, given in thousandths (cs_json_milli: exact, no float text). */
static void metric_milli(struct cs_json *w, const char *name, uint64_t thousandths,
                         const char *unit)
{
    cs_json_key(w, name);
    cs_json_begin_object(w);
    cs_json_key(w, "value");
    cs_json_milli(w, thousandths);
    cs_json_kv_string(w, "unit", unit);
    cs_json_kv_string(w, "better", "lower");
    cs_json_end_object(w);
}

/* The flat "metrics" object `coscope compare` holds against a baseline (docs/ci.md); the
 * names are listed in docs/report.md. Loops are numbered in the order they were found
 * (thread ids change from run to run). */
static void write_metrics(struct cs_json *w, const struct cs_report *r)
{
    const struct cs_recording *rec = r->rec;
    uint64_t worst = r->nstalls ? r->by_duration[0]->duration_ns : 0;
    cs_json_key(w, "metrics");
    cs_json_begin_object(w);
    metric(w, "stalls", r->nstalls, "count", "0");
    metric(w, "stalled_time", r->stalled_ns, "ns", NULL);
    metric(w, "worst_stall", worst, "ns", NULL);
    metric(w, "lost_events", rec->lost.lost_events, "count", "0");
    metric(w, "slow_iterations", rec->nslow_iters, "count", NULL);
    /* Rates over the watched loop time (duration x loops): unlike raw counts they do not
     * depend on how long the window was or where it fell, so runs of different lengths
     * compare. */
    double watched_s = (double)r->duration_ns / 1e9 * (double)(r->nloops ? r->nloops : 1);
    if (watched_s > 0) {
        metric_milli(w, "stall_rate", (uint64_t)((double)r->nstalls / watched_s * 1000.0 + 0.5),
                     "1/s");
        metric_milli(w, "stalled_pct",
                     (uint64_t)((double)r->stalled_ns / 1e9 / watched_s * 100.0 * 1000.0 + 0.5),
                     "pct");
    }
    for (size_t i = 0; i < r->nloops; i++) {
        const struct cs_report_loop *l = &r->loops[i];
        char name[96];
        snprintf(name, sizeof name, "loop.%zu.stalls", i);
        metric(w, name, l->stalls, "count", NULL);
        if (!l->has_stats)
            continue;
        /* With its sample count: compare gives no verdict on a p99 of too few samples. */
        snprintf(name, sizeof name, "loop.%zu.iteration.p99", i);
        cs_json_key(w, name);
        cs_json_begin_object(w);
        cs_json_kv_uint(w, "value", l->iter_p99_ns);
        cs_json_kv_string(w, "unit", "ns");
        cs_json_kv_string(w, "better", "lower");
        cs_json_kv_uint(w, "samples", l->iterations);
        cs_json_end_object(w);
        if (l->engine)
            continue;
        snprintf(name, sizeof name, "loop.%zu.sched_latency.p50", i);
        metric(w, name, l->sched_p50_ns, "ns", NULL);
        snprintf(name, sizeof name, "loop.%zu.sched_latency.p99", i);
        metric(w, name, l->sched_p99_ns, "ns", NULL);
    }
    if (r->ntasks_with_stats) /* tasks are sorted worst p99 first */
        metric(w, "tasks.worst_sched_latency.p99", r->tasks[0].sched_p99_ns, "ns", NULL);
    for (size_t i = 0; i < r->ncalls; i++) {
        char name[96];
        snprintf(name, sizeof name, "blocking.%s.total", r->calls[i].name);
        for (char *p = name; *p; p++) /* metric names: lowercase words, digits, _ - . */
            if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' ||
                  *p == '.'))
                *p = '_';
        metric(w, name, r->calls[i].total_ns, "ns", NULL);
    }
    cs_json_end_object(w);
}

static void write_about(struct cs_json *w, const struct cs_report *r)
{
    const struct cs_rec_target *t = &r->rec->target;
    cs_json_key(w, "about");
    cs_json_begin_object(w);
    if (r->rec->has_target) {
        char when[64] = "";
        time_t secs = (time_t)(t->start_realtime_ns / 1000000000ull);
        struct tm tm;
        if (gmtime_r(&secs, &tm))
            strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
        cs_json_kv_string(w, "date", when);
        cs_json_kv_string(w, "command", t->exe);
        cs_json_kv_string(w, "coscope", t->version);
    }
    cs_json_end_object(w);
}

void cs_report_write_json(FILE *out, const struct cs_report *r)
{
    struct cs_json w;
    cs_json_init(&w, out);
    cs_json_begin_object(&w);
    cs_json_kv_string(&w, "type", "coscope-report");
    cs_json_kv_uint(&w, "schema", REPORT_SCHEMA_VERSION);
    cs_json_kv_string(&w, "kind", "coscope-report"); /* docs/ci.md: what `compare` reads */
    cs_json_kv_uint(&w, "metrics_version", 1);
    write_about(&w, r);
    write_metrics(&w, r);
    write_target(&w, r);
    write_recording(&w, r);
    write_loops(&w, r);
    cs_json_key(&w, "stalls");
    cs_json_begin_array(&w);
    for (size_t i = 0; i < r->nstalls; i++)
        write_stall(&w, r, r->by_start[i]);
    cs_json_end_array(&w);
    cs_json_kv_uint(&w, "stalled_ns", r->stalled_ns);
    cs_json_key(&w, "slow_iterations");
    cs_json_begin_array(&w);
    for (size_t i = 0; i < r->rec->nslow_iters; i++) {
        const struct cs_slow_iter *it = &r->rec->slow_iters[i];
        cs_json_begin_object(&w);
        cs_json_kv_uint(&w, "start_ns", rel(r, it->start_ns));
        cs_json_kv_uint(&w, "duration_ns", it->duration_ns);
        cs_json_key(&w, "tid");
        cs_json_int(&w, it->tid);
        cs_json_kv_uint(&w, "slices", it->tasks_run);
        cs_json_key(&w, "tasks");
        cs_json_begin_array(&w);
        for (unsigned k = 0; k < it->ntasks; k++) {
            cs_json_begin_object(&w);
            cs_json_kv_uint(&w, "id", it->tasks[k].id);
            cs_json_kv_string(&w, "name", it->tasks[k].name[0] ? it->tasks[k].name : NULL);
            cs_json_kv_uint(&w, "duration_ns", it->tasks[k].duration_ns);
            cs_json_end_object(&w);
        }
        cs_json_end_array(&w);
        cs_json_end_object(&w);
    }
    cs_json_end_array(&w);
    write_tasks(&w, r);
    cs_json_key(&w, "blocking_calls");
    cs_json_begin_array(&w);
    for (size_t i = 0; i < r->ncalls; i++) {
        cs_json_begin_object(&w);
        cs_json_kv_string(&w, "name", r->calls[i].name);
        cs_json_kv_uint(&w, "count", r->calls[i].count);
        cs_json_kv_uint(&w, "total_ns", r->calls[i].total_ns);
        cs_json_kv_uint(&w, "stalls", r->calls[i].stalls);
        cs_json_end_object(&w);
    }
    cs_json_end_array(&w);
    cs_json_end_object(&w);
    fputc('\n', out);
}
