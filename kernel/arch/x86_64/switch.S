/* Kernel context switch and the first steps of new threads. */
#include <arch/switch_offsets.h>
#include <arch/syscall_exit.h>

    .text
/* The first half of arch_switch and arch_switch_user: prev's callee-saved
 * registers pushed and its rsp saved, next's entry stack, FS base and
 * tables set up; r8 is next's ext.  (The out-of-line ends, which call C,
 * keep next in rbx, pushed already; the rsp saved is the same after.) */
.macro SWITCH_OUT
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    SWITCH_OUT_SAVED
.endm

/* SWITCH_OUT once prev's switch frame is on its stack. */
.macro SWITCH_OUT_SAVED
    mov SW_THREAD_EXT(%rsi), %rax
    mov %rsp, SW_EXT_KSP(%rax)
    mov SW_THREAD_TASK(%rdi), %r9
    test %r9, %r9
    jz 3f
    mov SW_THREAD_EXT(%rdi), %r8
    /* thread_kstack_top(next): a thread with a task is never TF_KERNEL
     * (only thread_create gives one a task), so its ext is one page; the
     * entry stack of interrupts from user mode (TSS rsp0) and of the
     * syscall entry (which reads it there too) */
    lea (1 << SW_PAGE_SHIFT)(%r8), %rax
    mov %rax, %gs:SW_PERCPU_RSP0
    mov $SW_MSR_FS_BASE, %ecx
    mov SW_EXT_UTCB_UVA(%r8), %eax  /* its two halves (little endian) */
    mov SW_EXT_UTCB_UVA+4(%r8), %edx
    wrmsr
    /* its tables, unless CR3 holds them (a task without a top-level
     * table yet has 0 there, never in CR3: aspace_activate sees to it) */
    mov %cr3, %rdx
    cmp SW_TASK_PML4(%r9), %rdx
    jne 2f
1:
.endm

/* The out-of-line ends of SWITCH_OUT (labels 2 and 3; back to 1 with r8
 * next's ext). */
.macro SWITCH_OUT_TAIL
2:  mov %rdi, %rbx
    lea SW_TASK_AS(%r9), %rdi       /* records which CPU has it loaded */
    sub $8, %rsp                    /* (16-byte aligned at the call) */
    call aspace_activate
    add $8, %rsp
    mov SW_THREAD_EXT(%rbx), %r8
    jmp 1b
3:  mov %rdi, %rbx
    sub $8, %rsp                    /* kernel threads run on the kernel's
                                       tables, so that no CPU keeps a
                                       deleted task's tables loaded */
    call aspace_activate_kernel
    add $8, %rsp
    mov SW_THREAD_EXT(%rbx), %r8
    jmp 1b
.endm

/* The second half of arch_switch: next's stack and switch frame, then,
 * back in next, what it finds to do (rax: its IPC's result). */
.macro SWITCH_IN
    mov SW_EXT_KSP(%r8), %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    /* Back in a thread (next, now running): dead threads to free, TCBs to
     * export?  Mostly not: two tests (kernel/sched.h).  rax: its IPC's
     * result (arch/context.h; r8 is still its ext). */
    cmpb $0, tcb_page_ready(%rip)
    jne 4f
    cmpl $0, sched_reap_pending(%rip)
    jne 4f
    mov SW_EXT_IPC_RESULT(%r8), %rax
    ret
4:  pushq %r8                       /* (16-byte aligned at the call) */
    call sched_reap
    popq %r8
    mov SW_EXT_IPC_RESULT(%r8), %rax
    ret
.endm

/* i64 arch_switch(struct thread *next, struct thread *prev) (arch/context.h):
 * what context.c's C version did with switch_context, in one frame: the
 * callee-saved registers pushed once (the switch frame of
 * context.c), for a user thread next the entry stack (TSS rsp0: for
 * interrupts and syscalls) and the FS base (its UTCB), its tables
 * through aspace_activate unless CR3 holds them already (a partner in the
 * same task: aspace_activate would do nothing either), a kernel thread the
 * kernel's tables; then prev's rsp saved and next's loaded, and on next's
 * side sched_reap when there is work for it (arch/context.h). */
    .global arch_switch
arch_switch:
    SWITCH_OUT
    SWITCH_IN
    SWITCH_OUT_TAIL

/* i64 arch_switch_frameless(struct thread *next, struct thread *prev)
 * (arch/context.h: arch_switch_clobbering, its only caller): arch_switch
 * with prev's switch frame left unfilled (room made, nothing pushed): its
 * caller holds nothing in callee-saved registers across the switch (its
 * asm says they are clobbered), so whatever arch_switch pops into them
 * when prev is switched back to will do.  Six pushes fewer, for a prev
 * whose stack is mostly thrown away (a kpager's reply: the next kernel
 * page fault resumes it at its syscall frame). */
    .global arch_switch_frameless
arch_switch_frameless:
    sub $48, %rsp
    SWITCH_OUT_SAVED
    SWITCH_IN
    SWITCH_OUT_TAIL

/* i64 arch_switch_user(struct thread *next, struct thread *prev)
 * (arch/context.h): arch_switch to a user thread blocked in the receive
 * of its IPC system call (a safe point, kernel/tcb_page.h), which returns
 * from the system call at once: its kernel stack is thrown away, as TCB
 * paging would, and it leaves from its syscall frame (ipc_resume_user:
 * what sched_reap, sys_ipc's and syscall_dispatch's ends would do, the
 * kernel lock released, rax its IPC's result), the user's callee-saved
 * registers from the frame too (syscall_resume).  prev is switched away
 * from as by arch_switch. */
    .global arch_switch_user
arch_switch_user:
    SWITCH_OUT
    mov SW_EXT_UFRAME(%r8), %rsp    /* next's syscall frame (16-byte aligned) */
    /* ipc_resume_user, mostly not needed: sched_handoff_from (user) has just
     * made next runnable (not dead) and cleared need_resched, and with
     * the kernel lock held and interrupts off nothing changed either;
     * SYSCALL_EXIT is not traced (its callers, kernel/ipc.c's direct
     * paths, take sched_handoff when it is); so unless sched_reap has
     * work, all that is left is the result and the lock. */
    cmpb $0, tcb_page_ready(%rip)
    jne 5f
    cmpl $0, sched_reap_pending(%rip)
    jne 5f
    mov SW_EXT_IPC_RESULT(%r8), %rax
    addl $1, klock+SW_KLOCK_SERVING(%rip) /* klock_release (only the holder writes it) */
    SYSCALL_RESUME                  /* (syscall_resume's, repeated: no jump) */
5:  call ipc_resume_user
    jmp syscall_resume
    SWITCH_OUT_TAIL

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
