#include "corun_target.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "cs_sort.h"
#include "hist_ll.h"
#include "mono_clock.h"
#include "proc.h"

#define MAX_MODULES      512
#define MAX_STRUCT_BYTES 65536u   /* a loop or task struct larger than this is corrupt */
#define MAX_TASKS_WALKED 1000000u /* a cycle guard for the task list */
#define REGISTRY_RETRIES 50
/* ...and for at least this long: a target thread preempted while it changes the registry
 * (generation odd) on a loaded machine keeps it odd for tens of milliseconds. */
#define REGISTRY_PATIENCE_NS 1000000000ll
#define LOOP_STABLE_TRIES    20
/* How long to wait for the dynamic loader to relocate a starting process's table. */
#define RELOCATION_PATIENCE_NS 2000000000ll
/* ...and for a table that does not read as one (yet). */
#define TABLE_SETTLE_NS 300000000ll

int cs_corun_read(int pid, uint64_t addr, void *buf, size_t len)
{
    struct iovec local = {.iov_base = buf, .iov_len = len};
    struct iovec remote = {.iov_base = (void *)(uintptr_t)addr, .iov_len = len};
    ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
    if (n == (ssize_t)len)
        return 0;
    if (n >= 0)
        return -EFAULT; /* a partial read: the range crosses into unmapped memory */
    return errno == ESRCH ? -ESRCH : errno == EPERM || errno == EACCES ? -EPERM : -EFAULT;
}

/* ---- Finding a symbol in the target's modules --------------------------------------- */

struct module {
    char path[PATH_MAX];
    uint64_t start, file_offset; /* its lowest mapping */
};

/* Where `symbol` is in the ELF file at `file`, relative to the file's vaddrs; and how a
 * mapping of file offset `map_offset` at `map_start` relocates those vaddrs. */
static bool elf_symbol_addr(const char *file, const char *symbol, uint64_t map_start,
                            uint64_t map_offset, uint64_t *addr, uint64_t *bias_out)
{
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool found = false;
    Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
    if (!elf || elf_kind(elf) != ELF_K_ELF)
        goto out;
    uint64_t value = 0;
    /* .dynsym first: it survives stripping; .symtab also has hidden symbols. */
    for (int pass = 0; pass < 2 && !found; pass++) {
        Elf_Scn *scn = NULL;
        while (!found && (scn = elf_nextscn(elf, scn))) {
            GElf_Shdr sh;
            if (!gelf_getshdr(scn, &sh) || sh.sh_type != (pass ? SHT_SYMTAB : SHT_DYNSYM) ||
                !sh.sh_entsize)
                continue;
            Elf_Data *data = elf_getdata(scn, NULL);
            if (!data)
                continue;
            size_t n = sh.sh_size / sh.sh_entsize;
            for (size_t i = 0; i < n; i++) {
                GElf_Sym sym;
                if (!gelf_getsym(data, (int)i, &sym) || sym.st_shndx == SHN_UNDEF)
                    continue;
                const char *name = elf_strptr(elf, sh.sh_link, sym.st_name);
                if (name && !strcmp(name, symbol)) {
                    value = sym.st_value;
                    found = true;
                    break;
                }
            }
        }
    }
    if (!found)
        goto out;
    /* The load bias: the PT_LOAD segment this mapping's file offset belongs to. */
    found = false;
    size_t phnum = 0;
    long page = sysconf(_SC_PAGESIZE);
    uint64_t mask = ~(uint64_t)(page - 1);
    if (elf_getphdrnum(elf, &phnum) != 0)
        goto out;
    for (size_t i = 0; i < phnum; i++) {
        GElf_Phdr ph;
        if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
            continue;
        if ((ph.p_offset & mask) == map_offset) {
            uint64_t bias = map_start - (ph.p_vaddr & mask);
            *addr = value + bias;
            if (bias_out)
                *bias_out = bias;
            found = true;
            break;
        }
    }
out:
    if (elf)
        elf_end(elf);
    close(fd);
    return found;
}

