#include "blocking_report.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cs_sort.h"
#include "stat_hist.h"

static const char *task_name(const struct cs_stat *st, uint64_t id)
{
    size_t lo = 0, hi = st->ntasks; /* tasks are sorted by id */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (st->tasks[mid].id == id)
            return st->tasks[mid].name;
        if (st->tasks[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* One row per system call over every task, for the "by syscall" view. */
struct per_call {
    char syscall[32];
    uint64_t calls, blocked, off_ns;
    uint64_t off_hist[CS_LL_HIST_BUCKETS];
};

static size_t sum_by_call(const struct cs_blocking_stat *b, struct per_call *out)
{
    size_t n = 0;
    for (size_t i = 0; i < b->nrows; i++) {
        const struct cs_blocking_row *r = &b->rows[i];
        size_t j = 0;
        while (j < n && strcmp(out[j].syscall, r->syscall))
            j++;
        if (j == n) {
            memset(&out[n], 0, sizeof out[n]);
            snprintf(out[n].syscall, sizeof out[n].syscall, "%s", r->syscall);
            n++;
        }
        out[j].calls += r->calls;
        out[j].blocked += r->blocked;
        out[j].off_ns += r->off_ns;
        for (unsigned k = 0; k < CS_LL_HIST_BUCKETS; k++)
            out[j].off_hist[k] += r->off_hist[k];
    }
    return n;
}

static int more_off_first(const void *x, const void *y)
{
    const struct per_call *a = x, *b = y;
    if (a->off_ns != b->off_ns)
        return a->off_ns < b->off_ns ? 1 : -1;
    return a->calls < b->calls ? 1 : a->calls > b->calls ? -1 : 0;
}

static void call_line(FILE *out, const char *indent, const char *name, uint64_t calls,
                      uint64_t blocked, uint64_t off_ns, const uint64_t *hist)
{
    char off[24], label[64];
    cs_stat_format_ns(off_ns, off, sizeof off);
    fprintf(out, "%s%-18s %8" PRIu64 " calls, %" PRIu64 " blocked, off-CPU %s\n", indent, name,
            calls, blocked, off);
    snprintf(label, sizeof label, "%s  off-CPU", indent);
    cs_stat_hist_text(out, label, hist);
}

void cs_blocking_write_text(FILE *out, const struct cs_blocking_stat *b, const struct cs_stat *st)
{
    if (b->syscalls_on) {
        fprintf(out, "blocking calls (system calls inside task slices, off-CPU time in them%s):\n",
                b->all_calls ? "" : "; only the ones that blocked, --all-syscalls for all");
        struct per_call *calls = b->nrows ? calloc(b->nrows, sizeof *calls) : NULL;
        size_t n = calls ? sum_by_call(b, calls) : 0;
        cs_qsort(calls, n, sizeof *calls, more_off_first);
        if (!n)
            fprintf(out, "  none\n");
        for (size_t i = 0; i < n; i++)
            call_line(out, "  ", calls[i].syscall, calls[i].calls, calls[i].blocked,
                      calls[i].off_ns, calls[i].off_hist);
        free(calls);
        uint64_t last = 0;
        for (size_t i = 0; i < b->nrows; i++) {
            const struct cs_blocking_row *r = &b->rows[i];
            if (i == 0 || r->task_id != last) {
                const char *name = task_name(st, r->task_id);
                fprintf(out, "  task %s #%" PRIu64 ":\n", name ? name : "?", r->task_id);
                last = r->task_id;
            }
            call_line(out, "    ", r->syscall, r->calls, r->blocked, r->off_ns, r->off_hist);
        }
    }
    if (b->exec_on) {
        fprintf(out, "executor calls (queue wait + run time):\n");
        if (!b->nexec)
            fprintf(out, "  none\n");
        for (size_t i = 0; i < b->nexec; i++) {
            const struct cs_exec_row *r = &b->exec[i];
            const char *name = task_name(st, r->task_id);
            char q[24], run[24];
            cs_stat_format_ns(r->queue_ns, q, sizeof q);
            cs_stat_format_ns(r->run_ns, run, sizeof run);
            fprintf(out, "  task %s #%" PRIu64 ": %" PRIu64 " calls, queue wait %s, run %s\n",
                    name ? name : "?", r->task_id, r->calls, q, run);
            cs_stat_hist_text(out, "    queue wait", r->queue_hist);
            cs_stat_hist_text(out, "    run", r->run_hist);
        }
    }
}

static void call_json(struct cs_json *w, const char *name, uint64_t calls, uint64_t blocked,
                      uint64_t off_ns, const uint64_t *hist)
{
    cs_json_begin_object(w);
    cs_json_key(w, "name");
    cs_json_string(w, name);
    cs_json_kv_uint(w, "calls", calls);
    cs_json_kv_uint(w, "blocked", blocked);
    cs_json_kv_uint(w, "off_cpu_us", off_ns / 1000);
    cs_stat_hist_json(w, "off_cpu", hist);
    cs_json_end_object(w);
}

static void task_json(struct cs_json *w, const struct cs_stat *st, uint64_t id)
{
    cs_json_kv_uint(w, "id", id);
    cs_json_key(w, "name");
    cs_json_string(w, task_name(st, id));
}

void cs_blocking_write_json(struct cs_json *w, const struct cs_blocking_stat *b,
                            const struct cs_stat *st)
{
    cs_json_key(w, "blocking_calls");
    if (!b->syscalls_on) {
        cs_json_null(w);
    } else {
        cs_json_begin_object(w);
        cs_json_key(w, "all_calls");
        cs_json_bool(w, b->all_calls);
        cs_json_key(w, "by_syscall");
        cs_json_begin_array(w);
        struct per_call *calls = b->nrows ? calloc(b->nrows, sizeof *calls) : NULL;
        size_t n = calls ? sum_by_call(b, calls) : 0;
        cs_qsort(calls, n, sizeof *calls, more_off_first);
        for (size_t i = 0; i < n; i++)
            call_json(w, calls[i].syscall, calls[i].calls, calls[i].blocked, calls[i].off_ns,
                      calls[i].off_hist);
        free(calls);
        cs_json_end_array(w);
        cs_json_key(w, "by_task");
        cs_json_begin_array(w);
        for (size_t i = 0; i < b->nrows;) {
            uint64_t id = b->rows[i].task_id;
            cs_json_begin_object(w);
            task_json(w, st, id);
            cs_json_key(w, "syscalls");
            cs_json_begin_array(w);
            for (; i < b->nrows && b->rows[i].task_id == id; i++) {
                const struct cs_blocking_row *r = &b->rows[i];
                call_json(w, r->syscall, r->calls, r->blocked, r->off_ns, r->off_hist);
            }
            cs_json_end_array(w);
            cs_json_end_object(w);
        }
        cs_json_end_array(w);
        cs_json_end_object(w);
    }
    cs_json_key(w, "executor");
    if (!b->exec_on) {
        cs_json_null(w);
        return;
    }
    cs_json_begin_object(w);
    uint64_t calls = 0, qh[CS_LL_HIST_BUCKETS] = {0}, rh[CS_LL_HIST_BUCKETS] = {0};
    for (size_t i = 0; i < b->nexec; i++) {
        calls += b->exec[i].calls;
        for (unsigned k = 0; k < CS_LL_HIST_BUCKETS; k++) {
            qh[k] += b->exec[i].queue_hist[k];
            rh[k] += b->exec[i].run_hist[k];
        }
    }
    cs_json_kv_uint(w, "calls", calls);
    cs_stat_hist_json(w, "queue_wait", qh);
    cs_stat_hist_json(w, "run", rh);
    cs_json_key(w, "by_task");
    cs_json_begin_array(w);
    for (size_t i = 0; i < b->nexec; i++) {
        const struct cs_exec_row *r = &b->exec[i];
        cs_json_begin_object(w);
        task_json(w, st, r->task_id);
        cs_json_kv_uint(w, "calls", r->calls);
        cs_json_kv_uint(w, "queue_wait_us", r->queue_ns / 1000);
        cs_json_kv_uint(w, "run_us", r->run_ns / 1000);
        cs_stat_hist_json(w, "queue_wait", r->queue_hist);
        cs_stat_hist_json(w, "run", r->run_hist);
        cs_json_end_object(w);
    }
    cs_json_end_array(w);
    cs_json_end_object(w);
}
