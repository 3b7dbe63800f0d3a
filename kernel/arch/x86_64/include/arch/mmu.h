/* Address spaces: 4-level x86-64 page tables.  The kernel half (PML4
 * entries 256..511) is shared by every address space. */
#ifndef ARCH_MMU_H
#define ARCH_MMU_H

#include <kernel/types.h>

#define MAP_W 0x1 /* writable */
#define MAP_X 0x2 /* executable */

struct aspace {
    u64 pml4;   /* physical address of the top-level table */
    u64 tables; /* page-table pages held (PML4 included) */
    u64 pages;  /* user frames mapped */
};

/* Direct map of [4 GiB, max_phys) (the boot tables map the first 4 GiB). */
void mmu_init(u64 max_phys);
/* false: out of memory. */
bool aspace_create(struct aspace *as);
/* Maps user page va -> phys.  0 on success; -1 out of memory; -2 va is
 * not a page-aligned user address; -3 already mapped. */
int aspace_map(struct aspace *as, u64 va, u64 phys, u32 flags);
/* Physical address mapped at user page va, or 0. */
u64 aspace_lookup(struct aspace *as, u64 va);
/* true when every byte of [va, va+len) is mapped user-accessible (and
 * writable if write); len 0 is ok; overflow and kernel addresses fail. */
bool aspace_user_ok(struct aspace *as, u64 va, u64 len, bool write);
/* Frees every mapped user frame and every table. */
void aspace_destroy(struct aspace *as);
void aspace_activate(struct aspace *as);
/* The kernel's own address space (boot tables), active when no program runs. */
void aspace_activate_kernel(void);

#endif
