/* Mapping database: nodes paged out (kmem=kpager), the names they are
 * found by while out, and a kpager's reclaim of a node page or an edge
 * page (mapdb_reclaim_node_page).
 * Design notes (data structures, invariants, locking): kernel/mapdb.c;
 * what the files share: kernel/mapdb_internal.h. */
#include <abi/kspace.h>
#include <kernel/mapdb_internal.h>
#include <kernel/string.h>

struct mnode_page *mapdb_reclaiming;

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
struct medge *named_child[NAMED_CHAINS], *named_parent[NAMED_CHAINS];
u64 chain_salt; /* odd; set with the first task (mapdb_task_init) */
u64 mapdb_nodes_out; /* nodes out, of all tasks: 0 spares every tree walk a look */

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
struct mnode *named_detached[NAMED_CHAINS];
u64 mapdb_detached; /* detached nodes, of all tasks: 0 spares the walks a look */

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

void named_detached_remove(struct mnode *c)
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

void named_parent_remove(struct medge *e)
{
    if (!named_parent_take((u64)e->parent, e))
        panic("mapdb: edge %p of an out node is not under its name", (void *)e);
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
 * The bits a PTE keeps for its node while out (KEPT_*): kernel/mapdb_internal.h.
 */

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

__attribute__((noinline)) u64 absorb_slow(struct mnode *p)
{
    p->word &= ~MN_KIDS_OUT;
    return absorb_into(p, named_detached_take_all(name_of(p)));
}

/* The out node name's page: cleared, its frame let go, its edges given to
 * p (a node of the walk removing it, or a stand-in), the nodes detached
 * from it removed (absorb_into: how many).  Its edge from its parent is
 * the caller's to have taken. */
u64 drop_out(u64 name, struct mnode *p)
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
struct mnode *node_in(struct task *t, u64 va, struct mmu_slot *s)
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

struct mnode *node_in_named(u64 name)
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
bool reattach_kids(struct mnode *n)
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

bool tree_in_above(struct mnode *n)
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
bool tree_in_below(struct mnode *x)
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

static bool trees_in(struct mnode *sn, struct mnode *dn, bool above_sn, bool below_sn);

/* For transfer_page: a destination mapping dn of the same frame stays (its
 * rights grow, or a grant dissolves into it), another goes (by name if
 * its node is out); the walks that follow (grow_rights, is_ancestor, a
 * grant's reduction) need their nodes: those of them that are out come
 * in, and only those.  dn (brought in if it stays), or NODES_SHORT.
 * (dn goes by value: its address taken would keep it in memory on the
 * common path.) */
__attribute__((noinline, cold)) struct mnode *transfer_nodes_in(struct mnode *sn, struct mmu_slot *ss,
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
u64 remove_out(struct task *t, u64 va, struct mmu_slot *s, bool self)
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
