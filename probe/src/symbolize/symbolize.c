#include "symbolize.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "demangle.h"
#include "mono_clock.h"
#include "perf_map.h"

#define CACHE_BUCKETS  4096
#define INTERN_BUCKETS 1024
#define NAME_MAX_LEN   1024

struct cache_entry {
    struct cache_entry *next;
    uint64_t key; /* addr, low bit of is_return folded into bit 63 */
    unsigned nframes;
    struct cs_frame frames[]; /* inlined functions first, then the function */
};

/* An executable mapping: of a file, or anonymous memory (JIT code, trampolines). */
struct exec_range {
    uint64_t start, end;
    bool anon;
};

enum where { IN_NO_MAPPING, IN_FILE, IN_ANON };

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
    struct exec_range *exec; /* from /proc/PID/maps, with the modules */
    size_t nexec;
    struct cs_perf_map *perf_map; /* read when a frame is first in anonymous memory */
    int perf_map_fd;              /* -1: not open (yet) */
    size_t perf_map_read;
    uint64_t perf_map_tried_ns;
    const char *perf_map_path; /* the path the target writes, interned */
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

/* The executable mappings. Anonymous: no file (inode 0) and no name, or an "[anon:...]"
 * name a runtime gave it; [vdso] and the like are modules libdwfl knows. */
static int read_exec_ranges(struct cs_symbolizer *s)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/maps", s->pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return errno == ENOENT ? ESRCH : errno;
    size_t n = 0, cap = 0;
    struct exec_range *r = NULL;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        uint64_t start, end, inode;
        char perms[8];
        int name_at = 0;
        if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %*x %*x:%*x %" SCNu64 " %n", &start, &end,
                   perms, &inode, &name_at) < 4)
            continue;
        const char *name = line + name_at;
        bool unnamed = name[0] == '\n' || name[0] == '\0' || !strncmp(name, "[anon:", 6);
        if (perms[2] != 'x')
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            struct exec_range *more = realloc(r, cap * sizeof *r);
            if (!more)
                break;
            r = more;
        }
        r[n++] = (struct exec_range){start, end, inode == 0 && unnamed};
    }
    fclose(f);
    free(s->exec);
    s->exec = r;
    s->nexec = n;
    return 0;
}

static enum where mapping_of(const struct cs_symbolizer *s, uint64_t pc)
{
    for (size_t i = 0; i < s->nexec; i++)
        if (pc >= s->exec[i].start && pc < s->exec[i].end)
            return s->exec[i].anon ? IN_ANON : IN_FILE;
    return IN_NO_MAPPING;
}

static int report_modules(struct cs_symbolizer *s)
{
    s->last_refresh_ns = cs_mono_ns();
    /* A process gone keeps the modules read before: its stacks can still be named. */
    int err = read_exec_ranges(s);
    if (err)
        return err;
    dwfl_report_begin(s->dwfl);
    err = dwfl_linux_proc_report(s->dwfl, s->pid);
    dwfl_report_end(s->dwfl, NULL, NULL);
    return err;
}

struct cs_symbolizer *cs_symbolizer_new(int pid)
{
    struct cs_symbolizer *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->pid = pid;
    s->perf_map_fd = -1;
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
    free(s->exec);
    cs_perf_map_free(s->perf_map);
    if (s->perf_map_fd >= 0)
        close(s->perf_map_fd);
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

/* The name a reader knows: demangled when mangled, interned. */
static const char *symbol_name(struct cs_symbolizer *s, const char *raw)
{
    char buf[NAME_MAX_LEN];
    return intern(s, cs_demangle(raw, buf, sizeof buf) ? buf : raw);
}

/* Code in anonymous executable memory, named by the target's perf map if it writes one
 * (opened when first needed, retried at most once a second, re-read as it grows). */
static void lookup_jit(struct cs_symbolizer *s, uint64_t pc, struct cs_frame *f)
{
    f->kind = CS_FRAME_JIT;
    if (s->perf_map_fd < 0 && cs_mono_ns() - s->perf_map_tried_ns > 1000000000ull) {
        s->perf_map_tried_ns = cs_mono_ns();
        char path[128];
        s->perf_map_fd = cs_perf_map_open(s->pid, path, sizeof path);
        if (s->perf_map_fd >= 0) {
            s->perf_map = cs_perf_map_new();
            s->perf_map_path = intern(s, path);
            if (!s->perf_map) {
                close(s->perf_map_fd);
                s->perf_map_fd = -1;
            }
        }
    }
    if (s->perf_map_fd < 0)
        return;
    cs_perf_map_update(s->perf_map, s->perf_map_fd, &s->perf_map_read);
    uint64_t off = 0;
    const char *name = cs_perf_map_lookup(s->perf_map, pc, &off);
    if (!name)
        return;
    f->symbol = intern(s, name);
    f->offset = off + (f->addr - pc); /* of the address itself, as for native frames */
    f->module = s->perf_map_path;
}

/* The name of an inlined subroutine's function: its linkage name demangled, else its
 * plain name (a C function). Both live on the abstract origin: integrated. */
static const char *inline_name(struct cs_symbolizer *s, Dwarf_Die *die)
{
    Dwarf_Attribute attr;
    const char *linkage = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &attr));
    if (!linkage)
        linkage = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr));
    if (linkage)
        return symbol_name(s, linkage);
    return intern(s, dwarf_diename(die));
}

