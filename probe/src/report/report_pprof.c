/*
 * `coscope report --format pprof`: the stall stacks as a gzipped profile.proto, the format
 * go tool pprof, Grafana Pyroscope, Parca and speedscope read. Sample types: stalls
 * (count), stalled, on_cpu and off_cpu (nanoseconds); one sample per distinct stack and
 * labels (loop thread, task, cause, syscall); functions with file and line.
 * The protobuf is written by hand (varints and length-delimited fields, the wire format of
 * github.com/google/pprof/proto/profile.proto): no dependency beyond zlib.
 */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "report_pprof.h"
#include "report_summary.h"
#include "model.h"

/* ---- a growing byte buffer and the protobuf wire format ---------------------------- */

struct pb {
    unsigned char *b;
    size_t len, cap;
    bool oom;
};

static void pb_put(struct pb *p, const void *data, size_t n)
{
    if (p->oom)
        return;
    if (p->len + n > p->cap) {
        size_t cap = p->cap ? p->cap : 256;
        while (cap < p->len + n)
            cap *= 2;
        unsigned char *b = realloc(p->b, cap);
        if (!b) {
            p->oom = true;
            return;
        }
        p->b = b;
        p->cap = cap;
    }
    memcpy(p->b + p->len, data, n);
    p->len += n;
}

static void pb_varint(struct pb *p, uint64_t v)
{
    unsigned char buf[10];
    size_t n = 0;
    do {
        buf[n] = (unsigned char)(v & 0x7f);
        v >>= 7;
        if (v)
            buf[n] |= 0x80;
        n++;
    } while (v);
    pb_put(p, buf, n);
}

/* A varint field (wire type 0); zero is the default and is left out. */
static void pb_uint(struct pb *p, unsigned field, uint64_t v)
{
    if (!v)
        return;
    pb_varint(p, (uint64_t)field << 3);
    pb_varint(p, v);
}

/* A length-delimited field (wire type 2): bytes, a string or a sub-message. */
static void pb_bytes(struct pb *p, unsigned field, const void *data, size_t n)
{
    pb_varint(p, (uint64_t)field << 3 | 2);
    pb_varint(p, n);
    pb_put(p, data, n);
}

static void pb_message(struct pb *p, unsigned field, struct pb *sub)
{
    if (sub->oom)
        p->oom = true;
    pb_bytes(p, field, sub->b, sub->len);
    sub->len = 0; /* reused for the next one */
}

/* ---- string table, functions and locations ------------------------------------------- */

#define TABLE_BUCKETS 4096

struct entry {
    struct entry *next;
    uint64_t key; /* locations: the address; strings and functions: a hash */
    uint64_t id;  /* strings: the index; functions and locations: the id (from 1) */
    char *text;   /* strings: the string; functions: "name\nfile" */
};

struct table {
    struct entry *bucket[TABLE_BUCKETS];
    uint64_t next_id;
};

