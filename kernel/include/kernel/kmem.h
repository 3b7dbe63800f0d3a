/* Kernel memory for task metadata, counted per task and per type.
 *
 * Every page the kernel uses on behalf of a task (its page tables, node
 * tables, mapping nodes, thread control blocks) comes from here and is
 * charged to that task: the paper's resource principals.  Today the pages
 * come from the kernel's own pool (kmem=pool); the next step lets kpagers
 * supply them (kmem=kpager), behind this same interface.
 *
 * Locking: callers hold the kernel lock (kernel/klock.h).
 */
#ifndef KERNEL_KMEM_H
#define KERNEL_KMEM_H

#include <abi/kmem.h>
#include <kernel/types.h>

enum kmem_type {
    KMEM_PAGETABLE = KM_KMEM_PAGETABLE, /* page-table pages of the task's space */
    KMEM_NODETABLE = KM_KMEM_NODETABLE, /* node tables beside the leaf page tables */
    KMEM_MAPNODE = KM_KMEM_MAPNODE,     /* pages holding mapping-database nodes */
    KMEM_TCB = KM_KMEM_TCB,             /* pageable TCB parts (registers, IPC, stack) */
    KMEM_UTCB = KM_KMEM_UTCB,           /* UTCB pages (user-visible, kernel-owned) */
    KMEM_NTYPES = KM_KMEM_NTYPES
};

struct kmem_account {
    u64 pages[KMEM_NTYPES]; /* pages held now, by type */
    u64 peak[KMEM_NTYPES];  /* most ever held */
};

struct task;

/* A zeroed 4 KiB page for t's metadata of the given type, charged to t;
 * returns its physical address, or 0 when memory is short. */
u64 kmem_page_alloc(struct task *t, enum kmem_type type);
/* n physically contiguous zeroed pages (n <= 8), charged as n pages. */
u64 kmem_pages_alloc(struct task *t, enum kmem_type type, u32 n);
/* Returns a page (or n pages) from kmem_page(s)_alloc, uncharging t. */
void kmem_page_free(struct task *t, enum kmem_type type, u64 phys);
void kmem_pages_free(struct task *t, enum kmem_type type, u64 phys, u32 n);

/* Kernel pages not charged to any task (the kernel's own tasks), counted
 * here so that accounting stays exact. */
extern struct kmem_account kmem_kernel_account;

#endif
