/* Kernel context switch and the first steps of new threads. */

    .text
/* void switch_context(u64 *save_ksp, u64 new_ksp): saves the callee-saved
 * registers on this stack, stores rsp, loads the other stack, restores its
 * registers and returns into it. */
    .global switch_context
switch_context:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    mov %rsp, (%rdi)
    mov %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret

/* A new user thread's first switch returns here, with rsp at the user
 * register frame (struct trap_frame) at the top of its kernel stack. */
    .global thread_start_user
thread_start_user:
    call thread_first_run           /* releases the kernel lock */
    jmp trap_return

/* A thread resumed at a continuation (kernel/tcb_page.c): rsp at its
 * syscall frame; the result goes to rax on the way out. */
    .global thread_resume_syscall
thread_resume_syscall:
    call tcb_page_resume_ipc        /* releases the kernel lock */
    jmp syscall_resume

/* A new kernel thread: fn in r12, argument in r13 (from its switch frame). */
    .global thread_start_kernel
thread_start_kernel:
    mov %r13, %rdi
    call *%r12
    ud2                             /* kernel thread functions never return */

    .section .note.GNU-stack, "", @progbits