static int read_modules(int pid, struct module *mods, size_t cap, size_t *count)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/maps", pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return errno == ENOENT ? -ESRCH : errno == EACCES || errno == EPERM ? -EPERM : -errno;
    char line[PATH_MAX + 128];
    size_t n = 0;
    while (fgets(line, sizeof line, f)) {
        uint64_t start, end, off;
        unsigned long inode;
        int name_at = 0;
        if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %*s %" SCNx64 " %*s %lu %n", &start, &end, &off,
                   &inode, &name_at) < 4 ||
            !inode || !name_at || line[name_at] != '/')
            continue;
        char *name = line + name_at;
        name[strcspn(name, "\n")] = 0;
        if (strstr(name, " (deleted)"))
            continue;
        size_t i = 0;
        while (i < n && strcmp(mods[i].path, name))
            i++;
        if (i < n)
            continue; /* maps are sorted by address: the first is the lowest */
        if (n == cap)
            break;
        snprintf(mods[n].path, sizeof mods[n].path, "%s", name);
        mods[n].start = start;
        mods[n].file_offset = off;
        n++;
    }
    bool empty = n == 0 && ferror(f);
    fclose(f);
    if (empty)
        return -ESRCH;
    *count = n;
    return 0;
}

static int find_symbol(int pid, const char *symbol, uint64_t *addr, uint64_t *bias,
                       char *module_path, size_t module_path_len, char *mapped_path,
                       size_t mapped_path_len)
{
    static bool elf_ready;
    if (!elf_ready) {
        elf_version(EV_CURRENT);
        elf_ready = true;
    }
    struct module *mods = calloc(MAX_MODULES, sizeof *mods);
    if (!mods)
        return -ENOMEM;
    size_t n = 0;
    int err = read_modules(pid, mods, MAX_MODULES, &n);
    if (err) {
        free(mods);
        return err;
    }
    err = -ENOENT;
    for (size_t i = 0; i < n; i++) {
        char file[PATH_MAX + 32];
        /* Through the target's root: it may live in another mount namespace. */
        snprintf(file, sizeof file, "/proc/%d/root%s", pid, mods[i].path);
        if (elf_symbol_addr(file, symbol, mods[i].start, mods[i].file_offset, addr, bias)) {
            if (module_path)
                snprintf(module_path, module_path_len, "%s", file);
            if (mapped_path)
                snprintf(mapped_path, mapped_path_len, "%s", mods[i].path);
            err = 0;
            break;
        }
    }
    free(mods);
    return err;
}

int cs_corun_find_symbol(int pid, const char *symbol, uint64_t *addr, char *module_path,
                         size_t module_path_len, char *mapped_path, size_t mapped_path_len)
{
    return find_symbol(pid, symbol, addr, NULL, module_path, module_path_len, mapped_path,
                       mapped_path_len);
}

/* ---- The table ----------------------------------------------------------------------- */

/* Every offset the reader uses must lie inside its struct. */
static bool offsets_fit(const uint32_t *offs, const uint16_t *widths, size_t n, uint32_t size)
{
    for (size_t i = 0; i < n; i++)
        if ((uint64_t)offs[i] + widths[i] > size)
            return false;
    return true;
}

static bool table_layout_ok(const struct corun_debug *d)
{
    const struct corun_debug_loop_offsets *l = &d->loop;
    const struct corun_debug_task_offsets *t = &d->task;
    const struct corun_debug_stats_offsets *s = &d->stats;
    /* Version 3 loop histograms are log-linear, older ones log2; the stats block's are
     * log2 in every version (corun_debug.h). */
    unsigned want_buckets = d->version >= 3 ? CORUN_LL_BUCKETS : CORUN_HIST_BUCKETS;
    const uint16_t H = (uint16_t)(8 * want_buckets); /* wider than a byte */
    const uint16_t SH = (uint16_t)(8 * CORUN_HIST_BUCKETS);
    uint32_t lo[] = {l->id,
                     l->tid,
                     l->state,
                     l->current_task,
                     l->slice_seq,
                     l->slice_start_ns,
                     l->iter_start_ns,
                     l->iterations,
                     l->busy_ns,
                     l->poll_wait_ns,
                     l->ready_count,
                     l->task_count,
                     l->first_task,
                     l->next_loop,
                     l->sched_hist,
                     l->iter_hist};
    uint16_t lw[] = {8, 4, 4, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, H, H};
    uint32_t to[] = {t->id,
                     t->parent_id,
                     t->loop,
                     t->state,
                     t->wait_reason,
                     t->wait_obj,
                     t->waiting_since_ns,
                     t->awaited_task_id,
                     t->spawn_pc,
                     t->created_ns,
                     t->next_task,
                     t->stats};
    uint16_t tw[] = {8, 8, 8, 4, 4, 8, 8, 8, 8, 8, 8, 8};
    uint32_t to2[] = {t->outcome, t->error}; /* version 2 */
    uint16_t tw2[] = {4, 4};
    uint32_t lmax[] = {d->loop_iter_max_ns}; /* appended to version 2; 0: absent */
    uint16_t lmaxw[] = {8};
    uint32_t so[] = {s->polls, s->busy_ns, s->wakes, s->last_ready_ns, s->sched_hist, s->poll_hist};
    uint16_t sw[] = {8, 8, 8, 8, SH, SH};
    return d->pointer_size == 8 && d->hist_buckets == want_buckets &&
           d->stats_hist_buckets == CORUN_HIST_BUCKETS && l->size <= MAX_STRUCT_BYTES &&
           t->size <= MAX_STRUCT_BYTES && s->size <= MAX_STRUCT_BYTES && t->name_size >= 1 &&
           (uint64_t)t->name + t->name_size <= t->size &&
           offsets_fit(lo, lw, sizeof lo / sizeof lo[0], l->size) &&
           offsets_fit(to, tw, sizeof to / sizeof to[0], t->size) &&
           (d->version < 2 || offsets_fit(to2, tw2, 2, t->size)) &&
           (!d->loop_iter_max_ns || offsets_fit(lmax, lmaxw, 1, l->size)) &&
           offsets_fit(so, sw, sizeof so / sizeof so[0], s->size);
}

