/* Mapping database: derivation trees of mappings, map, grant, unmap (see
 * kernel/mapdb.h).
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
 * Locking: the kernel lock protects everything here (every field of every
 * node, node page and the sigma0 table).
 */
#include <abi/kspace.h>
#include <abi/l4.h>
#include <abi/syscall.h>
#include <arch/cpu.h>
#include <arch/layout.h>
#include <arch/mmu.h>
#include <kernel/frame.h>
#include <kernel/kmem.h>
#include <kernel/kmem_supply.h>
#include <kernel/mapdb.h>
#include <kernel/mnode.h>
#include <kernel/nodetable.h>
#include <kernel/printk.h>
#include <kernel/string.h>
#include <kernel/task.h>
#include <kernel/trace.h>

#define UTCB_END (KM_UTCB_AREA + KM_UTCB_AREA_SIZE)
#define SIGMA0_RANGES 64

struct mnode_page *mapdb_reclaiming;

static struct sigma0_range {
    struct task *t; /* NULL: free entry */
    u64 base, end;
} sigma0[SIGMA0_RANGES];

/* ---- nodes -------------------------------------------------------------- */

/* t's list of node pages (nodes) or of edge pages (edges): a node page
 * holds only nodes, an edge page only edges, so that the receiver-derived
 * parts of a task's mappings can be paged without the sender-derived ones
 * (kernel/mnode.h). */
static struct mnode_page **list_of(struct task *t, bool edges)
{
    return (struct mnode_page **)(edges ? &t->mapdb_edges : &t->mapdb);
}

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

static void list_remove(struct mnode_page **list, struct mnode_page *pg)
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
static void *mslot_alloc(struct task *t, bool edges)
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
static void free_kept(struct task *t)
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

static void mslot_free(void *slot)
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

static struct mnode *node_alloc(struct task *t) { return mslot_alloc(t, false); }
static void node_free(struct mnode *n) { mslot_free(n); }

/* ---- names of nodes that are out ---------------------------------------
 *
 * While a node is out (its node page is with its kpager: see "nodes paged
 * out" below), the edges that pointed at it (the one it was derived
 * through) and from it (its own edges) hold its name, MN_OUT_NAME(task,
 * page), and are found by that name in two tables of 4096 chains:
 *   named_child   edges whose child is out, linked through e->named;
 *   named_parent  edges whose parent is out, linked through e->next (the
 *                 parent's list is its name's chain while it is out).
 * An edge may be in both.  The tables are the kernel's (32 KiB each), the
 * links are in the edges: no memory grows with the nodes out.  A chain
 * is a name's with (nodes out) / 4096 others on average: the hash is
 * salted at boot (chain_salt), so that no task can aim its names at one
 * chain; a node's own edges are looked for only if it had some
 * (KEPT_KIDS), one pass taking them all.
 */
#define NAMED_CHAINS 4096
static struct medge *named_child[NAMED_CHAINS], *named_parent[NAMED_CHAINS];
static u64 chain_salt; /* odd; set with the first task (mapdb_task_init) */
u64 mapdb_nodes_out; /* nodes out, of all tasks: 0 spares every tree walk a look */

static u32 chain_of(u64 name)
{
    return (u32)(name * chain_salt >> 52); /* multiply-shift, a random odd multiplier: 4096 chains */
}

static void named_child_add(struct medge *e)
{
    struct medge **c = &named_child[chain_of((u64)e->child)];
    e->named = *c;
    *c = e;
}

/* Takes the edge whose child is name (or edge e itself) out of its chain. */
static struct medge *named_child_take(u64 name, const struct medge *e)
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

static void named_child_remove(struct medge *e)
{
    if (!named_child_take((u64)e->child, e))
        panic("mapdb: edge %p to an out node is not under its name", (void *)e);
}

/* ne takes e's place (a grant moves edges: adopt_children). */
static void named_child_replace(struct medge *e, struct medge *ne)
{
    named_child_remove(e);
    ne->child = e->child;
    named_child_add(ne);
}

static void named_parent_add(struct medge *e)
{
    struct medge **c = &named_parent[chain_of((u64)e->parent)];
    e->next = *c;
    *c = e;
}

static struct medge *named_parent_take(u64 name, const struct medge *e)
{
    for (struct medge **pp = &named_parent[chain_of(name)]; *pp; pp = &(*pp)->next)
        if (e ? *pp == e : (u64)(*pp)->parent == name) {
            struct medge *x = *pp;
            *pp = x->next;
            x->next = NULL;
            return x;
        }
    return NULL;
}

/* Every edge whose parent is name, out of its chain in one pass, chained
 * through next (the first; NULL if none). */
static struct medge *named_parent_take_all(u64 name)
{
    struct medge *all = NULL;
    for (struct medge **pp = &named_parent[chain_of(name)], *x; (x = *pp);) {
        if ((u64)x->parent != name) {
            pp = &x->next;
            continue;
        }
        *pp = x->next;
        x->next = all;
        all = x;
    }
    return all;
}

/* Nodes whose edge is out ("detached": the sender's edge page went back
 * to its kpager), each holding its parent's name in up, found by it in a
 * third table, linked through n->named.  Their parents are flagged:
 * MN_KIDS_OUT, or KEPT_KIDS while out. */
static struct mnode *named_detached[NAMED_CHAINS];
u64 mapdb_detached; /* detached nodes, of all tasks: 0 spares the walks a look */

static u64 name_of(const struct mnode *n) { return MN_OUT_NAME(node_task(n)->number, node_va(n)); }

/* Whether any node or edge is out (then walks over trees look for them). */
static inline bool parts_out(void) { return (mapdb_nodes_out | mapdb_detached) != 0; }

static void named_detached_add(struct mnode *c)
{
    struct mnode **ch = &named_detached[chain_of((u64)c->up)];
    c->named = *ch;
    *ch = c;
    mapdb_detached++;
}

/* The first node detached from parent name (left in its chain), or NULL. */
static struct mnode *named_detached_first(u64 name)
{
    for (struct mnode *c = named_detached[chain_of(name)]; c; c = c->named)
        if ((u64)c->up == name)
            return c;
    return NULL;
}

/* Every node detached from parent name, out of its chain, chained through
 * named (the first; NULL if none). */
static struct mnode *named_detached_take_all(u64 name)
{
    struct mnode *all = NULL;
    for (struct mnode **pp = &named_detached[chain_of(name)], *x; (x = *pp);) {
        if ((u64)x->up != name) {
            pp = &x->named;
            continue;
        }
        *pp = x->named;
        x->named = all;
        all = x;
        mapdb_detached--;
    }
    return all;
}

static void named_detached_remove(struct mnode *c)
{
    for (struct mnode **pp = &named_detached[chain_of((u64)c->up)]; *pp; pp = &(*pp)->named)
        if (*pp == c) {
            *pp = c->named;
            c->named = NULL;
            mapdb_detached--;
            return;
        }
    panic("mapdb: detached node %p is not under its parent's name", (void *)c);
}

static void named_parent_remove(struct medge *e)
{
    if (!named_parent_take((u64)e->parent, e))
        panic("mapdb: edge %p of an out node is not under its name", (void *)e);
}

/* ---- trees -------------------------------------------------------------- */

/* n (no parent yet) is derived from p through edge e (a slot of p's task). */
static void link_child(struct mnode *p, struct mnode *n, struct medge *e)
{
    e->child = n;
    e->parent = p;
    e->next = p->child;
    p->child = e;
    n->up = e;
}

/* The link that points at edge e: its parent's child field or a sibling's next. */
static struct medge **link_to(struct medge *e)
{
    struct medge **pp = &e->parent->child;
    while (*pp != e) {
        if (!*pp)
            panic("mapdb: edge %p missing from its parent's list", (void *)e);
        pp = &(*pp)->next;
    }
    return pp;
}

/* Takes n (with its subtree) out of its parent's list; its edge goes. */
static void unlink_node(struct mnode *n)
{
    struct medge *e = n->up;
    if (!e)
        return;
    if (mn_is_out(e)) { /* detached: no edge to free */
        named_detached_remove(n);
        n->up = NULL;
        return;
    }
    if (mn_is_out(e->parent))
        named_parent_remove(e); /* (its parent's list is its name's, while out) */
    else
        *link_to(e) = e->next;
    n->up = NULL;
    mslot_free(e);
}

static u32 child_count(const struct mnode *n)
{
    u32 k = 0;
    for (const struct medge *e = n->child; e; e = e->next)
        k++;
    return k;
}

static void edges_put(struct medge *list)
{
    for (struct medge *next; list; list = next) {
        next = list->next;
        mslot_free(list);
    }
}

/* Edges for n's children in the pages of task t, which is to hold their
 * parent (an edge lives with its parent mapping): none needed when n's own
 * task is t (*list NULL); false, nothing taken, when memory is short.
 * Taken before the operation changes anything. */
static bool edges_take(struct task *t, const struct mnode *n, struct medge **list)
{
    *list = NULL;
    if (node_task(n) == t)
        return true;
    for (u32 k = child_count(n); k; k--) {
        struct medge *e = mslot_alloc(t, true);
        if (!e) {
            edges_put(*list);
            *list = NULL;
            return false;
        }
        e->next = *list;
        *list = e;
    }
    return true;
}

/* n's children now hang from np (first edge returned, *last its last):
 * through their own edges when list is NULL (np's task is n's), else each
 * through one of list's (from edges_take), their old edges freed. */
