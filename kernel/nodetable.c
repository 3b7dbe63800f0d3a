/* Node tables paged out and in (see kernel/nodetable.h).
 *
 * EXPORTED NODE TABLE (the page a kpager gets back; 512 entries of 8 bytes,
 * entry i for the page at (region base + i * 4 KiB)):
 *
 *   OFFSET  SIZE  FIELD
 *   8 * i      8  0: no mapping-database page there; else the kspace
 *                 address of its mapping node: KM_KS_MN_OF(n) (the task's
 *                 node page n) + the node's offset in that page
 *                 (48 + 32 * k, k < 126: struct mnode_page, then nodes)
 *
 * Nothing else: no pointer, no physical address, nothing of another task.
 */
#include <abi/kspace.h>
#include <abi/l4.h>
#include <abi/syscall.h>
#include <arch/cpu.h>
#include <arch/layout.h>
#include <arch/mmu.h>
#include <kernel/kmem.h>
#include <kernel/mnode.h>
#include <kernel/nodetable.h>
#include <kernel/string.h>
#include <kernel/task.h>
#include <kernel/trace.h>

#define REGION (MMU_LEAF_PAGES * PAGE_SIZE)
#define NODES_OFF sizeof(struct mnode_page)
#define NODES_END (NODES_OFF + NODES_PER_PAGE * sizeof(struct mnode))

static bool fixed_page(u64 va) { return va >= KM_UTCB_AREA && va < KM_UTCB_AREA + KM_UTCB_AREA_SIZE; }

/* The kspace name of node n: its page's kspace address and its offset. */
static u64 localise(const struct mnode *n) { return page_of(n)->ks + ((uptr)n & (PAGE_SIZE - 1)); }

bool nodetable_export(struct task *t, u64 ksaddr, u64 phys)
{
    u64 va, end;
    struct mmu_leaf l;
    if (!mmu_kobj_region(ksaddr, &va, &end) || ksaddr < KM_KS_NT || ksaddr >= KM_KS_MN ||
        !mmu_leaf_of(t, va, &l) || l.nt != phys)
        return false;
    u64 *e = phys_to_virt(phys); /* the same words: pointer in, name out */
    for (u32 i = 0; i < MMU_LEAF_PAGES; i += 8) {
        if (!(e[i] | e[i + 1] | e[i + 2] | e[i + 3] | e[i + 4] | e[i + 5] | e[i + 6] | e[i + 7]))
            continue; /* (most of a table is empty: eight at a time) */
        for (u32 j = i; j < i + 8; j++)
            if (e[j]) /* (a node that is out has no name: 0, its PTE says so) */
                e[j] = mn_is_out((void *)e[j]) ? 0 : localise((const struct mnode *)e[j]);
    }
    mmu_leaf_set_nt(&l, MMU_NT_OUT);
    return true;
}

/* Node page named ks among t's, at or after *hint (NULL: from the start),
 * or NULL.  Two pages may share a name after 2^24 node pages: the caller
 * goes on from the one found if its node does not fit. */
static struct mnode_page *page_named(struct task *t, u64 ks, struct mnode_page *after)
{
    struct mnode_page *head = t->mapdb, *pg = after ? after->next : head;
    if (!head || pg == (after ? head : NULL))
        return NULL;
    do {
        if (pg->ks == ks)
            return pg;
        pg = pg->next;
    } while (pg != head);
    return NULL;
}

/* The node of t's that entry e names, if it is in use and maps page va.
 * A name not in the cached page costs a walk over t's node pages: *walks
 * bounds them (an import that needs more makes the table from the nodes,
 * one pass, instead). */
