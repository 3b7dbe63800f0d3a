/* Mapping database: the consistency check (mapdb_check: the invariants of
 * kernel/mapdb.c, and the kmem counters).
 * Design notes (data structures, invariants, locking): kernel/mapdb.c;
 * what the files share: kernel/mapdb_internal.h. */
#include <abi/kspace.h>
#include <kernel/mapdb_internal.h>
#include <kernel/nodetable.h>

/* ---- consistency check -------------------------------------------------- */

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
