/* Host stand-in for arch/current.h: "this CPU" is a thread-local record. */
#ifndef ARCH_CURRENT_H
#define ARCH_CURRENT_H

#include <arch/cpu.h>
#include <kernel/types.h>

struct host_cpu {
    u32 id, thread;
    void *trace_ring;
};
extern __thread struct host_cpu host_cpu;

static inline u32 cpu_id(void) { return host_cpu.id; }
static inline u32 cpu_thread(void) { return host_cpu.thread; }
static inline bool cpu_on_kernel_tables(void) { return false; } /* no CR3 on the host */
static inline void cpu_set_thread(u32 t) { host_cpu.thread = t; }
static inline void *cpu_trace_ring(void) { return host_cpu.trace_ring; }
static inline void cpu_set_trace_ring(void *r) { host_cpu.trace_ring = r; }
static inline void tsc_store(u64 *dst) { *dst = rdtsc(); }
static inline u64 rdtsc_raw(void) { return rdtsc(); }

#endif