static struct mnode *delocalise(struct task *t, u64 e, u64 va, struct mnode_page **cache, u32 *walks)
{
    u64 off = e & (PAGE_SIZE - 1), ks = e - off;
    if (ks < KM_KS_MN || ks >= KM_KS_ME || off < NODES_OFF || off >= NODES_END ||
        (off - NODES_OFF) % sizeof(struct mnode))
        return NULL;
    if (*cache && (*cache)->ks == ks) {
        struct mnode *n = (struct mnode *)((char *)*cache + off);
        if (slot_is_node(n) && node_va(n) == va)
            return n;
    }
    if (!*walks)
        return NULL;
    --*walks;
    for (struct mnode_page *pg = page_named(t, ks, NULL); pg; pg = page_named(t, ks, pg)) {
        struct mnode *n = (struct mnode *)((char *)pg + off);
        if (slot_is_node(n) && node_va(n) == va) {
            *cache = pg;
            return n;
        }
    }
    return NULL;
}

u64 nodetable_passes;

/* The next of t's node pages after pg (NULL: the first), the page being
 * reclaimed last; NULL after the last. */
static struct mnode_page *next_page(struct task *t, struct mnode_page *pg)
{
    struct mnode_page *head = t->mapdb, *r = mapdb_reclaiming;
    bool extra = r && r->task == t;
    if (pg == r && extra)
        return NULL;
    if (!pg)
        return head ? head : extra ? r : NULL;
    if (pg->next != head)
        return pg->next;
    return extra ? r : NULL;
}

/* The slots of [lo, hi) whose node is out, where empty, say so. */
static void mark_out(struct task *t, u64 lo, u64 hi)
{
    for (u64 r = ALIGN_DOWN(lo, REGION); r < hi; r += REGION) {
        struct mmu_leaf l;
        if (!mmu_leaf_of(t, r, &l) || l.nt == MMU_NT_OUT || !l.nt)
            continue;
        void **e = phys_to_virt(l.nt);
        for (u32 i = 0; i < MMU_LEAF_PAGES; i++)
            if (l.pte[i] && mmu_pte_kept(l.pte[i]) && !e[i])
                e[i] = MN_SLOT_OUT;
    }
}

/* One pass over t's nodes puts each node of [lo, hi) in its slot where
 * that slot is empty: the tables of [lo, hi) just made (empty) are filled;
 * a node of a region whose table was in already is in its slot.  Slots of
 * nodes that are out are marked. */
static void fill(struct task *t, u64 lo, u64 hi)
{
    if (t->mn_out)
        mark_out(t, lo, hi);
    nodetable_passes++;
    for (struct mnode_page *pg = next_page(t, NULL); pg; pg = next_page(t, pg)) {
        struct mnode *nodes = page_nodes(pg);
        for (usize i = 0; i < NODES_PER_PAGE; i++) {
            struct mmu_slot s;
            if (slot_is_node(&nodes[i]) && node_va(&nodes[i]) - lo < hi - lo &&
                mmu_walk(t, node_va(&nodes[i]), MMU_FIND, &s) && s.node && !*s.node)
                *s.node = &nodes[i];
        }
    }
}

bool nodetable_import(struct task *t, u64 base, struct mmu_leaf *l, u64 phys)
{
    u64 *e = phys_to_virt(phys);
    struct mnode_page *cache = NULL;
    u32 walks = 64; /* (a walk is a 126th of a pass over the nodes at most) */
    bool ok = true;
    /* In place, entry by entry: each word is read once, so what a kpager
     * changes meanwhile cannot change what was checked. */
    const u64 *pte = l->pte;
    for (u32 i = 0; ok && i < MMU_LEAF_PAGES; i += 8) {
        if (!(pte[i] | pte[i + 1] | pte[i + 2] | pte[i + 3] | pte[i + 4] | pte[i + 5] | pte[i + 6] |
              pte[i + 7])) { /* (most of a table is empty: eight at a time) */
            e[i] = e[i + 1] = e[i + 2] = e[i + 3] = e[i + 4] = e[i + 5] = e[i + 6] = e[i + 7] = 0;
            continue;
        }
        for (u32 j = i; j < i + 8; j++) {
            u64 va = base + (u64)j * PAGE_SIZE;
            u64 w = e[j];
            struct mnode *n = NULL;
            if (pte[j] && mmu_pte_kept(pte[j])) {
                n = MN_SLOT_OUT; /* its node is out: what the kpager wrote does not matter */
            } else if (pte[j] && !fixed_page(va) && !(n = delocalise(t, w, va, &cache, &walks))) {
                ok = false;
                break;
            }
            e[j] = (u64)n;
        }
    }
    if (!ok)
        memset(e, 0, PAGE_SIZE);
    mmu_leaf_set_nt(l, phys);
    if (!ok)
        fill(t, base, base + REGION); /* the table made from t's nodes instead */
    return ok;
}