static struct medge *adopt_children(struct mnode *n, struct mnode *np, struct medge *list, struct medge **last)
{
    struct medge *first = list ? list : n->child;
    *last = NULL;
    for (struct medge *e = n->child, *next; e; e = next) {
        next = e->next;
        struct medge *ne = e;
        if (list) {
            ne = list;
            list = list->next;
            ne->child = e->child;
            ne->next = next ? list : NULL;
            if (mn_is_out(e->child))
                named_child_replace(e, ne);
            mslot_free(e);
        }
        ne->parent = np;
        if (!mn_is_out(ne->child))
            ne->child->up = ne;
        *last = ne;
    }
    if (*last)
        (*last)->next = NULL;
    edges_put(list); /* (more than needed: a child went meanwhile) */
    n->child = NULL;
    return *last ? first : NULL;
}

/* nn takes n's place in the tree: same parent edge, n's children (moved to
 * nn's task's pages through list when the tasks differ). */
static void replace_node(struct mnode *n, struct mnode *nn, struct medge *list)
{
    struct medge *last;
    nn->up = n->up;
    if (mn_is_out(nn->up)) { /* n detached: nn takes its place under the parent's name */
        named_detached_remove(n);
        nn->up = n->up;
        named_detached_add(nn);
    } else if (nn->up) {
        nn->up->child = nn;
    }
    nn->child = adopt_children(n, nn, list, &last);
    n->up = NULL;
}

/* n leaves the tree; its children take its place in its parent's list
 * (through list's edges when the parent's task is not n's). */
static void dissolve_node(struct mnode *n, struct medge *list)
{
    struct medge *e = n->up, **pp = link_to(e), *last;
    struct medge *first = adopt_children(n, e->parent, list, &last);
    if (first) {
        last->next = e->next;
        *pp = first;
    } else {
        *pp = e->next;
    }
    n->up = NULL;
    mslot_free(e);
}

static bool is_ancestor(const struct mnode *a, const struct mnode *n)
{
    for (const struct mnode *p = node_parent(n); p; p = node_parent(p))
        if (p == a)
            return true;
    return false;
}

/* Pre-order successor of n among the descendants of top, or NULL. */
static struct mnode *next_below(struct mnode *n, const struct mnode *top)
{
    if (n->child)
        return n->child->child;
    for (; n != top; n = n->up->parent)
        if (n->up->next)
            return n->up->next->child;
    return NULL;
}

/* ---- pages -------------------------------------------------------------- */

static bool reserved(u64 va) { return va >= USER_TOP || (va >= KM_UTCB_AREA && va < UTCB_END); }

/* The node of t's page va (slot in s), or NULL.  Where the node table is
 * out (s->nt_out, s->node NULL) it is made again first, from t's nodes
 * into a page of the pool (one pass over them for the whole region: the
 * table then serves every later lookup); only if the pool has no page is
 * each lookup a pass of its own (kernel/nodetable.h). */
static struct mnode *node_in(struct task *t, u64 va, struct mmu_slot *s);

/* Whether the node of page va (slot s) is out (its PTE keeps its word). */
static inline bool slot_out(const struct mmu_slot *s) { return mmu_kept(s) != 0; }

/* Whether t's page va has its node out (s: its slot). */
static bool page_out(struct task *t, u64 va, struct mmu_slot *s)
{
    return mmu_walk(t, va, MMU_FIND, s) && slot_out(s);
}

/* node_at where the node table is out, or the node (MN_SLOT_OUT): the node
 * brought in (node_in: NULL when memory is short, slot_out(s) then). */
static __attribute__((noinline)) struct mnode *node_at_out(struct task *t, u64 va, struct mmu_slot *s)
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
static void slot_clear(struct mmu_slot *s)
{
    if (s->node)
        *s->node = NULL;
}

/* The slot of t's page va, tables and node table made (a node table that
 * is out brought back: kernel/nodetable.c); false when memory is short. */
static bool walk_create(struct task *t, u64 va, struct mmu_slot *s)
{
    return mmu_walk(t, va, MMU_CREATE_ALL, s) && (s->node || nodetable_restore(t, va, s));
}

/* What t has at page va without changing anything (for mapdb_check): where
 * the node table is out, found among t's nodes. */
static struct mnode *node_peek(struct task *t, u64 va, struct mmu_slot *s)
{
    if (!mmu_walk(t, va, MMU_FIND, s) || slot_out(s))
        return NULL;
    if (s->node)
        return *s->node;
    return s->nt_out && mmu_used(s) ? nodetable_scan(t, va) : NULL;
}

/* Makes the PTE of n (slot s) give n's rights to frame phys, unless the
 * frame is lent to the kernel or n is the lender: then it stays suspended
 * (the frame kept in it, no access; mapdb_soft_fault gives access back
 * once the frame has come back). */
static void set_pte(struct mnode *n, struct mmu_slot *s, u64 phys)
{
    if (node_lent(n) || (kmem_lent_frames && frame_lend(phys)->lender))
        mmu_set_suspended(node_task(n), node_va(n), s, phys);
    else
        mmu_set(node_task(n), node_va(n), s, phys, node_rights(n));
}

/* Whether n's page is accessible; a mapping that lost access while its
 * frame was lent (mapdb_lend) gets it back here once the frame is back,
 * so that a page returned but not touched yet can be sent or lent. */
static bool has_access(struct mnode *n, struct mmu_slot *s)
{
    if (mmu_present(s))
        return true;
    if (node_lent(n) || frame_lend(mmu_phys(s))->lender)
        return false;
    mmu_set(node_task(n), node_va(n), s, mmu_phys(s), node_rights(n));
    return true;
}

static void set_rights(struct mnode *n, u32 rights)
{
    struct mmu_slot s;
    slot_of(n, &s);
    n->word = (n->word & ~MN_RIGHTS) | rights; /* a lent page comes back with these */
    set_pte(n, &s, mmu_phys(&s));
}

/* A mapping of frame phys went (owned: a kernel-owned root; lent: the
 * lender of a frame the kernel uses). */
static void release_frame(u64 phys, bool owned, bool lent)
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

/* ---- nodes paged out (kmem=kpager) -------------------------------------
 *
 * A node page a kpager takes back leaves localised (the paper's §3.2: the
 * receiver-derived parts of the task's mappings, in the task's own
 * terms; the format is in abi/kspace.h), and the mappings stay.  What the
 * kernel needs of each node stays in the kernel, in what the task and its
 * partners hold anyway, so the page is never needed back:
 *   - its word (rights, MN_KERNEL_OWNED, MN_LENT) in its PTE's kept bits
 *     (arch/mmu.h), with KEPT_DERIVED unless it is a root, KEPT_KIDS if
 *     it has edges of its own;
 *     its node-table slot holds MN_SLOT_OUT, so scans still find the page;
 *   - the edge it was derived through (a page of the parent's task) and
 *     its own edges (pages of its task's) hold its name instead of a
 *     pointer, and are found by it ("names of nodes that are out").
 * A walk that needs the node brings it in (node_in): into a node slot of
 * the task's, from its kpager's supply in an operation for the task (a
 * FRESH page: the kpager's copy is not needed), otherwise from the pool,
 * within kmem.pool (a kpager must not turn the pages it takes back into
 * pool pages without bound).  A removal needs no slot (drop_out: its PTE
 * cleared by name, its edges taken into the walk), so an unmap, a task's
 * end or a kpager's revocation never fails for want of memory.  Where a
 * node cannot come in: in an operation for its task, the operation is
 * redone after the kernel page fault; otherwise a reduction of rights
 * removes that mapping (and what derives from it), as its task could have
 * done, and any other operation that needs it fails with -KM_ENOMEM.
 *   An edge page a kpager revokes leaves localised too (abi/kspace.h):
 * each child still in the kernel is detached (its up names its parent,
 * it is found by that name, the parent flagged MN_KIDS_OUT or KEPT_KIDS),
 * made whole again by an edge taken when a walk needs it (reattach, in
 * the pre-passes), and removed with no memory and no recursion by
 * splicing its edges into the removal walk (absorb).  A child whose node
 * is out as well has nothing left to hold the link, and goes; a detached
 * node whose node page leaves goes for the same reason.
 */
/* The kept bits: the node's MN_RIGHTS | MN_KERNEL_OWNED | MN_LENT (never
 * 0: a mapping has KM_R, so kept bits say the node is out), and: */
#define KEPT_KIDS 0x20u    /* it had edges of its own (named for it; maybe fewer now) */
#define KEPT_DERIVED 0x40u /* not a root: an edge is named for it */

/* The out node name's own edges, out of the name table (none looked for
 * unless it had some), each now with parent p, pushed onto p's list. */
static void take_kids(u64 name, u32 kept, struct mnode *p)
{
    if (!(kept & KEPT_KIDS))
        return;
    for (struct medge *e = named_parent_take_all(name), *next; e; e = next) {
        next = e->next;
        e->parent = p;
        e->next = p->child;
        p->child = e;
    }
}

static u64 remove_descendants_walk(struct mnode *x);
static inline u64 remove_descendants(struct mnode *x);
static u64 remove_out(struct task *t, u64 va, struct mmu_slot *s, bool self);
static void drop_mapping(struct mnode *n);
static u64 remove_tree(struct mnode *x);

/* Removes the detached nodes of list (chained through named) and those
 * detached from them, in a removal walk at node p: each one's edges
 * become p's (the walk takes them next), then its mapping goes.  No
 * memory, no recursion.  How many went. */
static u64 absorb_into(struct mnode *p, struct mnode *list)
{
    u64 count = 0;
    while (list) {
        struct mnode *c = list;
        list = c->named;
        c->named = NULL;
        for (struct medge *e = c->child, *next; e; e = next) {
            next = e->next;
            e->parent = p;
            e->next = p->child;
            p->child = e;
        }
        c->child = NULL;
        if (c->word & MN_KIDS_OUT) {
            struct mnode *more = named_detached_take_all(name_of(c)), *last = more;
            while (last && last->named)
                last = last->named;
            if (last) {
                last->named = list;
                list = more;
            }
        }
        c->up = NULL;
        drop_mapping(c);
        count++;
    }
    return count;
}

