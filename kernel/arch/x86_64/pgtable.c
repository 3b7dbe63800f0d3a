/* x86-64 page tables of user spaces and the node tables beside them (see
 * arch/mmu.h).  Portable C: no privileged instruction here, so host unit
 * tests run this file as written (hardware hooks: mmu.c).
 *
 * Tables: PML4 -> PDPT -> PD -> leaf table (PT), 512 entries each.  Upper
 * entries of the user half are P|W|U (the leaf entry decides the rights);
 * no large pages in the user half.  The node table of a leaf table is the
 * frame in the leaf table's aux word; its entry i is the mapping node of
 * the page in PTE i (or NULL).  Every table is charged to the space's task.
 */
#include <abi/kspace.h>
#include <abi/l4.h>
#include <abi/syscall.h>
#include <arch/layout.h>
#include <arch/mmu.h>
#include <kernel/frame.h>
#include <kernel/kmem.h>
#include <kernel/printk.h>
#include <kernel/task.h>

#define PTE_P MMU_PTE_P /* (mmu_present, mmu_phys: inline in arch/mmu.h) */
#define PTE_W 0x2ull
#define PTE_U 0x4ull
#define PTE_ADDR MMU_PTE_ADDR
#define LEAF_SHIFT 21 /* entries at this level point to leaf tables */

u64 mmu_pte_nx; /* set by mmu_init when EFER.NXE is on */

static u64 *table_of(u64 entry) { return phys_to_virt(entry & PTE_ADDR); }
static u64 index_at(u64 va, int shift) { return (va >> shift) & 511; }
static bool user_page(u64 va) { return va < USER_TOP && !(va & (PAGE_SIZE - 1)); }

static u64 pte_make(u64 phys, u32 rights)
{
    return phys | PTE_P | PTE_U | ((rights & KM_W) ? PTE_W : 0) | ((rights & KM_X) ? 0 : mmu_pte_nx);
}

static bool pml4_create(struct task *t);

bool aspace_create(struct task *t)
{
    t->as.pml4 = 0;
    t->as.lazy = true;
    t->as.nt_out = 0;
    t->as.suspended = false;
    return true;
}

/* The top-level table of a lazy space, made now (kspace KM_KS_PML4). */
bool aspace_top(struct task *t) { return t->as.pml4 || pml4_create(t); }

static bool pml4_create(struct task *t)
{
    if (!t->as.lazy)
        return false; /* destroyed */
    u64 p = kmem_page_alloc(t, KMEM_PAGETABLE, KM_KS_PML4);
    if (!p)
        return false;
    mmu_kernel_half(phys_to_virt(p));
    t->as.pml4 = p;
    t->as.lazy = false;
    return true;
}

/* The kspace address of the table that an entry at level `shift` (39:
 * PML4 entry, 30: PDPT entry, 21: PD entry) points to for va. */
static u64 ks_table(u64 va, int shift)
{
    return shift == 39 ? KM_KS_PDPT_OF(va) : shift == 30 ? KM_KS_PD_OF(va) : KM_KS_PT_OF(va);
}

/* Bumped whenever a table of any space goes (detached, destroyed): slots
 * taken before a wait are still good after it if it is unchanged (one
 * counter for all: a detach is rare, and a walk's source task is covered
 * too). */
static u64 tables_gen;

/* After a table's page was missing in a walk that may wait: waits for
 * it in place (kmem_op_wait).  *wait: MMU_WAITED_KEPT when the wait was
 * answered and no table went meanwhile, else MMU_WAITED (answered, and a
 * table went) or the wait's error (no wait possible here: -KM_ENOMEM).
 * true: answered, and no table went, so the entries the walk holds are
 * still its task's: it goes on from where it stopped. */
static bool waited(i64 *wait)
{
    if (!kmem_op || !kmem_op->missing_set)
        return false;
    u64 gen = tables_gen;
    i64 r = kmem_op_wait();
    bool kept = r == 0 && tables_gen == gen;
    *wait = r ? r : kept ? MMU_WAITED_KEPT : MMU_WAITED;
    return kept;
}

