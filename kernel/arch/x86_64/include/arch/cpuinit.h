/* Bringing up one CPU, and describing the CPU model for the run record. */
#ifndef ARCH_CPUINIT_H
#define ARCH_CPUINIT_H

#include <abi/dump.h>
#include <kernel/types.h>

struct percpu;

/* Allocates the CPU's stacks and fills its per-CPU record. false: no memory. */
bool cpu_prepare(struct percpu *c, u32 id, u32 apic_id);
/* On the CPU itself: segments, IDT, GS base, syscall MSRs, FPU/SSE, LAPIC. */
void cpu_init_local(struct percpu *c);
/* Vendor, brand string, signature and flags into the RUN record. */
void cpu_describe(struct km_dump_run *run);

/* CPUs smp_boot will try to start (ACPI's list, capped at max), >= 1. */
u32 smp_possible_cpus(u32 max);
/* Starts the other CPUs listed by ACPI (at most max_cpus in all); measures
 * each one's TSC offset.  Returns the number of CPUs online, BSP included. */
u32 smp_boot(u32 max_cpus, u32 timer_hz);

#endif
