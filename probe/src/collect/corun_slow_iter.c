#include "corun_slow_iter.h"

#include <inttypes.h>

#include "json_writer.h"

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
