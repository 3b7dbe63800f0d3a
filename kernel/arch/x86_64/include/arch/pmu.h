/* Performance counters: Intel's architectural PMU (CPUID leaf 0xA),
 * programmed from the pmu= boot option on every CPU.
 *
 * Where CPUID shows no PMU (QEMU TCG reports version 0; AMD has no leaf
 * 0xA), or fewer general counters than pmu= names, no PMU register is
 * touched: rdpmc and the PMU MSRs raise #GP/#UD there, so every access is
 * guarded by what CPUID said on the CPU doing it. */
#ifndef ARCH_PMU_H
#define ARCH_PMU_H

#include <abi/dump.h>
#include <kernel/types.h>

/* Set once, on the BSP, when it programmed the pmu= counters (before any
 * user program runs); read on every user page fault.  False: the fault
 * path costs one predictable branch per sample point. */
extern bool pmu_active;

/* On each CPU at bring-up (cpu_init_local): reads CPUID leaf 0xA and, when
 * pmu= gave encodings and the CPU has the counters, programs them.  The BSP
 * (cpu 0) also prints the outcome once. */
void pmu_init_cpu(u32 cpu);

/* The PMU fields of the RUN record (BSP's CPUID, what was programmed). */
void pmu_describe(struct km_dump_run *run);

/* A PMU_FAULT trace record with counters 0 and 1 (done: at fault_done,
 * else at the fault's entry).  Call only when pmu_active. */
void pmu_fault_sample(u32 done);

#endif
