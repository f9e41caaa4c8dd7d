#include "stall_format.h"

#include <inttypes.h>

#include "json_writer.h"

static void write_frames_json(struct cs_json *w, const struct cs_stack *st)
{
    cs_json_begin_array(w);
    for (unsigned i = 0; st && i < st->nframes; i++) {
        const struct cs_frame *f = &st->frames[i];
        cs_json_begin_object(w);
        cs_json_key(w, "addr");
        cs_json_hex(w, f->addr);
        cs_json_key(w, "symbol");
        cs_json_string(w, f->symbol);
        cs_json_key(w, "offset");
        if (f->symbol)
            cs_json_uint(w, f->offset);
        else
            cs_json_null(w);
        cs_json_key(w, "module");
        cs_json_string(w, f->module);
        cs_json_key(w, "file");
        cs_json_string(w, f->file);
        cs_json_key(w, "line");
        if (f->line > 0)
            cs_json_int(w, f->line);
        else
            cs_json_null(w);
        cs_json_key(w, "kind");
        cs_json_string(w, cs_frame_kind_name(f->kind));
        cs_json_end_object(w);
    }
    cs_json_end_array(w);
}

void cs_stall_write_json(FILE *out, const struct cs_stall *s)
{
    struct cs_json w;
    cs_json_init(&w, out);
    cs_json_begin_object(&w);
    cs_json_key(&w, "type");
    cs_json_string(&w, "stall");
    cs_json_key(&w, "pid");
    cs_json_int(&w, s->pid);
    cs_json_key(&w, "tid");
    cs_json_int(&w, s->tid);
    cs_json_key(&w, "comm");
    cs_json_string(&w, s->comm);
    cs_json_key(&w, "start_ns");
    cs_json_uint(&w, s->start_ns);
    cs_json_key(&w, "duration_us");
    cs_json_uint(&w, s->duration_ns / 1000);
    cs_json_key(&w, "ongoing");
    cs_json_bool(&w, s->ongoing);
    cs_json_key(&w, "unfinished");
    cs_json_bool(&w, s->unfinished);
    cs_json_key(&w, "start");
    cs_json_string(&w, cs_stall_start_name(s->start));
    cs_json_key(&w, "task");
    if (s->task) { /* libcorun: {"id","name"} of the task whose slice stalled */
        cs_json_begin_object(&w);
        cs_json_key(&w, "id");
        cs_json_uint(&w, s->task_id);
        cs_json_key(&w, "name");
        cs_json_string(&w, s->task);
        cs_json_end_object(&w);
    } else {
        cs_json_null(&w);
    }
    cs_json_key(&w, "on_cpu_us");
    cs_json_uint(&w, s->on_cpu_ns / 1000);
    cs_json_key(&w, "off_cpu_us");
    cs_json_uint(&w, s->off_cpu_ns / 1000);
    cs_json_key(&w, "syscalls");
    cs_json_begin_array(&w);
    for (unsigned i = 0; i < s->nsyscalls; i++) {
        cs_json_begin_object(&w);
        cs_json_key(&w, "name");
        cs_json_string(&w, s->syscalls[i].name);
        cs_json_key(&w, "count");
        cs_json_uint(&w, s->syscalls[i].count);
        cs_json_key(&w, "total_us");
        cs_json_uint(&w, s->syscalls[i].total_ns / 1000);
        cs_json_end_object(&w);
    }
    cs_json_end_array(&w);
    cs_json_key(&w, "stack");
    write_frames_json(&w, s->nstacks ? &s->stacks[0] : NULL);
    if (s->nstacks > 1) {
        cs_json_key(&w, "stacks");
        cs_json_begin_array(&w);
        for (unsigned i = 0; i < s->nstacks; i++) {
            cs_json_begin_object(&w);
            cs_json_key(&w, "count");
            cs_json_uint(&w, s->stacks[i].count);
            cs_json_key(&w, "frames");
            write_frames_json(&w, &s->stacks[i]);
            cs_json_end_object(&w);
        }
        cs_json_end_array(&w);
    }
    cs_json_end_object(&w);
    fputc('\n', out);
    fflush(out);
}

static void write_frame_text(FILE *out, const struct cs_frame *f)
{
    fprintf(out, "      0x%016" PRIx64 "  ", f->addr);
    /* An inlined function has no code of its own to be at an offset in. */
    if (f->symbol && f->kind == CS_FRAME_INLINE)
        fprintf(out, "%s (inlined)", f->symbol);
    else if (f->symbol)
        fprintf(out, "%s+0x%" PRIx64, f->symbol, f->offset);
    else
        fputs("??", out);
    if (f->kind == CS_FRAME_JIT)
        fputs(" [jit]", out);
    if (f->file)
        fprintf(out, " (%s:%d)", f->file, f->line);
    if (f->module) {
        const char *base = f->module;
        for (const char *p = f->module; *p; p++)
            if (*p == '/')
                base = p + 1;
        fprintf(out, " [%s]", base);
    }
    fputc('\n', out);
}

