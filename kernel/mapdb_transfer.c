/* Mapping database: root mappings, sigma0's ranges, map and grant (the
 * fault path: mapdb_transfer, with the tree operations of a grant).
 * Design notes (data structures, invariants, locking): kernel/mapdb.c;
 * what the files share: kernel/mapdb_internal.h. */
#include <abi/kspace.h>
#include <kernel/mapdb_internal.h>
#include <kernel/nodetable.h>

/* ---- roots --------------------------------------------------------------- */

/* The slot of t's page va, tables and node table made (a node table that
 * is out brought back: kernel/nodetable.c); false when memory is short. */
static bool walk_create(struct task *t, u64 va, struct mmu_slot *s)
{
    return mmu_walk(t, va, MMU_CREATE_ALL, s) && (s->node || nodetable_restore(t, va, s));
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

int mapdb_map_root(struct task *t, u64 va, u64 phys, u32 rights, bool kernel_owned)
{
    struct mmu_slot s;
    if ((va | phys) & (PAGE_SIZE - 1) || reserved(va) || !(rights & KM_R) || rights & ~KM_RWX)
        return -KM_EINVAL;
    return make_root(t, va, phys, rights, kernel_owned ? MN_KERNEL_OWNED : 0, &s);
}

/* ---- sigma0 ------------------------------------------------------------- */

#define SIGMA0_RANGES 64

static struct sigma0_range {
    struct task *t; /* NULL: free entry */
    u64 base, end;
} sigma0[SIGMA0_RANGES];

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

void sigma0_drop(struct task *t)
{
    for (int i = 0; i < SIGMA0_RANGES; i++)
        if (sigma0[i].t == t)
            sigma0[i].t = NULL;
}

/* ---- map and grant ------------------------------------------------------ */

struct xfer {
    u64 src, dst, len; /* source and destination regions */
    u32 rights;        /* the fpage's */
    bool grant;
};

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

/* The tree operations of a grant (the mapping moves with what derives
 * from it; the edges of its children move to the receiver's pages). */
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
