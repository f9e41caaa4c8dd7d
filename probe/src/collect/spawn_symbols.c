#include "spawn_symbols.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "model_tasks.h"
#include "spawn_sites.h"
#include "symbolize.h"

/* One process at a time (top watches one): kept here so the live source needs no more
 * than a call per picture. */
static struct {
    int pid;
    struct cs_spawn_sites *sites;
    struct cs_symbolizer *sym;
    bool sym_tried;
    const struct cs_corun_snapshot *seen;
    int64_t seen_at;
} st;

void cs_spawn_symbols_release(void)
{
    cs_spawn_sites_free(st.sites);
    cs_symbolizer_free(st.sym);
    memset(&st, 0, sizeof st);
}

/* "stall_task (stallgen.c:148)", else "sym+0x1c", else NULL (no symbol). */
static const char *site_name(uint64_t pc, char *buf, size_t len)
{
    struct cs_frame f = {0};
    if (st.sym)
        cs_symbolize(st.sym, pc, true, &f); /* a return address: looked up at pc - 1 */
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

const struct cs_spawn_sites *cs_spawn_symbols_update(int pid, const struct cs_corun_snapshot *snap)
{
    if (!snap)
        return st.sites;
    if (st.pid != pid)
        cs_spawn_symbols_release();
    st.pid = pid;
    if (!st.sites && !(st.sites = cs_spawn_sites_new()))
        return NULL;
    if (st.seen == snap && st.seen_at == snap->taken_ns)
        return st.sites;
    st.seen = snap;
    st.seen_at = snap->taken_ns;
    for (size_t i = 0; i < snap->nloops; i++) {
        const struct cs_corun_loop *l = &snap->loops[i];
        for (size_t k = 0; k < l->ntasks; k++) {
            uint64_t pc = l->tasks[k].spawn_pc;
            if (!pc || cs_spawn_sites_known(st.sites, pc))
                continue;
            if (!st.sym_tried) { /* once: a process gone has no maps to read again */
                st.sym_tried = true;
                st.sym = cs_symbolizer_new(pid);
            }
            char buf[CS_SPAWN_SITES_NAME_LEN];
            if (cs_spawn_sites_set(st.sites, pc, site_name(pc, buf, sizeof buf)) == -ENOSPC)
                return st.sites; /* full: the rest show their addresses */
        }
    }
    return st.sites;
}
