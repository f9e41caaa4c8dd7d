#include "spawn_symbols.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_tasks.h"
#include "spawn_sites.h"
#include "symbolize.h"

struct cs_spawn_symbols {
    int pid;
    struct cs_spawn_sites *sites;
    struct cs_symbolizer *sym;
    bool sym_tried;
    int64_t seen_at; /* taken_ns of the last snapshot named */
};

struct cs_spawn_symbols *cs_spawn_symbols_new(int pid)
{
    struct cs_spawn_symbols *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    st->pid = pid;
    st->seen_at = -1;
    st->sites = cs_spawn_sites_new();
    if (!st->sites) {
        free(st);
        return NULL;
    }
    return st;
}

void cs_spawn_symbols_free(struct cs_spawn_symbols *st)
{
    if (!st)
        return;
    cs_spawn_sites_free(st->sites);
    cs_symbolizer_free(st->sym);
    free(st);
}

/* "stall_task (stallgen.c:148)", else "sym+0x1c", else NULL (no symbol). */
static const char *site_name(struct cs_symbolizer *sym, uint64_t pc, char *buf, size_t len)
{
    struct cs_frame f = {0};
    if (sym)
        cs_symbolize(sym, pc, true, &f); /* a return address: looked up at pc - 1 */
    if (!f.symbol)
        return NULL;
    const char *file = f.file ? strrchr(f.file, '/') : NULL;
    file = file ? file + 1 : f.file;
    if (file && f.line)
        snprintf(buf, len, "%s (%s:%d)", f.symbol, file, f.line);
    else
        snprintf(buf, len, "%s+%#llx", f.symbol, (unsigned long long)f.offset);
    return buf;
}

const struct cs_spawn_sites *cs_spawn_symbols_update(struct cs_spawn_symbols *st,
                                                     const struct cs_corun_snapshot *snap)
{
    if (!st)
        return NULL;
    if (!snap || st->seen_at == snap->taken_ns)
        return st->sites;
    st->seen_at = snap->taken_ns;
    for (size_t i = 0; i < snap->nloops; i++) {
        const struct cs_corun_loop *l = &snap->loops[i];
        for (size_t k = 0; k < l->ntasks; k++) {
            uint64_t pc = l->tasks[k].spawn_pc;
            if (!pc || cs_spawn_sites_known(st->sites, pc))
                continue;
            if (!st->sym_tried) { /* once: a process gone has no maps to read again */
                st->sym_tried = true;
                st->sym = cs_symbolizer_new(st->pid);
            }
            char buf[CS_SPAWN_SITES_NAME_LEN];
            if (cs_spawn_sites_set(st->sites, pc, site_name(st->sym, pc, buf, sizeof buf)) ==
                -ENOSPC)
                return st->sites; /* full: the rest show their addresses */
        }
    }
    return st->sites;
}

const struct cs_spawn_sites *cs_spawn_symbols_sites(const struct cs_spawn_symbols *st)
{
    return st ? st->sites : NULL;
}
