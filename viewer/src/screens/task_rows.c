/*
 * The rows of the tasks screen: per loop, its tasks as a tree (spawn tree or await
 * graph), siblings in the chosen order, filtered and folded. With 100 000 tasks this is
 * the costly part of a frame, so it is cached in the UI state and rebuilt only when what
 * it depends on changes; a rebuild sorts each loop's tasks once, globally, starting from
 * the previous order (a new snapshot moves few tasks: insertion sort finishes in about
 * one pass), and children lists come out of that order already sorted.
 */
#include <stdlib.h>
#include <string.h>

#include "model_tasks.h"
#include "screens.h"
#include "task_tree.h"
#include "cs_sort.h"

#define MAX_DEPTH      64
#define PREFETCH_AHEAD 8 /* tasks */

/* One loop's order of the last build, as task ids (ids outlive snapshots), and the
 * loop's tasks as they were (id, parent) to tell whether the tree can have changed. */
struct loop_order {
    uint64_t loop_id;
    uint64_t *ids;   /* the tasks' ids in snapshot order (sorted) */
    uint32_t *order; /* that order, as indices into that snapshot's tasks */
    size_t n;
    uint64_t *shape; /* id, parent id, state: per task in snapshot order */
    size_t nshape;
    /* The sort keys of the latest snapshot's tasks (numeric columns), taken in the same
     * pass over the tasks as the shape: a second pass over 100 000 task records (68 MB)
     * cost as much as the sort. */
    uint64_t *keys;
    size_t nkeys, nkeys_cap;
    enum cs_task_col keys_col;
    bool shape_unchanged; /* the latest snapshot has the shape of the one before */
    long *parent;         /* the spawn tree of that shape (task_tree.h), to reuse */
    size_t nparent;
};

struct cs_task_rows_cache {
    /* What the rows were built from. */
    const struct cs_corun_snapshot *snap;
    int64_t taken_ns;
    size_t nended;
    enum cs_task_col sort_col;
    bool sort_desc, await_graph, valid;
    char filter[32];
    uint64_t collapsed_sum, follow_task_id;
    size_t ncollapsed;
    size_t cap_rows;
    /* Scratch arrays of a rebuild, kept: fresh 100k-entry arrays cost page faults. */
    size_t cap_scratch;
    long *order, *head, *tail, *next, *stack;
    int *depth;
    char *match, *has_kids;
    struct loop_order *orders;
    size_t norders;
    /* Tasks by state, counted in same_shape's pass, for the header (one pass over 100 000
     * task records less per snapshot). Valid for `counted_snap` at `counted_at`. */
    const struct cs_corun_snapshot *counted_snap;
    int64_t counted_at;
    size_t counted_ended, counted_n, by_state[5];
};

bool cs_ui_is_collapsed(const struct cs_ui *ui, uint64_t task_id)
{
    for (size_t i = 0; i < ui->ncollapsed; i++)
        if (ui->collapsed[i] == task_id)
            return true;
    return false;
}

static uint64_t p99_ns(const struct cs_task *t)
{
    return t->has_stats ? cs_hist_quantile_ns(t->sched_hist, 0.99) : 0;
}

static int cmp_idx(long a, long b)
{
    return (a > b) - (a < b);
}

struct sort_ctx {
    const struct cs_corun_loop *loop;
    enum cs_task_col col;
    bool desc;
};

/* A numeric sort key next to its task, so that sorting touches a compact array and not
 * the 680-byte task structs (100 000 of them do not fit in any cache). Ties go by index,
 * which within a snapshot (sorted by id) is by id. */
struct keyed {
    uint64_t key;
    long idx;
};

static uint64_t key_of(const struct cs_task *t, enum cs_task_col col)
{
    switch (col) {
    case CS_TCOL_STATE:
        return t->state;
    case CS_TCOL_WAITING:
        return t->wait_reason;
    case CS_TCOL_POLLS:
        return t->polls;
    case CS_TCOL_BUSY:
        return t->busy_ns;
    case CS_TCOL_P99:
        return p99_ns(t);
    case CS_TCOL_AGE:
        return UINT64_MAX - (uint64_t)t->created_ns; /* older first */
    case CS_TCOL_IDLE: /* idle longer = waiting since earlier; running or unknown: 0 */
        return t->state == CORUN_TASK_RUNNING || t->waiting_since_ns <= 0
                   ? 0
                   : UINT64_MAX - (uint64_t)t->waiting_since_ns;
    case CS_TCOL_SPAWN:
        return t->spawn_pc; /* tasks of one spawn site together */
    default:
        return t->id;
    }
}

