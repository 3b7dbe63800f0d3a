/* The mapping database's internals: what its files share (kernel/mapdb.c
 * lists them; its first comment holds the design notes, data structures
 * and invariants).  The small helpers of the hot paths (the fault path's
 * map and grant, the lend, unmap's walks) are static inline here, so that
 * they are inlined where they were when the database was one file; the
 * rest are plain functions of the file of their concept, each section
 * below saying which.  Only kernel/mapdb*.c include this.
 *
 * Locking: the kernel lock, for everything here.
 */
#ifndef KERNEL_MAPDB_INTERNAL_H
#define KERNEL_MAPDB_INTERNAL_H

#include <abi/l4.h>
#include <abi/syscall.h>
#include <arch/layout.h>
#include <arch/mmu.h>
#include <kernel/frame.h>
#include <kernel/kmem.h>
#include <kernel/mapdb.h>
#include <kernel/mnode.h>
#include <kernel/printk.h>
#include <kernel/task.h>

#define UTCB_END (KM_UTCB_AREA + KM_UTCB_AREA_SIZE)

/* ---- nodes (kernel/mapdb.c) ---------------------------------------------- */

/* A zeroed slot in one of t's node pages (edges: edge pages), or NULL when
 * memory is short. */
void *mslot_alloc(struct task *t, bool edges);
/* The slot goes back to its page (the page to kmem when it was the last). */
void mslot_free(void *slot);
/* t uses no slot: the empty pages kept go (at most one per list). */
void free_kept(struct task *t);

/* t's list of node pages (nodes) or of edge pages (edges): a node page
 * holds only nodes, an edge page only edges, so that the receiver-derived
 * parts of a task's mappings can be paged without the sender-derived ones
 * (kernel/mnode.h). */
static inline struct mnode_page **list_of(struct task *t, bool edges)
{
    return (struct mnode_page **)(edges ? &t->mapdb_edges : &t->mapdb);
}

static inline void list_remove(struct mnode_page **list, struct mnode_page *pg)
{
    if (pg->next == pg) {
        *list = NULL;
        return;
    }
    pg->prev->next = pg->next;
    pg->next->prev = pg->prev;
    if (*list == pg)
        *list = pg->next;
}

static inline struct mnode *node_alloc(struct task *t) { return mslot_alloc(t, false); }
static inline void node_free(struct mnode *n) { mslot_free(n); }

/* ---- names of nodes that are out (kernel/mapdb_out.c) -------------------- */

#define NAMED_CHAINS 4096
extern struct medge *named_child[NAMED_CHAINS], *named_parent[NAMED_CHAINS];
extern struct mnode *named_detached[NAMED_CHAINS];
extern u64 chain_salt;

void named_detached_remove(struct mnode *c);
void named_parent_remove(struct medge *e);

static inline u32 chain_of(u64 name)
{
    return (u32)(name * chain_salt >> 52); /* multiply-shift, a random odd multiplier: 4096 chains */
}

static inline void named_child_add(struct medge *e)
{
    struct medge **c = &named_child[chain_of((u64)e->child)];
    e->named = *c;
    *c = e;
}

/* Takes the edge whose child is name (or edge e itself) out of its chain. */
static inline struct medge *named_child_take(u64 name, const struct medge *e)
{
    for (struct medge **pp = &named_child[chain_of(name)]; *pp; pp = &(*pp)->named)
        if (e ? *pp == e : (u64)(*pp)->child == name) {
            struct medge *x = *pp;
            *pp = x->named;
            x->named = NULL;
            return x;
        }
    return NULL;
}

static inline void named_child_remove(struct medge *e)
{
    if (!named_child_take((u64)e->child, e))
        panic("mapdb: edge %p to an out node is not under its name", (void *)e);
}

/* ne takes e's place (a grant moves edges: adopt_children). */
static inline void named_child_replace(struct medge *e, struct medge *ne)
{
    named_child_remove(e);
    ne->child = e->child;
    named_child_add(ne);
}

static inline u64 name_of(const struct mnode *n) { return MN_OUT_NAME(node_task(n)->number, node_va(n)); }

/* Whether any node or edge is out (then walks over trees look for them). */
static inline bool parts_out(void) { return (mapdb_nodes_out | mapdb_detached) != 0; }

