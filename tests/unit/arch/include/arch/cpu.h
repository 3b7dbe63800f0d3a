/* Host stand-in for the x86-64 arch/cpu.h: lets generic kernel code build
 * and run in host unit tests.  The "TSC" is a counter the test controls. */
#ifndef ARCH_CPU_H
#define ARCH_CPU_H

#include <kernel/types.h>

extern u64 host_fake_tsc;
extern __thread int host_irq_disabled;

static inline u64 rdtsc(void) { return __atomic_add_fetch(&host_fake_tsc, 1, __ATOMIC_RELAXED); }
static inline void cpu_relax(void) { __builtin_ia32_pause(); }
static inline u64 irq_save(void)
{
    u64 f = (u64)host_irq_disabled;
    host_irq_disabled = 1;
    return f;
}
static inline void irq_restore(u64 f) { host_irq_disabled = (int)f; }

#endif