static int cmp_keyed(const struct keyed *a, const struct keyed *b, bool desc)
{
    int r = a->key != b->key ? (a->key < b->key ? -1 : 1) : cmp_idx(a->idx, b->idx);
    return desc ? -r : r;
}

static int cmp_keyed_asc(const void *a, const void *b)
{
    return cmp_keyed(a, b, false);
}

static int cmp_keyed_desc(const void *a, const void *b)
{
    return cmp_keyed(a, b, true);
}

static int cmp_keyed_name(const void *pa, const void *pb, void *arg)
{
    const struct sort_ctx *c = arg;
    const struct keyed *a = pa, *b = pb;
    int r = strcmp(c->loop->tasks[a->idx].name, c->loop->tasks[b->idx].name);
    if (!r)
        r = cmp_idx(a->idx, b->idx);
    return c->desc ? -r : r;
}

/*
 * Every task of the loop in the chosen order, into `order` (indices). `prev` (ids, the
 * last order under the same sort) seeds it: survivors keep their places, newcomers go
 * last, then an insertion sort repairs what moved - or, past a budget of moves, qsort.
 * `cur` holds the ids and keys same_shape took from this snapshot (else they are read
 * from the tasks here).
 */
static bool sort_loop(const struct cs_corun_loop *loop, const struct cs_ui *ui,
                      const struct loop_order *prev, const struct loop_order *cur, long *order,
                      uint64_t *ids)
{
    size_t n = loop->ntasks, k = 0;
    if (ui->sort_col == CS_TCOL_ID) { /* snapshots are sorted by id already */
        for (size_t i = 0; i < n; i++)
            order[i] = ui->sort_desc ? (long)(n - 1 - i) : (long)i;
        return false;
    }
    struct keyed *a = malloc(n * sizeof *a);
    uint64_t *keys = malloc(n * sizeof *keys);
    char *placed = calloc(n, 1);
    bool ok = a && keys && placed;
    if (!ok) {
        for (size_t i = 0; i < n; i++)
            order[i] = (long)i;
        goto out;
    }
    bool cached = cur && cur->nshape == n;
    bool cached_keys = cached && cur->nkeys == n && cur->keys_col == ui->sort_col;
    if (cached_keys)
        memcpy(keys, cur->keys, n * sizeof *keys);
    for (size_t i = 0; i < n; i++)
        ids[i] = cached ? cur->shape[3 * i] : loop->tasks[i].id;
    for (size_t i = 0; !cached_keys && i < n; i++)
        keys[i] = key_of(&loop->tasks[i], ui->sort_col);
    /* The previous order first (its survivors), then the newcomers. The same tasks as
     * last time (the usual case): the old order is the start. Else both snapshots are
     * sorted by id: one merge maps the old indices to the new ones. */
    bool same_tasks = prev && prev->n == n;
    for (size_t i = 0; same_tasks && i < n; i++)
        same_tasks = ids[i] == prev->ids[i];
    if (same_tasks) {
        for (size_t r = 0; r < n; r++)
            a[r].idx = prev->order[r];
        k = n;
    }
    long *map = prev && !same_tasks ? malloc(prev->n * sizeof *map) : NULL;
    if (map) {
        for (size_t j = 0; j < prev->n; j++)
            map[j] = -1;
        for (size_t i = 0, j = 0; i < n && j < prev->n;) {
            if (ids[i] == prev->ids[j]) {
                map[j] = (long)i;
                i++;
                j++;
            } else if (ids[i] < prev->ids[j]) {
                i++;
            } else {
                j++;
            }
        }
        for (size_t r = 0; r < prev->n; r++) {
            long i = prev->order[r] < prev->n ? map[prev->order[r]] : -1;
            if (i >= 0 && !placed[i]) {
                placed[i] = 1;
                a[k++].idx = i;
            }
        }
        free(map);
    }
    for (size_t i = 0; !same_tasks && i < n; i++)
        if (!placed[i])
            a[k++].idx = (long)i;
    for (size_t i = 0; i < n; i++)
        a[i].key = keys[a[i].idx];
    struct sort_ctx ctx = {loop, ui->sort_col, ui->sort_desc};
    bool name = ui->sort_col == CS_TCOL_NAME;
    bool sorted = false;
    if (prev) {
        size_t budget = 8 * n + 64, moves = 0;
        sorted = true;
        for (size_t i = 1; i < n && sorted; i++) {
            struct keyed x = a[i];
            size_t j = i;
            while (j > 0 && (name ? cmp_keyed_name(&a[j - 1], &x, &ctx)
                                  : cmp_keyed(&a[j - 1], &x, ui->sort_desc)) > 0) {
                a[j] = a[j - 1];
                j--;
                if (++moves > budget) { /* far from sorted: start over */
                    sorted = false;
                    break;
                }
            }
            a[j] = x;
        }
    }
    if (!sorted) {
        if (name)
            qsort_r(a, n, sizeof *a, cmp_keyed_name, &ctx);
        else
            cs_qsort(a, n, sizeof *a, ui->sort_desc ? cmp_keyed_desc : cmp_keyed_asc);
    }
    for (size_t i = 0; i < n; i++)
        order[i] = a[i].idx;
out:
    free(a);
    free(keys);
    free(placed);
    return ok;
}

