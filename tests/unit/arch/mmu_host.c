/* Host stand-ins for the hardware hooks of arch/mmu.h (the x86-64 ones are
 * in kernel/arch/x86_64/mmu.c): no kernel half, no CPU loads a space, and
 * a TLB shootdown is only counted. */
#include <arch/mmu.h>

u64 host_tlb_shootdowns;

void mmu_kernel_half(u64 *pml4) { (void)pml4; }
void mmu_release(struct aspace *as) { (void)as; }
void aspace_evict(struct aspace *as) { (void)as; } /* no CPU loads it */

void arch_tlb_shootdown(struct aspace *as, u64 va, u64 npages)
{
    (void)as;
    (void)va;
    host_tlb_shootdowns += npages;
}

void arch_tlb_ipi(void) {}