static __attribute__((noinline)) u64 absorb_slow(struct mnode *p)
{
    p->word &= ~MN_KIDS_OUT;
    return absorb_into(p, named_detached_take_all(name_of(p)));
}

/* absorb_into p of the nodes detached from p itself (a flag's test). */
static inline __attribute__((always_inline)) u64 absorb(struct mnode *p)
{
    return __builtin_expect(p->word & MN_KIDS_OUT, 0) ? absorb_slow(p) : 0;
}

/* The out node name's page: cleared, its frame let go, its edges given to
 * p (a node of the walk removing it, or a stand-in), the nodes detached
 * from it removed (absorb_into: how many).  Its edge from its parent is
 * the caller's to have taken. */
static u64 drop_out(u64 name, struct mnode *p)
{
    struct task *t = task_by_number(mn_name_task(name));
    u64 va = mn_name_va(name);
    struct mmu_slot s;
    if (!t || !mmu_walk(t, va, MMU_FIND, &s) || !slot_out(&s))
        panic("mapdb: out node %lx has no page", name);
    u32 kept = mmu_kept(&s);
    u64 phys = mmu_phys(&s);
    slot_clear(&s);
    mmu_clear(t, va, &s);
    t->mn_out--;
    mapdb_nodes_out--;
    take_kids(name, kept, p);
    release_frame(phys, kept & MN_KERNEL_OWNED, kept & MN_LENT);
    return kept & KEPT_KIDS ? absorb_into(p, named_detached_take_all(name)) : 0; /* (its detached children) */
}


/* The out node of t's page va (slot s) in a node slot again: its word from
 * the PTE, its edges by its name.  NULL when memory is short (in a
 * kmem_op for t: the node page is noted missing). */
static struct mnode *node_in(struct task *t, u64 va, struct mmu_slot *s)
{
    u32 kept = mmu_kept(s);
    struct mnode *m = node_alloc(t);
    if (!m)
        return NULL;
    u64 name = MN_OUT_NAME(t->number, va);
    m->word = va | (kept & (MN_RIGHTS | MN_KERNEL_OWNED | MN_LENT));
    if (kept & KEPT_DERIVED) {
        struct medge *e = named_child_take(name, NULL);
        if (!e)
            panic("mapdb: out node %lx lost the edge it came through", name);
        e->child = m;
        m->up = e;
    }
    take_kids(name, kept, m);
    if ((kept & KEPT_KIDS) && __builtin_expect(mapdb_detached != 0, 0) && named_detached_first(name))
        m->word |= MN_KIDS_OUT; /* (they stay detached from this very name) */
    mmu_keep(s, 0);
    if (s->node)
        *s->node = m;
    t->mn_out--;
    mapdb_nodes_out--;
    return m;
}

static struct mnode *node_in_named(u64 name)
{
    struct task *t = task_by_number(mn_name_task(name));
    u64 va = mn_name_va(name);
    struct mmu_slot s;
    if (!t || !mmu_walk(t, va, MMU_FIND, &s) || !slot_out(&s))
        panic("mapdb: out node %lx has no page", name);
    return node_in(t, va, &s);
}

/* Every ancestor of n in; false when memory is short. */
/* Detached c (its edge out) gets an edge again, from its parent (brought
 * in if its node is out) in a page of the parent's task; false when
 * memory is short. */
static bool reattach(struct mnode *c)
{
    u64 pname = (u64)c->up, pva = mn_name_va(pname);
    struct task *pt = task_by_number(mn_name_task(pname));
    struct mmu_slot s;
    if (!pt || !mmu_walk(pt, pva, MMU_FIND, &s))
        panic("mapdb: detached node %p has no parent %lx", (void *)c, pname);
    struct mnode *p = slot_out(&s) ? node_in(pt, pva, &s) : node_at(pt, pva, &s);
    struct medge *e = p ? mslot_alloc(pt, true) : NULL;
    if (!e)
        return false;
    named_detached_remove(c);
    c->up = NULL;
    link_child(p, c, e);
    return true;
}

/* Every node detached from n attached again (n's flag goes with the
 * last); false when memory is short (those left stay detached). */
static bool reattach_kids(struct mnode *n)
{
    if (__builtin_expect(!(n->word & MN_KIDS_OUT), 1))
        return true;
    u64 name = name_of(n);
    for (struct mnode *c; (c = named_detached_first(name));)
        if (!reattach(c))
            return false;
    n->word &= ~MN_KIDS_OUT;
    return true;
}

static bool tree_in_above(struct mnode *n)
{
    for (;;) {
        if (mn_is_out(n->up) && !reattach(n))
            return false;
        struct medge *e = n->up;
        if (!e)
            return true;
        if (mn_is_out(e->parent) && !node_in_named((u64)e->parent))
            return false;
        n = e->parent;
    }
}

/* Every node below x in, attached (each before its children are looked
 * at); false when memory is short. */
static bool tree_in_below(struct mnode *x)
{
    for (struct mnode *n = x; n; n = next_below(n, x)) {
        if (!reattach_kids(n))
            return false;
        for (struct medge *e = n->child; e; e = e->next)
            if (mn_is_out(e->child) && !node_in_named((u64)e->child))
                return false;
    }
    return true;
}

/* tree_in_below for a reduction of rights: a node that cannot come in
 * for want of memory outside a kmem_op (no kpager to ask) is removed with
 * what derives from it (*dropped counts them), as its task could have
 * done; false only when a kpager is to be asked (the page noted missing). */
static bool tree_in_below_or_drop(struct mnode *x, u64 *dropped)
{
    for (struct mnode *n = x; n; n = next_below(n, x)) {
        if (!reattach_kids(n)) {
            if (kmem_op && kmem_op->missing_set)
                return false;
            for (struct mnode *c; (c = named_detached_first(name_of(n)));)
                *dropped += remove_tree(c); /* those that cannot come back go, as n's task could do */
            n->word &= ~MN_KIDS_OUT;
        }
        for (struct medge **pp = &n->child, *e; (e = *pp);) {
            if (!mn_is_out(e->child) || node_in_named((u64)e->child)) {
                pp = &e->next;
                continue;
            }
            if (kmem_op && kmem_op->missing_set)
                return false;
            u64 name = (u64)e->child;
            struct task *ct = task_by_number(mn_name_task(name));
            struct mmu_slot cs;
            if (!page_out(ct, mn_name_va(name), &cs))
                panic("mapdb: out node %lx has no page", name);
            *dropped += remove_out(ct, mn_name_va(name), &cs, true); /* (unlinks e: *pp moves on) */
        }
    }
    return true;
}

/* n's whole tree in (for a walk over every mapping of its frame). */
static bool tree_in(struct mnode *n)
{
    if (!tree_in_above(n))
        return false;
    while (n->up)
        n = n->up->parent;
    return tree_in_below(n);
}

static bool trees_in(struct mnode *sn, struct mnode *dn, bool above_sn, bool below_sn);

#define NODES_SHORT ((struct mnode *)2) /* transfer_nodes_in: memory is short */

/* For transfer_page: a destination mapping dn of the same frame stays (its
 * rights grow, or a grant dissolves into it), another goes (by name if
 * its node is out); the walks that follow (grow_rights, is_ancestor, a
 * grant's reduction) need their nodes: those of them that are out come
 * in, and only those.  dn (brought in if it stays), or NODES_SHORT.
 * (dn goes by value: its address taken would keep it in memory on the
 * common path.) */
static __attribute__((noinline, cold)) struct mnode *transfer_nodes_in(struct mnode *sn, struct mmu_slot *ss,
                                                                      struct mnode *dn, struct task *to, u64 dva,
                                                                      struct mmu_slot *ds, bool grant, u32 given)
{
    bool out = mn_is_out(dn);
    bool same = dn && mmu_phys(ds) == mmu_phys(ss) && !(out ? mmu_kept(ds) & MN_LENT : node_lent(dn));
    if (out && same && !(dn = node_in(to, dva, ds)))
        return NODES_SHORT;
    /* (a grant moves sn: nodes detached from it, found by its name, are
     * attached again first) */
    if (!trees_in(sn, same && !grant ? dn : NULL, grant && same,
                  grant && ((node_rights(sn) & ~given) || (sn->word & MN_KIDS_OUT))))
        return NODES_SHORT;
    return dn;
}

/* The out nodes a transfer of sn walks brought in: dn's ancestors (its
 * rights grow up to its parent's: dn non-NULL), sn's (a grant onto a
 * mapping of the same frame: is_ancestor), what derives from sn (a grant
 * that takes rights: reduce_descendants); false when memory is short. */
static __attribute__((noinline)) bool trees_in(struct mnode *sn, struct mnode *dn, bool above_sn, bool below_sn)
{
    return (!dn || tree_in_above(dn)) && (!above_sn || tree_in_above(sn)) && (!below_sn || tree_in_below(sn));
}

/* Removes t's page va, whose node is out, with everything derived from it
 * (self), or only what derives from it, by name: no memory needed.  How
 * many mappings went. */
static u64 remove_out(struct task *t, u64 va, struct mmu_slot *s, bool self)
{
    u64 name = MN_OUT_NAME(t->number, va);
    struct mnode stand_in = {0}; /* the node, for the walk over its edges */
    u32 kept = mmu_kept(s);
    take_kids(name, kept, &stand_in);
    u64 count = kept & KEPT_KIDS ? absorb_into(&stand_in, named_detached_take_all(name)) : 0;
    mmu_keep(s, kept & ~KEPT_KIDS); /* (none left) */
    count += remove_descendants(&stand_in);
    if (!self)
        return count;
    if (kept & KEPT_DERIVED) {
        struct medge *e = named_child_take(name, NULL);
        if (!e)
            panic("mapdb: out node %lx lost the edge it came through", name);
        if (mn_is_out(e->parent))
            named_parent_remove(e);
        else
            *link_to(e) = e->next;
        mslot_free(e);
    }
    return count + drop_out(name, &stand_in) + 1;
}

