/* The per-CPU facts generic code reads on hot paths. */
#ifndef ARCH_CURRENT_H
#define ARCH_CURRENT_H

#include <kernel/types.h>

#define PERCPU_OFF_ID 32     /* struct percpu.id */
#define PERCPU_OFF_THREAD 40 /* struct percpu.thread */
#define PERCPU_OFF_TRACE 48  /* struct percpu.trace_ring */
#define PERCPU_OFF_KTABLES 76 /* struct percpu.kernel_tables */
#define PERCPU_OFF_SCHED 240  /* struct percpu.sched_hot */

/* Logical number of the CPU we run on (0 = BSP). */
static inline u32 cpu_id(void)
{
    u32 v;
    __asm__ volatile("movl %%gs:32, %0" : "=r"(v));
    return v;
}

/* cpu_id() as an array index: the 32-bit load zero-extends, and the
 * compiler, told so, adds no instruction to widen it. */
static inline u64 cpu_index(void)
{
    u64 v;
    __asm__ volatile("movl %%gs:32, %k0" : "=r"(v));
    return v;
}

/* This CPU's scheduler record (kernel/sched.h: struct sched_hot), in one
 * load; NULL until the CPU schedules. */
static inline void *cpu_sched_hot(void)
{
    void *h;
    __asm__ volatile("movq %%gs:240, %0" : "=r"(h));
    return h;
}
static inline void cpu_set_sched_hot(void *h)
{
    __asm__ volatile("movq %0, %%gs:240" ::"r"(h) : "memory");
}

/* Id of the user program this CPU runs for, 0 for the kernel itself. */
static inline u32 cpu_thread(void)
{
    u32 v;
    __asm__ volatile("movl %%gs:40, %0" : "=r"(v));
    return v;
}

static inline void cpu_set_thread(u32 t)
{
    __asm__ volatile("movl %0, %%gs:40" ::"r"(t) : "memory");
}

/* This CPU's CR3 holds the kernel's tables (arch/mmu.h: aspace_check). */
static inline bool cpu_on_kernel_tables(void)
{
    u32 v;
    __asm__ volatile("movl %%gs:76, %0" : "=r"(v));
    return v != 0;
}

/* This CPU's trace ring (set once by trace_ring_attach). */
static inline void *cpu_trace_ring(void)
{
    void *r;
    __asm__ volatile("movq %%gs:48, %0" : "=r"(r));
    return r;
}
static inline void cpu_set_trace_ring(void *r)
{
    __asm__ volatile("movq %0, %%gs:48" ::"r"(r) : "memory");
}

/* Stores the TSC at dst as two 32-bit halves (little endian): saves the
 * shift-and-or of composing a 64-bit value on the trace hot path. */
static inline void tsc_store(u64 *dst)
{
    __asm__ volatile("rdtsc\n\t"
                     "movl %%eax, (%0)\n\t"
                     "movl %%edx, 4(%0)"
                     :
                     : "r"(dst)
                     : "rax", "rdx", "memory");
}

/* Raw TSC for timestamps: no fences, so a trace point does not serialise
 * the pipeline; benchmarks that time a region use rdtsc() (fenced). */
static inline u64 rdtsc_raw(void)
{
    u64 lo, hi; /* (rdtsc clears both registers' upper halves: no extension) */
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (hi << 32) | lo;
}

#endif
