#include "symbolize.h"

#include <elfutils/libdwfl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mono_clock.h"

#define CACHE_BUCKETS  4096
#define INTERN_BUCKETS 1024

struct cache_entry {
    struct cache_entry *next;
    uint64_t key; /* addr, low bit of is_return folded into bit 63 */
    struct cs_frame frame;
};

struct interned {
    struct interned *next;
    char text[];
};

struct cs_symbolizer {
    int pid;
    Dwfl *dwfl;
    char *debuginfo_path;
    Dwfl_Callbacks callbacks;
    struct cache_entry *cache[CACHE_BUCKETS];
    struct interned *strings[INTERN_BUCKETS];
    uint64_t last_refresh_ns;
};

static uint64_t hash64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return x;
}

static const char *intern(struct cs_symbolizer *s, const char *text)
{
    if (!text)
        return NULL;
    uint64_t h = 1469598103934665603ull;
    for (const char *p = text; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    struct interned **bucket = &s->strings[h % INTERN_BUCKETS];
    for (struct interned *i = *bucket; i; i = i->next)
        if (!strcmp(i->text, text))
            return i->text;
    size_t len = strlen(text);
    struct interned *i = malloc(sizeof *i + len + 1);
    if (!i)
        return NULL;
    memcpy(i->text, text, len + 1);
    i->next = *bucket;
    *bucket = i;
    return i->text;
}

static int report_modules(struct cs_symbolizer *s)
{
    dwfl_report_begin(s->dwfl);
    int err = dwfl_linux_proc_report(s->dwfl, s->pid);
    dwfl_report_end(s->dwfl, NULL, NULL);
    s->last_refresh_ns = cs_mono_ns();
    return err;
}

struct cs_symbolizer *cs_symbolizer_new(int pid)
{
    struct cs_symbolizer *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->pid = pid;
    s->callbacks.find_elf = dwfl_linux_proc_find_elf;
    s->callbacks.find_debuginfo = dwfl_standard_find_debuginfo;
    s->callbacks.debuginfo_path = &s->debuginfo_path;
    s->dwfl = dwfl_begin(&s->callbacks);
    if (!s->dwfl) {
        free(s);
        errno = ENOMEM;
        return NULL;
    }
    /* Only a vanished process is fatal: a module libdwfl cannot read (a deleted file,
     * a sealed memfd) costs the symbols of that module, not the others. */
    int err = report_modules(s);
    if (err == ENOENT || err == ESRCH) {
        cs_symbolizer_free(s);
        errno = ESRCH;
        return NULL;
    }
    return s;
}

void cs_symbolizer_free(struct cs_symbolizer *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < CACHE_BUCKETS; i++) {
        for (struct cache_entry *e = s->cache[i], *n; e; e = n) {
            n = e->next;
            free(e);
        }
    }
    for (size_t i = 0; i < INTERN_BUCKETS; i++) {
        for (struct interned *e = s->strings[i], *n; e; e = n) {
            n = e->next;
            free(e);
        }
    }
    dwfl_end(s->dwfl);
    free(s);
}

Dwfl *cs_symbolizer_dwfl(struct cs_symbolizer *s)
{
    return s->dwfl;
}

int cs_symbolizer_pid(const struct cs_symbolizer *s)
{
    return s->pid;
}

static void lookup(struct cs_symbolizer *s, uint64_t addr, bool is_return, struct cs_frame *f)
{
    memset(f, 0, sizeof *f);
    f->addr = addr;
    Dwarf_Addr pc = is_return && addr ? addr - 1 : addr;
    Dwfl_Module *mod = dwfl_addrmodule(s->dwfl, pc);
    /* A module mapped after attach (dlopen): re-read the maps, at most once a second. */
    if (!mod && cs_mono_ns() - s->last_refresh_ns > 1000000000ull) {
        report_modules(s);
        mod = dwfl_addrmodule(s->dwfl, pc);
    }
    if (!mod)
        return;
    const char *mainfile = NULL, *debugfile = NULL;
    const char *modname =
        dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, &mainfile, &debugfile);
    /* libdwfl names the vDSO "[vdso: PID]"; the PID says nothing to a reader. */
    if (!mainfile && modname && !strncmp(modname, "[vdso", 5))
        modname = "[vdso]";
    f->module = intern(s, mainfile ? mainfile : modname);
    GElf_Off off = 0;
    GElf_Sym sym;
    const char *name = dwfl_module_addrinfo(mod, pc, &off, &sym, NULL, NULL, NULL);
    if (name) {
        f->symbol = intern(s, name);
        f->offset = off + (addr - pc);
    }
    Dwfl_Line *line = dwfl_module_getsrc(mod, pc);
    if (line) {
        int lineno = 0;
        const char *file = dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL);
        if (file && lineno > 0) {
            f->file = intern(s, file);
            f->line = lineno;
        }
    }
}

void cs_symbolize(struct cs_symbolizer *s, uint64_t addr, bool is_return, struct cs_frame *f)
{
    uint64_t key = addr ^ (is_return ? 1ull << 63 : 0);
    struct cache_entry **bucket = &s->cache[hash64(key) % CACHE_BUCKETS];
    for (struct cache_entry *e = *bucket; e; e = e->next) {
        if (e->key == key) {
            *f = e->frame;
            return;
        }
    }
    lookup(s, addr, is_return, f);
    /* Do not cache a miss: the module may show up on the next refresh. */
    if (!f->module)
        return;
    struct cache_entry *e = malloc(sizeof *e);
    if (!e)
        return;
    e->key = key;
    e->frame = *f;
    e->next = *bucket;
    *bucket = e;
}