static inline __attribute__((always_inline)) void table_set(u64 *e, u64 f, int shift)
{
    if (shift == LEAF_SHIFT)
        frame_aux_set(f, 0); /* a new leaf table has no node table yet */
    *e = f | PTE_P | PTE_W | PTE_U;
}

/* The table for entry e (level shift) of va after its page was missing:
 * waited for until it is there (another thread of t may make it
 * meanwhile).  false: the walk ends (waited). */
static inline __attribute__((always_inline)) bool table_waited(struct task *t, u64 *e, u64 va, int shift,
                                                               i64 *wait)
{
    for (;;) {
        if (!waited(wait))
            return false;
        if (*e & PTE_P)
            return true;
        u64 f = kmem_page_alloc(t, KMEM_PAGETABLE, ks_table(va, shift));
        if (f) {
            table_set(e, f, shift);
            return true;
        }
    }
}

/* table_waited for the node table of leaf table leaf_phys: its frame, or 0. */
static inline __attribute__((always_inline)) u64 nt_waited(struct task *t, u64 leaf_phys, u64 va, i64 *wait)
{
    for (;;) {
        if (!waited(wait))
            return 0;
        u64 nt = frame_aux_get(leaf_phys);
        if (nt)
            return nt;
        if ((nt = kmem_page_alloc(t, KMEM_NODETABLE, KM_KS_NT_OF(va)))) {
            frame_aux_set(leaf_phys, nt);
            return nt;
        }
    }
}

/* The leaf table holding va's PTE under top-level table pml4, or NULL.
 * With t, missing tables are created (and charged to t); a new leaf table
 * starts without a node table.  With wait, a table's page that is missing
 * is waited for in place (table_waited); without (a constant), that code
 * folds away. */
static inline __attribute__((always_inline)) u64 *leaf_table(u64 pml4, u64 va, struct task *t, i64 *wait)
{
    u64 *tb = phys_to_virt(pml4);
    /* Unrolled: each level's shift and kspace address are constants (a
     * walk is on every map, fault and kernel page fault path). */
#pragma GCC unroll 3
    for (int shift = 39; shift >= LEAF_SHIFT; shift -= 9) {
        u64 *e = &tb[index_at(va, shift)];
        if (!(*e & PTE_P)) {
            if (!t)
                return NULL;
            u64 f = kmem_page_alloc(t, KMEM_PAGETABLE, ks_table(va, shift));
            if (f)
                table_set(e, f, shift);
            else if (!wait || !table_waited(t, e, va, shift, wait))
                return NULL;
        }
        tb = table_of(*e);
    }
    return tb;
}

static void slot_fill(struct mmu_slot *s, u64 *leaf, u64 nt, u64 va)
{
    s->pte = &leaf[index_at(va, 12)];
    if (__builtin_expect(nt && nt != MMU_NT_OUT, 1)) {
        s->node = (void **)phys_to_virt(nt) + index_at(va, 12);
    } else {
        s->node = NULL; /* out: the caller restores it, or looks without it */
        s->nt_out = nt != 0;
    }
}

/* mmu_walk when something is missing: made in the modes that make it;
 * with wait, waiting in place for each missing page (leaf_table).  In
 * line in its two callers: without wait (a constant), its code is the
 * plain walk's. */
static inline __attribute__((always_inline)) bool walk_in(struct task *t, u64 va, enum mmu_walk_mode mode,
                                                          struct mmu_slot *s, i64 *wait)
{
    assert(user_page(va));
    if (!t->as.pml4 && (mode == MMU_FIND || !pml4_create(t)))
        return false; /* no space (yet, or any more) */
    u64 *leaf = leaf_table(t->as.pml4, va, mode == MMU_FIND ? NULL : t, wait);
    if (!leaf)
        return false;
    u64 leaf_phys = virt_to_phys(leaf);
    u64 nt = frame_aux_get(leaf_phys);
    if (!nt && mode == MMU_CREATE_ALL) {
        nt = kmem_page_alloc(t, KMEM_NODETABLE, KM_KS_NT_OF(va));
        if (nt)
            frame_aux_set(leaf_phys, nt);
        else if (!wait || !(nt = nt_waited(t, leaf_phys, va, wait)))
            return false;
    }
    slot_fill(s, leaf, nt, va);
    return true;
}

