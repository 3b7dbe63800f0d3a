/* IDT and trap dispatch: timer and IPIs, user faults (reported, the
 * program killed), kernel faults (a readable panic, never a triple fault). */
#include <abi/exit.h>
#include <abi/l4.h>
#include <arch/cpu.h>
#include <arch/lapic.h>
#include <arch/machine.h>
#include <arch/mmu.h>
#include <arch/percpu.h>
#include <arch/pmu.h>
#include <arch/trap.h>
#include <kernel/printk.h>
#include <kernel/ipc.h>
#include <kernel/mapdb.h>
#include <kernel/klock.h>
#include <kernel/options.h>
#include <kernel/prog.h>
#include <kernel/sched.h>
#include <kernel/task.h>
#include <kernel/tcb_page.h>
#include <kernel/thread.h>
#include <kernel/trace.h>

struct idt_entry {
    u16 off_lo;
    u16 sel;
    u8 ist;
    u8 type; /* P | DPL | 0xE (64-bit interrupt gate: IF cleared) */
    u16 off_mid;
    u32 off_hi;
    u32 zero;
} __attribute__((packed));

static struct idt_entry idt[256];
extern const u64 isr_table[256];

static const char *const exc_names[32] = {
    "#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
    "#BR bound range", "#UD invalid opcode", "#NM no FPU", "#DF double fault",
    "coprocessor overrun", "#TS invalid TSS", "#NP segment not present",
    "#SS stack fault", "#GP general protection", "#PF page fault", "reserved 15",
    "#MF x87 error", "#AC alignment check", "#MC machine check", "#XM SIMD error",
    "#VE virtualization", "#CP control protection", "reserved 22", "reserved 23",
    "reserved 24", "reserved 25", "reserved 26", "reserved 27", "#HV injection",
    "#VC VMM communication", "#SX security", "reserved 31"};

void idt_init(void)
{
    for (int v = 0; v < 256; v++) {
        u64 a = isr_table[v];
        idt[v].off_lo = (u16)a;
        idt[v].sel = 0x08;
        idt[v].ist = v == 8 ? 1 : (v == 2 || v == 18) ? 2 : 0;
        idt[v].type = 0x8e; /* present, DPL 0: `int n` from user mode is a #GP */
        idt[v].off_mid = (u16)(a >> 16);
        idt[v].off_hi = (u32)(a >> 32);
        idt[v].zero = 0;
    }
}

void idt_load(void)
{
    struct {
        u16 limit;
        u64 base;
    } __attribute__((packed)) ptr = {sizeof idt - 1, (u64)idt};
    __asm__ volatile("lidt %0" ::"m"(ptr));
}

static void kernel_fault(struct trap_frame *f)
{
    u64 cr2 = read_cr2();
    printk("\nKERNEL EXCEPTION %lu (%s) on cpu %u, error code 0x%lx\n", f->vector,
           f->vector < 32 ? exc_names[f->vector] : "interrupt", cpu_id(), f->error);
    printk("  rip %016lx  cs %04lx  rflags %08lx  rsp %016lx  ss %04lx\n", f->rip, f->cs,
           f->rflags, f->rsp, f->ss);
    printk("  cr2 %016lx (faulting address for #PF)  cr3 %016lx\n", cr2, read_cr3());
    printk("  rax %016lx  rbx %016lx  rcx %016lx  rdx %016lx\n", f->rax, f->rbx, f->rcx,
           f->rdx);
    printk("  rsi %016lx  rdi %016lx  rbp %016lx  r8  %016lx\n", f->rsi, f->rdi, f->rbp,
           f->r8);
    printk("  r9  %016lx  r10 %016lx  r11 %016lx  r12 %016lx\n", f->r9, f->r10, f->r11,
           f->r12);
    printk("  r13 %016lx  r14 %016lx  r15 %016lx\n", f->r13, f->r14, f->r15);
    panic("unhandled kernel exception %lu", f->vector);
}

static void halt_ipi(void)
{
    struct percpu *c = this_cpu();
    trace_stop_local();
    lapic_eoi();
    __atomic_store_n(&c->halt_ack, 1, __ATOMIC_RELEASE);
    for (;;)
        __asm__ volatile("cli; hlt");
}

/* A page fault in user mode: a call to the thread's pager, or the end of
 * the program when there is none (or it is gone). */
/* An exception the thread cannot go on from: in a task some program made,
 * its pager is told and decides; in a boot program, the program ends. */
static void user_exception(struct thread *self, u64 v, u64 error, u64 rip, u64 addr)
{
    u64 words[4] = {v, error, rip, addr};
    if (!(self->task->flags & TASK_F_PROGRAM) &&
        ipc_notify_pager(self, KM_TAG(KM_LABEL_EXCEPTION, 4, 0), words, 4) >= 0) {
        thread_delete(self);
        return; /* from_user switches away from the dead thread */
    }
    prog_fault(v, exc_names[v], error, rip, addr);
}

/* debug.fault_work: a known amount of extra work on the fault path, so
 * that tests can check that make regress flags a slower fault. */
