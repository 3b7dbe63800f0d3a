/* Mapping database: derivation trees of mappings, map, grant, unmap (see
 * kernel/mapdb.h).  This file: the design notes below, and the core every
 * operation uses: nodes (node and edge pages, their slots) and pages (the
 * PTE and node-table slot of a mapping).  The rest, one concept a file
 * (what they share: kernel/mapdb_internal.h):
 *   kernel/mapdb_out.c       names of nodes that are out, nodes paged out
 *   kernel/mapdb_transfer.c  roots, sigma0, map and grant (the fault path)
 *   kernel/mapdb_unmap.c     mappings removed, unmap, a task's end, lookup
 *   kernel/mapdb_lend.c      pages lent to the kernel
 *   kernel/mapdb_check.c     the consistency check
 *
 * DATA STRUCTURES
 *
 * Each mapping is recorded in two parts (kernel/mnode.h), after the
 * paper's split of a mapping node:
 *   struct mnode, the receiver-derived part ("node"), one per mapping (a
 *   user page of a task holding a frame), in a node page of that task:
 *     word   the page's address (bits 46..12), flags (MN_*), rights (2..0)
 *     up     the edge it was derived through, NULL for a root
 *     child  its first edge (the mappings derived from it)
 *   struct medge, the sender-derived part ("edge"), one per derived
 *   mapping, in a node page of the task holding the parent mapping:
 *     child  the derived mapping's node
 *     parent the node it was derived from
 *     next   the parent's next edge
 * 32 bytes each.  The task is not stored: the page's header names it (so
 * a grant moves the node to a page of the receiver's, and the edges of
 * what derives from it too).  The frame is not stored either: it is in
 * the page's PTE.  A parent's edges are singly linked: taking one out
 * (unmap with self, replacement, grant) walks its siblings; removing a
 * subtree unlinks only its top, and inserting is O(1).  A prev link would
 * cost 8 bytes in every edge for lists that are short in practice.
 *   Keeping the sender's part in the sender's pages is what lets each
 * task's kpager page exactly the records of what that task did (the
 * mappings it holds, and those it gave on), and makes a map charge both
 * sides: the receiver a node, the sender an edge.
 *
 * Node pages (struct mnode_page + 126 slots, KMEM_MAPNODE, charged to the
 * task): a circular list from t->mapdb, the pages with free slots first; a
 * page goes back to kmem when its last slot is freed, except one empty
 * page a task with other pages in use keeps (until it needs no page).
 *
 * Node tables (arch/mmu.h): beside each leaf page table, the mapping node
 * of each page (mmu_walk gives the PTE and the slot together).  A kpager
 * may take one back (kernel/nodetable.c): it leaves localised and the
 * region's mappings stay.  node_at brings it back before a lookup there
 * (kernel/nodetable.h says from where); removing a node found through the
 * tree clears its PTE only (slot_of gives no slot), so a slot taken while
 * the table was out is taken again before it is cleared (the table may be
 * back by then).
 *
 * sigma0: a table of (task, physical range) pairs.  Its idempotent root
 * mappings (va == phys, all rights, not kernel-owned) are made lazily: when
 * sigma0 maps or grants an unmapped page of its ranges onward, and when it
 * touches one (mapdb_sigma0_fault, from the page-fault path).  As in other
 * L4 kernels, sigma0 (trusted, the root of all memory) can thus get back a
 * frame it granted away; it is up to sigma0 not to hand a frame out twice.
 *
 * INVARIANTS (mapdb_check verifies them)
 *  1. A node is in exactly one slot: the one of (its task, its va); a slot
 *     is set exactly when a mapping-database page is mapped there, and its
 *     PTE is present with the node's frame and rights.  Where the node
 *     table is out: a PTE outside the UTCB area holds a frame exactly when
 *     the task has a node for that page.
 *  2. Every mapping has KM_R (x86 cannot give W or X without R): revoking
 *     R removes the mapping.
 *  3. A node's rights are a subset of its parent's.  So revoking rights
 *     from a mapping and its derived ones never leaves a derived mapping
 *     with more than the one it came from.
 *  4. All mappings of one tree share the frame; a tree's root is a
 *     mapping made by mapdb_map_root or a sigma0 page; MN_KERNEL_OWNED
 *     roots free their frame when they go.
 *  5. n's edge is in its parent's list and leads to n; each of n's edges
 *     leads back to n and lies in a page of n's task.
 *  6. The task's kmem counters equal the pages it holds: page tables and
 *     node tables (mmu_count_tables), node pages (the list).
 * Trees are walked iteratively (parent pointers), so depth is bounded
 * only by memory, never by the kernel stack.
 *
 * Locking: the kernel lock protects everything in the mapping database
 * (every field of every node, node page, the tables of names and the
 * sigma0 table), in all its files.
 */
#include <abi/kspace.h>
#include <kernel/mapdb_internal.h>
#include <kernel/nodetable.h>

/* ---- nodes -------------------------------------------------------------- */

static void list_insert_front(struct mnode_page **list, struct mnode_page *pg)
{
    struct mnode_page *head = *list;
    if (!head) {
        pg->next = pg->prev = pg;
    } else {
        pg->next = head;
        pg->prev = head->prev;
        head->prev->next = pg;
        head->prev = pg;
    }
    *list = pg;
}

