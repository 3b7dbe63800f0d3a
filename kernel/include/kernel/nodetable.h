/* Node tables paged out and in (kmem=kpager): the paper's §3.3.
 *
 * A node table is exported localised: each entry, a kernel pointer to a
 * mapping node, becomes the node's kspace address (the task's node page
 * and the node's offset in it: abi/kspace.h), so the page the kpager gets
 * back names only the task's own kernel objects by their names in the
 * task's own kspace.  The mappings stay: the leaf table and its PTEs are
 * still in the kernel; the leaf is marked (MMU_NT_OUT) until an operation
 * that makes a mapping in its region brings the table back with a kernel
 * page fault of reason RESTORE.  Meanwhile lookups of the region's nodes
 * look through the task's node pages (nodetable_scan), and removing a
 * mapping there clears its PTE only: the export's entry for it no longer
 * matches anything, so the import ignores it.
 *
 * Import checks every entry against what the kernel kept: a page in use
 * (its PTE holds a frame, outside the UTCB area) must name a node of the
 * task's, in use, for that very page; any other entry is ignored.  If one
 * page in use is not named right, the kpager's table is not used at all:
 * the table is made again from the task's nodes (each names its page), so
 * whatever the kpager hands back, the table imported is the one exported.
 *
 * Locking: the kernel lock.
 */
#ifndef KERNEL_NODETABLE_H
#define KERNEL_NODETABLE_H

#include <arch/mmu.h>
#include <kernel/types.h>

struct task;

/* Exports t's node table phys (kspace address ksaddr) in place, localised,
 * and marks its leaf table's node table out.  false: t holds no node
 * table phys at ksaddr. */
bool nodetable_export(struct task *t, u64 ksaddr, u64 phys);
/* Brings back the node table of t's page va, which is out (s: the page's
 * slot, from mmu_walk): in a kmem_op for t, from the page its kpager
 * supplied for it (else that page is noted missing, to be asked for);
 * then s is the slot again.  false: not possible now. */
bool nodetable_restore(struct task *t, u64 va, struct mmu_slot *s);
/* t's mapping node for page va, found among its node pages (where the node
 * table is out), or NULL. */
struct mnode *nodetable_scan(struct task *t, u64 va);

/* Import of an exported table into leaf l of t's region at base (exposed
 * for host tests and the fuzzer); true when the kpager's entries were
 * used, false when the table was made again from t's nodes. */
bool nodetable_import(struct task *t, u64 base, struct mmu_leaf *l, u64 phys);

#endif