static __attribute__((noinline)) bool walk_create(struct task *t, u64 va, enum mmu_walk_mode mode,
                                                  struct mmu_slot *s)
{
    return walk_in(t, va, mode, s, NULL);
}

/* (false after a wait, found or not: see mmu_walk_wait.) */
static __attribute__((noinline)) bool walk_waiting(struct task *t, u64 va, struct mmu_slot *s, i64 *wait)
{
    bool found = walk_in(t, va, MMU_CREATE_ALL, s, wait);
    if (!found && *wait == MMU_WAITED_KEPT)
        *wait = MMU_WAITED;
    return found && !*wait;
}

/* The frame of va's leaf table under top-level table pml4, 0 when a table
 * on the way is missing.  (leaf_table without making anything, in frame
 * numbers: the hot walk needs no conversion back from a pointer.) */
static inline __attribute__((always_inline)) u64 leaf_frame(u64 pml4, u64 va)
{
    u64 tb = pml4;
#pragma GCC unroll 3
    for (int shift = 39; shift >= LEAF_SHIFT; shift -= 9) {
        u64 e = ((const u64 *)phys_to_virt(tb))[index_at(va, shift)];
        if (!(e & PTE_P))
            return 0;
        tb = e & PTE_ADDR;
    }
    return tb;
}

/* The common case first: every table there (and the node table, in
 * MMU_CREATE_ALL), found without a call, so without saved registers; else
 * walk_in, which finds the same tables and makes what is missing (with
 * wait, waiting for it).  The leaf table's aux word is read without
 * frame_aux_get's checks: the frame is one of t's tables, taken from its
 * own directory entry. */
static inline __attribute__((always_inline)) bool walk(struct task *t, u64 va, enum mmu_walk_mode mode,
                                                       struct mmu_slot *s, i64 *wait)
{
    assert(user_page(va));
    u64 leaf = t->as.pml4 ? leaf_frame(t->as.pml4, va) : 0;
    u64 nt = leaf ? (u64)frame_aux_words[leaf >> PAGE_SHIFT] << PAGE_SHIFT : 0;
    if (__builtin_expect(!leaf || (!nt && mode == MMU_CREATE_ALL), 0)) {
        if (mode == MMU_FIND)
            return false;
        return wait ? walk_waiting(t, va, s, wait) : walk_create(t, va, mode, s);
    }
    slot_fill(s, phys_to_virt(leaf), nt, va);
    return true;
}

bool mmu_walk(struct task *t, u64 va, enum mmu_walk_mode mode, struct mmu_slot *s)
{
    return walk(t, va, mode, s, NULL);
}

bool mmu_slot_kept(const struct mmu_slot *s)
{
    u64 leaf = virt_to_phys(s->pte) & ~(u64)(PAGE_SIZE - 1);
    return s->node && frame_aux_get(leaf) == (virt_to_phys(s->node) & ~(u64)(PAGE_SIZE - 1));
}

bool mmu_walk_wait(struct task *t, u64 va, struct mmu_slot *s, i64 *wait)
{
    *wait = 0;
    return walk(t, va, MMU_CREATE_ALL, s, wait);
}

/* Pages of the UTCB area are fixed pages (no node), never the mapping
 * database's. */
static bool fixed_area(u64 va) { return va >= KM_UTCB_AREA && va < KM_UTCB_AREA + KM_UTCB_AREA_SIZE; }

/* First page in [va, end) (inside leaf table leaf's region) with a node,
 * or end: its node-table slot is set or, with the node table out, its PTE
 * holds a frame outside the UTCB area. */
static __attribute__((noinline)) u64 next_in_leaf_out(const u64 *leaf, u64 va, u64 end)
{
    for (u64 v = va; v < end; v += PAGE_SIZE)
        if (leaf[index_at(v, 12)] && !fixed_area(v))
            return v;
    return end;
}