static inline void named_detached_add(struct mnode *c)
{
    struct mnode **ch = &named_detached[chain_of((u64)c->up)];
    c->named = *ch;
    *ch = c;
    mapdb_detached++;
}

/* The first node detached from parent name (left in its chain), or NULL. */
static inline struct mnode *named_detached_first(u64 name)
{
    for (struct mnode *c = named_detached[chain_of(name)]; c; c = c->named)
        if ((u64)c->up == name)
            return c;
    return NULL;
}

/* ---- trees ---------------------------------------------------------------- */

/* n (no parent yet) is derived from p through edge e (a slot of p's task). */
static inline void link_child(struct mnode *p, struct mnode *n, struct medge *e)
{
    e->child = n;
    e->parent = p;
    e->next = p->child;
    p->child = e;
    n->up = e;
}

/* The link that points at edge e: its parent's child field or a sibling's next. */
static inline struct medge **link_to(struct medge *e)
{
    struct medge **pp = &e->parent->child;
    while (*pp != e) {
        if (!*pp)
            panic("mapdb: edge %p missing from its parent's list", (void *)e);
        pp = &(*pp)->next;
    }
    return pp;
}

/* Pre-order successor of n among the descendants of top, or NULL. */
static inline struct mnode *next_below(struct mnode *n, const struct mnode *top)
{
    if (n->child)
        return n->child->child;
    for (; n != top; n = n->up->parent)
        if (n->up->next)
            return n->up->next->child;
    return NULL;
}

/* ---- pages (kernel/mapdb.c) ---------------------------------------------- */

/* node_at where the node table is out, or the node (MN_SLOT_OUT): the node
 * brought in (node_in: NULL when memory is short, slot_out(s) then). */
struct mnode *node_at_out(struct task *t, u64 va, struct mmu_slot *s);
/* Makes the PTE of n (slot s) give n's rights to frame phys, unless the
 * frame is lent to the kernel or n is the lender (then suspended). */
void set_pte(struct mnode *n, struct mmu_slot *s, u64 phys);
/* Whether n's page is accessible (access given back once a lent frame is back). */
bool has_access(struct mnode *n, struct mmu_slot *s);
/* has_access for t's page va whose node is out, by name (no memory). */
bool has_access_out(struct task *t, u64 va, struct mmu_slot *s);
/* n's rights become rights (its PTE too). */
void set_rights(struct mnode *n, u32 rights);

static inline bool reserved(u64 va) { return va >= USER_TOP || (va >= KM_UTCB_AREA && va < UTCB_END); }

/* The node of t's page va (slot in s), or NULL.  Where the node table is
 * out (s->nt_out, s->node NULL) it is made again first, from t's nodes
 * into a page of the pool (one pass over them for the whole region: the
 * table then serves every later lookup); only if the pool has no page is
 * each lookup a pass of its own (kernel/nodetable.h). */
struct mnode *node_in(struct task *t, u64 va, struct mmu_slot *s);

/* Whether the node of page va (slot s) is out (its PTE keeps its word). */
static inline bool slot_out(const struct mmu_slot *s) { return mmu_kept(s) != 0; }

/* Whether t's page va has its node out (s: its slot). */
static inline bool page_out(struct task *t, u64 va, struct mmu_slot *s)
{
    return mmu_walk(t, va, MMU_FIND, s) && slot_out(s);
}

static inline __attribute__((always_inline)) struct mnode *node_at(struct task *t, u64 va, struct mmu_slot *s)
{
    if (!mmu_walk(t, va, MMU_FIND, s))
        return NULL;
    if (__builtin_expect(s->node != NULL && !mn_is_out(*s->node), 1))
        return *s->node;
    return node_at_out(t, va, s);
}

/* The slot of n (its PTE; its node-table slot unless the table is out). */
static inline __attribute__((always_inline)) void slot_of(struct mnode *n, struct mmu_slot *s)
{
    if (!mmu_walk(node_task(n), node_va(n), MMU_FIND, s) ||
        (s->node ? *s->node != n : !s->nt_out || !mmu_used(s)))
        panic("mapdb: node %p is not in its slot", (void *)n);
}

/* Clears n's node-table slot (nothing to do where the table is out: the
 * table's export names n, which no longer matches on its import). */
static inline void slot_clear(struct mmu_slot *s)
{
    if (s->node)
        *s->node = NULL;
}