static struct mnode_page *page_alloc(struct task *t, bool edges)
{
    u64 ks = edges ? KM_KS_ME_OF(t->mn_next) : KM_KS_MN_OF(t->mn_next);
    u64 p = kmem_page_alloc(t, KMEM_MAPNODE, ks);
    if (!p)
        return NULL;
    t->mn_next++;
    struct mnode_page *pg = phys_to_virt(p);
    struct mslot *slots = (struct mslot *)page_nodes(pg);
    pg->task = t;
    pg->ks = ks;
    pg->edges = edges;
    for (usize i = 0; i < NODES_PER_PAGE; i++)
        slots[i].next = i + 1 < NODES_PER_PAGE ? &slots[i + 1] : NULL;
    pg->free = slots;
    list_insert_front(list_of(t, edges), pg);
    return pg;
}

/* A zeroed slot in one of t's node pages (edges: edge pages), or NULL when
 * memory is short. */
void *mslot_alloc(struct task *t, bool edges)
{
    struct mnode_page **list = list_of(t, edges), *pg = *list;
    if ((!pg || !pg->free) && !(pg = page_alloc(t, edges)))
        return NULL;
    struct mslot *s = pg->free;
    pg->free = s->next;
    pg->used++;
    t->mn_slots++;
    if (!pg->free) /* full: behind every page with free slots */
        *list = pg->next;
    s->next = NULL; /* field by field: no call to memset for 32 bytes */
    return s;
}

/* t uses no slot: the empty pages kept go (at most one per list). */
void free_kept(struct task *t)
{
    for (int edges = 0; edges < 2; edges++) {
        struct mnode_page **list = list_of(t, edges), *pg;
        while ((pg = *list)) {
            list_remove(list, pg);
            kmem_page_free(t, KMEM_MAPNODE, virt_to_phys(pg));
        }
        t->mn_kept[edges] = NULL;
    }
}

void mslot_free(void *slot)
{
    struct mslot *s = slot;
    struct mnode_page *pg = page_of(s);
    struct task *t = pg->task;
    struct mnode_page **list = list_of(t, pg->edges);
    bool was_full = !pg->free;
    s->zero = s->pad[0] = s->pad[1] = 0;
    s->next = pg->free;
    pg->free = s;
    t->mn_slots--;
    if (pg->detached) {
        pg->used--;
    } else if (--pg->used == 0) {
        /* Empty: a task keeps one empty page per list, where it is, while
         * it uses any slot (a map and unmap across the end of a page would
         * otherwise take, clear and free a page each time, and the cost of
         * an operation would depend on where its slots fell); a second
         * goes, and all go when the task uses no slot. */
        struct mnode_page *kept = t->mn_kept[pg->edges];
        if (!t->mn_slots) {
            free_kept(t);
        } else if (kept && kept != pg && !kept->used) {
            list_remove(list, pg);
            kmem_page_free(t, KMEM_MAPNODE, virt_to_phys(pg));
        } else {
            t->mn_kept[pg->edges] = pg;
            if (*list != pg) { /* first: the next slots come from it */
                list_remove(list, pg);
                list_insert_front(list, pg);
            }
        }
    } else if (was_full && *list != pg) {
        list_remove(list, pg);
        list_insert_front(list, pg);
    }
}

/* ---- pages -------------------------------------------------------------- */

/* node_at where the node table is out, or the node (MN_SLOT_OUT): the node
 * brought in (node_in: NULL when memory is short, slot_out(s) then). */
__attribute__((noinline)) struct mnode *node_at_out(struct task *t, u64 va, struct mmu_slot *s)
{
    if (s->node)
        return *s->node ? node_in(t, va, s) : NULL;
    if (!s->nt_out || !mmu_used(s))
        return NULL; /* no mapping at va: nothing to bring back for */
    if (nodetable_rebuild(t, va, va + PAGE_SIZE) && mmu_walk(t, va, MMU_FIND, s) && s->node)
        return *s->node && !mn_is_out(*s->node) ? *s->node : node_at_out(t, va, s);
    if (!mmu_used(s))
        return NULL;
    return slot_out(s) ? node_in(t, va, s) : nodetable_scan(t, va);
}

/* Makes the PTE of n (slot s) give n's rights to frame phys, unless the
 * frame is lent to the kernel or n is the lender: then it stays suspended
 * (the frame kept in it, no access; mapdb_soft_fault gives access back
 * once the frame has come back). */
void set_pte(struct mnode *n, struct mmu_slot *s, u64 phys)
{
    if (node_lent(n) || (kmem_lent_frames && frame_lend(phys)->lender))
        mmu_set_suspended(node_task(n), node_va(n), s, phys);
    else
        mmu_set(node_task(n), node_va(n), s, phys, node_rights(n));
}

/* Whether n's page is accessible; a mapping that lost access while its
 * frame was lent (mapdb_lend) gets it back here once the frame is back,
 * so that a page returned but not touched yet can be sent or lent. */
bool has_access(struct mnode *n, struct mmu_slot *s)
{
    if (mmu_present(s))
        return true;
    if (node_lent(n) || frame_lend(mmu_phys(s))->lender)
        return false;
    mmu_set(node_task(n), node_va(n), s, mmu_phys(s), node_rights(n));
    return true;
}

void set_rights(struct mnode *n, u32 rights)
{
    struct mmu_slot s;
    slot_of(n, &s);
    n->word = (n->word & ~MN_RIGHTS) | rights; /* a lent page comes back with these */
    set_pte(n, &s, mmu_phys(&s));
}

/* has_access for t's page va whose node is out, by name (no memory). */
bool has_access_out(struct task *t, u64 va, struct mmu_slot *s)
{
    u32 kept = mmu_kept(s);
    if (mmu_present(s))
        return true;
    if ((kept & MN_LENT) || frame_lend(mmu_phys(s))->lender)
        return false;
    mmu_set(t, va, s, mmu_phys(s), kept & MN_RIGHTS);
    mmu_keep(s, kept);
    return true;
}
