/* Mapping database: who derived which page from whom.
 *
 * One derivation tree per physical frame.  A root mapping is where a frame
 * enters user level (sigma0's idempotent mappings, pages the kernel loads a
 * boot program into); every map derives a child mapping from a parent the
 * sender holds; grant moves a mapping to another space (it keeps its place
 * in the tree); unmap removes the mappings derived from a region (and the
 * region itself with KM_UNMAP_SELF), or only some of their rights.
 * Node tables, one beside each leaf page table, point from each mapped
 * virtual page to its mapping node.  Data structures and invariants are
 * written down in mapdb.c.
 *
 * Locking: every function needs the kernel lock.  Memory: mapping nodes,
 * node tables and page tables are charged to the task whose space they
 * describe (kernel/kmem.h).
 */
#ifndef KERNEL_MAPDB_H
#define KERNEL_MAPDB_H

#include <kernel/kmem.h>
#include <kernel/task.h>
#include <kernel/types.h>

struct task;

/* Prepares t's space for mappings (after aspace_create).  0 or -KM_ENOMEM
 * (today it allocates nothing: node pages come with the first mapping). */
int mapdb_task_init(struct task *t);
/* Revokes every mapping t holds (and all derived from them, in any task)
 * and frees t's mapping nodes; its sigma0 ranges are dropped.  Frames whose root
 * mapping goes away are freed if the kernel allocated them.  The page
 * tables and node tables go with aspace_destroy(t), called next. */
void mapdb_task_destroy(struct task *t);

/* Root mapping of frame phys at page va of t with rights (KM_R|KM_W|KM_X;
 * KM_R required).  kernel_owned: the frame returns to the kernel's
 * allocator (frame_free) when the root mapping is removed.  0, -KM_ENOMEM,
 * -KM_EBUSY when va is mapped, -KM_EINVAL (unaligned, UTCB area or above
 * user space, rights without KM_R). */
int mapdb_map_root(struct task *t, u64 va, u64 phys, u32 rights, bool kernel_owned);

/* Makes t sigma0 (TASK_F_SIGMA0): the owner of every frame in [base,
 * base+len), mapped idempotently (va == physical address) with all rights,
 * not kernel-owned.  The mappings are made lazily: when sigma0 maps or
 * grants such a page onward, or touches it (mapdb_sigma0_fault).  Where
 * sigma0 has other pages mapped (its image, stack), those win.  The range
 * must hold no memory the kernel uses (its frame pool, image, modules).
 * 0; -KM_EINVAL (unaligned, empty, beyond user space or touching the UTCB
 * area); -KM_EBUSY (another task owns part of it); -KM_ENOMEM (range table
 * full: 64 ranges). */
int mapdb_sigma0_add(struct task *t, u64 base, u64 len);
/* sigma0 touched page va (for its page faults): makes the idempotent
 * mapping if va is in its ranges and unmapped.  0 when va is mapped now,
 * -KM_EINVAL when it is not sigma0's, -KM_ENOMEM. */
int mapdb_sigma0_fault(struct task *t, u64 va);

/* One map or grant item (abi/l4.h: word0 = send base and grant bit, word1
 * = the sender's fpage) from `from` to `to`, placed in acceptor window
 * `acceptor` (an fpage of `to`; its rights bits are ignored).  Rights given
 * = fpage rights AND rights the sender holds; a page given no KM_R is not
 * sent (x86 has no mapping without read); pages of the fpage the sender
 * has not mapped are skipped, and so are pages in the UTCB area or above
 * user space on either side (a region holding the whole UTCB area, such as
 * the whole space, is fine; one inside it is -KM_EINVAL).  Map: the new
 * mapping is derived from the sender's.  Grant: the sender's mapping moves
 * (with what was derived from it, which loses rights the grant did not
 * give) and leaves the sender.  A mapping already at the destination is
 * replaced (unmapped with everything derived from it) unless it is the
 * same frame: map then lets its rights grow by those given (never past its
 * parent's); grant back onto an ancestor just removes the sender's mapping
 * (what was derived from it hangs from its parent).  Fixed pages (UTCBs) at
 * the destination are never replaced: skipped.  Returns the number of
 * pages mapped (>= 0) or -KM_E*: -KM_EINVAL malformed item or window (nil
 * acceptor, log2 outside 12..47, unaligned base, reserved bits set),
 * -KM_ENOMEM out of kernel memory (pages mapped before that stay mapped). */