static void fault_work(void)
{
    for (volatile u32 i = 0; i < opt.fault_work; i++)
        ;
}

static void user_page_fault_handle(struct trap_frame *f, struct thread *self);

static void user_page_fault(struct trap_frame *f, struct thread *self)
{
    if (cpu_on_kernel_tables() && self->task->as.pml4) {
        /* It ran on the kernel's tables (evicted, or its space had no
         * top-level table then) and has its own now: just retry. */
        aspace_activate(&self->task->as);
        return;
    }
    user_page_fault_handle(f, self);
    /* A space without its top-level table runs on the kernel's tables: it
     * may have one now. */
    if (self->state != TS_DEAD)
        aspace_check(&self->task->as);
}

static void user_page_fault_handle(struct trap_frame *f, struct thread *self)
{
    u64 addr = read_cr2();
    if (opt.fault_work)
        fault_work();
    u32 access = (f->error & 0x10) ? KM_X : (f->error & 0x2) ? KM_W : KM_R;
    if (!(f->error & 1) && mapdb_soft_fault(self->task, addr))
        return; /* its frame was lent to the kernel and is back */
    if (!(f->error & 1) && thread_utcb_fault(self, addr))
        return; /* a UTCB whose mapping went with a table, or never was */
    struct thread *pager = thread_lookup(self->pager);
    if (!pager || !pager->task || pager == self) {
        prog_fault(14, exc_names[14], f->error, f->rip, addr);
        return;
    }
    /* Counters around the fault IPC (pagefault .. fault_done), so their
     * deltas line up with that phase's TSC delta.  Without a programmed
     * PMU this is a load and a branch, never taken. */
    if (__builtin_expect(pmu_active, 0))
        pmu_fault_sample(0);
    i64 r = ipc_pagefault(self, pager, addr, f->rip, access);
    if (__builtin_expect(pmu_active, 0))
        pmu_fault_sample(1);
    if (r == 0)
        return; /* mapped (or not): the access is retried */
    /* The fault IPC failed (the pager is gone, or the kernel memory for
     * the mapping could not be had: -KM_EDEADLK, -KM_ENOMEM): an exception
     * with the error code in bits 63..32 of MR1 (abi/l4.h). */
    user_exception(self, 14, f->error | ((u64)-r << 32), f->rip, addr);
}

/* Interrupts and exceptions from user mode: the kernel lock is taken here
 * and released before the return (klock.h). */
static void from_user(struct trap_frame *f)
{
    u64 v = f->vector;
    klock_acquire();
    struct thread *self = sched_current();
    self->ext->uframe = f;
    self->ext->uframe_kind = UF_TRAP;
    if (v != 14)
        aspace_check(&self->task->as); /* evicted while waiting for the lock */
    if (self->state == TS_DEAD) {
        /* deleted while it ran here: nothing to handle but the EOI */
        if (v >= 32 && v != VEC_SPURIOUS)
            lapic_eoi();
    } else if (v == VEC_TIMER) {
        struct percpu *c = this_cpu();
        c->ticks++;
        trace(TIMER, c->ticks, f->rip);
        lapic_eoi();
        sched_tick();
    } else if (v == VEC_RESCHED) {
        lapic_eoi();
    } else if (v == 14) {
        trace(EXCEPTION, v, f->error);
        user_page_fault(f, self);
    } else if (v < 32) {
        trace(EXCEPTION, v, f->error);
        user_exception(self, v, f->error, f->rip, f->rip);
    } else if (v != VEC_SPURIOUS) {
        lapic_eoi();
    }
    if (self->state == TS_DEAD || sched_need_resched()) {
        if (__builtin_expect(self->flags & TF_DROP, 0) && self->state != TS_DEAD)
            tcb_page_drop_current(self); /* its TCB lost its lender: it goes here */
        schedule();
    }
    klock_release();
}

/* Interrupts in kernel mode: only the idle loop runs with interrupts on,
 * so these just acknowledge; the idle loop looks at its run queue next. */
void trap_dispatch(struct trap_frame *f)
{
    u64 v = f->vector;
    if (v == VEC_HALT) { /* end of run: before anything that takes locks */
        trace(IPI, v, 0);
        halt_ipi();
    }
    if (v == VEC_TLB) { /* another CPU, holding the kernel lock, waits for us */
        arch_tlb_ipi();
        lapic_eoi();
        return;
    }
    if (f->cs & 3) {
        from_user(f);
        return;
    }
    if (v == VEC_TIMER) {
        struct percpu *c = this_cpu();
        c->ticks++;
        trace(TIMER, c->ticks, f->rip);
        lapic_eoi();
        return;
    }
    if (v == VEC_RESCHED) {
        lapic_eoi();
        return;
    }
    if (v == VEC_SPURIOUS)
        return; /* no EOI for spurious interrupts */
    if (v < 32) {
        trace(EXCEPTION, v, f->error);
        kernel_fault(f);
    }
    printk("cpu %u: unexpected interrupt %lu\n", cpu_id(), v);
    lapic_eoi();
}
