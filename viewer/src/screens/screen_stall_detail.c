/* One stall in full: times, blocking calls, and its stacks with file:line. */
#include <stdio.h>
#include <string.h>

#include "screens.h"
#include "term.h"

/* Lines are produced in order and only those inside the scrolled window are drawn. */
struct lines {
    int y, top, bottom, skip, count;
};

static void line(struct lines *l, enum cs_role role, int indent, const char *text)
{
    int i = l->count++;
    if (i < l->skip)
        return;
    int y = l->top + i - l->skip;
    if (y >= l->bottom)
        return;
    cs_term_put(y, indent, role, "%s", text);
}

static void frame_text(const struct cs_frame *f, unsigned i, char *buf, size_t len)
{
    char where[256] = "";
    if (f->file && f->line > 0) {
        const char *base = strrchr(f->file, '/');
        snprintf(where, sizeof where, "  %s:%d", base ? base + 1 : f->file, f->line);
    }
    const char *mod = f->module ? strrchr(f->module, '/') : NULL;
    mod = mod ? mod + 1 : f->module;
    if (f->symbol && f->kind == CS_FRAME_INLINE)
        snprintf(buf, len, "#%-2u %s (inlined)%s  [%s]", i, f->symbol, where, mod ? mod : "?");
    else if (f->symbol)
        snprintf(buf, len, "#%-2u %s+0x%llx%s  [%s]", i, f->symbol, (unsigned long long)f->offset,
                 where,
                 f->kind == CS_FRAME_JIT ? "jit"
                 : mod                   ? mod
                                         : "?");
    else
        snprintf(buf, len, "#%-2u 0x%llx%s  [%s]", i, (unsigned long long)f->addr, where,
                 f->kind == CS_FRAME_JIT ? "jit"
                 : mod                   ? mod
                                         : "?");
}

void cs_screen_stall_detail(const struct cs_view *v, struct cs_ui *ui, int top, int bottom)
{
    (void)v;
    if (!ui->have_detail) {
        cs_term_put(top + 1, 2, CS_ROLE_NORMAL, "No stall selected.");
        return;
    }
    const struct cs_stall *s = &ui->detail;
    char buf[512], a[32], b[32], c[32];
    struct lines l = {.top = top, .bottom = bottom, .skip = ui->detail_scroll};

    cs_term_fill(top, 0, CS_ROLE_LABEL);
    cs_term_put(top, 0, CS_ROLE_LABEL, " Stall on thread %d (%s)%s", s->tid, s->comm,
                s->ongoing ? "  -- still in progress when opened" : "");
    l.top++;
    snprintf(buf, sizeof buf, "duration %s   on-CPU %s   off-CPU %s   task %s",
             cs_fmt_duration(ui->detail_duration_ns, a, sizeof a),
             cs_fmt_duration(s->on_cpu_ns, b, sizeof b),
             cs_fmt_duration(s->off_cpu_ns, c, sizeof c),
             s->task        ? s->task
             : v->has_tasks ? "- (not known)"
                            : "- (foreign loop: no task)");
    line(&l, CS_ROLE_NORMAL, 1, buf);
    snprintf(buf, sizeof buf, "cause: %s", cs_stall_cause(s));
    line(&l, CS_ROLE_NORMAL, 1, buf);
    if (s->nsyscalls) {
        line(&l, CS_ROLE_NORMAL, 1, "blocking system calls (off-CPU time inside them):");
        for (unsigned i = 0; i < s->nsyscalls; i++) {
            snprintf(buf, sizeof buf, "%-16s x%-4u %s", s->syscalls[i].name, s->syscalls[i].count,
                     cs_fmt_duration(s->syscalls[i].total_ns, a, sizeof a));
            line(&l, CS_ROLE_NORMAL, 3, buf);
        }
    }
    if (!s->nstacks)
        line(&l, CS_ROLE_DIM, 1, "no stack was captured for this stall");
    for (unsigned k = 0; k < s->nstacks; k++) {
        const struct cs_stack *st = &s->stacks[k];
        line(&l, CS_ROLE_NORMAL, 0, "");
        snprintf(buf, sizeof buf, "stack %u of %u%s (seen %u time%s), innermost first:", k + 1,
                 s->nstacks, k == 0 ? " -- the main one" : "", st->count,
                 st->count == 1 ? "" : "s");
        line(&l, CS_ROLE_TITLE, 1, buf);
        for (unsigned i = 0; i < st->nframes; i++) {
            frame_text(&st->frames[i], i, buf, sizeof buf);
            line(&l, CS_ROLE_NORMAL, 3, buf);
        }
    }
    ui->detail_lines = l.count;
}