/* A mapping of frame phys went (owned: a kernel-owned root; lent: the
 * lender of a frame the kernel uses). */
static inline void release_frame(u64 phys, bool owned, bool lent)
{
    if (lent) {
        /* The lender goes while the kernel uses the frame: the kernel lets
         * go of it after this operation's walks (kmem_orphan), and frees
         * it then if it was the kernel's. */
        kmem_orphan(phys, owned);
    } else if (owned && !(kmem_lent_frames && kmem_orphan_frees(phys))) {
        frame_free(phys); /* (an orphan of a descendant's: freed once let go) */
    }
}

/* ---- nodes paged out (kernel/mapdb_out.c) --------------------------------- */

/* The kept bits: the node's MN_RIGHTS | MN_KERNEL_OWNED | MN_LENT (never
 * 0: a mapping has KM_R, so kept bits say the node is out), and: */
#define KEPT_KIDS 0x20u    /* it had edges of its own (named for it; maybe fewer now) */
#define KEPT_DERIVED 0x40u /* not a root: an edge is named for it */

u64 absorb_slow(struct mnode *p);
u64 drop_out(u64 name, struct mnode *p);
struct mnode *node_in_named(u64 name);
bool reattach_kids(struct mnode *n);
bool tree_in_above(struct mnode *n);
bool tree_in_below(struct mnode *x);
u64 remove_out(struct task *t, u64 va, struct mmu_slot *s, bool self);

/* absorb_into p of the nodes detached from p itself (a flag's test). */
static inline __attribute__((always_inline)) u64 absorb(struct mnode *p)
{
    return __builtin_expect(p->word & MN_KIDS_OUT, 0) ? absorb_slow(p) : 0;
}

/* n's whole tree in (for a walk over every mapping of its frame). */
static inline bool tree_in(struct mnode *n)
{
    if (!tree_in_above(n))
        return false;
    while (n->up)
        n = n->up->parent;
    return tree_in_below(n);
}

#define NODES_SHORT ((struct mnode *)2) /* transfer_nodes_in: memory is short */
__attribute__((cold)) struct mnode *transfer_nodes_in(struct mnode *sn, struct mmu_slot *ss, struct mnode *dn,
                                                      struct task *to, u64 dva, struct mmu_slot *ds, bool grant,
                                                      u32 given);

/* ---- removing mappings (kernel/mapdb_unmap.c) ------------------------------ */

void drop_mapping(struct mnode *n);
u64 remove_descendants_walk(struct mnode *x);
u64 remove_tree(struct mnode *x);
u64 reduce_descendants(struct mnode *x, u32 rights);

/* remove_descendants without a call when x has no children (mostly: a
 * page lent, a mapping replaced), attached or detached (absorb's flag). */
static inline __attribute__((always_inline)) u64 remove_descendants(struct mnode *x)
{
    return x->child || (x->word & MN_KIDS_OUT) ? remove_descendants_walk(x) : 0;
}

/* ---- map and grant (kernel/mapdb_transfer.c) ------------------------------ */

/* t's sigma0 ranges dropped (its end). */
void sigma0_drop(struct task *t);

static inline bool fpage_ok(u64 f)
{
    u32 l = KM_FPAGE_LOG2(f);
    u64 base = KM_FPAGE_BASE(f);
    return l >= KM_FPAGE_MIN_LOG2 && l <= KM_FPAGE_MAX_LOG2 && !(f & 0x38) && /* bits 5..3 */
           !(base & ((1ull << l) - 1)) && base < (1ull << KM_FPAGE_MAX_LOG2);
}

/* A region (a naturally aligned power of two, so it lies inside the
 * 4 MiB-aligned UTCB area, holds it, or misses it) is usable unless it lies
 * inside the UTCB area or above user space.  One larger than the UTCB area
 * that holds it (the whole space) skips its pages. */
static inline bool region_ok(u64 base, u64 len)
{
    return base < USER_TOP && !(base >= KM_UTCB_AREA && base + len <= UTCB_END);
}

/* ---- pages lent to the kernel (kernel/mapdb_lend.c) ----------------------- */

/* unlend for a lender whose node is out: its kept word loses MN_LENT. */
void unlend_out(struct task *t, u64 va, struct mmu_slot *s, u64 phys);

#endif