static inline __attribute__((always_inline)) u64 next_in_leaf(const u64 *leaf, u64 va, u64 end)
{
    u64 nt = frame_aux_get(virt_to_phys(leaf));
    if (__builtin_expect(nt == MMU_NT_OUT, 0))
        return next_in_leaf_out(leaf, va, end);
    void **nodes = nt ? phys_to_virt(nt) : NULL;
    for (u64 v = va; nodes && v < end; v += PAGE_SIZE)
        if (nodes[index_at(v, 12)])
            return v;
    return end;
}

/* First page in [va, end) with a node slot set, below table tb whose
 * entries each span 1 << shift bytes; end if none.  Recursion depth 4. */
static u64 next_node(u64 *tb, int shift, u64 va, u64 end)
{
    while (va < end) {
        u64 e = tb[index_at(va, shift)];
        u64 span_end = MIN((va | ((1ull << shift) - 1)) + 1, end);
        if (!(e & PTE_P)) {
            /* nothing mapped in this span */
        } else if (shift > LEAF_SHIFT) {
            u64 r = next_node(table_of(e), shift - 9, va, span_end);
            if (r < span_end)
                return r;
        } else {
            u64 r = next_in_leaf(table_of(e), va, span_end);
            if (r < span_end)
                return r;
        }
        va = span_end;
    }
    return end;
}

/* First leaf region at or after va's, below end, whose node table is out
 * (below table tb, entries spanning 1 << shift bytes); end if none. */
static u64 next_out(u64 *tb, int shift, u64 va, u64 end)
{
    while (va < end) {
        u64 e = tb[index_at(va, shift)];
        u64 span_end = MIN((va | ((1ull << shift) - 1)) + 1, end);
        if (!(e & PTE_P)) {
            /* no table here */
        } else if (shift > LEAF_SHIFT) {
            u64 r = next_out(table_of(e), shift - 9, va, span_end);
            if (r < span_end)
                return r;
        } else if (frame_aux_get(e & PTE_ADDR) == MMU_NT_OUT) {
            return ALIGN_DOWN(va, 1ull << LEAF_SHIFT);
        }
        va = span_end;
    }
    return end;
}

u64 mmu_next_out(struct task *t, u64 va, u64 end)
{
    u64 lim = MIN(end, USER_TOP);
    if (va >= lim || !t->as.pml4 || !t->as.nt_out)
        return end;
    u64 r = next_out(phys_to_virt(t->as.pml4), 39, va, lim);
    return r < lim ? r : end;
}

u64 mmu_next_node(struct task *t, u64 va, u64 end)
{
    u64 lim = MIN(end, USER_TOP);
    if (va >= lim || !t->as.pml4)
        return end;
    /* Fast path for scans page by page: look in va's own leaf table first
     * (one walk down instead of a search from the top). */
    u64 *leaf = leaf_table(t->as.pml4, va, NULL, NULL);
    if (leaf) {
        u64 leaf_end = MIN((va | ((1ull << LEAF_SHIFT) - 1)) + 1, lim);
        u64 r = next_in_leaf(leaf, va, leaf_end);
        if (r < leaf_end)
            return r;
        va = leaf_end; /* nothing more in this leaf table */
        if (va >= lim)
            return end;
    }
    u64 r = next_node(phys_to_virt(t->as.pml4), 39, va, lim);
    return r < lim ? r : end;
}

bool mmu_used(const struct mmu_slot *s) { return *s->pte != 0; }

u32 mmu_rights(const struct mmu_slot *s)
{
    u64 e = *s->pte;
    if (!(e & PTE_P))
        return 0;
    return KM_R | ((e & PTE_W) ? KM_W : 0) | ((e & mmu_pte_nx) ? 0 : KM_X);
}

void mmu_set(struct task *t, u64 va, struct mmu_slot *s, u64 phys, u32 rights)
{
    u64 old = *s->pte;
    *s->pte = pte_make(phys, rights);
    if (old & PTE_P)
        arch_tlb_shootdown(&t->as, va, 1);
}

