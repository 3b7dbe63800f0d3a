/* The return to user mode from a syscall frame (struct syscall_frame,
 * arch/syscall.h): for entry.S and switch.S, which repeat it rather than
 * jump to one copy. */
#ifndef ARCH_SYSCALL_EXIT_H
#define ARCH_SYSCALL_EXIT_H
#ifdef __ASSEMBLER__

/* rsp at the frame's rdi (its callee-saved registers restored already),
 * rax the result. */
.macro SYSCALL_EXIT_ARGS
    /* sysret to a non-canonical rip would fault in ring 0 on Intel CPUs;
     * user space ends below USER_TOP, so this only catches kernel bugs.
     * rdi is free until it is restored below. */
    mov 64(%rsp), %rdi              /* frame rip */
    sar $47, %rdi
    jnz syscall_bad_rip
    popq %rdi
    popq %rsi
    popq %rdx
    popq %r10
    popq %r8
    popq %r9
    add $8, %rsp                    /* nr */
    popq %r11
    popq %rcx
    popq %rsp                       /* user stack; IF still 0 */
    swapgs
    sysretq
.endm

/* rsp at the frame (its rbx), rax the result: the user's callee-saved
 * registers too. */
.macro SYSCALL_RESUME
    popq %rbx
    popq %rbp
    popq %r12
    popq %r13
    popq %r14
    popq %r15
    SYSCALL_EXIT_ARGS
.endm

#endif
#endif
