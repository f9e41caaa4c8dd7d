/* `coscope report --format folded`: stall stacks for flamegraph.pl and speedscope. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "report_summary.h"
#include "cs_sort.h"

/* A growing string. */
struct sbuf {
    char *s;
    size_t len, cap;
    bool oom;
};

static void sb_add(struct sbuf *b, const char *s)
{
    size_t n = strlen(s);
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 128;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *d = realloc(b->s, cap);
        if (!d) {
            b->oom = true;
            return;
        }
        b->s = d;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n + 1);
    b->len += n;
}

/* A frame in a folded line may hold neither ';' (the separator) nor a newline. */
static void sb_frame(struct sbuf *b, const char *name)
{
    char clean[256];
    snprintf(clean, sizeof clean, "%s", name);
    for (char *p = clean; *p; p++)
        if (*p == ';' || *p == '\n' || *p == '\r')
            *p = ':';
    if (b->len)
        sb_add(b, ";");
    sb_add(b, clean);
}

static char *fold_stack(const struct cs_stall *s, const struct cs_stack *st)
{
    struct sbuf b = {0};
    sb_frame(&b, s->comm[0] ? s->comm : "?");
    if (s->task) {
        char t[128];
        snprintf(t, sizeof t, "task:%s", s->task);
        sb_frame(&b, t);
    }
    if (!st || !st->nframes)
        sb_frame(&b, "[no stack]");
    for (unsigned j = st ? st->nframes : 0; j-- > 0;) {
        char name[256];
        cs_report_frame_name(&st->frames[j], name, sizeof name);
        sb_frame(&b, name);
    }
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

static int cmp_folded(const void *a, const void *b)
{
    return strcmp(((const struct cs_folded *)a)->stack, ((const struct cs_folded *)b)->stack);
}

void cs_folded_free(struct cs_folded *f, size_t n)
{
    for (size_t i = 0; f && i < n; i++)
        free(f[i].stack);
    free(f);
}

int cs_report_folded(const struct cs_report *r, struct cs_folded **out, size_t *nout)
{
    size_t cap = 0, n = 0;
    for (size_t i = 0; i < r->nstalls; i++)
        cap += r->by_start[i]->nstacks ? r->by_start[i]->nstacks : 1;
    struct cs_folded *f = calloc(cap ? cap : 1, sizeof *f);
    if (!f)
        return -ENOMEM;
    for (size_t i = 0; i < r->nstalls; i++) {
        const struct cs_stall *s = r->by_start[i];
        uint64_t weight = s->duration_ns / 1000, total = 0, given = 0;
        for (unsigned k = 0; k < s->nstacks; k++)
            total += s->stacks[k].count;
        unsigned nst = s->nstacks ? s->nstacks : 1;
        size_t first = n;
        for (unsigned k = 0; k < nst; k++) {
            const struct cs_stack *st = s->nstacks ? &s->stacks[k] : NULL;
            uint64_t w = total && st ? weight * st->count / total : (k == 0 ? weight : 0);
            f[n].stack = fold_stack(s, st);
            if (!f[n].stack) {
                cs_folded_free(f, n);
                return -ENOMEM;
            }
            f[n++].weight_us = w;
            given += w;
        }
        f[first].weight_us += weight - given; /* rounding: the main stack takes the rest */
    }
    cs_qsort(f, n, sizeof *f, cmp_folded);
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        if (w && !strcmp(f[w - 1].stack, f[i].stack)) {
            f[w - 1].weight_us += f[i].weight_us;
            free(f[i].stack);
            continue;
        }
        f[w++] = f[i];
    }
    /* Stacks that got no weight (a sample count rounding to 0 µs) say nothing. */
    size_t k = 0;
    for (size_t i = 0; i < w; i++) {
        if (f[i].weight_us)
            f[k++] = f[i];
        else
            free(f[i].stack);
    }
    *out = f;
    *nout = k;
    return 0;
}

void cs_report_write_folded(FILE *out, const struct cs_report *r)
{
    struct cs_folded *f;
    size_t n;
    if (cs_report_folded(r, &f, &n))
        return;
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%s %" PRIu64 "\n", f[i].stack, f[i].weight_us);
    cs_folded_free(f, n);
}
