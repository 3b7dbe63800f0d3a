/* Per-CPU data, reached through GS in kernel mode.  The first fields are
 * read by entry.S at fixed offsets (checked below). */
#ifndef ARCH_PERCPU_H
#define ARCH_PERCPU_H

#include <kernel/types.h>
#include <arch/gdt.h>
#include <arch/current.h>
#include <kernel/config.h>

#define PERCPU_STACK_SIZE 16384

struct percpu {
    struct percpu *self;   /* 0: gs:0 yields the struct's address */
    u64 kstack_top;        /* 8: the CPU's boot stack top, tss.rsp[0]'s first
                              value (the switch writes a thread's there) */
    u64 user_rsp;          /* 16: user rsp scratch during syscall entry */
    u64 unused24;          /* 24: free (the offsets after it are fixed) */
    u32 id;                /* 32: logical CPU number, 0 = BSP */
    u32 apic_id;
    u32 thread;            /* id of the running user program, 0 = kernel */
    u32 online;            /* set once the CPU runs in the kernel */
    void *trace_ring;      /* 48: this CPU's struct trace_ring */
    i64 tsc_offset;        /* this CPU's TSC minus the BSP's */
    u64 ticks;             /* LAPIC timer interrupts taken */
    volatile u32 halt_ack; /* set by the halt IPI handler */
    u32 kernel_tables;     /* CR3 holds the kernel's tables (arch/mmu.h) */
    struct gdt gdt;
    struct tss tss;
    void *sched_hot;       /* 240: this CPU's struct sched_hot (kernel/sched.h),
                              set before it schedules (sched_init_cpu) */
} __attribute__((aligned(64)));

_Static_assert(__builtin_offsetof(struct percpu, kstack_top) == 8, "entry.S");
_Static_assert(__builtin_offsetof(struct percpu, user_rsp) == 16, "entry.S");
_Static_assert(__builtin_offsetof(struct percpu, tss.rsp[0]) == 140, "entry.S");
_Static_assert(__builtin_offsetof(struct percpu, id) == PERCPU_OFF_ID, "current.h");
_Static_assert(__builtin_offsetof(struct percpu, thread) == PERCPU_OFF_THREAD, "current.h");
_Static_assert(__builtin_offsetof(struct percpu, trace_ring) == PERCPU_OFF_TRACE, "current.h");
_Static_assert(__builtin_offsetof(struct percpu, kernel_tables) == PERCPU_OFF_KTABLES, "current.h");
_Static_assert(__builtin_offsetof(struct percpu, sched_hot) == PERCPU_OFF_SCHED, "current.h");

extern struct percpu percpu_area[MAX_CPUS];
extern u32 ncpus_online;

static inline struct percpu *this_cpu(void)
{
    struct percpu *p;
    __asm__ volatile("mov %%gs:0, %0" : "=r"(p));
    return p;
}

#endif
