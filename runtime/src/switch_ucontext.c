/*
 * Portable context switch on ucontext (getcontext/makecontext/swapcontext). Slower (a
 * signal-mask system call per switch) but works on every CPU glibc supports.
 */
#include <stdint.h>
#include <stdlib.h>

#include "switch.h"

/* makecontext passes int arguments only: split the two pointers into 32-bit halves. */
static void ucontext_entry(unsigned fn_hi, unsigned fn_lo, unsigned arg_hi, unsigned arg_lo)
{
    uint64_t fn = ((uint64_t)fn_hi << 32) | fn_lo;
    uint64_t arg = ((uint64_t)arg_hi << 32) | arg_lo;
    ((void (*)(void *))(uintptr_t)fn)((void *)(uintptr_t)arg);
    abort(); /* entry never returns */
}

void co__ctx_make(struct co__ctx *ctx, void *stack_lo, size_t size, void (*entry)(void *),
                  void *arg)
{
    uint64_t fn = (uint64_t)(uintptr_t)entry, a = (uint64_t)(uintptr_t)arg;
    getcontext(&ctx->uc);
    ctx->uc.uc_stack.ss_sp = stack_lo;
    ctx->uc.uc_stack.ss_size = size;
    ctx->uc.uc_link = NULL;
    makecontext(&ctx->uc, (void (*)(void))ucontext_entry, 4, (unsigned)(fn >> 32), (unsigned)fn,
                (unsigned)(a >> 32), (unsigned)a);
}

void co__ctx_switch(struct co__ctx *from, struct co__ctx *to)
{
    swapcontext(&from->uc, &to->uc);
}