/* Node m of t's leaves: the kernel keeps what it needs of it by name, the
 * slot becomes its record (abi/kspace.h: its word, then 0). */
static void export_node(struct task *t, struct mnode *m)
{
    struct mmu_slot s;
    slot_of(m, &s);
    u64 name = MN_OUT_NAME(t->number, node_va(m));
    struct medge *up = m->up;
    if (up) {
        up->child = (struct mnode *)name;
        named_child_add(up);
    }
    for (struct medge *e = m->child, *next; e; e = next) {
        next = e->next;
        e->parent = (struct mnode *)name;
        named_parent_add(e);
    }
    mmu_keep(&s, (u32)(m->word & (MN_RIGHTS | MN_KERNEL_OWNED | MN_LENT)) |
                     (m->child || (m->word & MN_KIDS_OUT) ? KEPT_KIDS : 0) | (up ? KEPT_DERIVED : 0));
    if (s.node)
        *s.node = MN_SLOT_OUT;
    m->word &= ~MN_KIDS_OUT; /* (the record: page, rights, flags) */
    m->up = NULL; /* (whom it came from is not the kpager's to know) */
    m->child = NULL;
    m->named = NULL;
    t->mn_out++;
    mapdb_nodes_out++;
}

/* t's node page pg leaves, localised, its mappings staying. */
static void export_node_page(struct task *t, struct mnode_page *pg)
{
    list_remove(list_of(t, false), pg);
    if (t->mn_kept[0] == pg)
        t->mn_kept[0] = NULL;
    pg->detached = true; /* (slots freed meanwhile stay in it) */
    struct mnode *slots = page_nodes(pg);
    /* A detached node holds the only link to its parent: with it out
     * nothing would; it goes, with what derives from it (t could). */
    struct mnode_page *outer = mapdb_reclaiming;
    mapdb_reclaiming = pg; /* its nodes stay visible to passes over t's nodes (a page freed meanwhile is
                              given back: mapdb_unlend looks its lender's node up) */
    for (usize i = 0; __builtin_expect(mapdb_detached != 0, 0) && i < NODES_PER_PAGE; i++)
        if (slot_is_node(&slots[i]) && mn_is_out(slots[i].up))
            remove_tree(&slots[i]);
    mapdb_reclaiming = outer;
    u32 n = 0;
    for (usize i = 0; i < NODES_PER_PAGE; i++) {
        if (slot_is_node(&slots[i])) {
            export_node(t, &slots[i]);
            n++;
        } else {
            slots[i] = (struct mnode){0}; /* (a free slot's link is a kernel pointer) */
        }
    }
    t->mn_slots -= n;
    memset(pg, 0, sizeof *pg);
    ((u64 *)pg)[0] = n;
    if (!t->mn_slots)
        free_kept(t);
}

/* Unmaps n's page and frees n, which has left its tree (no children). */
static void drop_mapping(struct mnode *n)
{
    struct mmu_slot s;
    slot_of(n, &s);
    u64 phys = mmu_phys(&s);
    bool owned = n->word & MN_KERNEL_OWNED, lent = node_lent(n);
    slot_clear(&s);
    mmu_clear(node_task(n), node_va(n), &s); /* TLBs flushed: the frame is unreachable */
    /* Let go of the frame first: n may live in the very frame it lends
     * (a node brought into a node page its own page became), and
     * freeing n may free that page, which must then be an orphan's. */
    release_frame(phys, owned, lent);
    node_free(n);
}

/* Removes every mapping derived from x (not x), children before parents;
 * returns how many. */
static u64 remove_descendants_walk(struct mnode *x)
{
    u64 count = absorb(x); /* (nodes detached from x: their edges are x's now) */
    struct medge *e = x->child;
    while (e) {
        struct mnode *n = e->child;
        if (mn_is_out(n)) { /* by its name: its edges become p's, to go next */
            struct mnode *p = e->parent;
            p->child = e->next;
            named_child_remove(e);
            mslot_free(e);
            count += drop_out((u64)n, p) + 1;
            e = p->child ? p->child : (p == x ? NULL : p->up);
            continue;
        }
        count += absorb(n);
        if (n->child) {
            e = n->child;
            continue;
        }
        struct mnode *p = e->parent; /* e is p's first edge */
        p->child = e->next;
        n->up = NULL;
        mslot_free(e);
        drop_mapping(n);
        count++;
        e = p->child ? p->child : (p == x ? NULL : p->up); /* p: its parent's first */
    }
    return count;
}

/* remove_descendants without a call when x has no children (mostly: a
 * page lent, a mapping replaced), attached or detached (absorb's flag). */
static inline __attribute__((always_inline)) u64 remove_descendants(struct mnode *x)
{
    return x->child || (x->word & MN_KIDS_OUT) ? remove_descendants_walk(x) : 0;
}

/* Removes x and everything derived from it. */
static u64 remove_tree(struct mnode *x)
{
    u64 count = remove_descendants(x) + 1;
    unlink_node(x);
    drop_mapping(x);
    return count;
}

/* Takes rights (never KM_R) from every mapping derived from x; returns how
 * many had some of them. */
static u64 reduce_descendants(struct mnode *x, u32 rights)
{
    u64 count = 0;
    for (struct mnode *n = next_below(x, x); n; n = next_below(n, x))
        if (node_rights(n) & rights) {
            set_rights(n, node_rights(n) & ~rights);
            count++;
        }
    return count;
}

/* A root mapping of phys at t's page va; the slot is found or made in s. */
static int make_root(struct task *t, u64 va, u64 phys, u32 rights, u64 flags, struct mmu_slot *s)
{
    if (!walk_create(t, va, s))
        return -KM_ENOMEM;
    if (mmu_present(s) || *s->node) /* (a lent page's PTE is not present) */
        return -KM_EBUSY;
    struct mnode *n = node_alloc(t);
    if (!n)
        return -KM_ENOMEM;
    n->word = va | flags | rights;
    *s->node = n;
    set_pte(n, s, phys); /* sigma0 touching a frame it gave away that is lent now: no access */
    return 0;
}

/* ---- sigma0 ------------------------------------------------------------- */

static bool sigma0_owns(const struct task *t, u64 va)
{
    for (int i = 0; i < SIGMA0_RANGES; i++)
        if (sigma0[i].t == t && va >= sigma0[i].base && va < sigma0[i].end)
            return true;
    return false;
}

/* The first page >= va and < end in one of t's ranges, or end. */
static u64 sigma0_next(const struct task *t, u64 va, u64 end)
{
    u64 best = end;
    for (int i = 0; i < SIGMA0_RANGES; i++)
        if (sigma0[i].t == t && sigma0[i].end > va && sigma0[i].base < best)
            best = MAX(sigma0[i].base, va);
    return best;
}

int mapdb_sigma0_add(struct task *t, u64 base, u64 len)
{
    u64 end = base + len;
    if ((base | len) & (PAGE_SIZE - 1) || len == 0 || end < base || end > USER_TOP ||
        (base < UTCB_END && end > KM_UTCB_AREA))
        return -KM_EINVAL;
    int free_slot = -1;
    for (int i = 0; i < SIGMA0_RANGES; i++) {
        if (!sigma0[i].t && free_slot < 0)
            free_slot = i;
        if (sigma0[i].t && sigma0[i].t != t && base < sigma0[i].end && end > sigma0[i].base)
            return -KM_EBUSY; /* two owners of one frame */
    }
    if (free_slot < 0)
        return -KM_ENOMEM;
    sigma0[free_slot] = (struct sigma0_range){t, base, end};
    t->flags |= TASK_F_SIGMA0;
    return 0;
}

int mapdb_sigma0_fault(struct task *t, u64 va)
{
    struct mmu_slot s;
    va = ALIGN_DOWN(va, PAGE_SIZE);
    if (!sigma0_owns(t, va))
        return -KM_EINVAL;
    if (node_at(t, va, &s) || page_out(t, va, &s))
        return 0;
    return make_root(t, va, va, KM_RWX, 0, &s);
}

/* ---- map and grant ------------------------------------------------------ */

struct xfer {
    u64 src, dst, len; /* source and destination regions */
    u32 rights;        /* the fpage's */
    bool grant;
};

static bool fpage_ok(u64 f)
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
static bool region_ok(u64 base, u64 len)
{
    return base < USER_TOP && !(base >= KM_UTCB_AREA && base + len <= UTCB_END);
}

/* Decodes and checks an item and window; the placement rule of abi/l4.h. */
static int plan(u64 word0, u64 word1, u64 acceptor, struct xfer *x)
{
    if (word0 & 0xffd || !fpage_ok(word1) || !acceptor || !fpage_ok(acceptor))
        return -KM_EINVAL;
    u64 fsize = 1ull << KM_FPAGE_LOG2(word1), wsize = 1ull << KM_FPAGE_LOG2(acceptor);
    u64 hot = KM_FPAGE_BASE(word0);
    if (fsize <= wsize) {
        x->src = KM_FPAGE_BASE(word1);
        x->dst = KM_FPAGE_BASE(acceptor) + ALIGN_DOWN(hot & (wsize - 1), fsize);
        x->len = fsize;
    } else {
        x->src = KM_FPAGE_BASE(word1) + ALIGN_DOWN(hot & (fsize - 1), wsize);
        x->dst = KM_FPAGE_BASE(acceptor);
        x->len = wsize;
    }
    x->rights = KM_FPAGE_RIGHTS(word1);
    x->grant = word0 & KM_ITEM_GRANT;
    /* Both regions are aligned to their common size, so within one task
     * they are equal (each page maps onto itself) or disjoint. */
    return region_ok(x->src, x->len) && region_ok(x->dst, x->len) ? 0 : -KM_EINVAL;
}

