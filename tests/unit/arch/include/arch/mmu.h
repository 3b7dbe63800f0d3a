/* Host stand-in for arch/mmu.h: the real interface.  The page-table code
 * (kernel/arch/x86_64/pgtable.c) is portable and runs on the host as
 * written; tests/unit/arch/mmu_host.c stands in for the hardware hooks. */
#include "../../../../../kernel/arch/x86_64/include/arch/mmu.h"

#ifndef HOST_MMU_H
#define HOST_MMU_H
/* TLB shootdowns so far (mmu_host.c): every PTE change or removal of a
 * present entry must make one. */
extern u64 host_tlb_shootdowns;
#endif