void cs_stall_write_text(FILE *out, const struct cs_stall *s)
{
    const char *since = "";
    if (s->start == CS_STALL_START_LAST_RAN)
        since = ", began before attach (blocked since it last ran)";
    else if (s->start == CS_STALL_START_ATTACH)
        since = ", began before attach (at least this long)";
    fprintf(out, "%s %.1f ms on thread %d (%s) of pid %d%s%s\n",
            s->ongoing      ? "STALL (ongoing)"
            : s->unfinished ? "STALL (unfinished: still going at exit)"
                            : "STALL",
            (double)s->duration_ns / 1e6, s->tid, s->comm, s->pid, s->ongoing ? ", so far" : "",
            since);
    if (s->task)
        fprintf(out, "  task %s #%" PRIu64 "\n", s->task, s->task_id);
    fprintf(out, "  on-CPU %.1f ms, off-CPU %.1f ms\n", (double)s->on_cpu_ns / 1e6,
            (double)s->off_cpu_ns / 1e6);
    for (unsigned i = 0; i < s->nsyscalls; i++)
        fprintf(out, "  blocked in %s: %u× %.1f ms\n", s->syscalls[i].name, s->syscalls[i].count,
                (double)s->syscalls[i].total_ns / 1e6);
    for (unsigned i = 0; i < s->nstacks; i++) {
        if (s->nstacks > 1 || s->stacks[i].count > 1)
            fprintf(out, "  stack (seen %u×):\n", s->stacks[i].count);
        else
            fprintf(out, "  stack:\n");
        for (unsigned j = 0; j < s->stacks[i].nframes; j++)
            write_frame_text(out, &s->stacks[i].frames[j]);
    }
    if (!s->nstacks)
        fprintf(out, "  (no stack)\n");
    fputc('\n', out);
    fflush(out);
}

void cs_summary_write_json(FILE *out, const struct cs_model *m)
{
    struct cs_json w;
    cs_json_init(&w, out);
    cs_json_begin_object(&w);
    cs_json_key(&w, "type");
    cs_json_string(&w, "summary");
    cs_json_key(&w, "stalls");
    cs_json_uint(&w, cs_model_stalls(m));
    cs_json_key(&w, "lost_events");
    cs_json_uint(&w, cs_model_lost(m));
    cs_json_key(&w, "suppressed");
    cs_json_uint(&w, cs_model_suppressed(m));
    cs_json_key(&w, "loops_watched");
    cs_json_uint(&w, cs_model_loop_count(m));
    cs_json_end_object(&w);
    fputc('\n', out);
    fflush(out);
}

void cs_loop_write_json(FILE *out, int pid, int tid, const char *comm, const char *found_by)
{
    struct cs_json w;
    cs_json_init(&w, out);
    cs_json_begin_object(&w);
    cs_json_key(&w, "type");
    cs_json_string(&w, "loop");
    cs_json_key(&w, "pid");
    cs_json_int(&w, pid);
    cs_json_key(&w, "tid");
    cs_json_int(&w, tid);
    cs_json_key(&w, "comm");
    cs_json_string(&w, comm);
    cs_json_key(&w, "found_by");
    cs_json_string(&w, found_by);
    cs_json_end_object(&w);
    fputc('\n', out);
    fflush(out);
}

void cs_summary_write_text(FILE *out, const struct cs_model *m)
{
    fprintf(out,
            "%" PRIu64 " stall%s, %" PRIu64 " lost event%s, %" PRIu64
            " suppressed by the rate limit\n",
            cs_model_stalls(m), cs_model_stalls(m) == 1 ? "" : "s", cs_model_lost(m),
            cs_model_lost(m) == 1 ? "" : "s", cs_model_suppressed(m));
    fflush(out);
}

void cs_slow_iter_write_json(FILE *out, const struct cs_slow_iter *it)
{
    struct cs_json w;
    cs_json_init(&w, out);
    cs_json_begin_object(&w);
    cs_json_key(&w, "type");
    cs_json_string(&w, "slow_iteration");
    cs_json_key(&w, "pid");
    cs_json_int(&w, it->pid);
    cs_json_key(&w, "tid");
    cs_json_int(&w, it->tid);
    cs_json_key(&w, "comm");
    cs_json_string(&w, it->comm);
    cs_json_key(&w, "start_ns");
    cs_json_uint(&w, it->start_ns);
    cs_json_key(&w, "duration_us");
    cs_json_uint(&w, it->duration_ns / 1000);
    cs_json_key(&w, "tasks_run");
    cs_json_uint(&w, it->tasks_run);
    cs_json_key(&w, "tasks");
    cs_json_begin_array(&w);
    for (unsigned i = 0; i < it->ntasks; i++) {
        cs_json_begin_object(&w);
        cs_json_key(&w, "id");
        cs_json_uint(&w, it->tasks[i].id);
        cs_json_key(&w, "name");
        cs_json_string(&w, it->tasks[i].name[0] ? it->tasks[i].name : NULL);
        cs_json_key(&w, "duration_us");
        cs_json_uint(&w, it->tasks[i].duration_ns / 1000);
        cs_json_end_object(&w);
    }
    cs_json_end_array(&w);
    cs_json_end_object(&w);
    fputc('\n', out);
    fflush(out);
}

void cs_slow_iter_write_text(FILE *out, const struct cs_slow_iter *it)
{
    fprintf(out,
            "slow iteration  %.1f ms  thread %d (%s)  %" PRIu64
            " slices, none over the threshold\n",
            (double)it->duration_ns / 1e6, it->tid, it->comm, it->tasks_run);
    for (unsigned i = 0; i < it->ntasks; i++)
        fprintf(out, "  %8.1f ms  task %" PRIu64 " %s\n", (double)it->tasks[i].duration_ns / 1e6,
                it->tasks[i].id, it->tasks[i].name[0] ? it->tasks[i].name : "(ended)");
    if (it->tasks_run > it->ntasks)
        fprintf(out, "  ... and %" PRIu64 " shorter slices\n", it->tasks_run - it->ntasks);
    fputc('\n', out);
    fflush(out);
}