/* The receiver already has this frame at the destination: map lets its
 * rights grow by what is given, up to its parent's (invariant 3). */
static void grow_rights(struct mnode *dn, u32 given)
{
    struct mnode *p = node_parent(dn);
    u32 cap = p ? node_rights(p) : node_rights(dn);
    u32 r = node_rights(dn) | (given & cap);
    if (r != node_rights(dn))
        set_rights(dn, r);
}

/* Grant: nn (a node of the receiver, at dva) takes sn's place in the tree
 * (sn's children through list's edges: edges_take); sn goes. */
static void move_node(struct mnode *sn, struct mmu_slot *ss, struct mnode *nn, u64 dva,
                      struct mmu_slot *ds, u32 given, struct medge *list)
{
    u64 phys = mmu_phys(ss);
    u32 lost = node_rights(sn) & ~given;
    if (lost) /* derived mappings keep no more than the granted one */
        reduce_descendants(sn, lost);
    nn->word = dva | (sn->word & MN_KERNEL_OWNED) | given;
    replace_node(sn, nn, list);
    if (!ss->node)
        slot_of(sn, ss); /* its table may be back since ss was taken */
    slot_clear(ss);
    mmu_clear(node_task(sn), node_va(sn), ss);
    node_free(sn);
    *ds->node = nn;
    set_pte(nn, ds, phys);
}

/* Whether page va of t, which has no node, is one of sigma0's to make. */
static bool sigma0_page(const struct task *t, u64 va)
{
    return (t->flags & TASK_F_SIGMA0) && sigma0_owns(t, va);
}

/* Rights that a send with rights gives of from's mapping sn (slot ss):
 * none for a mapping without access (lent, or a frame lent elsewhere). */
static inline __attribute__((always_inline)) u32 given_of(struct mnode *sn, struct mmu_slot *ss, u32 rights)
{
    return sn && !node_lent(sn) && (!kmem_ever_lent || has_access(sn, ss)) ? rights & node_rights(sn) : 0;
}

/* From's node in slot ss again after the destination's walk waited with
 * every table kept (MMU_WAITED_KEPT), read from the slot instead of a
 * walk; NULL when the slot's node table is not its own any more, or the
 * node is gone or out (the page is then looked at again from the start). */
static struct mnode *source_again(struct mmu_slot *ss)
{
    if (!mmu_slot_kept(ss))
        return NULL;
    struct mnode *n = *ss->node;
    return n && !mn_is_out(n) ? n : NULL;
}

static int transfer_to(struct task *from, u64 sva, struct mnode *sn, struct mmu_slot *ss, struct task *to,
                       u64 dva, struct mmu_slot *ds, u32 given, bool grant);

/* transfer_page's results besides 1, 0 and errors: the page again from the
 * start (a wait made what it looked at stale), or done (PAGE_WAITED | 1 or
 * 0) after a wait (the rest of the range is looked at again). */
#define PAGE_AGAIN 2
#define PAGE_WAITED 4

/* One page: 1 mapped, 0 skipped (nothing to send, or a fixed page at the
 * destination), PAGE_AGAIN, PAGE_WAITED, -KM_ENOMEM or a wait's error.  sn
 * is from's node at sva (its slot in *ss) or NULL when sva has none; sva
 * and dva are not reserved. */
static int transfer_page(struct task *from, u64 sva, struct mnode *sn, struct mmu_slot *ss,
                         struct task *to, u64 dva, u32 rights, bool grant)
{
    struct mmu_slot ds;
    if (kmem_op)
        kmem_op->va = dva; /* what a kernel page fault would be for */
    if (!sn && sigma0_page(from, sva)) {
        int r = make_root(from, sva, sva, KM_RWX, 0, ss);
        if (r)
            return r == -KM_EBUSY ? 0 : r;
        sn = *ss->node;
    }
    u32 given = given_of(sn, ss, rights);
    if (!(given & KM_R))
        return 0;
    if (from == to && sva == dva)
        return 1; /* onto itself: it is there already */
    /* The destination's tables first: until they are there, nothing has
     * changed, so a missing one may be waited for here (in place, when the
     * operation allows it: a kernel page fault for each, the walk going on
     * from the table it stopped at).  After a wait sn is read again from
     * its slot if every table stayed, else the page is looked at again. */
    i64 w;
    int waited = 0;
    if (!mmu_walk_wait(to, dva, &ds, &w)) {
        if (w != MMU_WAITED_KEPT || !(sn = source_again(ss)))
            return w > 0 ? PAGE_AGAIN : w < 0 ? (int)w : -KM_ENOMEM;
        if (!((given = given_of(sn, ss, rights)) & KM_R))
            return PAGE_WAITED;
        waited = PAGE_WAITED;
    }
    int r = transfer_to(from, sva, sn, ss, to, dva, &ds, given, grant);
    return r < 0 ? r : r | waited;
}

/* transfer_page once the destination's tables are there (slot ds). */
static inline __attribute__((always_inline)) int transfer_to(struct task *from, u64 sva, struct mnode *sn,
                                                             struct mmu_slot *ss, struct task *to, u64 dva,
                                                             struct mmu_slot *ds, u32 given, bool grant)
{
    if (!ds->node && !nodetable_restore(to, dva, ds))
        return -KM_ENOMEM;
    struct mnode *dn = *ds->node;
    if (mmu_present(ds) && !dn)
        return 0;
    if (__builtin_expect(parts_out(), 0) &&
        (dn = transfer_nodes_in(sn, ss, dn, to, dva, ds, grant, given)) == NODES_SHORT)
        return -KM_ENOMEM;
    if (dn && mmu_phys(ds) == mmu_phys(ss) && !mn_is_out(dn) && !node_lent(dn)) {
        if (!grant) {
            grow_rights(dn, given);
            return 1;
        }
        if (is_ancestor(dn, sn)) { /* granted back where it came from */
            struct medge *list;
            if (!edges_take(node_task(node_parent(sn)), sn, &list))
                return -KM_ENOMEM;
            dissolve_node(sn, list);
            if (!ss->node)
                slot_of(sn, ss); /* (as in move_node) */
            slot_clear(ss);
            mmu_clear(from, sva, ss);
            node_free(sn);
            return 1;
        }
    }
    /* Everything the page needs is taken before anything changes: the
     * receiver's node, and the sender's edge (map) or edges for what
     * derives from the mapping granted, in the receiver's pages (grant). */
    struct mnode *nn = node_alloc(to);
    struct medge *e = NULL;
    if (!nn || !(grant ? edges_take(to, sn, &e) : (e = mslot_alloc(from, true)) != NULL)) {
        if (nn)
            node_free(nn);
        return -KM_ENOMEM;
    }
    if (dn) { /* a different mapping (not sn's ancestor): it goes (by name if its node is out) */
        if (__builtin_expect(mn_is_out(dn), 0) ? mmu_kept(ds) & MN_LENT : node_lent(dn)) {
            /* unless lent to the kernel: it stays, as a fixed page stays,
             * until its lender unmaps it.  (Exporting it here could take
             * the node page nn is in, or sn, with it.) */
            edges_put(e);
            node_free(nn);
            return 0;
        }
        if (__builtin_expect(mn_is_out(dn), 0))
            remove_out(to, dva, ds, true);
        else
            remove_tree(dn); /* (maybe one of sn's children: adopt_children frees its edge) */
    }
    if (grant) {
        move_node(sn, ss, nn, dva, ds, given, e);
    } else {
        nn->word = dva | given;
        link_child(sn, nn, e);
        *ds->node = nn;
        mmu_set(to, dva, ds, mmu_phys(ss), given); /* the source has access: the frame is not lent */
    }
    return 1;
}

/* t's nodes of [va, end) that are out brought in (before a send from
 * there); false when memory is short. */
static bool nodes_need(struct task *t, u64 va, u64 end)
{
    struct mmu_slot s;
    for (u64 v = mmu_next_node(t, va, end); v < end; v = mmu_next_node(t, v + PAGE_SIZE, end))
        if (page_out(t, v, &s) && !node_in(t, v, &s))
            return true;
    return false;
}

/* The next page of from's at or after va, below end, that may be sent. */
static u64 next_source(struct task *from, u64 va, u64 end)
{
    u64 n = mmu_next_node(from, va, end);
    return (from->flags & TASK_F_SIGMA0) ? sigma0_next(from, va, n) : n;
}

