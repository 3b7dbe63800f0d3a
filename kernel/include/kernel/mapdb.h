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

#include <kernel/types.h>

struct task;

/* Prepares t's space for mappings (t->as exists).  0 or -KM_ENOMEM. */
int mapdb_task_init(struct task *t);
/* Revokes every mapping t holds (and all derived from them, in any task),
 * frees t's node tables, mapping nodes and page tables.  Frames whose root
 * mapping goes away are freed if the kernel allocated them. */
void mapdb_task_destroy(struct task *t);

/* Root mapping of frame phys at page va of t with rights (KM_R|KM_W|KM_X).
 * kernel_owned: the frame returns to the kernel's allocator when the root
 * mapping is removed.  0, -KM_ENOMEM, or -KM_EBUSY when va is mapped. */
int mapdb_map_root(struct task *t, u64 va, u64 phys, u32 rights, bool kernel_owned);

/* Makes t sigma0: the owner of every frame in [base, base+len) of the
 * given ranges, mapped idempotently (va == physical address) with all
 * rights.  May create the mappings lazily (when sigma0 first maps them on). */
int mapdb_sigma0_add(struct task *t, u64 base, u64 len);

/* One map or grant item (abi/l4.h: word0 = send base and grant bit, word1
 * = the sender's fpage) from `from` to `to`, placed in acceptor window
 * `acceptor` (an fpage of `to`).  Rights given = fpage rights AND rights
 * the sender holds; pages of the fpage the sender has not mapped are
 * skipped.  A mapping already at the destination is replaced (unmapped
 * with everything derived from it) unless it is the same frame, whose
 * rights then grow.  Returns the number of pages mapped (>= 0) or -KM_E*:
 * -KM_EINVAL malformed item or window, -KM_ENOMEM out of kernel memory
 * (pages mapped before that stay mapped). */
i64 mapdb_transfer(struct task *from, u64 word0, u64 word1, struct task *to, u64 acceptor);

/* sys_unmap: revokes `rights` (the fpage's rights bits) from every mapping
 * derived from t's mappings in the fpage's region, and from t's own when
 * self.  Mappings left without rights are removed.  Returns pages affected
 * or -KM_EINVAL. */
i64 mapdb_unmap(struct task *t, u64 fpage, bool self);

/* What t has mapped at page va: physical address and rights; false if
 * nothing.  For the page-fault path and tests. */
bool mapdb_lookup(struct task *t, u64 va, u64 *phys, u32 *rights);

#endif
