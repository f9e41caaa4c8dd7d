/*
 * x86-64 System V context switch: save the callee-saved registers (rbx, rbp, r12-r15) on
 * the current stack, store rsp, load the other rsp, restore, return into it.
 * The x87 control word and MXCSR are not saved: tasks must not change FP modes.
 */
    .text

/* void co__ctx_switch(struct co__ctx *from (rdi), struct co__ctx *to (rsi)) */
    .globl  co__ctx_switch
    .hidden co__ctx_switch
    .type   co__ctx_switch, @function
    .p2align 4
co__ctx_switch:
    .cfi_startproc
    pushq   %rbp
    pushq   %rbx
    pushq   %r12
    pushq   %r13
    pushq   %r14
    pushq   %r15
    movq    %rsp, (%rdi)
    movq    (%rsi), %rsp
    popq    %r15
    popq    %r14
    popq    %r13
    popq    %r12
    popq    %rbx
    popq    %rbp
    ret
    .cfi_endproc
    .size   co__ctx_switch, .-co__ctx_switch

/*
 * First code run on a new stack: co__ctx_make left entry in r12 and its argument in r13,
 * and rsp 16-byte aligned, as a call expects. rbp is 0, so frame-pointer unwinders stop
 * here.
 */
    .globl  co__ctx_trampoline
    .hidden co__ctx_trampoline
    .type   co__ctx_trampoline, @function
    .p2align 4
co__ctx_trampoline:
    .cfi_startproc
    .cfi_undefined rip
    movq    %r13, %rdi
    callq   *%r12
    ud2
    .cfi_endproc
    .size   co__ctx_trampoline, .-co__ctx_trampoline

    .section .note.GNU-stack,"",@progbits
