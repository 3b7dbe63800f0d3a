/* Per-CPU bring-up: stacks, segments, IDT, GS base, syscall MSRs, SSE,
 * performance counters. */
#include <arch/cpu.h>
#include <arch/cpuinit.h>
#include <arch/lapic.h>
#include <arch/layout.h>
#include <arch/percpu.h>
#include <arch/pmu.h>
#include <arch/syscall.h>
#include <arch/trap.h>
#include <kernel/frame.h>
#include <kernel/string.h>

struct percpu percpu_area[MAX_CPUS];
u32 ncpus_online;

#define IST_STACK_SIZE 8192

static u64 stack_alloc(u64 bytes)
{
    u64 p = frame_alloc_contig(bytes / PAGE_SIZE);
    return p ? (u64)phys_to_virt(p) + bytes : 0; /* returns the top */
}

bool cpu_prepare(struct percpu *c, u32 id, u32 apic_id)
{
    memset(c, 0, sizeof *c);
    c->self = c;
    c->id = id;
    c->apic_id = apic_id;
    c->kernel_tables = 1; /* every CPU starts on the boot (kernel) tables */
    c->kstack_top = stack_alloc(PERCPU_STACK_SIZE);
    return c->kstack_top != 0;
}

void cpu_init_local(struct percpu *c)
{
    static u64 ist_tops[MAX_CPUS][2];
    if (!ist_tops[c->id][0]) {
        ist_tops[c->id][0] = stack_alloc(IST_STACK_SIZE);
        ist_tops[c->id][1] = stack_alloc(IST_STACK_SIZE);
    }
    gdt_init_cpu(c, ist_tops[c->id][0], ist_tops[c->id][1]);
    idt_load();
    wrmsr(MSR_GS_BASE, (u64)c);
    wrmsr(MSR_KERNEL_GS_BASE, 0);
    syscall_init_cpu();
    /* SSE for user programs: CR4.OSFXSR | OSXMMEXCPT; CR0.EM clear, MP set.
     * The kernel itself is built without SSE. */
    u64 cr4;
    __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
    __asm__ volatile("mov %0, %%cr4" ::"r"(cr4 | (1u << 9) | (1u << 10)));
    u64 cr0;
    __asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
    __asm__ volatile("mov %0, %%cr0" ::"r"((cr0 & ~(1ull << 2)) | (1u << 1)));
    lapic_init_cpu();
    pmu_init_cpu(c->id);
}

void cpu_describe(struct km_dump_run *run)
{
    u32 a, b, c, d;
    cpuid(0, 0, &a, &b, &c, &d);
    u32 maxleaf = a;
    memcpy(run->cpu_vendor, &b, 4);
    memcpy(run->cpu_vendor + 4, &d, 4);
    memcpy(run->cpu_vendor + 8, &c, 4);
    cpuid(1, 0, &a, &b, &c, &d);
    run->cpuid_sig = a;
    if (c & (1u << 31))
        run->flags |= KM_RUN_F_HYPERVISOR;
    if (maxleaf >= 0xa) {
        cpuid(0xa, 0, &a, &b, &c, &d);
        if ((a & 0xff) && ((a >> 8) & 0xff)) /* version and counter count */
            run->flags |= KM_RUN_F_PMU;
    }
    cpuid(0x80000000, 0, &a, &b, &c, &d);
    u32 maxext = a;
    if (maxext >= 0x80000004)
        for (u32 i = 0; i < 3; i++) {
            cpuid(0x80000002 + i, 0, &a, &b, &c, &d);
            u32 w[4] = {a, b, c, d};
            memcpy(run->cpu_brand + 16 * i, w, 16);
        }
    if (maxext >= 0x80000007) {
        cpuid(0x80000007, 0, &a, &b, &c, &d);
        if (d & (1u << 8))
            run->flags |= KM_RUN_F_INVARIANT_TSC;
    }
}