bool nodetable_rebuild(struct task *t, u64 va, u64 end)
{
    if (__builtin_expect(!t->as.nt_out, 1))
        return true;
    u64 lo = end, hi = 0;
    bool all = true;
    for (u64 r = mmu_next_out(t, va, end); r < end; r = mmu_next_out(t, r + REGION, end)) {
        struct mmu_leaf l;
        u64 p = mmu_leaf_of(t, r, &l) ? kmem_page_alloc_again(t, KMEM_NODETABLE) : 0;
        if (!p) {
            all = false;
            break;
        }
        mmu_leaf_set_nt(&l, p); /* empty yet: filled below */
        lo = MIN(lo, r);
        hi = MAX(hi, r + REGION);
    }
    if (lo < hi)
        fill(t, lo, hi);
    return all;
}

/* Region base's table back from the page t's kpager supplied for it (in a
 * kmem_op for t); false, and the page noted missing, when there is none. */
static bool from_kpager(struct task *t, u64 base, struct mmu_leaf *l)
{
    u64 ks = KM_KS_NT_OF(base), t0 = rdtsc();
    u64 phys = kmem_supply_take(t, ks);
    if (!phys) {
        if (!kmem_op->missing_set) {
            kmem_op->missing_src = kmem_op->task != t; /* (then t is the op's src) */
            kmem_op->va = base; /* what the kernel page fault asks for is base's */
        }
        kmem_op_missing(ks);
        return false;
    }
    nodetable_import(t, base, l, phys);
    trace(KPAGE_IMPORT, ks | t->number, rdtsc() - t0);
    return true;
}

int nodetable_need_slow(struct task *t, u64 va, u64 end)
{
    if (!kmem_op || (kmem_op->task != t && kmem_op->src != t)) {
        nodetable_rebuild(t, va, end); /* (a dry pool: lookups pass over the nodes) */
        return 0;
    }
    for (u64 r = mmu_next_out(t, va, end); r < end; r = mmu_next_out(t, r + REGION, end)) {
        struct mmu_leaf l; /* t's kpager has them (the receiver's, or a sender's own): asked for */
        if (mmu_leaf_of(t, r, &l) && !from_kpager(t, r, &l))
            return -KM_ENOMEM;
    }
    return 0;
}

bool nodetable_restore(struct task *t, u64 va, struct mmu_slot *s)
{
    u64 base = ALIGN_DOWN(va, REGION);
    struct mmu_leaf l;
    if (!mmu_leaf_of(t, base, &l) || l.nt != MMU_NT_OUT)
        return false;
    if (kmem_op && kmem_op->task == t ? !from_kpager(t, base, &l) : !nodetable_rebuild(t, base, base + REGION))
        return false;
    return mmu_walk(t, va, MMU_FIND, s) && s->node;
}

struct mnode *nodetable_scan(struct task *t, u64 va)
{
    nodetable_passes++;
    for (struct mnode_page *pg = next_page(t, NULL); pg; pg = next_page(t, pg)) {
        struct mnode *nodes = page_nodes(pg);
        for (usize i = 0; i < NODES_PER_PAGE; i++)
            if (slot_is_node(&nodes[i]) && node_va(&nodes[i]) == va)
                return &nodes[i];
    }
    return NULL;
}
