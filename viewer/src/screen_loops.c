/* The loops screen: each loop thread, its CPU use, and its stalls. */
#include <stdio.h>

#include "screens.h"
#include "term.h"

void cs_screen_loops(const struct cs_view *v, struct cs_ui *ui, int top, int bottom)
{
    cs_term_fill(top, 0, CS_ROLE_LABEL);
    cs_term_put(top, 0, CS_ROLE_LABEL, " %7s %-12s %4s %-10s %6s %8s %8s %8s  %s", "TID", "THREAD",
                "CPU", "", "STALLS", "WORST", "STALLED", "LAST", "NOW");
    top++;
    if (!v->nloops) {
        cs_term_put(top + 1, 2, CS_ROLE_NORMAL,
                    "No loop thread found yet: watching for a thread that waits in "
                    "epoll_wait/poll/select.");
        return;
    }
    ui->list_y = top;
    ui->list_rows = bottom - top;
    ui->list_first = 0;
    if (ui->loop_sel >= v->nloops)
        ui->loop_sel = v->nloops - 1;
    for (size_t i = 0; i < v->nloops && top + (int)i < bottom; i++) {
        const struct cs_view_loop *l = &v->loops[i];
        int y = top + (int)i;
        char cpu[16] = "?", worst[32] = "-", stalled[32] = "-", last[32] = "-";
        if (l->cpu_pct >= 0)
            snprintf(cpu, sizeof cpu, "%.0f%%", l->cpu_pct);
        if (l->stalls) {
            cs_fmt_duration(l->worst_ns, worst, sizeof worst);
            cs_fmt_duration(l->stalled_ns, stalled, sizeof stalled);
            uint64_t ago_s = v->now_ns > l->last_stall_end_ns
                                 ? (v->now_ns - l->last_stall_end_ns) / 1000000000ull
                                 : 0;
            snprintf(last, sizeof last, "%llus ago", (unsigned long long)ago_s);
        }
        enum cs_role role = i == ui->loop_sel ? CS_ROLE_SELECTED : CS_ROLE_NORMAL;
        if (role == CS_ROLE_SELECTED)
            cs_term_fill(y, 0, role);
        int x = cs_term_put(y, 0, role, " %7d %-12.12s %4s ", l->tid, l->comm, cpu);
        /* A 10-cell bar: one cell per 10% of a CPU. */
        if (l->cpu_pct >= 0)
            cs_term_bar(y, x, l->cpu_pct / 10.0, 10);
        x += 10;
        x = cs_term_put(y, x, role, " %6llu %8s %8s %8s  ", (unsigned long long)l->stalls, worst,
                        stalled, last);
        if (l->in_stall)
            cs_term_put(y, x, CS_ROLE_ONGOING, "STALLED");
        else
            cs_term_put(y, x, role, "%s", v->target_exited ? "gone" : "ok");
    }
    int y = top + (int)v->nloops + 1;
    char t[32];
    cs_term_put(y, 1, CS_ROLE_DIM,
                "CPU: share of one CPU over the last second. STALLED: time in stalls > %s.",
                cs_fmt_duration(v->threshold_ns, t, sizeof t));
    cs_term_put(y + 1, 1, CS_ROLE_DIM, "%s",
                v->has_tasks ? "Tasks: see screen 3."
                             : "Foreign event loop: per-task figures need libcorun.");
}
