/* Kernel entries: interrupt/exception stubs, the syscall entry, and the
 * switch into and out of a user program. */
#include <arch/layout.h>
#include <arch/syscall_exit.h>

#define SEL_UDATA 0x1b
#define SEL_UCODE 0x23

/* ---- interrupts and exceptions -------------------------------------
 * Every stub leaves the same frame (struct trap_frame in arch/trap.h):
 * 15 saved registers, vector, error code (0 when the CPU pushes none),
 * then the CPU's rip, cs, rflags, rsp, ss. */
.macro ISR_NOERR n
    .align 16
isr\n:
    pushq $0
    pushq $\n
    jmp isr_common
.endm
.macro ISR_ERR n
    .align 16
isr\n:
    pushq $\n
    jmp isr_common
.endm

    .text
    .altmacro
.set i, 0
.rept 256
    .if (i == 8) || (i >= 10 && i <= 14) || (i == 17) || (i == 21) || (i == 29) || (i == 30)
        ISR_ERR %i
    .else
        ISR_NOERR %i
    .endif
    .set i, i + 1
.endr

isr_common:
    testb $3, 24(%rsp)              /* frame cs: from user mode? */
    jz 1f
    swapgs
1:  pushq %rax
    pushq %rbx
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %rbp
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    mov %rsp, %rdi
    cld
    call trap_dispatch
    .global trap_return
trap_return:                        /* also the first return of a new thread */
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rbp
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rbx
    popq %rax
    testb $3, 24(%rsp)
    jz 2f
    swapgs
2:  add $16, %rsp                   /* vector, error code */
    iretq

.macro ISR_ADDR n
    .quad isr\n
.endm
    .section .rodata
    .align 8
    .global isr_table
isr_table:
.set i, 0
.rept 256
    ISR_ADDR %i
    .set i, i + 1
.endr

/* ---- syscall --------------------------------------------------------
 * On entry (CPU): rcx = user rip, r11 = user rflags, IF cleared by SFMASK,
 * still on the user stack with the user's GS.  The frame built here is
 * struct syscall_frame (arch/syscall.h): rbx rbp r12-r15 rdi rsi rdx r10
 * r8 r9 nr rflags rip rsp, lowest address first.  The handler runs with interrupts off. */
    .text
    .global syscall_entry
syscall_entry:
    swapgs
    mov %rsp, %gs:16                /* percpu.user_rsp */
    mov %gs:140, %rsp               /* percpu.tss.rsp[0]: the running
                                       thread's kernel stack top, as for
                                       interrupts (switch.S sets it) */
    pushq %gs:16
    pushq %rcx
    pushq %r11
    pushq %rax
    pushq %r9
    pushq %r8
    pushq %r10
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %r15                      /* callee-saved too: a thread's user */
    pushq %r14                      /* registers all in one place (TCB */
    pushq %r13                      /* export, kernel/tcb_page.c) */
    pushq %r12
    pushq %rbp
    pushq %rbx
    mov %rsp, %rdi
    call syscall_dispatch           /* rax = result */
    add $48, %rsp                   /* rbx..r15: the C code kept them */
syscall_exit_args:
    SYSCALL_EXIT_ARGS
/* A thread resumed from a continuation (kernel/tcb_page.c) returns from
 * its system call here: rsp = its syscall frame on a fresh kernel stack,
 * rax = the result.  (switch.S's arch_switch_user has the same exit.) */
    .global syscall_resume
syscall_resume:
    SYSCALL_RESUME
    .global syscall_bad_rip
syscall_bad_rip:
    mov 64(%rsp), %rdi
    call syscall_bad_return         /* kills the program; does not return */
    ud2

    .section .note.GNU-stack, "", @progbits