static i64 transfer_pages(struct task *from, u64 word0, u64 word1, struct task *to, u64 acceptor)
{
    struct xfer x;
    int err = plan(word0, word1, acceptor, &x);
    if (err)
        return err;
    /* sigma0 maps, never grants away: it would make a root again for a
     * frame whose tree went with the grant, and a frame must have one tree
     * (a lend suspends every mapping through it). */
    if (from->flags & TASK_F_SIGMA0)
        x.grant = false;
    i64 pages = 0, r;
    u64 end = x.src + x.len, va = x.src;
    /* Where a page is missing, the operation may wait for it here and go
     * on with the page it stopped at (kmem_op_wait): nothing is held, and
     * everything is looked at again, from the checks of what is out on. */
again:
    /* Tables that are out: the source's, the destination's, back first
     * (one pass over a task's nodes for all of a range, or the kpager's) */
    if (nodetable_need(from, va, end) || nodetable_need(to, x.dst + (va - x.src), x.dst + x.len) ||
        (__builtin_expect(from->mn_out != 0, 0) && nodes_need(from, va, end))) {
        if ((r = kmem_op_wait()) == 0)
            goto again;
        return r;
    }
    /* Page by page while the source pages are mapped (one walk each, which
     * finds the node to send); past a page with nothing to send, a scan
     * finds the next one (sparse regions, the whole space).  The next page
     * is looked at only after this one is done: a replaced mapping may
     * take source mappings with it. */
    while (va < end) {
        struct mmu_slot ss;
        struct mnode *sn = NULL;
        if (reserved(va) || (!(sn = node_at(from, va, &ss)) && !sigma0_page(from, va))) {
            va = next_source(from, va + PAGE_SIZE, end);
            continue;
        }
        u64 dva = x.dst + (va - x.src);
        if (!reserved(dva)) {
            r = transfer_page(from, va, sn, &ss, to, dva, x.rights, x.grant);
            if (__builtin_expect((u64)r > 1, 0)) { /* (one test for what is not 0 or 1) */
                if (r == PAGE_AGAIN || (r == -KM_ENOMEM && (r = kmem_op_wait()) == 0))
                    goto again; /* (this page again: it changed nothing) */
                if (r < 0)
                    return r;
                pages += r & 1; /* PAGE_WAITED: the rest looked at again */
                va += PAGE_SIZE;
                goto again;
            }
            pages += r;
        }
        va += PAGE_SIZE;
    }
    return pages;
}

i64 mapdb_transfer(struct task *from, u64 word0, u64 word1, struct task *to, u64 acceptor)
{
    i64 r = transfer_pages(from, word0, word1, to, acceptor);
    kmem_reclaim_orphans(); /* mappings replaced may have been lenders */
    return r;
}

/* ---- unmap, destroy, lookup -------------------------------------------- */

static struct mnode *unlend(struct mnode *n, struct mmu_slot *s);
static void unlend_out(struct task *t, u64 va, struct mmu_slot *s, u64 phys);

/* revoke() for a lender whose node is out and cannot come in: its page
 * back from the kernel by name (no memory), then, with self, its mapping
 * removed. */
static u64 revoke_lent_out(struct task *t, u64 va, struct mmu_slot *s, bool self)
{
    u64 phys = mmu_phys(s);
    if (kmem_reclaim(phys) && page_out(t, va, s) && (mmu_kept(s) & MN_LENT))
        unlend_out(t, va, s, phys);
    return self && page_out(t, va, s) ? remove_out(t, va, s, true) : 1;
}

static i64 revoke(struct mnode *x, u32 rights, bool self)
{
    if (node_lent(x)) { /* the kpager takes its page back from the kernel */
        struct mmu_slot s;
        struct task *t = node_task(x);
        u64 va = node_va(x);
        slot_of(x, &s);
        x = unlend(x, &s);
        if (!x) /* its page's export took its node out (or its mapping) */
            return self && page_out(t, va, &s) ? (i64)remove_out(t, va, &s, true) : 1;
        if (!self)
            return 1;
    }
    u64 count = 0;
    if (!(rights & KM_R) && __builtin_expect(parts_out(), 0) && !tree_in_below_or_drop(x, &count))
        return -KM_ENOMEM; /* asked of the kpager: redone after */
    if (rights & KM_R)
        return (i64)(self ? remove_tree(x) : remove_descendants(x));
    count += reduce_descendants(x, rights);
    if (self && (node_rights(x) & rights)) {
        set_rights(x, node_rights(x) & ~rights);
        count++;
    }
    return (i64)count;
}

i64 mapdb_unmap(struct task *t, u64 fpage, bool self)
{
    if (!fpage_ok(fpage))
        return -KM_EINVAL;
    u64 base = KM_FPAGE_BASE(fpage), end = base + (1ull << KM_FPAGE_LOG2(fpage));
    u32 rights = KM_FPAGE_RIGHTS(fpage);
    if (!region_ok(base, end - base))
        return -KM_EINVAL;
    i64 count = 0;
    struct mmu_slot s;
    if (rights && nodetable_need(t, base, end)) /* (asked for: redone after) */
        return -KM_ENOMEM;
    for (u64 va = mmu_next_node(t, base, end); rights && va < end; va = mmu_next_node(t, va + PAGE_SIZE, end)) {
        if (!mmu_walk(t, va, MMU_FIND, &s))
            continue;
        struct mnode *n = s.node ? *s.node : NULL;
        if (__builtin_expect(!n || mn_is_out(n), 0)) {
            /* a removal: by name (not a lender's: its unmap takes its page back) */
            if ((rights & KM_R) && slot_out(&s) && !(mmu_kept(&s) & MN_LENT)) {
                count += (i64)remove_out(t, va, &s, self);
                continue;
            }
            n = node_at_out(t, va, &s);
        }
        if (n) {
            i64 r = revoke(n, rights, self);
            if (r < 0) {
                count = r;
                break;
            }
            count += r;
        } else if (page_out(t, va, &s)) { /* out, and no memory to bring it in */
            if (kmem_op && kmem_op->missing_set) {
                count = -KM_ENOMEM; /* asked of t's kpager: redone after */
                break;
            }
            count += (i64)(mmu_kept(&s) & MN_LENT ? revoke_lent_out(t, va, &s, self)
                                                  : remove_out(t, va, &s, self)); /* (a removal, where rights were asked) */
        }
    }
    kmem_reclaim_orphans();
    return count;
}

int mapdb_task_init(struct task *t)
{
    if (!chain_salt) /* (before any name is made: the first task) */
        chain_salt = (rdtsc() * 0x9e3779b97f4a7c15ull) | 1;
    t->mapdb = t->mapdb_edges = NULL; /* node pages come with the first mapping */
    t->mn_slots = 0;
    t->mn_kept[0] = t->mn_kept[1] = NULL;
    return 0;
}

void mapdb_task_destroy(struct task *t)
{
    struct mmu_slot s;
    nodetable_rebuild(t, 0, USER_TOP);
    for (u64 va = mmu_next_node(t, 0, USER_TOP); va < USER_TOP;
         va = mmu_next_node(t, va + PAGE_SIZE, USER_TOP)) {
        struct mnode *n;
        if (page_out(t, va, &s)) /* (removed by name: no node brought in to go) */
            remove_out(t, va, &s, true);
        else if ((n = node_at(t, va, &s)))
            remove_tree(n);
    }
    kmem_reclaim_orphans(); /* t lent pages: the kernel lets go of them now */
    for (int i = 0; i < SIGMA0_RANGES; i++)
        if (sigma0[i].t == t)
            sigma0[i].t = NULL;
    if (t->mapdb || t->mapdb_edges)
        panic("mapdb_task_destroy: task %u keeps node pages", t->number);
}

int mapdb_map_root(struct task *t, u64 va, u64 phys, u32 rights, bool kernel_owned)
{
    struct mmu_slot s;
    if ((va | phys) & (PAGE_SIZE - 1) || reserved(va) || !(rights & KM_R) || rights & ~KM_RWX)
        return -KM_EINVAL;
    return make_root(t, va, phys, rights, kernel_owned ? MN_KERNEL_OWNED : 0, &s);
}

/* has_access for t's page va whose node is out, by name (no memory). */
static bool has_access_out(struct task *t, u64 va, struct mmu_slot *s)
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

bool mapdb_lookup(struct task *t, u64 va, u64 *phys, u32 *rights)
{
    struct mmu_slot s;
    va = ALIGN_DOWN(va, PAGE_SIZE);
    if (va < USER_TOP && page_out(t, va, &s)) { /* by name: nothing brought in */
        if (!has_access_out(t, va, &s))
            return false;
        *phys = mmu_phys(&s);
        *rights = mmu_kept(&s) & MN_RIGHTS;
        return true;
    }
    struct mnode *n = va < USER_TOP ? node_at(t, va, &s) : NULL;
    if (!n || !(kmem_ever_lent ? has_access(n, &s) : mmu_present(&s)))
        return false;
    *phys = mmu_phys(&s);
    *rights = node_rights(n);
    return true;
}

/* ---- pages lent to the kernel (kmem=kpager, abi/kspace.h) ------------- */

/* A lent page comes back: the kernel lets go of it, its lender's mapping
 * gets access again (for a TCB in use: once it is exported). */
static void unlend_out(struct task *t, u64 va, struct mmu_slot *s, u64 phys);

static struct mnode *unlend(struct mnode *n, struct mmu_slot *s)
{
    u64 phys = mmu_phys(s), va = node_va(n);
    struct task *t = node_task(n);
    if (!kmem_reclaim(phys))
        return n; /* deferred: the kernel gives it back once exported */
    /* Found again: the export may have taken n's own node page (a task
     * that lends itself a page for its nodes) or n's mapping. */
    if (!(n = node_at(t, va, s))) {
        if (page_out(t, va, s))
            unlend_out(t, va, s, phys);
        return NULL;
    }
    n->word &= ~MN_LENT;
    set_pte(n, s, phys);
    return n;
}

/* unlend for a lender whose node is out: its kept word loses MN_LENT. */
static void unlend_out(struct task *t, u64 va, struct mmu_slot *s, u64 phys)
{
    u32 kept = mmu_kept(s) & ~(u32)MN_LENT;
    if (kmem_lent_frames && frame_lend(phys)->lender)
        mmu_set_suspended(t, va, s, phys);
    else
        mmu_set(t, va, s, phys, kept & MN_RIGHTS);
    mmu_keep(s, kept);
}

/* Takes access to n's frame away from every other mapping of it: the
 * tree's (a frame has one tree), its ancestors' included, so that no user
 * thread can read or write a page the kernel uses.  They get it back on
 * their next touch once the frame is back (mapdb_soft_fault).  n has a
 * parent or children (a root alone has no other mapping). */
