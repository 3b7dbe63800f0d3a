/* Thread contexts on x86-64: the frames a new thread starts from, and the
 * switch (kernel stack, CR3, FS base = UTCB, entry stack for user mode). */
#include <arch/context.h>
#include <arch/cpu.h>
#include <arch/gdt.h>
#include <arch/lapic.h>
#include <arch/mmu.h>
#include <arch/percpu.h>
#include <arch/switch_offsets.h>
#include <arch/syscall.h>
#include <arch/trap.h>
#include <abi/kspace.h>
#include <kernel/klock.h>
#include <kernel/string.h>
#include <kernel/task.h>
#include <kernel/thread.h>
#include <kernel/trace.h>

extern char thread_start_user[], thread_start_kernel[], thread_resume_syscall[];

/* Below the user frame: the switch frame arch_switch (switch.S) pops (r15, r14,
 * r13, r12, rbx, rbp, return address). */
struct switch_frame {
    u64 r15, r14, r13, r12, rbx, rbp, ret;
};


void arch_thread_init_user(struct thread *t, u64 ip, u64 sp)
{
    u64 top = thread_kstack_top(t);
    struct trap_frame *f = (struct trap_frame *)(top - sizeof *f);
    memset(f, 0, sizeof *f);
    f->rip = ip;
    f->cs = SEL_UCODE;
    f->rflags = 0x202; /* IF */
    f->rsp = sp;
    f->ss = SEL_UDATA;
    struct switch_frame *s = (struct switch_frame *)f - 1;
    memset(s, 0, sizeof *s);
    s->ret = (u64)thread_start_user;
    t->ext->ksp = (u64)s;
    t->ext->uframe = f;
    t->ext->uframe_kind = UF_TRAP;
}

u64 arch_user_rflags(u64 rflags) { return (rflags & KM_TCB_RFLAGS_USER) | KM_TCB_RFLAGS_ON; }

void arch_tcb_regs_save(const struct thread *t, struct km_tcb_export *e)
{
    if (t->ext->uframe_kind == UF_SYSCALL) {
        const struct syscall_frame *f = t->ext->uframe;
        e->rip = f->rip, e->rsp = f->rsp, e->rflags = f->rflags;
        e->rax = f->nr, e->rcx = f->rip, e->r11 = f->rflags; /* as syscall left them */
        e->rdi = f->arg[0], e->rsi = f->arg[1], e->rdx = f->arg[2];
        e->r10 = f->arg[3], e->r8 = f->arg[4], e->r9 = f->arg[5];
        e->rbx = f->rbx, e->rbp = f->rbp, e->r12 = f->r12;
        e->r13 = f->r13, e->r14 = f->r14, e->r15 = f->r15;
    } else if (t->ext->uframe_kind == UF_TRAP) {
        const struct trap_frame *f = t->ext->uframe;
        e->rip = f->rip, e->rsp = f->rsp, e->rflags = f->rflags;
        e->rax = f->rax, e->rbx = f->rbx, e->rcx = f->rcx, e->rdx = f->rdx;
        e->rsi = f->rsi, e->rdi = f->rdi, e->rbp = f->rbp, e->r8 = f->r8;
        e->r9 = f->r9, e->r10 = f->r10, e->r11 = f->r11, e->r12 = f->r12;
        e->r13 = f->r13, e->r14 = f->r14, e->r15 = f->r15;
    }
}

void arch_thread_init_resume(struct thread *t, const struct km_tcb_export *e)
{
    u64 top = thread_kstack_top(t);
    struct syscall_frame *f = (struct syscall_frame *)(top - sizeof *f);
    f->rbx = e->rbx, f->rbp = e->rbp, f->r12 = e->r12;
    f->r13 = e->r13, f->r14 = e->r14, f->r15 = e->r15;
    f->arg[0] = e->rdi, f->arg[1] = e->rsi, f->arg[2] = e->rdx;
    f->arg[3] = e->r10, f->arg[4] = e->r8, f->arg[5] = e->r9;
    f->nr = e->rax;
    f->rflags = arch_user_rflags(e->rflags); /* sysret loads IOPL from r11 */
    f->rip = e->rip;
    f->rsp = e->rsp;
    struct switch_frame *s = (struct switch_frame *)f - 1;
    memset(s, 0, sizeof *s);
    s->ret = (u64)thread_resume_syscall;
    t->ext->ksp = (u64)s;
    t->ext->uframe = f;
    t->ext->uframe_kind = UF_SYSCALL;
}

