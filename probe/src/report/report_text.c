/* `coscope report --format text`: the summary a person reads first. */
#include <inttypes.h>
#include <time.h>

#include "report_summary.h"

#define TOP_STALLS  10
#define TOP_TASKS   10
#define TOP_CALLS   10
#define STACK_DEPTH 12

static double ms(uint64_t ns)
{
    return (double)ns / 1e6;
}

static uint64_t rel(const struct cs_report *r, uint64_t t)
{
    return t > r->t0_ns ? t - r->t0_ns : 0;
}

static const char *end_reason(uint32_t reason)
{
    switch (reason) {
    case CS_REC_END_STOPPED:
        return "stopped";
    case CS_REC_END_EXITED:
        return "the target exited";
    case CS_REC_END_FLIGHT:
        return "flight recorder window written";
    case CS_REC_END_ERROR:
        return "the collector failed";
    }
    return "?";
}

static void write_header(FILE *out, const struct cs_report *r)
{
    const struct cs_recording *rec = r->rec;
    const struct cs_rec_target *t = &rec->target;
    if (rec->has_target) {
        char when[64] = "?";
        time_t secs = (time_t)(t->start_realtime_ns / 1000000000ull);
        struct tm tm;
        if (gmtime_r(&secs, &tm))
            strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
        fprintf(out, "recording of process %d (%s) %s\n", t->pid, t->comm, t->exe);
        fprintf(out, "  started %s, %.1f s long, threshold %.0f ms, coscope %s%s\n", when,
                (double)r->duration_ns / 1e9, ms(t->threshold_ns), t->version,
                t->flags & CS_REC_TARGET_FLIGHT ? ", flight recorder" : "");
        if (t->build_id[0])
            fprintf(out, "  build-id %s\n", t->build_id);
    } else {
        fprintf(out, "recording without a target record (%.1f s of stalls)\n",
                (double)r->duration_ns / 1e9);
    }
    for (size_t i = 0; i < rec->ntriggers; i++)
        fprintf(out, "  written because trigger '%s' fired at +%.3f s\n", rec->triggers[i].what,
                (double)rel(r, rec->triggers[i].t_ns) / 1e9);
    fprintf(out, "  %" PRIu64 " records, %s\n", rec->nrecords,
            rec->has_trailer ? end_reason(rec->trailer.reason) : "not closed (no trailer)");
    if (rec->lost.lost_events || rec->lost.suppressed)
        fprintf(out, "  lost events: %" PRIu64 ", stalls not kept (rate limit): %" PRIu64 "\n",
                rec->lost.lost_events, rec->lost.suppressed);
    if (r->polls || r->wakes)
        fprintf(out,
                "  every poll recorded (--polls): %" PRIu64 " polls, %" PRIu64 " wakes (%" PRIu64
                " by the loop: timers, fds)\n",
                r->polls, r->wakes, r->wakes_by_loop);
}

static void write_loops(FILE *out, const struct cs_report *r)
{
    fprintf(out, "\nloops (%zu)\n", r->nloops);
    if (!r->nloops) {
        /* A recording of nothing must not read as a healthy loop. */
        fprintf(out, "  no loop thread was watched: coscope found none in the process (no "
                     "stall could be seen; record again with -T TID)\n");
        return;
    }
    fprintf(out, "  %-8s %-16s %7s %10s %9s %12s %9s %9s\n", "TID", "COMM", "STALLS", "STALLED_MS",
            "WORST_MS", "ITERATIONS", "SCHED_P50", "SCHED_P99");
    for (size_t i = 0; i < r->nloops; i++) {
        const struct cs_report_loop *l = &r->loops[i];
        fprintf(out, "  %-8d %-16s %7" PRIu64 " %10.1f %9.1f", l->tid, l->comm, l->stalls,
                ms(l->stalled_ns), ms(l->worst_ns));
        if (l->has_stats && l->engine)
            fprintf(out, " %12" PRIu64 " %9s %9s\n", l->iterations, "-", "-");
        else if (l->has_stats)
            fprintf(out, " %12" PRIu64 " %7.2fms %7.2fms\n", l->iterations, ms(l->sched_p50_ns),
                    ms(l->sched_p99_ns));
        else
            fprintf(out, " %12s %9s %9s\n", "-", "-", "-");
    }
}