/* The call site of an inlined subroutine: where its caller's code is, file and line. */
static void call_site(struct cs_symbolizer *s, Dwarf_Die *cu, Dwarf_Die *die, struct cs_frame *f)
{
    Dwarf_Attribute attr;
    Dwarf_Word file_idx = 0, line = 0;
    if (dwarf_formudata(dwarf_attr(die, DW_AT_call_file, &attr), &file_idx) != 0 ||
        dwarf_formudata(dwarf_attr(die, DW_AT_call_line, &attr), &line) != 0 || !line)
        return;
    Dwarf_Files *files;
    size_t nfiles;
    if (dwarf_getsrcfiles(cu, &files, &nfiles) != 0 || file_idx >= nfiles)
        return;
    const char *file = dwarf_filesrc(files, file_idx, NULL, NULL);
    if (!file)
        return;
    f->file = intern(s, file);
    f->line = (int)line;
}

/*
 * The functions inlined at `pc`, innermost first, into out[0..] (at most `max`, the
 * innermost kept). `fn` is the function's own frame, its file:line the line table's on
 * entry: that line is in the innermost inlined function; each one out is where the one
 * inside it was called (DW_AT_call_file/line), and `fn` ends with the outermost call site.
 * Returns how many.
 */
static unsigned inlined_at(struct cs_symbolizer *s, Dwfl_Module *mod, Dwarf_Addr pc,
                           struct cs_frame *out, unsigned max, struct cs_frame *fn)
{
    Dwarf_Addr bias = 0;
    Dwarf_Die *cu = dwfl_module_addrdie(mod, pc, &bias);
    if (!cu)
        return 0;
    Dwarf_Die *scopes = NULL;
    int nscopes = dwarf_getscopes(cu, pc - bias, &scopes);
    unsigned n = 0;
    for (int i = 0; i < nscopes; i++) {
        int tag = dwarf_tag(&scopes[i]);
        if (tag == DW_TAG_subprogram)
            break;
        if (tag != DW_TAG_inlined_subroutine)
            continue;
        if (n < max) {
            out[n] = *fn;
            out[n].kind = CS_FRAME_INLINE;
            out[n].symbol = inline_name(s, &scopes[i]);
            n++;
        }
        struct cs_frame caller = {0};
        call_site(s, cu, &scopes[i], &caller);
        fn->file = caller.file;
        fn->line = caller.line;
    }
    free(scopes);
    return n;
}

/* Fills out[0..max) for pc; returns how many frames (at least 1; module NULL: unknown). */
static unsigned lookup(struct cs_symbolizer *s, uint64_t addr, bool is_return, struct cs_frame *out,
                       unsigned max)
{
    struct cs_frame *f = &out[max - 1]; /* the function; moved after its inlined ones */
    memset(f, 0, sizeof *f);
    f->addr = addr;
    Dwarf_Addr pc = is_return && addr ? addr - 1 : addr;
    /* Memory mapped after attach (dlopen, new JIT code): re-read the maps, at most once a
     * second. Checked against the mappings, not libdwfl's modules: a module spans its
     * file's first to last mapping, and new anonymous memory can land in between. */
    enum where where = mapping_of(s, pc);
    if (where == IN_NO_MAPPING && cs_mono_ns() - s->last_refresh_ns > 1000000000ull) {
        report_modules(s);
        where = mapping_of(s, pc);
    }
    /* Anonymous memory is never a neighbouring file's, whatever range libdwfl gave it. */
    if (where == IN_ANON) {
        lookup_jit(s, pc, f);
        out[0] = *f;
        return 1;
    }
    Dwfl_Module *mod = dwfl_addrmodule(s->dwfl, pc);
    if (!mod) {
        out[0] = *f;
        return 1;
    }
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
        f->symbol = symbol_name(s, name);
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
    unsigned n = inlined_at(s, mod, pc, out, max - 1, f);
    out[n] = *f;
    return n + 1;
}

unsigned cs_symbolize_inline(struct cs_symbolizer *s, uint64_t addr, bool is_return,
                             struct cs_frame *out, unsigned max)
{
    if (!max)
        return 0;
    uint64_t key = addr ^ (is_return ? 1ull << 63 : 0);
    struct cache_entry **bucket = &s->cache[hash64(key) % CACHE_BUCKETS];
    for (struct cache_entry *e = *bucket; e; e = e->next) {
        if (e->key == key) {
            unsigned n = e->nframes < max ? e->nframes : max;
            /* Cut short: keep the function itself, the last frame. */
            memcpy(out, e->frames + (e->nframes - n), n * sizeof *out);
            return n;
        }
    }
    struct cs_frame frames[CS_SYMBOLIZE_MAX_INLINE + 1];
    unsigned n = lookup(s, addr, is_return, frames, CS_SYMBOLIZE_MAX_INLINE + 1);
    unsigned keep = n < max ? n : max;
    memcpy(out, frames + (n - keep), keep * sizeof *out);
    /* Do not cache a miss (the module may show up on the next refresh), nor JIT code (the
     * runtime moves and replaces it; its map says what is there now). */
    if (!frames[n - 1].module || frames[n - 1].kind == CS_FRAME_JIT)
        return keep;
    struct cache_entry *e = malloc(sizeof *e + n * sizeof *frames);
    if (!e)
        return keep;
    e->key = key;
    e->nframes = n;
    memcpy(e->frames, frames, n * sizeof *frames);
    e->next = *bucket;
    *bucket = e;
    return keep;
}

void cs_symbolize(struct cs_symbolizer *s, uint64_t addr, bool is_return, struct cs_frame *f)
{
    cs_symbolize_inline(s, addr, is_return, f, 1);
}