void mmu_clear(struct task *t, u64 va, struct mmu_slot *s)
{
    u64 old = *s->pte;
    *s->pte = 0;
    if (old & PTE_P)
        arch_tlb_shootdown(&t->as, va, 1);
}

void mmu_keep(struct mmu_slot *s, u32 bits)
{
    *s->pte = (*s->pte & ~((u64)MMU_KEPT_BITS << 52)) | ((u64)(bits & MMU_KEPT_BITS) << 52);
}

u32 mmu_kept(const struct mmu_slot *s) { return mmu_pte_kept(*s->pte); }

void mmu_set_suspended(struct task *t, u64 va, struct mmu_slot *s, u64 phys)
{
    u64 old = *s->pte;
    *s->pte = phys | PTE_U; /* not present: mmu_phys gives the frame */
    t->as.suspended = true;
    if (old & PTE_P)
        arch_tlb_shootdown(&t->as, va, 1);
}

void mmu_suspend(struct task *t, u64 va, struct mmu_slot *s)
{
    u64 old = *s->pte;
    *s->pte = old & ~PTE_P; /* the frame stays in the entry: mmu_phys */
    t->as.suspended = true;
    if (old & PTE_P)
        arch_tlb_shootdown(&t->as, va, 1);
}

int mmu_map_fixed(struct task *t, u64 va, u64 phys, u32 rights)
{
    struct mmu_slot s;
    if (!user_page(va) || (phys & (PAGE_SIZE - 1)))
        return -KM_EINVAL;
    if (!mmu_walk(t, va, MMU_CREATE_PT, &s))
        return -KM_ENOMEM;
    if (mmu_present(&s))
        return -KM_EBUSY;
    mmu_set(t, va, &s, phys, rights);
    return 0;
}

u64 mmu_unmap_fixed(struct task *t, u64 va)
{
    struct mmu_slot s;
    if (!user_page(va) || !mmu_walk(t, va, MMU_FIND, &s) || !mmu_present(&s))
        return 0;
    if (s.node && *s.node)
        panic("mmu_unmap_fixed: %lx is a mapping-database page", va);
    u64 phys = mmu_phys(&s);
    mmu_clear(t, va, &s);
    return phys;
}

u64 aspace_lookup(struct aspace *as, u64 va)
{
    if (!user_page(va) || !as->pml4)
        return 0;
    u64 *leaf = leaf_table(as->pml4, va, NULL, NULL);
    u64 e = leaf ? leaf[index_at(va, 12)] : 0;
    return (e & PTE_P) ? e & PTE_ADDR : 0;
}

bool aspace_user_ok(struct aspace *as, u64 va, u64 len, bool write)
{
    if (len == 0)
        return true;
    if (va >= USER_TOP || len > USER_TOP - va || !as->pml4)
        return false;
    for (u64 p = ALIGN_DOWN(va, PAGE_SIZE); p < va + len; p += PAGE_SIZE) {
        u64 *leaf = leaf_table(as->pml4, p, NULL, NULL);
        u64 e = leaf ? leaf[index_at(p, 12)] : 0;
        if (!(e & PTE_P) || !(e & PTE_U) || (write && !(e & PTE_W)))
            return false;
    }
    return true;
}

/* Frees a leaf table's node table, which must be empty by now (one that
 * is out is forgotten: its content describes mappings gone now). */
static void free_node_table(struct task *t, u64 leaf_phys)
{
    u64 nt = frame_aux_get(leaf_phys);
    if (nt == MMU_NT_OUT) { /* its content is with the kpager: stale now */
        frame_aux_set(leaf_phys, 0);
        t->as.nt_out--;
    }
    if (!nt || nt == MMU_NT_OUT)
        return;
    const u64 *nodes = phys_to_virt(nt);
    u64 any = 0;
    for (int i = 0; i < 512; i += 4) /* (or-ed four at a time: it runs on every export) */
        any |= nodes[i] | nodes[i + 1] | nodes[i + 2] | nodes[i + 3];
    if (any)
        panic("aspace_destroy: task %u still has a mapping node", t->number);
    frame_aux_set(leaf_phys, 0);
    kmem_page_free(t, KMEM_NODETABLE, nt);
}