/* A version 1 table is the version 2 one without task.outcome and task.error: the same
 * bytes up to the end of the v1 task offsets, then the stats offsets (corun_debug.h). */
#define V1_TASK_OFFSETS_BYTES offsetof(struct corun_debug_task_offsets, outcome)
#define V1_STATS_AT           (offsetof(struct corun_debug, task) + V1_TASK_OFFSETS_BYTES)
#define V1_TABLE_BYTES        (V1_STATS_AT + sizeof(struct corun_debug_stats_offsets))
/* Version 2 as first written, before loop_iter_max_ns was appended. */
#define V2_TABLE_BYTES offsetof(struct corun_debug, loop_iter_max_ns)
/* Version 3 has every field up to stats_hist_buckets. */
#define V3_TABLE_BYTES (offsetof(struct corun_debug, stats_hist_buckets) + sizeof(uint32_t))
/* A table claiming more than this is corrupt (ours is ~200 bytes). */
#define MAX_TABLE_BYTES 4096u

int cs_corun_parse_table(const void *raw, size_t len, struct corun_debug *out, char *why,
                         size_t why_len)
{
    struct corun_debug d;
    memset(&d, 0, sizeof d);
    size_t head = offsetof(struct corun_debug, registry);
    if (len < head) {
        snprintf(why, why_len, "libcorun debug table too small (%zu bytes)", len);
        return -EPROTO;
    }
    memcpy(&d, raw, head);
    if (memcmp(d.magic, CORUN_DEBUG_MAGIC, 8) != 0) {
        snprintf(why, why_len, "its 'corun_debug' symbol is not a libcorun debug table");
        return -EPROTO;
    }
    if (d.version < CS_CORUN_MIN_VERSION || d.version > CS_CORUN_MAX_VERSION) {
        snprintf(why, why_len,
                 "libcorun debug table version %u not supported (this coscope "
                 "reads version %d to %d)",
                 d.version, CS_CORUN_MIN_VERSION, CS_CORUN_MAX_VERSION);
        return -EPROTO;
    }
    size_t need = d.version == 1   ? V1_TABLE_BYTES
                  : d.version == 2 ? V2_TABLE_BYTES
                                   : V3_TABLE_BYTES;
    if (d.size < need || len < need) {
        snprintf(why, why_len, "libcorun debug table too small (%u bytes for version %u)", d.size,
                 d.version);
        return -EPROTO;
    }
    if (d.version == 1) {
        memcpy(&d, raw, V1_STATS_AT);
        memcpy(&d.stats, (const char *)raw + V1_STATS_AT, sizeof d.stats);
        d.task.outcome = d.task.error = 0; /* absent: read_task looks at the version */
    } else {
        /* Fields appended within version 2 are there when the table is long enough; a
         * later minor layout may append more: ignored. */
        size_t have = d.size < len ? d.size : len;
        memcpy(&d, raw, have < sizeof d ? have : sizeof d);
    }
    if (d.version < 3) /* one kind of histogram everywhere */
        d.stats_hist_buckets = d.hist_buckets;
    if (!table_layout_ok(&d)) {
        snprintf(why, why_len, "libcorun debug table describes a layout this coscope cannot read");
        return -EPROTO;
    }
    *out = d;
    return 0;
}

