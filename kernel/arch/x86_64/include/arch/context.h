/* Thread contexts: initial kernel stacks and the switch between threads. */
#ifndef ARCH_CONTEXT_H
#define ARCH_CONTEXT_H

#include <kernel/types.h>

struct thread;
struct km_tcb_export;

/* Lays out t's kernel stack so that its first switch enters user mode at
 * ip with stack sp (interrupts on). */
void arch_thread_init_user(struct thread *t, u64 ip, u64 sp);
/* Lays out t's kernel stack so that its first switch calls fn(arg). */
void arch_thread_init_kernel(struct thread *t, void (*fn)(void *), void *arg);
/* The user frame a new or stopped user thread resumes with: ip and sp. */
void arch_uframe_get(const struct thread *t, u64 *ip, u64 *sp);
void arch_uframe_set(struct thread *t, u64 ip, u64 sp);
/* TCB export and import (kernel/tcb_page.c): the user registers of a
 * thread stopped in the kernel, into e (rip, rsp, rflags, the 15 GPRs);
 * and a new kernel stack for t that returns from its system call with
 * registers e (rflags masked) and rax = the IPC's result
 * (tcb_page_resume_ipc). */
void arch_tcb_regs_save(const struct thread *t, struct km_tcb_export *e);
void arch_thread_init_resume(struct thread *t, const struct km_tcb_export *e);
/* rflags as user code could have set them itself. */
u64 arch_user_rflags(u64 rflags);
/* Switches from prev (the running thread) to next on this CPU (next
 * first: a hand-off has it in the first argument's register already): kernel
 * stack, address space, FS base (the UTCB), the stack for entries from
 * user mode.  Returns when prev is switched back to, after sched_reap()
 * if tcb_page_ready or sched_reap_pending (kernel/sched.h) says there is
 * work for it: the thread left may have died.  Returns prev's
 * ext->ipc_result as it is then: what an IPC prev blocked in ended with
 * (meaningless for other blocks), read on the way back at no cost. */
i64 arch_switch(struct thread *next, struct thread *prev);
/* arch_switch to next, a user thread blocked in the receive phase of its
 * IPC system call (a safe point: kernel/tcb_page.h) whose IPC has ended:
 * next does not go back through the C frames of its kernel stack, which
 * are thrown away, but returns from its system call straight from its
 * syscall frame (ipc_resume_user, kernel/ipc.h; SYSCALL_EXIT is not
 * traced: sched.h's sched_handoff_from).  prev comes back as
 * from arch_switch (its return value too). */
i64 arch_switch_user(struct thread *next, struct thread *prev);
/* arch_switch for a caller that keeps nothing in callee-saved registers
 * across it: the asm tells the compiler they are all clobbered (the
 * calling function saves what its own caller needs, as it would anyway),
 * so prev's switch frame is left unfilled (switch.S:
 * arch_switch_frameless): six pushes fewer, for a prev whose stack is
 * mostly thrown away when it runs again (arch_switch_user).  Only in code
 * built without frame pointers (rbp is among the clobbers). */
static inline __attribute__((always_inline)) i64 arch_switch_clobbering(struct thread *next, struct thread *prev)
{
    i64 r;
    __asm__ volatile("call arch_switch_frameless"
                     : "=a"(r), "+D"(next), "+S"(prev)
                     :
                     : "rbx", "rbp", "rcx", "rdx", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "memory",
                       "cc");
    return r;
}
/* Sends a reschedule IPI to cpu. */
void arch_kick_cpu(u32 cpu);

#endif
