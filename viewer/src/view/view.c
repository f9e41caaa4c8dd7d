#include "view.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_tasks.h"
#include "cs_sort.h"

size_t cs_view_stall_count(const struct cs_view *v)
{
    size_t finished = v->model ? cs_model_recent_count(v->model) : 0;
    uint64_t hidden = v->model ? cs_model_stalls(v->model) - v->model_stalls_at : 0;
    finished = hidden >= finished ? 0 : finished - (size_t)hidden;
    return v->nongoing + finished;
}

const struct cs_stall *cs_view_stall(const struct cs_view *v, size_t i)
{
    if (i < v->nongoing)
        return &v->ongoing[i];
    i -= v->nongoing;
    if (i + v->nongoing >= cs_view_stall_count(v))
        return NULL;
    size_t n = cs_model_recent_count(v->model);
    size_t hidden = (size_t)(cs_model_stalls(v->model) - v->model_stalls_at);
    return cs_model_recent(v->model, n - 1 - hidden - i);
}

uint64_t cs_view_stall_duration_ns(const struct cs_view *v, const struct cs_stall *s)
{
    if (s->ongoing && v->now_ns > s->start_ns && v->now_ns - s->start_ns > s->duration_ns)
        return v->now_ns - s->start_ns;
    return s->duration_ns;
}

/* The stall's task is the one the stall pipeline named (collect/corun_attribution.h), for
 * ongoing and final stalls alike: the view adds no guess of its own. */
uint64_t cs_view_stall_task_id(const struct cs_view *v, const struct cs_stall *s)
{
    (void)v;
    return s->task ? s->task_id : 0;
}

int64_t cs_view_task_ended_ns(const struct cs_view *v, uint64_t task_id)
{
    size_t lo = cs_lower_bound_u64(v->ended, v->nended, sizeof *v->ended,
                                   offsetof(struct cs_task_ended, task_id), task_id);
    return lo < v->nended && v->ended[lo].task_id == task_id ? v->ended[lo].ended_ns : 0;
}

const char *cs_view_stall_task(const struct cs_view *v, const struct cs_stall *s)
{
    (void)v;
    return s->task;
}

int cs_view_freeze(struct cs_view *dst, const struct cs_view *src)
{
    *dst = *src;
    dst->nongoing = 0;
    dst->ongoing_owned = true;
    dst->tasks_copy = NULL;
    if (src->tasks) {
        dst->tasks_copy = malloc(sizeof *dst->tasks_copy);
        if (!dst->tasks_copy || cs_corun_snapshot_dup(dst->tasks_copy, src->tasks)) {
            free(dst->tasks_copy);
            dst->tasks_copy = NULL;
            return -ENOMEM;
        }
        dst->tasks = dst->tasks_copy;
    }
    for (size_t i = 0; i < src->nongoing; i++) {
        if (cs_stall_copy(&dst->ongoing[i], &src->ongoing[i])) {
            cs_view_release(dst);
            return -ENOMEM;
        }
        dst->nongoing = i + 1;
    }
    return 0;
}

void cs_view_release(struct cs_view *v)
{
    if (v->ongoing_owned)
        for (size_t i = 0; i < v->nongoing; i++)
            cs_stall_release(&v->ongoing[i]);
    v->nongoing = 0;
    v->ongoing_owned = false;
    if (v->tasks_copy) {
        cs_corun_snapshot_free(v->tasks_copy);
        free(v->tasks_copy);
        v->tasks_copy = NULL;
        v->tasks = NULL;
    }
}

char *cs_fmt_duration(uint64_t ns, char *buf, size_t len)
{
    if (ns < 1000ull)
        snprintf(buf, len, "%lluns", (unsigned long long)ns);
    else if (ns < 1000000ull)
        snprintf(buf, len, "%lluus", (unsigned long long)(ns / 1000));
    else if (ns < 100000000ull)
        snprintf(buf, len, "%.1fms", (double)ns / 1e6);
    else if (ns < 1000000000ull)
        snprintf(buf, len, "%llums", (unsigned long long)(ns / 1000000));
    else if (ns < 60000000000ull)
        snprintf(buf, len, "%.2fs", (double)ns / 1e9);
    else
        snprintf(buf, len, "%llum%02llus", (unsigned long long)(ns / 60000000000ull),
                 (unsigned long long)(ns / 1000000000ull % 60));
    return buf;
}