/* Reads and checks the debug table at t->table_addr into t->table. */
static int read_table(struct cs_corun_target *t, char *why, size_t why_len)
{
    /* The header first: it says how large the table is (another version, another size). */
    unsigned char raw[MAX_TABLE_BYTES];
    size_t head = offsetof(struct corun_debug, registry);
    int err = cs_corun_read(t->pid, t->table_addr, raw, head);
    if (err == -EPERM) {
        snprintf(why, why_len,
                 "reading its memory was refused (process_vm_readv: EPERM; run as root or "
                 "with CAP_SYS_PTRACE, or check kernel.yama.ptrace_scope)");
        return err;
    }
    if (!err) {
        uint32_t size;
        memcpy(&size, raw + offsetof(struct corun_debug, size), sizeof size);
        size_t len = size < head ? head : size > MAX_TABLE_BYTES ? MAX_TABLE_BYTES : size;
        err = cs_corun_read(t->pid, t->table_addr, raw, len);
        if (!err)
            return cs_corun_parse_table(raw, len, &t->table, why, why_len);
    }
    snprintf(why, why_len, err == -ESRCH ? "no such process" : "cannot read its debug table");
    return err == -EFAULT ? -EPROTO : err;
}

int cs_corun_open(int pid, struct cs_corun_target *t, char *why, size_t why_len)
{
    memset(t, 0, sizeof *t);
    t->pid = pid;
    cs_proc_comm(pid, t->comm, sizeof t->comm);
    int err = find_symbol(pid, "corun_debug", &t->table_addr, &t->load_bias, t->module_path,
                          sizeof t->module_path, t->mapped_path, sizeof t->mapped_path);
    if (err == -ENOENT) {
        snprintf(why, why_len, "does not use libcorun (no 'corun_debug' table in its modules)");
        return err;
    }
    if (err == -ESRCH) {
        snprintf(why, why_len, "no such process");
        return err;
    }
    if (err == -EPERM || err == -EACCES) {
        snprintf(why, why_len,
                 "reading it was refused (/proc/%d/maps: permission denied; run as root or "
                 "with CAP_SYS_PTRACE, or check kernel.yama.ptrace_scope)",
                 pid);
        return -EPERM;
    }
    if (err) {
        snprintf(why, why_len, "cannot read its memory map: %s", strerror(-err));
        return err;
    }
    /*
     * A process caught while it starts (`-- CMD`, or a PID read at once) may show its module
     * mapped but not filled yet (no magic), or filled but not relocated: the table's
     * `registry` pointer still holds its link-time value, an offset below the module's load
     * address. Both pass within milliseconds; wait, bounded. A table that is really not
     * libcorun's (or of another version) costs its reader TABLE_SETTLE_NS.
     */
    int64_t start_ns = (int64_t)cs_mono_ns();
    for (;;) {
        err = read_table(t, why, why_len);
        bool unrelocated = !err && t->load_bias && t->table.registry < t->load_bias;
        if (!err && !unrelocated)
            return 0;
        if (err && err != -EPROTO)
            return err;
        if ((int64_t)cs_mono_ns() - start_ns >
            (unrelocated ? RELOCATION_PATIENCE_NS : TABLE_SETTLE_NS)) {
            if (unrelocated)
                snprintf(why, why_len,
                         "its libcorun debug table is not relocated (registry at %#" PRIx64
                         ", module loaded at %#" PRIx64 ")",
                         t->table.registry, t->load_bias);
            return -EPROTO;
        }
        usleep(1000);
    }
}

/* ---- Walking loops and tasks --------------------------------------------------------- */

static uint64_t u64_at(const unsigned char *b, uint32_t off)
{
    uint64_t v;
    memcpy(&v, b + off, sizeof v);
    return v;
}

static uint32_t u32_at(const unsigned char *b, uint32_t off)
{
    uint32_t v;
    memcpy(&v, b + off, sizeof v);
    return v;
}

