/*
 * USDT probes of libcorun: provider "corun" (the list and arguments: docs/probes.md).
 *
 * Every probe has a semaphore, `corun_<name>_semaphore`, which the kernel increments
 * while a uprobe is attached to it. The costly probes check theirs first; two semaphores
 * are "someone is listening" flags for the runtime itself:
 *   corun_slice_long_semaphore  -> time every slice and iteration (co__timing_on())
 *   corun_stats_semaphore       -> also keep per-task and per-loop statistics
 *
 * Probe sites are 5-byte NOPs on x86-64 (nopl 0(%rax,%rax,1)): the kernel can then turn
 * an attached uprobe into a call instead of a trap. That call writes below the stack
 * pointer, so every file including this header is compiled with -mno-red-zone.
 * With -Dprobes=false (CORUN_WITH_PROBES 0) every probe compiles to nothing.
 */
#ifndef CO_PROBES_H
#define CO_PROBES_H

#include "cs_config.h"

#if CORUN_WITH_PROBES

#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>

#if defined(__x86_64__)
/* The bytes of `nopl 0x0(%rax,%rax,1)`, written without commas: sdt.h pastes this into a
 * macro argument. */
#undef _SDT_NOP
#define _SDT_NOP                                                                                   \
    .byte 0x0f;                                                                                    \
    .byte 0x1f;                                                                                    \
    .byte 0x44;                                                                                    \
    .byte 0x00;                                                                                    \
    .byte 0x00
#endif

/* One probe per line; clang-format cannot keep such a list stable. */
/* clang-format off */
#define CO__PROBE_LIST(X) \
    X(loop_start)         \
    X(loop_stop)          \
    X(poll_enter)         \
    X(poll_exit)          \
    X(task_spawn)         \
    X(task_ready)         \
    X(task_resume)        \
    X(task_suspend)       \
    X(task_done)          \
    X(task_cancel)        \
    X(lock_contended)     \
    X(exec_submit)        \
    X(exec_start)         \
    X(exec_done)          \
    X(slice_long)         \
    X(iter_long)          \
    X(stats)
/* clang-format on */

#define CO__DECLARE_SEMAPHORE(name) extern volatile unsigned short corun_##name##_semaphore;
CO__PROBE_LIST(CO__DECLARE_SEMAPHORE)
#undef CO__DECLARE_SEMAPHORE

/* Is a uprobe attached to this probe? (a load and a branch) */
#define CO_PROBE_ENABLED(name) __builtin_expect(corun_##name##_semaphore != 0, 0)

#define CO_PROBE1(name, a)                STAP_PROBE1(corun, name, a)
#define CO_PROBE2(name, a, b)             STAP_PROBE2(corun, name, a, b)
#define CO_PROBE3(name, a, b, c)          STAP_PROBE3(corun, name, a, b, c)
#define CO_PROBE4(name, a, b, c, d)       STAP_PROBE4(corun, name, a, b, c, d)
#define CO_PROBE5(name, a, b, c, d, e)    STAP_PROBE5(corun, name, a, b, c, d, e)
#define CO_PROBE6(name, a, b, c, d, e, f) STAP_PROBE6(corun, name, a, b, c, d, e, f)

#else /* !CORUN_WITH_PROBES */

/* The arguments are still "used" (they have no side effects), so no variable computed only
 * for a probe trips -Wunused. */
#define CO_PROBE_ENABLED(name)         0
#define CO_PROBE1(name, a)             ((void)(a))
#define CO_PROBE2(name, a, b)          ((void)(a), (void)(b))
#define CO_PROBE3(name, a, b, c)       ((void)(a), (void)(b), (void)(c))
#define CO_PROBE4(name, a, b, c, d)    ((void)(a), (void)(b), (void)(c), (void)(d))
#define CO_PROBE5(name, a, b, c, d, e) ((void)(a), (void)(b), (void)(c), (void)(d), (void)(e))
#define CO_PROBE6(name, a, b, c, d, e, f)                                                          \
    ((void)(a), (void)(b), (void)(c), (void)(d), (void)(e), (void)(f))

#endif

#endif
