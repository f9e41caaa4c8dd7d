/* Initial frames for the assembly context switches (switch_x86_64.S, switch_aarch64.S). */
#include <stdint.h>
#include <string.h>

#include "switch.h"

void co__ctx_trampoline(void);

void co__ctx_make(struct co__ctx *ctx, void *stack_lo, size_t size, void (*entry)(void *),
                  void *arg)
{
    uintptr_t top = ((uintptr_t)stack_lo + size) & ~(uintptr_t)15;
#if defined(__x86_64__)
    /*
     * What co__ctx_switch pops, lowest address first: r15 r14 r13 r12 rbx rbp, then the
     * return address. After the `ret`, rsp == top: 16-byte aligned, as the trampoline's
     * `call` needs.
     */
    uintptr_t *frame = (uintptr_t *)top - 7;
    memset(frame, 0, 7 * sizeof *frame);
    frame[2] = (uintptr_t)arg;   /* r13 */
    frame[3] = (uintptr_t)entry; /* r12 */
    frame[5] = 0;                /* rbp: end of the frame-pointer chain */
    frame[6] = (uintptr_t)co__ctx_trampoline;
    ctx->sp = frame;
#elif defined(__aarch64__)
    uintptr_t *frame = (uintptr_t *)(top - 160);
    memset(frame, 0, 160);
    frame[0] = (uintptr_t)entry;               /* x19 */
    frame[1] = (uintptr_t)arg;                 /* x20 */
    frame[10] = 0;                             /* x29 */
    frame[11] = (uintptr_t)co__ctx_trampoline; /* x30 */
    ctx->sp = frame;
#else
#error "no assembly context switch for this CPU: configure with -Dcorun_switch=ucontext"
#endif
}