static __attribute__((noinline)) void suspend_others(struct mnode *n)
{
    struct mnode *root = n;
    while (node_parent(root))
        root = node_parent(root);
    for (struct mnode *m = root; m; m = next_below(m, root)) {
        struct mmu_slot s;
        if (m == n)
            continue;
        slot_of(m, &s);
        mmu_suspend(node_task(m), node_va(m), &s);
    }
}

bool mapdb_has_free_node(struct task *t)
{
    struct mnode_page *pg = t->mapdb;
    return pg && pg->free;
}

/* A frame with a loan record (frame_lend's checks, as one compare): the
 * frame of a user mapping outside RAM is never lent. */
static inline __attribute__((always_inline)) bool lendable_frame(u64 phys)
{
    return phys - PAGE_SIZE < (frame_aux_frames - 1) << PAGE_SHIFT; /* (phys: a PTE's frame, page-aligned) */
}

/* The lend of n, t's read-write mapping of va (slot s), in any case: not
 * present (access to get back first, or none), with children or a
 * parent, parts of the database out.  true and *phys; false, nothing
 * changed. */
static inline __attribute__((always_inline)) bool lend_mapping(struct task *t, u64 va, struct mnode *n,
                                                               struct mmu_slot *s, u64 *phys)
{
    /* (Present: not lent, nor is any mapping of the frame.) */
    if (!(mmu_present(s) || has_access(n, s)) || !lendable_frame(mmu_phys(s)))
        return false; /* also: lent, or another mapping of the frame is */
    if (parts_out() && !tree_in(n)) /* (suspend_others goes over every mapping of the frame) */
        return false;
    remove_descendants(n); /* nobody reaches the frame through this mapping... */
    *phys = mmu_phys(s);
    n->word |= MN_LENT;
    mmu_suspend(t, va, s);
    if (n->up)
        suspend_others(n); /* ...nor through any other */
    return true;
}

/* mapdb_lend's work: true and *phys, or false and nothing changed. */
static bool lend_page(struct task *t, u64 va, u64 *phys)
{
    struct mmu_slot s;
    struct mnode *n = !reserved(va) ? node_at(t, va, &s) : NULL;
    if (!n || (node_rights(n) & (KM_R | KM_W)) != (KM_R | KM_W))
        return false;
    return lend_mapping(t, va, n, &s, phys);
}

int mapdb_lend(struct task *t, u64 va, u64 *phys)
{
    return lend_page(t, va, phys) ? 0 : -KM_EINVAL;
}

/* Whether n is a root with no children (none detached either) and every
 * part of the database is in (parts_out): the frame has no other mapping
 * to take access from, or to look for.  One or-chain, one branch. */
static inline __attribute__((always_inline)) bool alone_all_in(const struct mnode *n)
{
    return !((uptr)n->up | (uptr)n->child | (n->word & MN_KIDS_OUT) | mapdb_nodes_out | mapdb_detached);
}

/* The page bound in t's supply (lent already, frame phys) and charged,
 * the import traced (from t0, a TSC read, when not 0); *got counted up. */
static inline __attribute__((always_inline)) void supply_lent(struct task *t, u64 req, u64 phys, u64 loan, u64 t0,
                                                              u32 *got)
{
    kmem_supply_put(t, req, phys, &frame_lend_records[phys >> PAGE_SHIFT], loan); /* (lendable_frame) */
    if (__builtin_expect(t0 != 0, 0))
        trace_write_since(KM_EV_KPAGE_IMPORT, KM_KREQ_ADDR(req) | t->number, t0);
    ++*got;
}

/* kmem_supply_lend for a page not found in line (no node table there, or
 * it is out; a node that is out): the whole look-up. */
static __attribute__((noinline)) void supply_lend_slow(struct task *t, u64 req, struct task *lender, u64 va,
                                                       u32 *got, u64 t0)
{
    u64 phys;
    if (lend_page(lender, va, &phys))
        supply_lent(t, req, phys, va | lender->number, t0, got);
}

/* kmem_supply_lend for lender's read-write mapping n of va (its PTE pte,
 * its node slot node) that is not alone, not present, or with parts of
 * the database out.  (The slot's parts, not a pointer to it: the in-line
 * path keeps them in registers.) */
static __attribute__((noinline)) void supply_lend_shared(struct task *t, u64 req, struct task *lender, u64 va,
                                                         u64 *pte, void **node, u32 *got, u64 t0)
{
    struct mmu_slot s = {.pte = pte, .node = node};
    u64 phys;
    if (lend_mapping(lender, va, *node, &s, &phys))
        supply_lent(t, req, phys, va | lender->number, t0, got);
}

/* kmem_supply_lend (kernel/kmem.h), here so that the lend is in line:
 * the supply looked at first (a page is never lent only to be given
 * back), then the page lent, bound in the supply and charged.  In line:
 * the lender's page found (mmu_find_in: its tables and node table there
 * and in) and, when it is a present mapping alone (a root with no
 * children: no other mapping of its frame) and every part of the
 * database in, lent here: its PTE's present bit cleared and, last, the
 * TLB shootdown (the page's user access is gone on every CPU before this
 * returns; the kernel uses it only after, under the kernel lock).  The
 * trace's cost: from one TSC read here to the record's own (the
 * shootdown after it not counted), the record written in line (no call
 * for it). */
void kmem_supply_lend(struct task *t, u64 req, struct task *lender, u64 va, u32 *got)
{
    if (kmem_supply_room(t, req) < 0)
        return;
    u64 t0 = trace_on(KPAGE_IMPORT) ? rdtsc_raw() | 1 : 0;
    struct mmu_slot s;
    struct mnode *n;
    /* (Of reserved(va), only the user space's end: a page of the UTCB
     * area has no node, map refuses it, so n excludes it here.) */
    if (__builtin_expect(va >= USER_TOP || !mmu_find_in(&lender->as, va, &s) || !(n = *s.node) || mn_is_out(n), 0))
        return supply_lend_slow(t, req, lender, va, got, t0);
    if (~node_rights(n) & (KM_R | KM_W)) /* (not read-write) */
        return;
    u64 e = *s.pte;
    u64 phys = e & MMU_PTE_ADDR;
    if (__builtin_expect(!(e & MMU_PTE_P) || !alone_all_in(n) || !lendable_frame(phys), 0))
        return supply_lend_shared(t, req, lender, va, s.pte, s.node, got, t0);
    n->word |= MN_LENT;
    *s.pte = e & ~MMU_PTE_P; /* mmu_suspend: the frame stays in the entry (mmu_phys) */
    lender->as.suspended = true;
    kmem_supply_put(t, req, phys, &frame_lend_records[phys >> PAGE_SHIFT], va | lender->number); /* (lendable_frame) */
    ++*got;
    if (__builtin_expect(t0 != 0, 0))
        trace_ring_put(KM_EV_KPAGE_IMPORT, KM_KREQ_ADDR(req) | t->number, t0, true);
    arch_tlb_shootdown(&lender->as, va, 1);
}

void mapdb_unlend(u32 task_number, u64 va, u64 phys)
{
    struct task *t = task_by_number(task_number);
    struct mmu_slot s;
    if (t && page_out(t, va, &s) && (mmu_kept(&s) & MN_LENT) && mmu_phys(&s) == phys) {
        unlend_out(t, va, &s, phys); /* (no memory taken here: a page is being given back) */
        return;
    }
    struct mnode *n = t ? node_at(t, va, &s) : NULL;
    if (!n || !node_lent(n) || mmu_phys(&s) != phys)
        panic("mapdb_unlend: no lent mapping of %lx at task %u page %lx", phys, task_number, va);
    n->word &= ~MN_LENT;
    set_pte(n, &s, phys);
}

bool mapdb_soft_fault_slow(struct task *t, u64 va)
{
    struct mmu_slot s;
    va = ALIGN_DOWN(va, PAGE_SIZE);
    /* One walk: a page with no table or a present PTE is no soft fault. */
    if (va >= USER_TOP || reserved(va) || !mmu_walk(t, va, MMU_FIND, &s) || mmu_present(&s))
        return false;
    if (slot_out(&s)) /* by name: a fault must not need memory */
        return has_access_out(t, va, &s);
    struct mnode *n = s.node && !mn_is_out(*s.node) ? *s.node : node_at_out(t, va, &s);
    return n && !mmu_present(&s) && has_access(n, &s);
}

void mapdb_drop_region(struct task *t, u64 va, u64 end)
{
    struct mmu_slot s;
    nodetable_rebuild(t, va, end);
    for (u64 v = mmu_next_node(t, va, end); v < end; v = mmu_next_node(t, v + PAGE_SIZE, end)) {
        struct mnode *n;
        if (page_out(t, v, &s))
            remove_out(t, v, &s, true);
        else if ((n = node_at(t, v, &s)))
            remove_tree(n);
    }
}