i64 mapdb_transfer(struct task *from, u64 word0, u64 word1, struct task *to, u64 acceptor);

/* sys_unmap: revokes `rights` (the fpage's rights bits) from every mapping
 * derived from t's mappings in the fpage's region, and from t's own when
 * self.  Revoking KM_R removes mappings (invariant: every mapping has R).
 * Derived mappings are found iteratively: any depth and breadth.  Returns
 * the number of mappings changed or removed (in all tasks) or -KM_EINVAL
 * (malformed fpage, or one inside the UTCB area).  In a kmem_op for t, a
 * node table of the region that is out and not supplied stops it first
 * (-KM_ENOMEM, nothing changed: kernel/nodetable.h); a node that is out
 * and must come in for a reduction of rights, its page not supplied,
 * stops it part way (-KM_ENOMEM: the pages before it are done, which a
 * redo after the kernel page fault finds done; the count it returns is
 * then the redo's alone).  Removals never stop for memory. */
i64 mapdb_unmap(struct task *t, u64 fpage, bool self);

/* What t has mapped at the page holding va (mapping-database pages only,
 * not fixed pages; not sigma0's pages before they are made): physical
 * address and rights; false if nothing.  For the page-fault path and tests. */
bool mapdb_lookup(struct task *t, u64 va, u64 *phys, u32 *rights);

/* ---- pages lent to the kernel (kmem=kpager, abi/kspace.h) ----
 * Lends t's page va (a mapping with read and write rights, not lent yet)
 * to the kernel: every mapping derived from it goes, its PTE goes (the
 * node stays, marked lent: unmap on it takes the page back).  Its frame in
 * *phys.  -KM_EINVAL when va is no such mapping. */
int mapdb_lend(struct task *t, u64 va, u64 *phys);
/* Whether t has a free mapping node (a new mapping needs no node page). */
bool mapdb_has_free_node(struct task *t);
/* The kernel gives lent frame phys back to page va of task number n. */
void mapdb_unlend(u32 task_number, u64 va, u64 phys);
/* A page fault at t's va whose mapping exists but lost its access while
 * its frame was lent to the kernel (now back): access restored, true.
 * Only a space with a PTE ever suspended has such a mapping (never, with
 * kmem=pool; not a kpager's client whose pages were never lent). */
bool mapdb_soft_fault_slow(struct task *t, u64 va);
static inline bool mapdb_soft_fault(struct task *t, u64 va)
{
    return t->as.suspended && mapdb_soft_fault_slow(t, va);
}
/* Removes t's mappings in [va, end) and everything derived from them. */
void mapdb_drop_region(struct task *t, u64 va, u64 end);
/* Reclaims t's node page or edge page at phys, the page left to the
 * caller: 1, a node page, exported localised in place (its mappings stay:
 * kernel/mapdb_out.c, "nodes paged out"); 0, an edge page, the mappings
 * derived through its edges gone; -1 when phys is neither of t's. */
int mapdb_reclaim_node_page(struct task *t, u64 phys);

/* Nodes paged out, and nodes detached (their edge paged out), of all
 * tasks (kernel/mapdb_out.c, "nodes paged out"): for tests and statistics. */
extern u64 mapdb_nodes_out, mapdb_detached;

/* Checks the invariants (mapdb.c) of every mapping t holds and that t's
 * kmem counters equal the pages it holds.  NULL, or what is wrong.  Costs
 * a walk of t's tables: for tests and debugging. */
const char *mapdb_check(struct task *t);

#endif