void cs_corun_decode_task(const struct corun_debug *d, const unsigned char *buf, uint64_t addr,
                          struct cs_task *out)
{
    const struct corun_debug_task_offsets *o = &d->task;
    memset(out, 0, sizeof *out);
    out->addr = addr;
    out->id = u64_at(buf, o->id);
    out->parent_id = u64_at(buf, o->parent_id);
    size_t name_len = o->name_size < CS_TASK_NAME_LEN ? o->name_size : CS_TASK_NAME_LEN - 1;
    memcpy(out->name, buf + o->name, name_len);
    out->name[name_len] = 0; /* the target's name may be unterminated mid-write */
    out->state = u32_at(buf, o->state);
    out->wait_reason = u32_at(buf, o->wait_reason);
    out->wait_obj = u64_at(buf, o->wait_obj);
    out->waiting_since_ns = (int64_t)u64_at(buf, o->waiting_since_ns);
    out->awaited_task_id = u64_at(buf, o->awaited_task_id);
    out->spawn_pc = u64_at(buf, o->spawn_pc);
    out->created_ns = (int64_t)u64_at(buf, o->created_ns);
    /* Version 1 tables have no outcome: a finished task's is unknown. */
    if (d->version >= 2 && out->state == CORUN_TASK_DONE) {
        out->outcome_known = true;
        out->outcome = u32_at(buf, o->outcome);
        out->error = (int32_t)u32_at(buf, o->error);
    }
}

/* A loop histogram of the target at b + off, in the model's log-linear buckets. */
static void hist_at(const struct corun_debug *d, const unsigned char *b, uint32_t off,
                    uint64_t out[CS_LL_HIST_BUCKETS])
{
    uint64_t raw[CORUN_LL_BUCKETS];
    memcpy(raw, b + off, d->hist_buckets * sizeof raw[0]); /* checked: <= CORUN_LL_BUCKETS */
    cs_ll_from_table(out, raw, d->hist_buckets);
}

static int read_task(const struct cs_corun_target *t, uint64_t addr, unsigned char *buf,
                     unsigned char *sbuf, struct cs_task *out)
{
    int err = cs_corun_read(t->pid, addr, buf, t->table.task.size);
    if (err)
        return err;
    cs_corun_decode_task(&t->table, buf, addr, out);
    uint64_t stats = u64_at(buf, t->table.task.stats);
    if (stats) {
        const struct corun_debug_stats_offsets *so = &t->table.stats;
        if (cs_corun_read(t->pid, stats, sbuf, so->size) == 0) {
            out->has_stats = true;
            out->polls = u64_at(sbuf, so->polls);
            out->busy_ns = u64_at(sbuf, so->busy_ns);
            out->wakes = u64_at(sbuf, so->wakes);
            memcpy(out->sched_hist, sbuf + so->sched_hist, sizeof out->sched_hist);
            memcpy(out->poll_hist, sbuf + so->poll_hist, sizeof out->poll_hist);
        }
    }
    return 0;
}

static void read_loop_fields(const struct cs_corun_target *t, const unsigned char *b,
                             struct cs_corun_loop *l)
{
    const struct corun_debug_loop_offsets *o = &t->table.loop;
    l->id = u64_at(b, o->id);
    l->tid = (int32_t)u32_at(b, o->tid);
    l->state = u32_at(b, o->state);
    l->slice_seq = u64_at(b, o->slice_seq);
    l->slice_start_ns = (int64_t)u64_at(b, o->slice_start_ns);
    l->iter_start_ns = (int64_t)u64_at(b, o->iter_start_ns);
    l->iterations = u64_at(b, o->iterations);
    l->busy_ns = u64_at(b, o->busy_ns);
    l->poll_wait_ns = u64_at(b, o->poll_wait_ns);
    l->ready_count = u64_at(b, o->ready_count);
    l->task_count = u64_at(b, o->task_count);
    hist_at(&t->table, b, o->sched_hist, l->sched_hist);
    hist_at(&t->table, b, o->iter_hist, l->iter_hist);
    uint32_t max_at = t->table.loop_iter_max_ns;
    l->iter_max_known = max_at != 0;
    l->iter_max_ns = max_at ? u64_at(b, max_at) : 0;
}

/* Reads one loop and its task list. Retries (bounded) while the loop switches tasks under
 * the walk; a loop that never holds still is read as well as it can be. */
