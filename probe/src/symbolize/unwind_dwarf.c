#include "unwind_dwarf.h"

#include <elfutils/libdwfl.h>
#include <stdlib.h>
#include <string.h>

/* x86-64 DWARF register numbers. */
enum { DW_RBX = 3, DW_RBP = 6, DW_RSP = 7, DW_R12 = 12, DW_R13, DW_R14, DW_R15, DW_RIP = 16 };

struct cs_unwinder {
    Dwfl *dwfl;
    bool attached;
    const struct cs_raw_stack_event *raw; /* the sample being unwound */
    uint64_t *pcs;
    bool *is_return;
    int n, max;
};

static pid_t next_thread(Dwfl *dwfl, void *arg, void **thread_argp)
{
    (void)dwfl;
    struct cs_unwinder *u = arg;
    if (*thread_argp)
        return 0;
    *thread_argp = u;
    return (pid_t)u->raw->tid;
}

static bool get_thread(Dwfl *dwfl, pid_t tid, void *arg, void **thread_argp)
{
    (void)dwfl;
    (void)tid;
    *thread_argp = arg;
    return true;
}

/* Only the copied window is readable: the stack as it was at the sample. */
static bool memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result, void *arg)
{
    (void)dwfl;
    struct cs_unwinder *u = arg;
    uint64_t sp = u->raw->regs.sp;
    if (addr < sp || addr + sizeof *result > sp + u->raw->size)
        return false;
    memcpy(result, u->raw->data + (addr - sp), sizeof *result);
    return true;
}

static bool set_initial_registers(Dwfl_Thread *thread, void *arg)
{
    struct cs_unwinder *u = arg;
    const struct cs_user_regs *r = &u->raw->regs;
    Dwarf_Word v;
    v = r->bx;
    dwfl_thread_state_registers(thread, DW_RBX, 1, &v);
    v = r->bp;
    dwfl_thread_state_registers(thread, DW_RBP, 1, &v);
    v = r->sp;
    dwfl_thread_state_registers(thread, DW_RSP, 1, &v);
    Dwarf_Word high[4] = {r->r12, r->r13, r->r14, r->r15};
    dwfl_thread_state_registers(thread, DW_R12, 4, high);
    v = r->ip;
    dwfl_thread_state_registers(thread, DW_RIP, 1, &v);
    dwfl_thread_state_register_pc(thread, r->ip);
    return true;
}

static const Dwfl_Thread_Callbacks callbacks = {
    .next_thread = next_thread,
    .get_thread = get_thread,
    .memory_read = memory_read,
    .set_initial_registers = set_initial_registers,
};

struct cs_unwinder *cs_unwinder_new(struct cs_symbolizer *sym)
{
    struct cs_unwinder *u = calloc(1, sizeof *u);
    if (!u)
        return NULL;
    u->dwfl = cs_symbolizer_dwfl(sym);
    u->attached = dwfl_attach_state(u->dwfl, NULL, cs_symbolizer_pid(sym), &callbacks, u);
    if (!u->attached) {
        free(u);
        return NULL;
    }
    return u;
}

void cs_unwinder_free(struct cs_unwinder *u)
{
    free(u);
}

static int on_frame(Dwfl_Frame *frame, void *arg)
{
    struct cs_unwinder *u = arg;
    Dwarf_Addr pc;
    bool activation = false;
    if (!dwfl_frame_pc(frame, &pc, &activation) || !pc)
        return DWARF_CB_ABORT;
    if (u->n >= u->max)
        return DWARF_CB_ABORT;
    u->pcs[u->n] = pc;
    u->is_return[u->n] = !activation;
    u->n++;
    return DWARF_CB_OK;
}

int cs_unwind(struct cs_unwinder *u, const struct cs_raw_stack_event *raw, uint64_t *pcs,
              bool *is_return, int max)
{
    if (!raw->regs.ip)
        return 0;
    u->raw = raw;
    u->pcs = pcs;
    u->is_return = is_return;
    u->n = 0;
    u->max = max;
    /* Stops with an error where the window or the CFI ends: the frames so far stand. */
    dwfl_getthread_frames(u->dwfl, (pid_t)raw->tid, on_frame, u);
    u->raw = NULL;
    return u->n;
}