static struct loop_order *find_order(struct cs_task_rows_cache *c, uint64_t loop_id)
{
    for (size_t i = 0; i < c->norders; i++)
        if (c->orders[i].loop_id == loop_id)
            return &c->orders[i];
    struct loop_order *o = realloc(c->orders, (c->norders + 1) * sizeof *o);
    if (!o)
        return NULL;
    c->orders = o;
    o = &c->orders[c->norders++];
    memset(o, 0, sizeof *o);
    o->loop_id = loop_id;
    return o;
}

/* Room for `more` rows after the ones there. */
static bool reserve_rows(struct cs_ui *ui, size_t more)
{
    struct cs_task_rows_cache *c = ui->rows_cache;
    if (ui->nrows + more > c->cap_rows) {
        size_t cap = c->cap_rows ? c->cap_rows * 2 : 1024;
        while (cap < ui->nrows + more)
            cap *= 2;
        struct cs_task_row *rows = realloc(ui->rows, cap * sizeof *rows);
        if (!rows)
            return false;
        ui->rows = rows;
        c->cap_rows = cap;
    }
    return true;
}

static bool push_row(struct cs_ui *ui, struct cs_task_row r)
{
    if (!reserve_rows(ui, 1))
        return false;
    ui->rows[ui->nrows++] = r;
    return true;
}

/* Rows of one loop: a depth-first walk of the tree, children in `order`. */
static bool scratch(struct cs_task_rows_cache *c, size_t n)
{
    if (n <= c->cap_scratch)
        return true;
    size_t cap = n + n / 4;
    long **arrays[] = {&c->order, &c->head, &c->tail, &c->next, &c->stack};
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++) {
        long *a = realloc(*arrays[i], cap * sizeof **arrays[i]);
        if (!a)
            return false;
        *arrays[i] = a;
    }
    int *d = realloc(c->depth, cap * sizeof *d);
    if (!d)
        return false;
    c->depth = d;
    char *m = realloc(c->match, cap);
    if (!m)
        return false;
    c->match = m;
    m = realloc(c->has_kids, cap);
    if (!m)
        return false;
    c->has_kids = m;
    c->cap_scratch = cap;
    return true;
}