/* Frees table phys (its entries span 1 << shift bytes) and the tables below. */
static void free_tables(struct task *t, u64 phys, int shift)
{
    u64 *tb = phys_to_virt(phys);
    int n = shift == 39 ? 256 : 512; /* the kernel half is shared */
    for (int i = 0; shift > 12 && i < n; i++)
        if (tb[i] & PTE_P)
            free_tables(t, tb[i] & PTE_ADDR, shift - 9);
    if (shift == 12)
        free_node_table(t, phys);
    kmem_page_free(t, KMEM_PAGETABLE, phys);
}

void aspace_destroy(struct task *t)
{
    t->as.lazy = false;
    if (!t->as.pml4)
        return;
    mmu_release(&t->as);
    tables_gen++;
    free_tables(t, t->as.pml4, 39);
    t->as.pml4 = 0;
}

static void count_tables(u64 phys, int shift, u64 *pts, u64 *nts)
{
    u64 *tb = phys_to_virt(phys);
    int n = shift == 39 ? 256 : 512;
    (*pts)++;
    if (shift == 12) {
        *nts += frame_aux_get(phys) != 0 && frame_aux_get(phys) != MMU_NT_OUT;
        return;
    }
    for (int i = 0; i < n; i++)
        if (tb[i] & PTE_P)
            count_tables(tb[i] & PTE_ADDR, shift - 9, pts, nts);
}

u32 mmu_count_out(struct task *t)
{
    u32 n = 0; /* (the walk itself, not mmu_next_out, which trusts as.nt_out) */
    for (u64 r = 0; t->as.pml4 && (r = next_out(phys_to_virt(t->as.pml4), 39, r, USER_TOP)) < USER_TOP;
         r += 1ull << LEAF_SHIFT)
        n++;
    return n;
}

void mmu_count_tables(struct task *t, u64 *page_tables, u64 *node_tables)
{
    *page_tables = *node_tables = 0;
    if (t->as.pml4)
        count_tables(t->as.pml4, 39, page_tables, node_tables);
}

/* ---- kernel pages a kpager supplied (kmem.c) ----------------------------- */

int mmu_missing(struct task *t, u64 va, u64 *ks, int max)
{
    int n = 0;
    if (!t->as.pml4) {
        if (!t->as.lazy)
            return 0;
        ks[n++] = KM_KS_PML4;
    }
    /* Down the present levels; from the first missing one on (tb NULL),
     * every level is missing.  Unrolled, as leaf_table. */
    u64 *tb = t->as.pml4 ? phys_to_virt(t->as.pml4) : NULL;
#pragma GCC unroll 3
    for (int shift = 39; shift >= LEAF_SHIFT; shift -= 9) {
        u64 e = tb ? tb[index_at(va, shift)] : 0;
        if (e & PTE_P)
            tb = table_of(e);
        else if ((tb = NULL), n < max)
            ks[n++] = ks_table(va, shift);
    }
    bool leaf = tb != NULL; /* tb is va's leaf table */
    u64 nt = leaf ? frame_aux_get(virt_to_phys(tb)) : 0;
    if (n < max && (!nt || nt == MMU_NT_OUT) && !fixed_area(va)) /* (UTCBs have no nodes) */
        ks[n++] = KM_KS_NT_OF(va) | (nt == MMU_NT_OUT ? MMU_MISSING_OUT : 0);
    return n;
}

bool mmu_leaf_of(struct task *t, u64 va, struct mmu_leaf *l)
{
    u64 *leaf = t->as.pml4 && va < USER_TOP ? leaf_table(t->as.pml4, va, NULL, NULL) : NULL;
    if (!leaf)
        return false;
    l->pte = leaf;
    l->phys = virt_to_phys(leaf);
    l->nt = frame_aux_get(l->phys);
    l->as = &t->as;
    return true;
}

void mmu_leaf_set_nt(struct mmu_leaf *l, u64 nt)
{
    l->as->nt_out += (nt == MMU_NT_OUT) - (l->nt == MMU_NT_OUT);
    l->nt = nt;
    frame_aux_set(l->phys, nt);
}

