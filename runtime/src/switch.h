/*
 * The context switch: the one seam between libcorun and the CPU.
 *
 * A context is what a suspended stack needs to resume: the stack pointer (the assembly
 * switches push the callee-saved registers on the stack being left) or a ucontext_t
 * (the portable fallback, chosen by meson on CPUs without an assembly switch or with
 * -Dcorun_switch=ucontext, which defines CORUN_SWITCH_UCONTEXT=1).
 */
#ifndef CO_SWITCH_H
#define CO_SWITCH_H

#include <stddef.h>

#if CORUN_SWITCH_UCONTEXT
#include <ucontext.h>
#endif

struct co__ctx {
#if CORUN_SWITCH_UCONTEXT
    ucontext_t uc;
#else
    void *sp;
#endif
};

/*
 * Prepares ctx so that the first switch to it calls entry(arg) on the stack
 * [stack_lo, stack_lo + size). entry must never return: it switches away for good.
 */
void co__ctx_make(struct co__ctx *ctx, void *stack_lo, size_t size, void (*entry)(void *),
                  void *arg);

/* Saves the running context into *from and resumes *to. Returns when *from is resumed. */
void co__ctx_switch(struct co__ctx *from, struct co__ctx *to);

#endif