static uint64_t hash_text(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* The entry for (key, text), added with the next id when new; NULL when out of memory. */
static struct entry *lookup(struct table *t, uint64_t key, const char *text, bool *added)
{
    struct entry **b = &t->bucket[key % TABLE_BUCKETS];
    for (struct entry *e = *b; e; e = e->next)
        if (e->key == key && (!text || !strcmp(e->text, text)))
            return e;
    struct entry *e = calloc(1, sizeof *e);
    if (!e || (text && !(e->text = strdup(text)))) {
        free(e);
        return NULL;
    }
    e->key = key;
    e->id = t->next_id++;
    e->next = *b;
    *b = e;
    *added = true;
    return e;
}

static void table_free(struct table *t)
{
    for (size_t i = 0; i < TABLE_BUCKETS; i++)
        for (struct entry *e = t->bucket[i], *next; e; e = next) {
            next = e->next;
            free(e->text);
            free(e);
        }
}

struct writer {
    struct pb out;        /* the Profile message */
    struct pb sub, line;  /* scratch for sub-messages */
    struct table strings; /* ids from 0: string_table[0] is "" */
    struct table functions, locations;
};

/* The index of `s` in the string table, writing it on first use. */
static uint64_t str_id(struct writer *w, const char *s)
{
    bool added = false;
    struct entry *e = lookup(&w->strings, hash_text(s ? s : ""), s ? s : "", &added);
    if (!e) {
        w->out.oom = true;
        return 0;
    }
    if (added)
        pb_bytes(&w->out, 6, e->text, strlen(e->text));
    return e->id;
}

static uint64_t function_id(struct writer *w, const char *name, const char *file)
{
    char key[600];
    snprintf(key, sizeof key, "%s\n%s", name, file ? file : "");
    bool added = false;
    struct entry *e = lookup(&w->functions, hash_text(key), key, &added);
    if (!e) {
        w->out.oom = true;
        return 0;
    }
    if (added) {
        uint64_t name_id = str_id(w, name), file_id = file ? str_id(w, file) : 0;
        pb_uint(&w->sub, 1, e->id);
        pb_uint(&w->sub, 2, name_id);
        pb_uint(&w->sub, 3, name_id); /* system_name */
        pb_uint(&w->sub, 4, file_id);
        pb_message(&w->out, 5, &w->sub);
    }
    return e->id;
}

/* The function of a frame, by name and file. */
static uint64_t frame_function_id(struct writer *w, const struct cs_frame *f)
{
    char name[256];
    cs_report_frame_name(f, name, sizeof name); /* "??" names say the module */
    return function_id(w, f->symbol ? f->symbol : name, f->file);
}

#define MAX_LINES 16 /* Lines of one Location: an address and its inlined functions */

/*
 * The Location of an address: `f[0..n)` are the frames of that one address, the
 * functions inlined there first and the function they are in last, as pprof's repeated
 * Line wants them.
 */
static uint64_t location_id(struct writer *w, const struct cs_frame *f, unsigned n)
{
    bool added = false;
    struct entry *e = lookup(&w->locations, f->addr, NULL, &added);
    if (!e) {
        w->out.oom = true;
        return 0;
    }
    if (added) {
        /* Functions first: writing one uses the scratch message the Location is built in. */
        uint64_t fns[MAX_LINES];
        unsigned skip = n > MAX_LINES ? n - MAX_LINES : 0; /* keep the outer ones */
        for (unsigned i = skip; i < n; i++)
            fns[i - skip] = frame_function_id(w, &f[i]);
        pb_uint(&w->sub, 1, e->id);
        pb_uint(&w->sub, 2, 1); /* the one mapping */
        pb_uint(&w->sub, 3, f->addr);
        for (unsigned i = skip; i < n; i++) {
            pb_uint(&w->line, 1, fns[i - skip]);
            pb_uint(&w->line, 2, f[i].line > 0 ? (uint64_t)f[i].line : 0);
            pb_message(&w->sub, 4, &w->line);
        }
        pb_message(&w->out, 4, &w->sub);
    }
    return e->id;
}

/* ---- samples ------------------------------------------------------------------------ */

enum { V_STALLS, V_STALLED, V_ON_CPU, V_OFF_CPU, NVALUES };

static void write_label_str(struct writer *w, struct pb *sample, const char *key, const char *v)
{
    struct pb label = {0};
    pb_uint(&label, 1, str_id(w, key));
    pb_uint(&label, 2, str_id(w, v));
    pb_message(sample, 3, &label);
    free(label.b);
}

/* One sample: a stack (innermost first, as pprof wants) with its values and labels. */
static void write_sample(struct writer *w, const struct cs_stall *s, const struct cs_stack *st,
                         const uint64_t *values)
{
    struct pb sample = {0}, ids = {0};
    unsigned n = st ? st->nframes : 0;
    for (unsigned i = 0; i < n;) {
        /* An address's inlined functions and the function they are in: one Location. */
        unsigned k = i;
        while (k + 1 < n && st->frames[k].kind == CS_FRAME_INLINE &&
               st->frames[k + 1].addr == st->frames[i].addr)
            k++;
        pb_varint(&ids, location_id(w, &st->frames[i], k + 1 - i));
        i = k + 1;
    }
    if (!n) { /* no stack: one frame that says so, so the stall still counts */
        struct cs_frame none = {.addr = 0, .symbol = "[no stack]"};
        pb_varint(&ids, location_id(w, &none, 1));
    }
    pb_bytes(&sample, 1, ids.b, ids.len); /* packed location ids */
    ids.len = 0;
    for (unsigned i = 0; i < NVALUES; i++)
        pb_varint(&ids, values[i]);
    pb_bytes(&sample, 2, ids.b, ids.len); /* packed values */
    struct pb label = {0};
    pb_uint(&label, 1, str_id(w, "thread"));
    pb_uint(&label, 3, (uint64_t)s->tid);
    pb_message(&sample, 3, &label);
    free(label.b);
    if (s->task)
        write_label_str(w, &sample, "task", s->task);
    write_label_str(w, &sample, "cause", cs_stall_cause(s));
    const struct cs_syscall_time *top = NULL;
    for (unsigned i = 0; i < s->nsyscalls; i++)
        if (!top || s->syscalls[i].total_ns > top->total_ns)
            top = &s->syscalls[i];
    if (top)
        write_label_str(w, &sample, "syscall", top->name);
    if (ids.oom || sample.oom)
        w->out.oom = true;
    pb_message(&w->out, 2, &sample);
    free(sample.b);
    free(ids.b);
}

/* A stall's time goes to its stacks in proportion to how often each was seen; the count
 * goes to its main stack. */
static void write_stall(struct writer *w, const struct cs_stall *s)
{
    uint64_t total = 0;
    for (unsigned k = 0; k < s->nstacks; k++)
        total += s->stacks[k].count;
    unsigned nst = s->nstacks && total ? s->nstacks : 1;
    for (unsigned k = 0; k < nst; k++) {
        const struct cs_stack *st = s->nstacks ? &s->stacks[k] : NULL;
        uint64_t share = total && st ? st->count : 1, of = total ? total : 1;
        uint64_t v[NVALUES] = {
            [V_STALLS] = k == 0,
            [V_STALLED] = s->duration_ns * share / of,
            [V_ON_CPU] = s->on_cpu_ns * share / of,
            [V_OFF_CPU] = s->off_cpu_ns * share / of,
        };
        write_sample(w, s, st, v);
    }
}

static void value_type(struct writer *w, unsigned field, const char *type, const char *unit)
{
    uint64_t t = str_id(w, type), u = str_id(w, unit);
    pb_uint(&w->sub, 1, t);
    pb_uint(&w->sub, 2, u);
    pb_message(&w->out, field, &w->sub);
}

/* The profile, uncompressed, into w->out. */
static void build(struct writer *w, const struct cs_pprof_input *in)
{
    w->strings.next_id = 0;
    w->functions.next_id = w->locations.next_id = 1;
    str_id(w, ""); /* string_table[0] must be "" */
    value_type(w, 1, "stalls", "count");
    value_type(w, 1, "stalled", "nanoseconds");
    value_type(w, 1, "on_cpu", "nanoseconds");
    value_type(w, 1, "off_cpu", "nanoseconds");
    /* One mapping for the whole process, its frames already symbolized: tools must not try
     * to symbolize the addresses again (has_functions, has_filenames, has_line_numbers). */
    uint64_t exe = str_id(w, in->exe ? in->exe : "");
    pb_uint(&w->sub, 1, 1);
    pb_uint(&w->sub, 3, UINT64_MAX); /* memory_limit: every address */
    pb_uint(&w->sub, 5, exe);
    pb_uint(&w->sub, 7, 1);
    pb_uint(&w->sub, 8, 1);
    pb_uint(&w->sub, 9, 1);
    pb_message(&w->out, 3, &w->sub);
    for (size_t i = 0; i < in->nstalls; i++)
        write_stall(w, in->stalls[i]);
    pb_uint(&w->out, 9, in->time_ns);           /* time_nanos */
    pb_uint(&w->out, 10, in->duration_ns);      /* duration_nanos */
    pb_uint(&w->out, 14, str_id(w, "stalled")); /* default_sample_type: a type's name */
}

/* Gzips `data` to `out` (pprof files are gzipped). 0, or -EIO / -ENOMEM. */
static int write_gzip(FILE *out, const unsigned char *data, size_t len)
{
    z_stream z = {0};
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return -ENOMEM;
    unsigned char buf[16384];
    z.next_in = (unsigned char *)data;
    z.avail_in = (uInt)len;
    int zr, err = 0;
    do {
        z.next_out = buf;
        z.avail_out = sizeof buf;
        zr = deflate(&z, Z_FINISH);
        size_t n = sizeof buf - z.avail_out;
        if (n && fwrite(buf, 1, n, out) != n)
            err = -EIO;
    } while (zr == Z_OK && !err);
    deflateEnd(&z);
    return err ? err : zr == Z_STREAM_END ? 0 : -EIO;
}

int cs_pprof_write(FILE *out, const struct cs_pprof_input *in)
{
    struct writer *w = calloc(1, sizeof *w);
    if (!w)
        return -ENOMEM;
    build(w, in);
    int err = w->out.oom ? -ENOMEM : write_gzip(out, w->out.b, w->out.len);
    free(w->out.b);
    free(w->sub.b);
    free(w->line.b);
    table_free(&w->strings);
    table_free(&w->functions);
    table_free(&w->locations);
    free(w);
    return err;
}

int cs_report_write_pprof(FILE *out, const struct cs_report *r)
{
    const struct cs_recording *rec = r->rec;
    const struct cs_pprof_input in = {
        .stalls = r->by_start,
        .nstalls = r->nstalls,
        .exe = rec && rec->has_target ? rec->target.exe : NULL,
        .time_ns = rec && rec->has_target ? rec->target.start_realtime_ns : 0,
        .duration_ns = r->duration_ns,
    };
    return cs_pprof_write(out, &in);
}

int cs_pprof_write_model(FILE *f, const struct cs_model *model, int pid, uint64_t wall_ns,
                         uint64_t duration_ns)
{
    size_t n = cs_model_recent_count(model);
    const struct cs_stall **stalls = calloc(n ? n : 1, sizeof *stalls);
    char exe[4096] = "", link[64];
    snprintf(link, sizeof link, "/proc/%d/exe", pid);
    ssize_t len = readlink(link, exe, sizeof exe - 1);
    exe[len > 0 ? len : 0] = '\0';
    int err = -ENOMEM;
    if (stalls) {
        for (size_t i = 0; i < n; i++)
            stalls[i] = cs_model_recent(model, i);
        const struct cs_pprof_input in = {
            .stalls = stalls,
            .nstalls = n,
            .exe = exe,
            .time_ns = wall_ns,
            .duration_ns = duration_ns,
        };
        err = cs_pprof_write(f, &in);
        free(stalls);
    }
    if (fclose(f) && !err)
        err = -EIO;
    if (err)
        errno = -err;
    return err ? -1 : 0;
}