int mapdb_reclaim_node_page(struct task *t, u64 phys)
{
    struct mnode_page *pg = phys_to_virt(phys);
    if (pg->task != t || pg->detached)
        return -1;
    if (!pg->edges) {
        export_node_page(t, pg); /* localised: the mappings stay */
        return 1;
    }
    /* An edge page: off the list first, so that freeing its last slot
     * keeps the page; then each edge leaves localised: its child stays,
     * detached (its up names its parent, which is flagged), unless the
     * child's node is out too: then nothing would hold the link, and the
     * child goes with what derives from it (t could have unmapped it). */
    list_remove(list_of(t, pg->edges), pg);
    if (t->mn_kept[pg->edges] == pg)
        t->mn_kept[pg->edges] = NULL;
    pg->detached = true;
    struct medge *slots = (struct medge *)page_nodes(pg);
    u64 *rec = (u64 *)slots;
    u32 n = 0;
    for (usize i = 0; i < NODES_PER_PAGE; i++) {
        struct medge *e = &slots[i];
        struct mnode *c = e->child;
        struct mmu_slot cs;
        if (!c)
            continue;
        if (mn_is_out(c)) { /* by its name: its edge, here, with it */
            struct task *ct = task_by_number(mn_name_task((u64)c));
            if (!page_out(ct, mn_name_va((u64)c), &cs))
                panic("mapdb: out node %lx has no page", (u64)c);
            remove_out(ct, mn_name_va((u64)c), &cs, true);
            continue;
        }
        u64 pname, pva;
        if (mn_is_out(e->parent)) {
            pname = (u64)e->parent; /* (flagged already: KEPT_KIDS) */
            named_parent_remove(e);
        } else {
            pname = name_of(e->parent);
            *link_to(e) = e->next;
            e->parent->word |= MN_KIDS_OUT;
        }
        pva = mn_name_va(pname);
        c->up = (struct medge *)pname;
        named_detached_add(c);
        /* the slot becomes its record: the page of t's it came from
         * (abi/kspace.h; not the child's rights: the child may change
         * them, and they are not t's kpager's to know) */
        rec[4 * i] = pva | KM_R;
        rec[4 * i + 1] = rec[4 * i + 2] = rec[4 * i + 3] = 0;
        pg->used--;
        t->mn_slots--;
        n++;
    }
    if (pg->used)
        panic("mapdb: reclaimed edge page keeps %u slots", pg->used);
    for (usize i = 0; i < NODES_PER_PAGE; i++)
        if (!rec[4 * i]) /* (a free slot's link is a kernel pointer) */
            rec[4 * i + 1] = rec[4 * i + 2] = rec[4 * i + 3] = 0;
    memset(pg, 0, sizeof *pg);
    ((u64 *)pg)[0] = n;
    if (!t->mn_slots)
        free_kept(t); /* (as slot_free would: this page is not on a list now) */
    return 1;
}

/* ---- consistency check -------------------------------------------------- */

/* A detached node: found under its parent's name, the parent's page in
 * use, the parent flagged (MN_KIDS_OUT, or KEPT_KIDS while out). */
static const char *check_detached(struct mnode *n, struct mmu_slot *s)
{
    u64 pname = (u64)n->up;
    bool found = false;
    for (struct mnode *c = named_detached[chain_of(pname)]; c && !found; c = c->named)
        found = c == n;
    if (!found)
        return "a detached node is not under its parent's name";
    struct task *pt = task_by_number(mn_name_task(pname));
    struct mmu_slot ps;
    if (!pt || !mmu_walk(pt, mn_name_va(pname), MMU_FIND, &ps) || !mmu_used(&ps))
        return "a detached node's parent is gone";
    struct mnode *p = ps.node && !mn_is_out(*ps.node) ? *ps.node : NULL;
    if (p ? !(p->word & MN_KIDS_OUT) : !(mmu_kept(&ps) & KEPT_KIDS) && !(ps.nt_out && !mmu_kept(&ps)))
        return "a detached node's parent is not flagged";
    if (mmu_phys(&ps) != mmu_phys(s))
        return "a detached node and its parent map different frames";
    u32 prights = p ? node_rights(p) : mmu_kept(&ps) ? mmu_kept(&ps) & MN_RIGHTS : KM_RWX;
    if (node_rights(n) & ~prights)
        return "a detached node has rights its parent lacks";
    return NULL;
}

/* Invariants 1..5 for node n found in t's slot for va; NULL or what is wrong. */
static const char *check_node(struct task *t, u64 va, struct mmu_slot *s, struct mnode *n)
{
    u32 r = node_rights(n);
    if (node_task(n) != t || node_va(n) != va)
        return "node in a slot that is not its own";
    if (node_lent(n) ? mmu_present(s) || n->child
                     : mmu_present(s) && ((mmu_rights(s) & KM_W) != (r & KM_W) || (r & ~mmu_rights(s))))
        return "PTE does not match the node";
    if (!node_lent(n) && mmu_present(s) && frame_lend(mmu_phys(s))->lender)
        return "a frame lent to the kernel is accessible to user level";
    if (!(r & KM_R) || (n->word & ~(MN_VA | MN_RIGHTS | MN_KERNEL_OWNED | MN_LENT | MN_KIDS_OUT)))
        return "node without R, or with stray bits";
    if (mn_is_out(n->up)) { /* detached: under its parent's name, the parent flagged */
        const char *err = check_detached(n, s);
        if (err)
            return err;
    } else if (n->up && (n->up->child != n || page_of(n->up)->edges != 1)) {
        return "the edge to the node does not lead to it";
    }
    struct mnode *p = n->up && !mn_is_out(n->up) && !mn_is_out(n->up->parent) ? node_parent(n) : NULL; /* (out: by name) */
    if (p) {
        struct mmu_slot ps;
        slot_of(p, &ps);
        if (r & ~node_rights(p))
            return "node has rights its parent lacks";
        if (mmu_phys(&ps) != mmu_phys(s))
            return "node and parent map different frames";
        if (n->word & MN_KERNEL_OWNED)
            return "kernel-owned node that is not a root";
        if (n->up->child != n || page_of(n->up)->task != node_task(p))
            return "edge to the node is not its parent's";
        bool found = false;
        for (struct medge *e = p->child; e && !found; e = e->next)
            found = e == n->up;
        if (!found)
            return "node missing from its parent's list";
    }
    for (struct medge *e = n->child; e; e = e->next)
        if (e->parent != n || (!mn_is_out(e->child) && e->child->up != e) || page_of(e)->task != t)
            return "edge of the node does not lead back to it, or is not its task's";
    return NULL;
}

/* Invariants for t's page va whose node is out (slot s): its word kept in
 * its PTE; named where its edges are: the one it came through (unless a
 * root) and its own, in t's pages.  NULL or what is wrong; *edges counts
 * its own. */
static const char *check_out(struct task *t, u64 va, struct mmu_slot *s, u64 *edges)
{
    u64 name = MN_OUT_NAME(t->number, va);
    u32 kept = mmu_kept(s);
    if (!(kept & KM_R) || (s->node && *s->node != MN_SLOT_OUT))
        return "an out node's page does not say so";
    bool found = false;
    for (struct medge *e = named_child[chain_of(name)]; e && !found; e = e->named)
        found = (u64)e->child == name;
    if (found != !!(kept & KEPT_DERIVED))
        return "an out node's edge from its parent is missing, or a root has one";
    for (struct medge *e = named_parent[chain_of(name)]; e; e = e->next)
        if ((u64)e->parent == name) {
            if (page_of(e)->task != t || !page_of(e)->edges || !(kept & KEPT_KIDS))
                return "an out node's edge is not in its task's edge pages, or not noted in its PTE";
            ++*edges;
        }
    return NULL;
}

const char *mapdb_check(struct task *t)
{
    u64 nodes = 0, edges = 0, used = 0, npages = 0, empties = 0, out = 0, pts, nts;
    struct mmu_slot s;
    for (u64 va = mmu_next_node(t, 0, USER_TOP); va < USER_TOP; va = mmu_next_node(t, va + PAGE_SIZE, USER_TOP)) {
        struct mnode *n = node_peek(t, va, &s);
        const char *err;
        if (!n && page_out(t, va, &s)) {
            if ((err = check_out(t, va, &s, &edges)))
                return err;
            out++;
            continue;
        }
        err = n ? check_node(t, va, &s, n) : "a PTE in use where the node table is out, without a node";
        if (err)
            return err;
        nodes++;
        for (struct medge *e = n->child; e; e = e->next)
            edges++; /* (in t's pages: check_node) */
    }
    u64 used_kind[2] = {0, 0};
    for (int kind = 0; kind < 2; kind++) {
        struct mnode_page *head = *list_of(t, kind), *pg = head;
        bool seen_full = false;
        empties = 0;
        do {
            if (!pg)
                break;
            if (pg->task != t || pg->next->prev != pg || pg->edges != kind)
                return "node page list broken";
            if (!pg->used && (empties++ || t->mn_kept[kind] != pg))
                return "empty node or edge pages kept: more than one, or not the one noted";
            if (seen_full && pg->free)
                return "node page with free slots behind a full one";
            seen_full |= !pg->free;
            used_kind[kind] += pg->used;
            npages++;
        } while ((pg = pg->next) != head);
    }
    used = used_kind[0] + used_kind[1];
    if (out != t->mn_out)
        return "the count of nodes out differs from the pages whose node is out";
    if (used_kind[0] != nodes || used_kind[1] != edges)
        return "node or edge pages hold slots that no mapping of the task's leads to";
    if (used != t->mn_slots || (!used && npages))
        return "count of slots in use wrong, or empty pages kept by a task using none";
    mmu_count_tables(t, &pts, &nts);
    if (mmu_count_out(t) != t->as.nt_out)
        return "the count of node tables out differs from the tables marked out";
    u64 reserve = 0;
    for (int i = 0; i < KMEM_SUPPLY; i++) { /* supplied, not used yet */
        u32 type = KM_KREQ_TYPE(t->supply[i].req);
        if (!t->supply[i].phys || type == KMEM_TCB || type == KMEM_UTCB)
            continue; /* TCB pages: thread.c's to count, not this */
        type == KMEM_MAPNODE ? npages++ : type == KMEM_NODETABLE ? nts++
                                      : type == KMEM_RESERVE   ? reserve++ : pts++;
    }
    if (t->kmem.pages[KMEM_RESERVE] != reserve)
        return "kmem reserve counter differs from the reserve held";
    if (t->kmem.pages[KMEM_MAPNODE] != npages || t->kmem.pages[KMEM_PAGETABLE] != pts ||
        t->kmem.pages[KMEM_NODETABLE] != nts)
        return "kmem counters differ from the pages held";
    return NULL;
}