static void loop_rows(struct cs_ui *ui, const struct cs_corun_loop *loop, size_t li,
                      const long *order, const struct cs_task_tree *tree)
{
    size_t n = loop->ntasks;
    struct cs_task_rows_cache *c = ui->rows_cache;
    /* Children as one array grouped by parent (the roots under a virtual parent n), each
     * group in the sorted order: walking them reads memory in sequence. */
    long *start = c->head, *pos = c->tail, *kids = c->next, *stack = c->stack;
    int *depth = c->depth; /* of the stack's entries */
    char *match = ui->filter[0] ? c->match : NULL;
    /* Per task: has it children? A byte array fits in cache where `start` (8 bytes a
     * task) does not: the walk below visits tasks in sort order, i.e. at random. */
    char *has_kids = c->has_kids;
    if (match)
        memset(match, 0, n);
    for (size_t i = 0; i < n + 2; i++)
        start[i] = 0;
    for (size_t t = 0; t < n; t++) {
        long p = tree->parent[t];
        start[(p >= 0 ? (size_t)p : n) + 1]++;
    }
    for (size_t i = 1; i < n + 2; i++)
        start[i] += start[i - 1];
    for (size_t t = 0; t < n; t++)
        has_kids[t] = start[t + 1] > start[t];
    memcpy(pos, start, (n + 2) * sizeof *pos);
    for (size_t k = 0; k < n; k++) {
        long t = order[k], p = tree->parent[t];
        kids[pos[p >= 0 ? (size_t)p : n]++] = t;
    }
    /* The filter: a match keeps its ancestors (the way to it) visible. */
    if (match) {
        for (size_t i = 0; i < n; i++) {
            if (!strstr(loop->tasks[i].name, ui->filter) &&
                loop->tasks[i].id != ui->follow_task_id) /* followed: always shown */
                continue;
            for (long a = (long)i; a >= 0 && !match[a]; a = tree->parent[a])
                match[a] = 1;
        }
    }
    /* Depth-first, iteratively: children pushed last-first, so the first pops first.
     * Rows go straight into an array with room for every task (no check per row). */
    if (!reserve_rows(ui, n))
        return;
    struct cs_task_row *rows = ui->rows;
    size_t nrows = ui->nrows, sp = 0;
    for (long k = start[n + 1]; k-- > start[n];) {
        depth[sp] = 0;
        stack[sp++] = kids[k];
    }
    while (sp) {
        sp--;
        long t = stack[sp];
        if (match && !match[t])
            continue;
        struct cs_task_row r = {.loop = li, .task = t, .depth = depth[sp]};
        r.has_children = has_kids[t];
        r.collapsed = r.has_children && cs_ui_is_collapsed(ui, loop->tasks[t].id);
        rows[nrows++] = r;
        if (!r.has_children || r.collapsed || r.depth >= MAX_DEPTH)
            continue;
        for (long k = start[t + 1]; k-- > start[t];) {
            depth[sp] = r.depth + 1;
            stack[sp++] = kids[k];
        }
    }
    ui->nrows = nrows;
}

static uint64_t collapsed_sum(const struct cs_ui *ui)
{
    uint64_t s = 0;
    for (size_t i = 0; i < ui->ncollapsed; i++)
        s += ui->collapsed[i] * 0x9e3779b97f4a7c15ull;
    return s;
}

/*
 * A new snapshot with the same tasks, parents and states as the one the rows were built
 * from gives the same rows when the order does not depend on changing counters (sort by
 * id, name or state; the spawn tree): the rows (loop, index) stay valid. Checks and
 * records the shape of every loop; true if all are unchanged.
 */
