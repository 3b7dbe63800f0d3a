/* Mapping database: mappings removed (the walks every removal takes:
 * unmap, replacement, revocation, a task's end), unmap, a task's end, a
 * region dropped (a page table revoked), lookup.
 * Design notes (data structures, invariants, locking): kernel/mapdb.c;
 * what the files share: kernel/mapdb_internal.h. */
#include <arch/cpu.h>
#include <kernel/mapdb_internal.h>
#include <kernel/nodetable.h>

/* ---- mappings removed ---------------------------------------------------- */

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

/* Unmaps n's page and frees n, which has left its tree (no children). */
void drop_mapping(struct mnode *n)
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
u64 remove_descendants_walk(struct mnode *x)
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

/* Removes x and everything derived from it. */
u64 remove_tree(struct mnode *x)
{
    u64 count = remove_descendants(x) + 1;
    unlink_node(x);
    drop_mapping(x);
    return count;
}

/* Takes rights (never KM_R) from every mapping derived from x; returns how
 * many had some of them. */
u64 reduce_descendants(struct mnode *x, u32 rights)
{
    u64 count = 0;
    for (struct mnode *n = next_below(x, x); n; n = next_below(n, x))
        if (node_rights(n) & rights) {
            set_rights(n, node_rights(n) & ~rights);
            count++;
        }
    return count;
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

/* ---- unmap, destroy, lookup -------------------------------------------- */

/* A lent page comes back: the kernel lets go of it, its lender's mapping
 * gets access again (for a TCB in use: once it is exported). */
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
    sigma0_drop(t);
    if (t->mapdb || t->mapdb_edges)
        panic("mapdb_task_destroy: task %u keeps node pages", t->number);
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