bool mmu_nt_out(struct task *t, u64 va)
{
    struct mmu_leaf l; /* (as.nt_out counts them: none, no walk) */
    return t->as.nt_out && mmu_leaf_of(t, va, &l) && l.nt == MMU_NT_OUT;
}

/* The entry that points to the table with kspace address ks (covering va,
 * pointed to from level `shift`), or NULL. */
static u64 *entry_of(struct task *t, u64 va, int shift)
{
    u64 *tb = phys_to_virt(t->as.pml4);
    for (int s = 39; s > shift; s -= 9) {
        u64 e = tb[index_at(va, s)];
        if (!(e & PTE_P))
            return NULL;
        tb = table_of(e);
    }
    return &tb[index_at(va, shift)];
}

/* Frees the tables below table phys (entries spanning 1 << shift bytes),
 * not phys itself; their mappings must be gone. */
static void free_below(struct task *t, u64 phys, int shift)
{
    u64 *tb = phys_to_virt(phys);
    if (shift == 12) {
        free_node_table(t, phys);
        return;
    }
    for (int i = 0; i < 512; i++)
        if (tb[i] & PTE_P)
            free_tables(t, tb[i] & PTE_ADDR, shift - 9);
}

/* Level and covered region of the table with kspace address ksaddr:
 * shift of the entry pointing to it (39, 30, 21; 12 for a node table). */
static bool kobj_level(u64 ksaddr, int *shift, u64 *va)
{
    if (ksaddr >= KM_KS_MN)
        return false;
    if (ksaddr >= KM_KS_NT)
        *shift = 12, *va = ((ksaddr - KM_KS_NT) >> 12) << 21;
    else if (ksaddr >= KM_KS_PT)
        *shift = 21, *va = ((ksaddr - KM_KS_PT) >> 12) << 21;
    else if (ksaddr >= KM_KS_PD)
        *shift = 30, *va = ((ksaddr - KM_KS_PD) >> 12) << 30;
    else if (ksaddr >= KM_KS_PDPT)
        *shift = 39, *va = ((ksaddr - KM_KS_PDPT) >> 12) << 39;
    else if (ksaddr == KM_KS_PML4)
        *shift = 48, *va = 0;
    else
        return false;
    return *va < USER_TOP;
}

bool mmu_kobj_region(u64 ksaddr, u64 *va, u64 *end)
{
    int shift;
    if (!kobj_level(ksaddr, &shift, va))
        return false;
    *end = shift == 48 ? USER_TOP : *va + (1ull << (shift == 12 ? 21 : shift));
    return true;
}

/* The top-level table goes: no CPU may keep it loaded, then the tables
 * below (the user half) go back, and the space is lazy again. */
static bool pml4_detach(struct task *t, u64 phys)
{
    if (t->as.pml4 != phys)
        return false;
    aspace_evict(&t->as);
    tables_gen++;
    u64 *tb = phys_to_virt(phys);
    for (int i = 0; i < 256; i++)
        if (tb[i] & PTE_P)
            free_tables(t, tb[i] & PTE_ADDR, 30);
    t->as.pml4 = 0;
    t->as.lazy = true;
    return true;
}

bool mmu_detach(struct task *t, u64 ksaddr, u64 phys)
{
    int shift;
    u64 va;
    if (!t->as.pml4 || !kobj_level(ksaddr, &shift, &va))
        return false;
    if (shift == 48)
        return pml4_detach(t, phys);
    if (shift == 12)
        return false; /* a node table: exported by kernel/nodetable.c */
    u64 *e = entry_of(t, va, shift);
    if (!e || !(*e & PTE_P) || (*e & PTE_ADDR) != phys)
        return false;
    /* Unlinked and flushed from every CPU first: only then may the tables
     * below go back (to a kpager, who may write them at once). */
    *e = 0;
    tables_gen++;
    arch_tlb_shootdown(&t->as, va, (1ull << shift) >> 12);
    free_below(t, phys, shift - 9);
    return true;
}