static bool same_shape(struct cs_task_rows_cache *c, const struct cs_view *v,
                       const struct cs_ui *ui)
{
    bool stable_order =
        ui->sort_col == CS_TCOL_ID || ui->sort_col == CS_TCOL_NAME || ui->sort_col == CS_TCOL_STATE;
    bool same = c->valid && stable_order && !ui->await_graph && c->sort_col == ui->sort_col &&
                c->sort_desc == ui->sort_desc && !strcmp(c->filter, ui->filter) &&
                c->ncollapsed == ui->ncollapsed && c->collapsed_sum == collapsed_sum(ui) &&
                c->follow_task_id == ui->follow_task_id && c->norders >= v->tasks->nloops;
    bool counted = true;
    size_t n_live = 0, by_state[5] = {0};
    for (size_t li = 0; li < v->tasks->nloops; li++) {
        const struct cs_corun_loop *loop = &v->tasks->loops[li];
        struct loop_order *o = find_order(c, loop->id);
        if (!o) {
            same = counted = false;
            continue;
        }
        bool loop_same = o->nshape == loop->ntasks;
        if (o->nshape != loop->ntasks) {
            uint64_t *sh = realloc(o->shape, 3 * (loop->ntasks ? loop->ntasks : 1) * sizeof *sh);
            if (!sh) {
                o->nshape = 0;
                same = counted = false;
                continue;
            }
            o->shape = sh;
            same = false;
        }
        bool numeric = ui->sort_col != CS_TCOL_ID && ui->sort_col != CS_TCOL_NAME;
        o->nkeys = 0;
        if (numeric && o->nkeys_cap < loop->ntasks) {
            uint64_t *keys = realloc(o->keys, loop->ntasks * sizeof *keys);
            if (keys) {
                o->keys = keys;
                o->nkeys_cap = loop->ntasks;
            }
        }
        uint64_t *keys = numeric && o->nkeys_cap >= loop->ntasks ? o->keys : NULL;
        for (size_t k = 0; k < loop->ntasks; k++) {
            const struct cs_task *t = &loop->tasks[k];
            uint64_t *sh = &o->shape[3 * k];
            /* Task records are 680 bytes apart: the hardware prefetcher loses the stride
             * at every page, so ask for the task a few ahead (its id .. busy lines). */
            if (k + PREFETCH_AHEAD < loop->ntasks) {
                const char *ahead = (const char *)&loop->tasks[k + PREFETCH_AHEAD];
                __builtin_prefetch(ahead);
                __builtin_prefetch(ahead + 64);
                __builtin_prefetch(ahead + 128);
            }
            if (loop_same && (sh[0] != t->id || sh[1] != t->parent_id || sh[2] != t->state))
                loop_same = false;
            sh[0] = t->id;
            sh[1] = t->parent_id;
            sh[2] = t->state;
            if (keys)
                keys[k] = key_of(t, ui->sort_col);
            if (v->nended && cs_view_task_ended_ns(v, t->id))
                continue; /* fading out: no longer a task */
            by_state[t->state < 5 ? t->state : 0]++;
            n_live++;
        }
        if (keys) {
            o->nkeys = loop->ntasks;
            o->keys_col = ui->sort_col;
        }
        o->nshape = loop->ntasks;
        o->shape_unchanged = loop_same;
        same = same && loop_same;
    }
    c->counted_snap = counted ? v->tasks : NULL;
    c->counted_at = v->tasks->taken_ns;
    c->counted_ended = v->nended;
    c->counted_n = n_live;
    memcpy(c->by_state, by_state, sizeof by_state);
    return same;
}

static bool cache_fresh(const struct cs_view *v, const struct cs_ui *ui)
{
    const struct cs_task_rows_cache *c = ui->rows_cache;
    return c->valid && c->snap == v->tasks && c->taken_ns == v->tasks->taken_ns &&
           c->nended == v->nended && c->sort_col == ui->sort_col && c->sort_desc == ui->sort_desc &&
           c->await_graph == ui->await_graph && !strcmp(c->filter, ui->filter) &&
           c->ncollapsed == ui->ncollapsed && c->collapsed_sum == collapsed_sum(ui) &&
           c->follow_task_id == ui->follow_task_id;
}

size_t cs_tasks_rows(const struct cs_view *v, struct cs_ui *ui)
{
    if (!v->tasks) {
        ui->nrows = 0;
        return 0;
    }
    if (!ui->rows_cache && !(ui->rows_cache = calloc(1, sizeof *ui->rows_cache)))
        return ui->nrows = 0;
    struct cs_task_rows_cache *c = ui->rows_cache;
    if (cache_fresh(v, ui))
        return ui->nrows;
    if (same_shape(c, v, ui) && c->nended == v->nended) {
        c->snap = v->tasks;
        c->taken_ns = v->tasks->taken_ns;
        return ui->nrows;
    }
    bool same_order = c->valid && c->sort_col == ui->sort_col && c->sort_desc == ui->sort_desc;
    ui->nrows = 0;
    for (size_t li = 0; li < v->tasks->nloops; li++) {
        const struct cs_corun_loop *loop = &v->tasks->loops[li];
        if (!push_row(ui, (struct cs_task_row){.loop = li, .task = -1}))
            break;
        struct loop_order *o = find_order(c, loop->id);
        /* The spawn tree depends on ids and parents only: an unchanged shape reuses it. */
        struct cs_task_tree tree = {.n = loop->ntasks};
        bool reuse =
            !ui->await_graph && o && o->shape_unchanged && o->parent && o->nparent == loop->ntasks;
        if (reuse) {
            tree.parent = o->parent;
        } else if (!loop->ntasks ||
                   cs_task_tree_build(&tree, loop,
                                      ui->await_graph ? CS_TREE_AWAIT : CS_TREE_SPAWN)) {
            continue;
        } else if (!ui->await_graph && o) {
            long *p = realloc(o->parent, loop->ntasks * sizeof *p);
            if (p) {
                memcpy(p, tree.parent, loop->ntasks * sizeof *p);
                o->parent = p;
                o->nparent = loop->ntasks;
            }
        }
        long *order = scratch(c, loop->ntasks + 2) ? c->order : NULL;
        if (order) {
            /* The order is kept (ids and order) to seed the next sort of this loop. */
            uint64_t *ids = o ? malloc(loop->ntasks * sizeof *ids) : NULL;
            bool keep = sort_loop(loop, ui, same_order && o && o->n ? o : NULL, o, order, ids);
            loop_rows(ui, loop, li, order, &tree);
            uint32_t *kept = keep ? realloc(o->order, loop->ntasks * sizeof *kept) : NULL;
            if (kept) {
                o->order = kept;
                for (size_t k = 0; k < loop->ntasks; k++)
                    kept[k] = (uint32_t)order[k];
                free(o->ids);
                o->ids = ids;
                o->n = loop->ntasks;
            } else {
                free(ids);
                if (o)
                    o->n = 0;
            }
        }
        if (!reuse)
            cs_task_tree_free(&tree);
    }
    c->valid = true;
    c->snap = v->tasks;
    c->taken_ns = v->tasks->taken_ns;
    c->nended = v->nended;
    c->sort_col = ui->sort_col;
    c->sort_desc = ui->sort_desc;
    c->await_graph = ui->await_graph;
    memcpy(c->filter, ui->filter, sizeof c->filter);
    c->ncollapsed = ui->ncollapsed;
    c->collapsed_sum = collapsed_sum(ui);
    c->follow_task_id = ui->follow_task_id;
    return ui->nrows;
}

