/* Node tables paged out and in (kmem=kpager): the paper's §3.3.
 *
 * A node table is exported localised: each entry, a kernel pointer to a
 * mapping node, becomes the node's kspace address (the task's node page
 * and the node's offset in it: abi/kspace.h), so the page the kpager gets
 * back names only the task's own kernel objects by their names in the
 * task's own kspace.  The mappings stay: the leaf table and its PTEs are
 * still in the kernel; the leaf is marked (MMU_NT_OUT) until an operation
 * that makes a mapping in its region brings the table back with a kernel
 * page fault of reason RESTORE.  Every other use of the region's nodes
 * (a lookup, an unmap, a send from it, the kernel's own removals of a
 * range) first makes the table again from the task's nodes, into a page of
 * the kernel's pool charged to the task (as for a thread without kpager;
 * such a page may take the pool past kmem.pool: it replaces one the task
 * held), one pass over the task's nodes for all the tables of the range:
 * never a pass per page.  Removing a mapping found through the tree (a cascade
 * from another task's unmap) needs no table: its PTE is cleared and the
 * export's entry for it then no longer matches anything, so an import
 * ignores it.  Only with no frame left at all is a node looked for by a
 * pass of its own.
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
#include <kernel/task.h>
#include <kernel/types.h>

/* Exports t's node table phys (kspace address ksaddr) in place, localised,
 * and marks its leaf table's node table out.  false: t holds no node
 * table phys at ksaddr. */
bool nodetable_export(struct task *t, u64 ksaddr, u64 phys);
/* Brings back every node table of t's range [va, end) that is out: in a
 * kmem_op for t (or whose src is t: a sender's own kpager), from the pages
 * its kpager supplied for them (the first one missing is noted, to be
 * asked for: -KM_ENOMEM, the operation is to fail and be redone after the
 * kernel page fault); otherwise made again
 * from t's nodes into pool pages (nodetable_rebuild).  0 otherwise (with
 * the pool dry, some may stay out: lookups there then pass over the
 * nodes).  Costs a test when t has no node table out. */
int nodetable_need_slow(struct task *t, u64 va, u64 end);
static inline int nodetable_need(struct task *t, u64 va, u64 end)
{
    return __builtin_expect(!t->as.nt_out, 1) ? 0 : nodetable_need_slow(t, va, end);
}
/* nodetable_need for page va's region, then s is va's slot again (from
 * mmu_walk); false when its table is still out. */
bool nodetable_restore(struct task *t, u64 va, struct mmu_slot *s);
/* Makes every node table of t's range [va, end) that is out again from
 * t's nodes, into pages of the pool: one pass over t's nodes.  true when
 * none is left out (false: the pool is dry).  Costs a test when t has no
 * node table out. */
bool nodetable_rebuild(struct task *t, u64 va, u64 end);
/* t's mapping node for page va, found by a pass over its node pages (the
 * one being reclaimed included), or NULL. */
struct mnode *nodetable_scan(struct task *t, u64 va);
/* Passes over a task's nodes so far (rebuilds, scans): for tests. */
extern u64 nodetable_passes;

/* Import of an exported table into leaf l of t's region at base (exposed
 * for host tests and the fuzzer); true when the kpager's entries were
 * used, false when the table was made again from t's nodes. */
bool nodetable_import(struct task *t, u64 base, struct mmu_leaf *l, u64 phys);

#endif