static int read_loop(const struct cs_corun_target *t, uint64_t addr, unsigned char *lbuf,
                     unsigned char *lbuf2, unsigned char *tbuf, unsigned char *sbuf,
                     struct cs_corun_loop *out, uint64_t *next_loop)
{
    const struct corun_debug_loop_offsets *o = &t->table.loop;
    int err = 0;
    for (int attempt = 0; attempt < LOOP_STABLE_TRIES; attempt++) {
        err = cs_corun_read(t->pid, addr, lbuf, o->size);
        if (err)
            return err;
        free(out->tasks);
        memset(out, 0, sizeof *out);
        out->addr = addr;
        read_loop_fields(t, lbuf, out);
        *next_loop = u64_at(lbuf, o->next_loop);
        uint64_t current = u64_at(lbuf, o->current_task);
        size_t cap = 0;
        err = 0;
        uint64_t taddr = u64_at(lbuf, o->first_task);
        for (unsigned walked = 0; taddr && walked < MAX_TASKS_WALKED; walked++) {
            if (out->ntasks == cap) {
                size_t ncap = cap ? cap * 2 : 16;
                struct cs_task *nt = realloc(out->tasks, ncap * sizeof *nt);
                if (!nt)
                    return -ENOMEM;
                out->tasks = nt;
                cap = ncap;
            }
            struct cs_task *task = &out->tasks[out->ntasks];
            err = read_task(t, taddr, tbuf, sbuf, task);
            if (err)
                break;
            if (taddr == current)
                out->current_task_id = task->id;
            out->ntasks++;
            taddr = u64_at(tbuf, t->table.task.next_task);
        }
        if (err == -ESRCH || err == -EPERM)
            return err;
        /* Stable if the loop did not resume a task and the list ended where it should. */
        if (cs_corun_read(t->pid, addr, lbuf2, o->size) != 0)
            continue;
        if (!err && u64_at(lbuf2, o->slice_seq) == out->slice_seq &&
            u64_at(lbuf2, o->first_task) == u64_at(lbuf, o->first_task))
            return 0;
    }
    return err == -EFAULT ? 0 : err; /* best effort: the last walk */
}

static int by_id(const void *a, const void *b)
{
    uint64_t x = ((const struct cs_task *)a)->id, y = ((const struct cs_task *)b)->id;
    return x < y ? -1 : x > y;
}

int cs_corun_snapshot(const struct cs_corun_target *t, struct cs_corun_snapshot *out)
{
    memset(out, 0, sizeof *out);
    out->pid = t->pid;
    memcpy(out->comm, t->comm, sizeof out->comm);
    unsigned char *lbuf = malloc(t->table.loop.size);
    unsigned char *lbuf2 = malloc(t->table.loop.size);
    unsigned char *tbuf = malloc(t->table.task.size);
    unsigned char *sbuf = malloc(t->table.stats.size);
    int err = -ENOMEM;
    if (!lbuf || !lbuf2 || !tbuf || !sbuf)
        goto out;
    int64_t give_up_ns = (int64_t)cs_mono_ns() + REGISTRY_PATIENCE_NS;
    for (int attempt = 0; attempt < REGISTRY_RETRIES || (int64_t)cs_mono_ns() < give_up_ns;
         attempt++) {
        struct corun_registry reg, reg2;
        /* Back off from 100 us to 2 ms: the writer needs the CPU more than we do. */
        if (attempt)
            usleep(attempt < 10 ? 100 : 2000);
        err = cs_corun_read(t->pid, t->table.registry, &reg, sizeof reg);
        if (err)
            break;
        if (reg.generation & 1) {
            err = -EAGAIN;
            continue;
        }
        cs_corun_snapshot_free(out);
        size_t cap = reg.loop_count < 1024 ? (size_t)reg.loop_count + 1 : 1024;
        out->loops = calloc(cap, sizeof *out->loops);
        if (!out->loops) {
            err = -ENOMEM;
            break;
        }
        out->taken_ns = (int64_t)cs_mono_ns();
        uint64_t addr = reg.first_loop;
        err = 0;
        while (addr && out->nloops < cap) {
            uint64_t next = 0;
            err = read_loop(t, addr, lbuf, lbuf2, tbuf, sbuf, &out->loops[out->nloops], &next);
            if (err) {
                free(out->loops[out->nloops].tasks);
                out->loops[out->nloops].tasks = NULL;
                break;
            }
            out->nloops++;
            addr = next;
        }
        if (err == -ESRCH || err == -EPERM || err == -ENOMEM)
            break;
        int rerr = cs_corun_read(t->pid, t->table.registry, &reg2, sizeof reg2);
        if (rerr) {
            err = rerr;
            break;
        }
        if (!err && reg2.generation == reg.generation) {
            /* The runtime prepends new tasks: id order is spawn order. */
            for (size_t i = 0; i < out->nloops; i++)
                cs_qsort(out->loops[i].tasks, out->loops[i].ntasks, sizeof(struct cs_task), by_id);
            goto out;
        }
        err = -EAGAIN;
    }
    if (err == -EAGAIN || err == -EFAULT)
        err = -EPROTO;
out:
    if (err)
        cs_corun_snapshot_free(out);
    free(lbuf);
    free(lbuf2);
    free(tbuf);
    free(sbuf);
    return err;
}