bool cs_tasks_state_counts(const struct cs_view *v, const struct cs_ui *ui, size_t *n,
                           size_t by_state[5])
{
    const struct cs_task_rows_cache *c = ui->rows_cache;
    if (!c || !v->tasks || c->counted_snap != v->tasks || c->counted_at != v->tasks->taken_ns ||
        c->counted_ended != v->nended)
        return false;
    *n = c->counted_n;
    memcpy(by_state, c->by_state, sizeof c->by_state);
    return true;
}

void cs_tasks_rows_free(struct cs_ui *ui)
{
    struct cs_task_rows_cache *c = ui->rows_cache;
    if (c) {
        for (size_t i = 0; i < c->norders; i++) {
            free(c->orders[i].ids);
            free(c->orders[i].order);
            free(c->orders[i].parent);
            free(c->orders[i].shape);
            free(c->orders[i].keys);
        }
        free(c->orders);
        free(c->order);
        free(c->head);
        free(c->tail);
        free(c->next);
        free(c->stack);
        free(c->depth);
        free(c->match);
        free(c->has_kids);
        free(c);
    }
    free(ui->rows);
    ui->rows = NULL;
    ui->rows_cache = NULL;
    ui->nrows = 0;
}

static uint64_t row_task_id(const struct cs_view *v, const struct cs_task_row *r)
{
    return r->task >= 0 ? v->tasks->loops[r->loop].tasks[r->task].id : 0;
}

size_t cs_tasks_follow(const struct cs_view *v, struct cs_ui *ui)
{
    size_t n = cs_tasks_rows(v, ui);
    const struct cs_task_row *rows = ui->rows;
    if (ui->follow_task_id && ui->sel_task_id != ui->follow_task_id)
        ui->follow_task_id = 0; /* the cursor was moved away */
    if (!n) {
        ui->task_sel = 0;
        return 0;
    }
    /* Most of the time the cursor's row still holds its task: no search. */
    bool here = ui->task_sel < n &&
                v->tasks->loops[rows[ui->task_sel].loop].id == ui->sel_loop_id &&
                row_task_id(v, &rows[ui->task_sel]) == ui->sel_task_id;
    for (size_t i = 0; !here && i < n; i++) {
        if (v->tasks->loops[rows[i].loop].id == ui->sel_loop_id &&
            row_task_id(v, &rows[i]) == ui->sel_task_id) {
            ui->task_sel = i;
            break;
        }
    }
    if (ui->task_sel >= n)
        ui->task_sel = n - 1;
    if (ui->follow_task_id && row_task_id(v, &rows[ui->task_sel]) != ui->follow_task_id)
        ui->follow_task_id = 0; /* it is gone: nothing left to follow */
    ui->sel_loop_id = v->tasks->loops[rows[ui->task_sel].loop].id;
    ui->sel_task_id = row_task_id(v, &rows[ui->task_sel]);
    return n;
}
