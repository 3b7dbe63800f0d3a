/* Mapping database: pages lent to the kernel (kmem=kpager): the lend (in
 * line in kmem_supply_lend, the kernel page fault's answer), the page
 * given back, the soft fault that gives a mapping its access again.
 * Design notes (data structures, invariants, locking): kernel/mapdb.c;
 * what the files share: kernel/mapdb_internal.h. */
#include <abi/kspace.h>
#include <abi/syscall.h>
#include <kernel/kmem_supply.h>
#include <kernel/mapdb_internal.h>
#include <kernel/trace.h>

/* ---- pages lent to the kernel (kmem=kpager, abi/kspace.h) ------------- */

/* unlend for a lender whose node is out: its kept word loses MN_LENT. */
void unlend_out(struct task *t, u64 va, struct mmu_slot *s, u64 phys)
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
