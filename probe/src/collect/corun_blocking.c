#include "corun_blocking.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "corun_usdt.h"
#include "hist_ll.h"
#include "stat_hist.h"
#include "syscall_names.h"
#include "cs_sort.h"

static int by_task_then_name(const void *x, const void *y)
{
    const struct cs_blocking_row *a = x, *b = y;
    if (a->task_id != b->task_id)
        return a->task_id < b->task_id ? -1 : 1;
    return strcmp(a->syscall, b->syscall);
}

static int exec_by_task(const void *x, const void *y)
{
    const struct cs_exec_row *a = x, *b = y;
    return a->task_id < b->task_id ? -1 : a->task_id > b->task_id;
}

/* The kernel's log2 counters as the model's log-linear histogram. */
static void copy_hist(uint64_t *dst, const unsigned long long *src)
{
    uint64_t log2[CS_CORUN_HIST];
    for (unsigned k = 0; k < CS_CORUN_HIST; k++)
        log2[k] = src[k];
    cs_ll_from_log2(dst, log2, CS_CORUN_HIST);
}

/* Makes room for one more element in *arr (n used of *cap). 0 or -ENOMEM. */
static int grow(void **arr, size_t n, size_t *cap, size_t elem_size, size_t first_cap)
{
    if (n < *cap)
        return 0;
    size_t cap2 = *cap ? 2 * *cap : first_cap;
    void *bigger = realloc(*arr, cap2 * elem_size);
    if (!bigger)
        return -ENOMEM;
    *arr = bigger;
    *cap = cap2;
    return 0;
}

/* One map entry as a row of `b`. 0 or -ENOMEM. */
typedef int take_entry_fn(struct cs_blocking_stat *b, size_t *cap, const void *key,
                          const void *val);

/*
 * Every entry of BPF map `fd` through `take`. `key`, `next` and `val` are buffers of the
 * map's key (key_size bytes) and value size.
 */
static int read_map(struct cs_blocking_stat *b, int fd, void *key, void *next, size_t key_size,
                    void *val, take_entry_fn *take)
{
    void *prev = NULL;
    size_t cap = 0;
    while (bpf_map_get_next_key(fd, prev, next) == 0) {
        memcpy(key, next, key_size);
        prev = key;
        if (bpf_map_lookup_elem(fd, key, val) != 0)
            continue; /* deleted since */
        int err = take(b, &cap, key, val);
        if (err)
            return err;
    }
    return 0;
}

static int take_blocking(struct cs_blocking_stat *b, size_t *cap, const void *k, const void *val)
{
    const struct cs_corun_block_key *key = k;
    const struct cs_corun_block_val *v = val;
    if (grow((void **)&b->rows, b->nrows, cap, sizeof *b->rows, 64))
        return -ENOMEM;
    struct cs_blocking_row *r = &b->rows[b->nrows++];
    memset(r, 0, sizeof *r);
    r->task_id = key->task_id;
    char buf[32];
    snprintf(r->syscall, sizeof r->syscall, "%s", cs_syscall_name(key->nr, buf, sizeof buf));
    r->calls = v->calls;
    r->blocked = v->blocked;
    r->off_ns = v->off_ns;
    copy_hist(r->off_hist, v->off_hist);
    return 0;
}

static int take_exec(struct cs_blocking_stat *b, size_t *cap, const void *key, const void *val)
{
    const struct cs_corun_exec_val *v = val;
    if (grow((void **)&b->exec, b->nexec, cap, sizeof *b->exec, 16))
        return -ENOMEM;
    struct cs_exec_row *r = &b->exec[b->nexec++];
    memset(r, 0, sizeof *r);
    r->task_id = *(const __u64 *)key;
    r->calls = v->calls;
    r->queue_ns = v->queue_ns;
    r->run_ns = v->run_ns;
    copy_hist(r->queue_hist, v->queue_hist);
    copy_hist(r->run_hist, v->run_hist);
    return 0;
}

int cs_blocking_read(struct cs_blocking_stat *b, int blocking_fd, int exec_fd)
{
    int err = 0;
    if (blocking_fd >= 0) {
        struct cs_corun_block_key key, next;
        struct cs_corun_block_val v;
        err = read_map(b, blocking_fd, &key, &next, sizeof key, &v, take_blocking);
        cs_qsort(b->rows, b->nrows, sizeof *b->rows, by_task_then_name);
    }
    if (!err && exec_fd >= 0) {
        __u64 key, next;
        struct cs_corun_exec_val v;
        err = read_map(b, exec_fd, &key, &next, sizeof key, &v, take_exec);
        cs_qsort(b->exec, b->nexec, sizeof *b->exec, exec_by_task);
    }
    return err;
}
