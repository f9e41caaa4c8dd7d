/*
 * AArch64 (AAPCS64) context switch: save the callee-saved registers x19-x28, the frame
 * pointer x29, the link register x30 and the low halves of v8-v15 (d8-d15) on the current
 * stack, store sp, load the other sp, restore, return through x30.
 * Frame: 160 bytes, 16-byte aligned:
 *   [sp+0] x19 x20  [16] x21 x22  [32] x23 x24  [48] x25 x26  [64] x27 x28
 *   [80] x29 x30  [96] d8 d9  [112] d10 d11  [128] d12 d13  [144] d14 d15
 */
    .text

/* void co__ctx_switch(struct co__ctx *from (x0), struct co__ctx *to (x1)) */
    .globl  co__ctx_switch
    .hidden co__ctx_switch
    .type   co__ctx_switch, %function
    .p2align 4
co__ctx_switch:
    .cfi_startproc
    sub     sp, sp, #160
    stp     x19, x20, [sp, #0]
    stp     x21, x22, [sp, #16]
    stp     x23, x24, [sp, #32]
    stp     x25, x26, [sp, #48]
    stp     x27, x28, [sp, #64]
    stp     x29, x30, [sp, #80]
    stp     d8, d9, [sp, #96]
    stp     d10, d11, [sp, #112]
    stp     d12, d13, [sp, #128]
    stp     d14, d15, [sp, #144]
    mov     x9, sp
    str     x9, [x0]
    ldr     x9, [x1]
    mov     sp, x9
    ldp     x19, x20, [sp, #0]
    ldp     x21, x22, [sp, #16]
    ldp     x23, x24, [sp, #32]
    ldp     x25, x26, [sp, #48]
    ldp     x27, x28, [sp, #64]
    ldp     x29, x30, [sp, #80]
    ldp     d8, d9, [sp, #96]
    ldp     d10, d11, [sp, #112]
    ldp     d12, d13, [sp, #128]
    ldp     d14, d15, [sp, #144]
    add     sp, sp, #160
    ret
    .cfi_endproc
    .size   co__ctx_switch, .-co__ctx_switch

/*
 * First code run on a new stack: co__ctx_make left entry in x19, its argument in x20,
 * x29 = 0 (frame-pointer unwinders stop here) and x30 pointing here.
 */
    .globl  co__ctx_trampoline
    .hidden co__ctx_trampoline
    .type   co__ctx_trampoline, %function
    .p2align 4
co__ctx_trampoline:
    .cfi_startproc
    .cfi_undefined x30
    mov     x0, x20
    blr     x19
    brk     #0
    .cfi_endproc
    .size   co__ctx_trampoline, .-co__ctx_trampoline

    .section .note.GNU-stack,"",%progbits
