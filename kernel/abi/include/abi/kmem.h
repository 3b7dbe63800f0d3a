/* Kernel memory accounting as user level sees it (sys_kmem_info). */
#ifndef ABI_KMEM_H
#define ABI_KMEM_H

#include <abi/types.h>

/* Types of kernel memory held for a task (the paper's P, N, M, U and the
 * UTCB pages). */
#define KM_KMEM_PAGETABLE 0 /* page tables of the task's address space */
#define KM_KMEM_NODETABLE 1 /* node tables beside the leaf page tables */
#define KM_KMEM_MAPNODE 2   /* pages of mapping-database nodes */
#define KM_KMEM_TCB 3       /* pageable TCB parts */
#define KM_KMEM_UTCB 4      /* UTCB pages */
#define KM_KMEM_RESERVE 5   /* pages a kpager lent ahead of need, not used yet */
#define KM_KMEM_NTYPES 6

/* sys_kmem_info(task, struct km_kmem_info *out): task 0 = the caller's.
 * OFFSET SIZE FIELD         MEANING
 *      0   64 pages         pages held now, by type (8 slots, NTYPES used)
 *     64   64 peak          most pages ever held, by type
 *    128    8 free_frames   frames the kernel's allocator has free
 *    136    8 pinned_bytes  the task's kernel state outside those pages,
 *                           never paged: its task table entry and the
 *                           pinned part of each of its threads' TCBs
 *    144    8 pinned_pages  of the pages counted above, those from the
 *                           kernel's pool (no kpager can take them back):
 *                           with kmem=kpager its top-level table, and what
 *                           threads without a kpager made; with kmem=pool
 *                           all of them
 */
struct km_kmem_info {
    km_u64 pages[8];
    km_u64 peak[8];
    km_u64 free_frames;
    km_u64 pinned_bytes;
    km_u64 pinned_pages;
};
KM_STATIC_ASSERT(sizeof(struct km_kmem_info) == 152, "kmem info is 152 bytes");

#endif