void arch_thread_init_kernel(struct thread *t, void (*fn)(void *), void *arg)
{
    u64 top = thread_kstack_top(t) - 16; /* keeps rsp 16-aligned at the call */
    struct switch_frame *s = (struct switch_frame *)top - 1;
    memset(s, 0, sizeof *s);
    s->r12 = (u64)fn;
    s->r13 = (u64)arg;
    s->ret = (u64)thread_start_kernel;
    t->ext->ksp = (u64)s;
}

void arch_uframe_get(const struct thread *t, u64 *ip, u64 *sp)
{
    if (t->ext->uframe_kind == UF_SYSCALL) {
        const struct syscall_frame *f = t->ext->uframe;
        *ip = f->rip;
        *sp = f->rsp;
    } else if (t->ext->uframe_kind == UF_TRAP) {
        const struct trap_frame *f = t->ext->uframe;
        *ip = f->rip;
        *sp = f->rsp;
    } else {
        *ip = *sp = 0;
    }
}

void arch_uframe_set(struct thread *t, u64 ip, u64 sp)
{
    if (t->ext->uframe_kind == UF_SYSCALL) {
        struct syscall_frame *f = t->ext->uframe;
        f->rip = ip;
        f->rsp = sp;
    } else if (t->ext->uframe_kind == UF_TRAP) {
        struct trap_frame *f = t->ext->uframe;
        f->rip = ip;
        f->rsp = sp;
    }
}

/* arch_switch is in switch.S: the offsets it uses. */
_Static_assert(__builtin_offsetof(struct thread, flags) == SW_THREAD_FLAGS, "switch.S");
_Static_assert(__builtin_offsetof(struct thread, task) == SW_THREAD_TASK, "switch.S");
_Static_assert(__builtin_offsetof(struct thread, ext) == SW_THREAD_EXT, "switch.S");
_Static_assert(__builtin_offsetof(struct thread_ext, ksp) == SW_EXT_KSP, "switch.S");
_Static_assert(__builtin_offsetof(struct thread_ext, utcb_uva) == SW_EXT_UTCB_UVA, "switch.S");
_Static_assert(__builtin_offsetof(struct thread_ext, uframe) == SW_EXT_UFRAME, "switch.S");
_Static_assert(__builtin_offsetof(struct thread_ext, ipc_result) == SW_EXT_IPC_RESULT, "switch.S");
_Static_assert(__builtin_offsetof(struct ticket_lock, serving) == SW_KLOCK_SERVING, "switch.S");
_Static_assert(__builtin_offsetof(struct task, as) == SW_TASK_AS, "switch.S");
_Static_assert(__builtin_offsetof(struct task, as.pml4) == SW_TASK_PML4, "switch.S");
_Static_assert(__builtin_offsetof(struct percpu, tss.rsp[0]) == SW_PERCPU_RSP0, "switch.S");
_Static_assert(TF_KERNEL == SW_TF_KERNEL && KTHREAD_EXT_PAGES == 2 && THREAD_EXT_PAGES == 1, "switch.S");
_Static_assert(PAGE_SIZE == 1ull << SW_PAGE_SHIFT && MSR_FS_BASE == SW_MSR_FS_BASE, "switch.S");

void arch_kick_cpu(u32 cpu)
{
    if (cpu != cpu_id() && cpu < ncpus_online)
        lapic_send_ipi(percpu_area[cpu].apic_id, VEC_RESCHED);
}