static void write_stall(FILE *out, const struct cs_report *r, const struct cs_stall *s)
{
    fprintf(out, "  %.1f ms at +%.3f s on %d (%s)", ms(s->duration_ns),
            (double)rel(r, s->start_ns) / 1e9, s->tid, s->comm);
    if (s->task)
        fprintf(out, ", task %" PRIu64 " %s", s->task_id, s->task);
    fprintf(out, ": on-CPU %.1f ms, off-CPU %.1f ms\n", ms(s->on_cpu_ns), ms(s->off_cpu_ns));
    if (s->start == CS_STALL_START_LAST_RAN)
        fprintf(out, "      began before the recording: blocked since the thread last ran\n");
    else if (s->start == CS_STALL_START_ATTACH)
        fprintf(out, "      began before the recording: at least this long\n");
    if (s->unfinished)
        fprintf(out, "      unfinished: still going when the recording stopped\n");
    for (unsigned i = 0; i < s->nsyscalls; i++)
        fprintf(out, "      blocked in %s: %u call%s, %.1f ms\n", s->syscalls[i].name,
                s->syscalls[i].count, s->syscalls[i].count == 1 ? "" : "s",
                ms(s->syscalls[i].total_ns));
    if (!s->nstacks) {
        fprintf(out, "      (no stack)\n");
        return;
    }
    const struct cs_stack *st = &s->stacks[0];
    for (unsigned j = 0; j < st->nframes && j < STACK_DEPTH; j++) {
        const struct cs_frame *f = &st->frames[j];
        char name[256];
        cs_report_frame_name(f, name, sizeof name);
        fprintf(out, "      #%-2u %s", j, name);
        if (f->file)
            fprintf(out, " (%s:%d)", f->file, f->line);
        fprintf(out, "\n");
    }
    if (st->nframes > STACK_DEPTH)
        fprintf(out, "      ... %u more frames\n", st->nframes - STACK_DEPTH);
}

void cs_report_write_text(FILE *out, const struct cs_report *r)
{
    write_header(out, r);
    write_loops(out, r);
    fprintf(out, "\ntop stalls (%zu in all, %.1f ms stalled)\n", r->nstalls, ms(r->stalled_ns));
    for (size_t i = 0; i < r->nstalls && i < TOP_STALLS; i++)
        write_stall(out, r, r->by_duration[i]);
    if (!r->nstalls)
        fprintf(out, "  none over the threshold\n");
    if (r->rec->nslow_iters) {
        const struct cs_recording *rec = r->rec;
        fprintf(out, "\nslow iterations (%zu): no one slice over the threshold, many adding up\n",
                rec->nslow_iters);
        for (size_t i = 0; i < rec->nslow_iters && i < TOP_STALLS; i++) {
            const struct cs_slow_iter *it = &rec->slow_iters[i];
            fprintf(out, "  %.1f ms at +%.3f s on %d: %" PRIu64 " slices;", ms(it->duration_ns),
                    (double)rel(r, it->start_ns) / 1e9, it->tid, it->tasks_run);
            for (unsigned k = 0; k < it->ntasks && k < 5; k++)
                fprintf(out, " %s %.1f ms%s", it->tasks[k].name[0] ? it->tasks[k].name : "?",
                        ms(it->tasks[k].duration_ns), k + 1 < it->ntasks && k < 4 ? "," : "");
            fprintf(out, "\n");
        }
    }
    fprintf(out, "\nslowest tasks by p99 scheduling latency (%zu tasks, %zu with statistics)\n",
            r->ntasks, r->ntasks_with_stats);
    if (r->ntasks_with_stats) {
        fprintf(out, "  %-8s %-24s %9s %9s %9s %8s %10s\n", "ID", "NAME", "SCHED_P50", "SCHED_P99",
                "SCHED_MAX", "POLLS", "BUSY_MS");
        for (size_t i = 0; i < r->ntasks_with_stats && i < TOP_TASKS; i++) {
            const struct cs_report_task *t = &r->tasks[i];
            fprintf(out, "  %-8" PRIu64 " %-24.24s %7.2fms %7.2fms %7.2fms %8" PRIu64 " %10.1f\n",
                    t->id, t->name, ms(t->sched_p50_ns), ms(t->sched_p99_ns), ms(t->sched_max_ns),
                    t->polls, ms(t->busy_ns));
        }
    } else {
        fprintf(out, "  none recorded (not a libcorun target, or no statistics)\n");
    }
    fprintf(out, "\nblocking calls by total time\n");
    if (!r->ncalls)
        fprintf(out, "  none inside stalls\n");
    for (size_t i = 0; i < r->ncalls && i < TOP_CALLS; i++)
        fprintf(out, "  %-16s %10.1f ms in %" PRIu64 " call%s, %" PRIu64 " stall%s\n",
                r->calls[i].name, ms(r->calls[i].total_ns), r->calls[i].count,
                r->calls[i].count == 1 ? "" : "s", r->calls[i].stalls,
                r->calls[i].stalls == 1 ? "" : "s");
}
