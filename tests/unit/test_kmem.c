/* Kernel memory from kpagers (kmem=kpager, abi/kspace.h) on the host:
 * lending (mapdb_lend), import (kfault_accept, kmem_supply_add,
 * kmem_page_alloc under a kmem_op), export on revocation (kmem_reclaim via
 * mapdb_unmap, mapdb_task_destroy) and the return of freed pages
 * (kmem_page_free -> mapdb_unlend).  kernel/kfault.c runs as written; its
 * IPC is a stub in which the "kpager" answers (tests/unit/test_kmem.c).
 * After every step each task passes mapdb_check (invariants, counters equal
 * to the pages held, supply included); destroying every task gives back
 * every frame. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "host_support.h"
#include "host_world.h"
#include <abi/kspace.h>
#include <abi/l4.h>
#include <abi/syscall.h>
#include <arch/mmu.h>
#include <kernel/frame.h>
#include <kernel/kfault.h>
#include <kernel/kmem.h>
#include <kernel/mapdb.h>
#include <kernel/mnode.h>
#include <kernel/nodetable.h>
#include <kernel/options.h>
#include <kernel/task.h>
#include <kernel/thread.h>

#define ARENA (64ull << 20)
#define RG(i) (0x40000000ull + (u64)(i) * 0x200000ull) /* 2 MiB regions, one 1 GiB */
#define KV(i) (0x10000000ull + (u64)(i) * PAGE_SIZE)   /* the kpager's pages */
#define RW (KM_R | KM_W)
#define PTE_ADDR 0x000ffffffffff000ull

/* ---- the thread side of kfault.c ------------------------------------------ */

struct thread thread_table[THREAD_MAX];
static struct thread_ext exts[3];

/* What the stub kpager answers to the next kernel page fault: items
 * (send base word, fpage word), applied through kfault_accept. */
static struct {
    u64 w0[32], w1[32];
    int n;
    int calls;
    u64 asked[KM_KFAULT_MAX + 2]; /* the request words it saw */
    u32 nasked;
    void (*meanwhile)(void); /* what happens while the kpager runs (the lock released) */
} reply;

i64 ipc(struct thread *self, km_tid to, km_tid from, u32 flags, u64 tag)
{
    (void)from;
    (void)flags;
    struct thread *kp = thread_lookup(to);
    assert_non_null(kp);
    assert_true(self->flags & TF_KFAULT_IPC);
    assert_int_equal(tag, self->ext->kmsg_tag);
    reply.calls++;
    reply.nasked = (u32)self->ext->fault[1];
    assert_int_equal(tag, KM_TAG(KM_LABEL_KFAULT, 2 + reply.nasked, 0));
    for (u32 i = 0; i < reply.nasked; i++)
        reply.asked[i] = self->ext->fault[2 + i];
    if (reply.meanwhile)
        reply.meanwhile();
    for (int i = 0; i < reply.n; i++)
        kfault_accept(kp, self, reply.w0[i], reply.w1[i]);
    reply.n = 0;
    return 0;
}

/* kfault.c's call to the kpager (kernel/ipc.c's fast path): the stub IPC above. */
i64 ipc_kfault_call(struct thread *self, struct thread *kpager)
{
    return ipc(self, thread_id(kpager), thread_id(kpager), 0, self->ext->kmsg_tag);
}

/* ---- setup ---------------------------------------------------------------- */

static int setup(void **state)
{
    (void)state;
    host_world_init(ARENA, PAGE_SIZE, ARENA); /* frame 0 means "none" */
    memset(thread_table, 0, sizeof thread_table);
    memset(exts, 0, sizeof exts);
    memset(&reply, 0, sizeof reply);
    opt.kmem = KMEM_MODE_KPAGER;
    opt.kmem_pool = 0;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    host_world_end();
    return 0;
}

/* ---- helpers -------------------------------------------------------------- */

static u64 root(struct task *t, u64 va, u32 rights)
{
    u64 f = frame_alloc();
    assert_true(f != 0);
    memset(phys_to_virt(f), 0xa5, PAGE_SIZE); /* user data: not zero */
    assert_int_equal(mapdb_map_root(t, va, f, rights, true), 0);
    return f;
}

static u32 held(struct task *t, u64 va, u64 *phys)
{
    u64 p = 0;
    u32 r = 0;
    if (!mapdb_lookup(t, va, &p, &r))
        r = 0;
    if (phys)
        *phys = p;
    return r;
}

static void map1(struct task *from, u64 src, struct task *to, u64 dst, u32 rights)
{
    assert_int_equal(mapdb_transfer(from, KM_MAPITEM(0, 0), KM_FPAGE(src, 12, rights), to, KM_FPAGE(dst, 12, 0)), 1);
    host_check_all();
}

static bool all_zero(u64 phys)
{
    const u64 *w = phys_to_virt(phys);
    for (int i = 0; i < 512; i++)
        if (w[i])
            return false;
    return true;
}

/* Lends k's page va to the kernel for t's kspace address ks (RESERVE: lent
 * ahead), as kfault_accept does; returns the frame. */
static u64 supply(struct task *t, struct task *k, u64 va, u64 ks)
{
    u64 phys = 0;
    int type = km_ks_type(ks);
    assert_true(type >= 0);
    u64 before = t->kmem.pages[type];
    assert_int_equal(mapdb_lend(k, va, &phys), 0);
    assert_int_equal(kmem_supply_add(t, KM_KREQ(ks, type, 0), phys, k->number, va), 0);
    assert_int_equal(t->kmem.pages[type], before + 1);
    assert_true(ks == KM_KS_RESERVE || kmem_supplied(t, ks));
    host_check_all();
    return phys;
}

/* The PTE state of t's page va: present, and its frame. */
static bool pte(struct task *t, u64 va, u64 *phys)
{
    struct mmu_slot s;
    assert_true(mmu_walk(t, va, MMU_FIND, &s));
    *phys = mmu_phys(&s);
    return mmu_present(&s);
}

static u64 counts(struct task *t, int type) { return t->kmem.pages[type]; }

/* An operation that needs t's node of page va as a node (a look-up works
 * by name): taking X from what derives from it, here nothing. */
static void bring_in(struct task *t, u64 va)
{
    assert_true(mapdb_unmap(t, KM_FPAGE(va, 12, KM_X), false) >= 0);
}

/* The entry of t's tables for va at level shift (39: PML4 entry ...
 * 21: PD entry), 0 when a table on the way is missing. */
static u64 table_entry(struct task *t, u64 va, int shift)
{
    u64 *tb = phys_to_virt(t->as.pml4);
    for (int s = 39; s > shift; s -= 9) {
        u64 e = tb[(va >> s) & 511];
        if (!(e & 1))
            return 0;
        tb = phys_to_virt(e & PTE_ADDR);
    }
    return tb[(va >> shift) & 511];
}

static struct kmem_op op;

static void op_begin(struct task *t)
{
    op = (struct kmem_op){.task = t};
    kmem_op = &op;
}

/* ---- lending -------------------------------------------------------------- */

static void test_lend(void **state)
{
    (void)state;
    struct task *k = host_new_task(), *b = host_new_task(), *c = host_new_task();
    u64 f = root(k, KV(0), KM_RWX);
    map1(k, KV(0), b, KV(1), RW);
    map1(b, KV(1), c, KV(2), KM_R);
    map1(k, KV(0), c, KV(3), KM_RWX);
    u64 other = root(k, KV(5), RW);
    map1(k, KV(5), b, KV(5), RW);

    u64 phys = 0, p;
    assert_int_equal(mapdb_lend(k, KV(0), &phys), 0);
    host_check_all();
    assert_int_equal(phys, f);
    /* every derived mapping is gone, PTEs cleared */
    assert_int_equal(held(b, KV(1), NULL), 0);
    assert_int_equal(held(c, KV(2), NULL), 0);
    assert_int_equal(held(c, KV(3), NULL), 0);
    assert_int_equal(aspace_lookup(&b->as, KV(1)), 0);
    assert_int_equal(aspace_lookup(&c->as, KV(3)), 0);
    /* the lender's PTE is suspended: no access, frame kept */
    assert_false(pte(k, KV(0), &p));
    assert_int_equal(p, f);
    assert_int_equal(held(k, KV(0), NULL), 0);
    assert_int_equal(aspace_lookup(&k->as, KV(0)), 0);
    assert_false(aspace_user_ok(&k->as, KV(0), 1, false));
    /* unrelated mappings stay */
    assert_int_equal(held(b, KV(5), &p), RW);
    assert_int_equal(p, other);

    /* refused: already lent, read-only, write-only impossible, unmapped,
     * UTCB area, kernel half, USER_TOP */
    assert_int_equal(mapdb_lend(k, KV(0), &phys), -KM_EINVAL);
    root(k, KV(6), KM_R);
    root(k, KV(7), KM_R | KM_X);
    assert_int_equal(mapdb_lend(k, KV(6), &phys), -KM_EINVAL);
    assert_int_equal(mapdb_lend(k, KV(7), &phys), -KM_EINVAL);
    assert_int_equal(mapdb_lend(k, KV(8), &phys), -KM_EINVAL);
    assert_int_equal(mapdb_lend(c, KV(2), &phys), -KM_EINVAL); /* was removed */
    assert_int_equal(mapdb_lend(k, KM_UTCB_AREA, &phys), -KM_EINVAL);
    assert_int_equal(mapdb_lend(k, KM_UTCB_AREA + KM_UTCB_AREA_SIZE - PAGE_SIZE, &phys), -KM_EINVAL);
    assert_int_equal(mapdb_lend(k, USER_TOP, &phys), -KM_EINVAL);
    assert_int_equal(mapdb_lend(k, 0xffff800000000000ull, &phys), -KM_EINVAL);
    assert_int_equal(mapdb_lend(k, 0xfffffffffffff000ull, &phys), -KM_EINVAL);
    /* a fixed (non-mapdb) page */
    u64 fx = frame_alloc();
    assert_int_equal(mmu_map_fixed(k, KV(9), fx, RW), 0);
    assert_int_equal(mapdb_lend(k, KV(9), &phys), -KM_EINVAL);
    assert_int_equal(mmu_unmap_fixed(k, KV(9)), fx);
    frame_free(fx);
    /* a derived RW mapping can be lent; then no other mapping of the frame
     * has access, its parent's included (the frame holds kernel data) */
    assert_int_equal(mapdb_lend(b, KV(5), &phys), 0);
    assert_int_equal(phys, other);
    assert_int_equal(held(k, KV(5), NULL), 0);
    host_check_all();

    /* a lent page is not mapped or granted onward */
    assert_int_equal(mapdb_transfer(k, KM_MAPITEM(0, 0), KM_FPAGE(KV(0), 12, KM_RWX), c, KM_FPAGE(KV(20), 12, 0)), 0);
    assert_int_equal(mapdb_transfer(k, KM_MAPITEM(0, 1), KM_FPAGE(KV(0), 12, KM_RWX), c, KM_FPAGE(KV(20), 12, 0)), 0);
    assert_int_equal(mapdb_transfer(k, KM_MAPITEM(0, 0), KM_FPAGE(KV(0), 16, KM_RWX), c, KM_FPAGE(KV(16), 16, 0)), 3);
    assert_int_equal(held(c, KV(16), NULL), 0); /* KV(0) skipped, KV(5..7) sent */
    assert_int_equal(held(c, KV(21), NULL), RW);
    assert_false(pte(k, KV(0), &p)); /* still lent */
    host_check_all();
    /* without a supply record the lent page comes back on unmap too */
    assert_int_equal(mapdb_unmap(k, KM_FPAGE(KV(0), 12, KM_RWX), false), 1);
    assert_int_equal(held(k, KV(0), NULL), KM_RWX);
    assert_true(all_zero(f));
    assert_int_equal(mapdb_unmap(b, KM_FPAGE(KV(5), 12, KM_RWX), false), 1);
    assert_int_equal(held(b, KV(5), NULL), RW);
    host_check_all();
}

/* Every mapping of a lent frame loses access, each PTE flushed from the
 * TLBs: the lender's alone (a root with nothing derived), what derives
 * from it removed, the rest of its tree (from its root down) suspended;
 * given back, the rest gets access again. */
static void test_lend_flushes(void **state)
{
    (void)state;
    struct task *k = host_new_task(), *b = host_new_task(), *c = host_new_task(), *t = host_new_task();
    u64 p, n;
    root(k, KV(0), RW);
    n = host_tlb_shootdowns;
    supply(t, k, KV(0), KM_KS_RESERVE);
    assert_int_equal(host_tlb_shootdowns, n + 1);
    assert_false(pte(k, KV(0), &p));
    /* two derived, one below the other: removed, each flushed */
    root(k, KV(1), RW);
    map1(k, KV(1), b, KV(1), RW);
    map1(b, KV(1), c, KV(1), KM_R);
    n = host_tlb_shootdowns;
    supply(t, k, KV(1), KM_KS_RESERVE);
    assert_int_equal(host_tlb_shootdowns, n + 3);
    assert_int_equal(aspace_lookup(&b->as, KV(1)), 0);
    assert_int_equal(aspace_lookup(&c->as, KV(1)), 0);
    /* a derived mapping lent: its parent and its sibling suspended, what
     * derives from it removed; all flushed */
    u64 f = root(k, KV(2), RW);
    map1(k, KV(2), b, KV(2), RW);
    map1(k, KV(2), c, KV(2), KM_R);
    map1(b, KV(2), c, KV(3), KM_R);
    n = host_tlb_shootdowns;
    assert_int_equal(supply(t, b, KV(2), KM_KS_RESERVE), f);
    assert_int_equal(host_tlb_shootdowns, n + 4);
    assert_false(pte(b, KV(2), &p));
    assert_false(pte(k, KV(2), &p));
    assert_false(pte(c, KV(2), &p));
    assert_int_equal(p, f); /* suspended: the frame kept */
    assert_int_equal(aspace_lookup(&c->as, KV(3)), 0);
    assert_int_equal(held(k, KV(2), NULL), 0);
    assert_int_equal(held(c, KV(2), NULL), 0);
    assert_int_equal(held(b, KV(2), NULL), 0);
    /* back (zeroed): every remaining mapping regains access */
    kmem_supply_release(t);
    assert_int_equal(held(k, KV(0), NULL), RW);
    assert_int_equal(held(k, KV(1), NULL), RW);
    assert_int_equal(held(k, KV(2), NULL), RW);
    assert_int_equal(held(c, KV(2), NULL), KM_R);
    assert_int_equal(held(b, KV(2), NULL), RW);
    assert_true(all_zero(f));
    host_check_all();
}

/* ---- supply --------------------------------------------------------------- */

static void test_supply_exact_pages(void **state)
{
    (void)state;
    struct task *k = host_new_task(), *t = host_new_task();
    for (int i = 0; i < 24; i++)
        root(k, KV(i), RW);
    u64 ks[5];
    assert_int_equal(mmu_missing(t, RG(0), ks, 5), 4);
    assert_int_equal(ks[0], KM_KS_PDPT_OF(RG(0)));
    assert_int_equal(ks[1], KM_KS_PD_OF(RG(0)));
    assert_int_equal(ks[2], KM_KS_PT_OF(RG(0)));
    assert_int_equal(ks[3], KM_KS_NT_OF(RG(0)));
    assert_int_equal(mmu_missing(t, RG(0), ks, 2), 2);
    /* a UTCB page needs its tables, never a node table (no node there) */
    assert_int_equal(mmu_missing(t, KM_UTCB_AREA, ks, 5), 3);
    assert_int_equal(ks[2], KM_KS_PT_OF(KM_UTCB_AREA));

    /* nothing supplied: the first missing page is the PDPT */
    u64 f = frame_alloc(), pool0 = kmem_pool_used();
    op_begin(t);
    assert_int_equal(mapdb_map_root(t, RG(0), f, RW, true), -KM_ENOMEM);
    assert_true(op.missing_set);
    assert_int_equal(op.missing, KM_KS_PDPT_OF(RG(0)));
    host_check_all();
    assert_int_equal(counts(t, KMEM_PAGETABLE), 1); /* the pinned PML4 */

    /* a page for another address is not taken */
    u64 wrong = supply(t, k, KV(0), KM_KS_PDPT_OF(0x8000000000ull));
    op_begin(t);
    assert_int_equal(mapdb_map_root(t, RG(0), f, RW, true), -KM_ENOMEM);
    assert_int_equal(op.missing, KM_KS_PDPT_OF(RG(0)));
    assert_int_equal(t->nsupply, 1);
    host_check_all();

    /* PDPT and PD supplied: the PT is the first missing (tables made stay) */
    u64 pdpt = supply(t, k, KV(1), KM_KS_PDPT_OF(RG(0)));
    u64 pd = supply(t, k, KV(2), KM_KS_PD_OF(RG(0)));
    assert_int_equal(counts(t, KMEM_PAGETABLE), 4);
    op_begin(t);
    assert_int_equal(mapdb_map_root(t, RG(0), f, RW, true), -KM_ENOMEM);
    assert_int_equal(op.missing, KM_KS_PT_OF(RG(0)));
    assert_int_equal(table_entry(t, RG(0), 39) & PTE_ADDR, pdpt);
    assert_int_equal(table_entry(t, RG(0), 30) & PTE_ADDR, pd);
    assert_int_equal(t->nsupply, 1);
    assert_int_equal(counts(t, KMEM_PAGETABLE), 4); /* 2 moved from supply to use */
    assert_int_equal(mmu_missing(t, RG(0), ks, 5), 2);
    assert_int_equal(ks[0], KM_KS_PT_OF(RG(0)));
    assert_int_equal(ks[1], KM_KS_NT_OF(RG(0)));
    host_check_all();

    u64 pt = supply(t, k, KV(3), KM_KS_PT_OF(RG(0)));
    u64 nt = supply(t, k, KV(4), KM_KS_NT_OF(RG(0)));
    op_begin(t);
    assert_int_equal(mapdb_map_root(t, RG(0), f, RW, true), -KM_ENOMEM);
    assert_int_equal(op.missing, KM_KS_MN_OF(0));
    u64 mn = supply(t, k, KV(5), KM_KS_MN_OF(0));
    op_begin(t);
    assert_int_equal(mapdb_map_root(t, RG(0), f, RW, true), 0);
    assert_false(op.missing_set);
    kmem_op = NULL;
    host_check_all();
    assert_int_equal(table_entry(t, RG(0), 21) & PTE_ADDR, pt);
    assert_int_equal(frame_aux_get(pt), nt);
    assert_int_equal(virt_to_phys(t->mapdb), mn);
    assert_int_equal(counts(t, KMEM_PAGETABLE), 5);
    assert_int_equal(counts(t, KMEM_NODETABLE), 1);
    assert_int_equal(counts(t, KMEM_MAPNODE), 1);
    assert_int_equal(t->nsupply, 1); /* the wrong one only */
    assert_int_equal(t->mn_next, 1);
    /* the loan records name lender and content */
    assert_int_equal(frame_lend(pt)->lender, KV(3) | k->number);
    assert_int_equal(frame_lend(pt)->kobj, KM_KS_PT_OF(RG(0)) | t->number);
    assert_int_equal(frame_lend(mn)->kobj, KM_KS_MN_OF(0) | t->number);
    assert_int_equal(frame_lend(wrong)->kobj, KM_KS_PDPT_OF(0x8000000000ull) | t->number);
    /* pool untouched by t under its kmem_op */
    assert_int_equal(kmem_pool_used(), pool0);

    /* duplicates and a full supply are refused; free slots count */
    assert_int_equal(kmem_supply_free(t), KMEM_SUPPLY - 1);
    assert_int_equal(kmem_supply_add(t, KM_KREQ(KM_KS_PDPT_OF(0x8000000000ull), KMEM_PAGETABLE, 0), pdpt,
                                     k->number, KV(1)),
                     -KM_EBUSY);
    for (int i = 0; i < KMEM_SUPPLY - 1; i++)
        supply(t, k, KV(6 + i), KM_KS_RESERVE);
    assert_int_equal(kmem_supply_free(t), 0);
    assert_int_equal(counts(t, KMEM_RESERVE), KMEM_SUPPLY - 1);
    u64 phys;
    assert_int_equal(mapdb_lend(k, KV(21), &phys), 0);
    assert_int_equal(kmem_supply_add(t, KM_KREQ(KM_KS_RESERVE, KMEM_RESERVE, 0), phys, k->number, KV(21)),
                     -KM_ENOMEM);
    mapdb_unlend(k->number, KV(21), phys);
    assert_int_equal(held(k, KV(21), NULL), RW);
    host_check_all();

    /* release: every unused page back to k, zeroed, uncharged */
    kmem_supply_release(t);
    assert_int_equal(t->nsupply, 0);
    assert_int_equal(counts(t, KMEM_RESERVE), 0);
    assert_int_equal(counts(t, KMEM_PAGETABLE), 4); /* the wrong PDPT went */
    assert_int_equal(held(k, KV(0), NULL), RW);
    assert_true(all_zero(wrong));
    for (int i = 6; i < 6 + KMEM_SUPPLY - 1; i++)
        assert_int_equal(held(k, KV(i), NULL), RW);
    assert_int_equal(frame_lend(wrong)->lender, 0);
    assert_int_equal(frame_lend(wrong)->kobj, 0);
    host_check_all();
}

static void test_supply_reserve(void **state)
{
    (void)state;
    struct task *k = host_new_task(), *t = host_new_task();
    for (int i = 0; i < 8; i++)
        root(k, KV(i), RW);
    u64 f = frame_alloc();
    u64 r[4];
    for (int i = 0; i < 3; i++)
        r[i] = supply(t, k, KV(i), KM_KS_RESERVE);
    assert_int_equal(counts(t, KMEM_RESERVE), 3);
    /* an exact page wins over the reserve */
    u64 pd = supply(t, k, KV(4), KM_KS_PD_OF(RG(0)));
    op_begin(t);
    assert_int_equal(mapdb_map_root(t, RG(0), f, RW, true), -KM_ENOMEM);
    /* PDPT, PT, NT from the reserve (3), PD exact; then the node page */
    assert_int_equal(op.missing, KM_KS_MN_OF(0));
    assert_int_equal(table_entry(t, RG(0), 30) & PTE_ADDR, pd);
    assert_int_equal(counts(t, KMEM_RESERVE), 0);
    assert_int_equal(counts(t, KMEM_PAGETABLE), 4);
    assert_int_equal(counts(t, KMEM_NODETABLE), 1);
    assert_int_equal(t->nsupply, 0);
    host_check_all();
    r[3] = supply(t, k, KV(6), KM_KS_RESERVE); /* used for the node page */
    op_begin(t);
    assert_int_equal(mapdb_map_root(t, RG(0), f, RW, true), 0);
    kmem_op = NULL;
    assert_int_equal(counts(t, KMEM_RESERVE), 0);
    assert_int_equal(counts(t, KMEM_MAPNODE), 1);
    assert_int_equal(t->nsupply, 0);
    host_check_all();
    /* each reserve page is now named by what it holds */
    u64 pdpt = table_entry(t, RG(0), 39) & PTE_ADDR, pt = table_entry(t, RG(0), 21) & PTE_ADDR;
    u64 nt = frame_aux_get(pt), mn = virt_to_phys(t->mapdb);
    u64 got[4] = {pdpt, pt, nt, mn};
    u64 ksof[4] = {KM_KS_PDPT_OF(RG(0)), KM_KS_PT_OF(RG(0)), KM_KS_NT_OF(RG(0)), KM_KS_MN_OF(0)};
    for (int i = 0; i < 4; i++) {
        bool from_reserve = false;
        for (int j = 0; j < 4; j++)
            from_reserve |= got[i] == r[j];
        assert_true(from_reserve);
        assert_int_equal(frame_lend(got[i])->kobj, ksof[i] | t->number);
    }
    /* revoking a used reserve page exports it as what it holds now: a
     * node table, localised (its one entry names the node), the mapping
     * stays */
    u64 lva = frame_lend(nt)->lender & ~0xfffull;
    u64 node_off = (u64)(uptr)((void **)phys_to_virt(nt))[0] & 0xfff;
    assert_int_equal(mapdb_unmap(k, KM_FPAGE(lva, 12, KM_RWX), false), 1);
    host_check_all();
    assert_int_equal(counts(t, KMEM_NODETABLE), 0);
    assert_int_equal(counts(t, KMEM_RESERVE), 0);
    assert_int_equal(held(t, RG(0), NULL), RW);
    assert_int_equal(((u64 *)phys_to_virt(nt))[0], KM_KS_MN_OF(0) + node_off);
    assert_int_equal(held(k, lva, NULL), RW);
    /* revoking an unused reserve page uncharges the reserve */
    u64 r5 = supply(t, k, KV(5), KM_KS_RESERVE);
    assert_int_equal(mapdb_unmap(k, KM_FPAGE(KV(5), 12, KM_W), false), 1); /* any rights */
    assert_int_equal(counts(t, KMEM_RESERVE), 0);
    assert_int_equal(t->nsupply, 0);
    assert_true(all_zero(r5));
    assert_int_equal(held(k, KV(5), NULL), RW);
    host_check_all();
}

/* ---- kfault.c: raise and accept --------------------------------------------- */

static struct thread *mk_thread(u32 n, struct task *t, int ext)
{
    struct thread *th = &thread_table[n];
    th->number = n;
    th->version = 1;
    th->task = t;
    th->state = TS_RUNNABLE;
    th->kpager = KM_NILTHREAD;
    th->ext = ext >= 0 ? &exts[ext] : NULL;
    return th;
}

static void answer(u64 w0, u64 w1)
{
    reply.w0[reply.n] = w0;
    reply.w1[reply.n] = w1;
    reply.n++;
}

static void test_kfault(void **state)
{
    (void)state;
    struct task *k = host_new_task(), *t = host_new_task(), *u = host_new_task();
    for (int i = 0; i < 16; i++)
        root(k, KV(i), RW);
    root(k, KV(20), KM_R);
    root(k, KV(21), KM_RWX);
    root(u, KV(0), RW);
    struct thread *kp = mk_thread(1, k, 0), *self = mk_thread(2, u, 1), *client = mk_thread(3, t, 2);
    client->kpager = thread_id(kp);
    assert_true(kfault_applies(client));
    opt.kmem = KMEM_MODE_POOL;
    assert_false(kfault_applies(client));
    opt.kmem = KMEM_MODE_KPAGER;
    assert_false(kfault_applies(self));

    u64 f = frame_alloc(), pool0 = kmem_pool_used();
    op_begin(t);
    assert_int_equal(mapdb_map_root(t, RG(3), f, RW, true), -KM_ENOMEM);
    /* the kpager answers: bad items first, each ignored, then the good ones */
    answer(KM_MAPITEM(KM_KS_PDPT_OF(RG(3)), 0), KM_FPAGE(KV(20), 12, KM_R | KM_W)); /* r/o page */
    answer(KM_MAPITEM(KM_KS_PDPT_OF(RG(3)), 0), KM_FPAGE(KV(0), 12, KM_R));         /* item w/o W */
    answer(KM_MAPITEM(KM_KS_PDPT_OF(RG(3)), 0), KM_FPAGE(KV(0), 13, RW));           /* 8 KiB */
    answer(KM_MAPITEM(KM_KS_PDPT_OF(RG(3)), 1), KM_FPAGE(KV(0), 12, RW));           /* grant */
    answer(KM_MAPITEM(KM_KS_PD_OF(0x8000000000ull), 0), KM_FPAGE(KV(0), 12, RW));  /* not asked */
    answer(KM_MAPITEM(KM_KS_PDPT_OF(RG(3)), 0), KM_FPAGE(KV(30), 12, RW));          /* unmapped */
    answer(KM_MAPITEM(KM_KS_PDPT_OF(RG(3)), 0), KM_FPAGE(KM_UTCB_AREA, 12, RW));    /* UTCB */
    answer(KM_MAPITEM(KM_KS_END + PAGE_SIZE, 0), KM_FPAGE(KV(0), 12, RW));          /* beyond */
    answer(KM_MAPITEM(KM_KS_PDPT_OF(RG(3)), 0), KM_FPAGE(KV(0), 12, RW));           /* good */
    answer(KM_MAPITEM(KM_KS_PDPT_OF(RG(3)), 0), KM_FPAGE(KV(1), 12, RW));           /* twice */
    answer(KM_MAPITEM(KM_KS_PD_OF(RG(3)), 0), KM_FPAGE(KV(0), 12, RW));             /* lent now */
    answer(KM_MAPITEM(KM_KS_PD_OF(RG(3)), 0), KM_FPAGE(KV(21), 12, KM_RWX));        /* good */
    answer(KM_MAPITEM(KM_KS_RESERVE, 0), KM_FPAGE(KV(2), 12, RW));                  /* reserve */
    answer(KM_MAPITEM(KM_KS_RESERVE, 0), KM_FPAGE(KV(3), 12, RW));                  /* reserve */
    i64 r = kfault_raise(self, client, t, op.missing, RG(3));
    assert_int_equal(r, -KM_ERESTART);
    assert_int_equal(reply.calls, 1);
    /* requests in hierarchy order: PDPT, PD, PT, NT, node page */
    assert_int_equal(reply.nasked, 5);
    u64 want[5] = {KM_KS_PDPT_OF(RG(3)), KM_KS_PD_OF(RG(3)), KM_KS_PT_OF(RG(3)), KM_KS_NT_OF(RG(3)), KM_KS_MN_OF(0)};
    int types[5] = {KMEM_PAGETABLE, KMEM_PAGETABLE, KMEM_PAGETABLE, KMEM_NODETABLE, KMEM_MAPNODE};
    for (int i = 0; i < 5; i++)
        assert_int_equal(reply.asked[i], KM_KREQ(want[i], types[i], KM_KREASON_FRESH));
    assert_int_equal(exts[1].kfault_got, 4);
    assert_null(exts[1].kfault_task);
    assert_int_equal(self->flags & (TF_KMSG | TF_KFAULT_IPC), 0);
    assert_int_equal(t->nsupply, 4);
    assert_int_equal(counts(t, KMEM_RESERVE), 2);
    assert_int_equal(counts(t, KMEM_PAGETABLE), 3);
    assert_false(pte(k, KV(0), &(u64){0}));
    assert_false(pte(k, KV(21), &(u64){0}));
    assert_int_equal(held(k, KV(1), NULL), RW); /* the duplicate stayed the kpager's */
    assert_int_equal(held(k, KV(20), NULL), KM_R);
    host_check_all();

    /* redone: the reserve covers PT and NT; the node page is missing */
    op_begin(t);
    assert_int_equal(mapdb_map_root(t, RG(3), f, RW, true), -KM_ENOMEM);
    assert_int_equal(op.missing, KM_KS_MN_OF(0));
    assert_int_equal(counts(t, KMEM_RESERVE), 0);
    /* a reply that supplies nothing: -KM_ENOMEM */
    answer(KM_MAPITEM(KM_KS_MN_OF(0), 0), KM_FPAGE(KV(20), 12, RW));
    assert_int_equal(kfault_raise(self, client, t, op.missing, RG(3)), -KM_ENOMEM);
    assert_int_equal(reply.nasked, 1);
    assert_int_equal(reply.asked[0], KM_KREQ(KM_KS_MN_OF(0), KMEM_MAPNODE, 0));
    answer(KM_MAPITEM(KM_KS_MN_OF(0), 0), KM_FPAGE(KV(4), 12, RW));
    assert_int_equal(kfault_raise(self, client, t, op.missing, RG(3)), -KM_ERESTART);
    op_begin(t);
    assert_int_equal(mapdb_map_root(t, RG(3), f, RW, true), 0);
    kmem_op = NULL;
    host_check_all();
    assert_int_equal(kmem_pool_used(), pool0); /* nothing from the pool for t */

    /* the kpager is the faulting thread itself, or waits for it: deadlock */
    client->kpager = thread_id(self);
    assert_int_equal(kfault_raise(self, client, t, KM_KS_MN_OF(1), RG(4)), -KM_EDEADLK);
    client->kpager = thread_id(kp);
    kp->state = TS_RECEIVING;
    kp->partner = self;
    assert_int_equal(kfault_raise(self, client, t, KM_KS_MN_OF(1), RG(4)), -KM_EDEADLK);
    kp->state = TS_RUNNABLE;
    kp->partner = NULL;
    /* a kpager that is gone */
    client->kpager = KM_ID(9, 1);
    assert_int_equal(kfault_raise(self, client, t, KM_KS_MN_OF(1), RG(4)), -KM_ENOMEM);
    assert_int_equal(reply.calls, 3);
    host_check_all();
}

/* ---- waiting in place (kmem_op_wait) ------------------------------------------ */

/* The hook a fault reply's transfer waits in (kernel/ipc.c xfer_wait):
 * the "kpager" k lends the one page asked for (its pages KV(8) on), after
 * meddle, which runs as others would while the lock is let go. */
static struct {
    struct task *t, *k, *s;
    int calls, next;
    i64 result;
    void (*meddle)(int call);
    u64 asked[8];
} waiter;

static i64 wait_hook(struct kmem_op *o)
{
    assert_null(kmem_op); /* others' operations may run meanwhile */
    assert_true(o->missing_set);
    waiter.asked[waiter.calls % 8] = o->missing;
    if (waiter.meddle)
        waiter.meddle(waiter.calls);
    waiter.calls++;
    if (waiter.result)
        return waiter.result;
    supply(waiter.t, waiter.k, KV(8 + waiter.next++), o->missing);
    return 0;
}

static void wait_world(void)
{
    memset(&waiter, 0, sizeof waiter);
    waiter.k = host_new_task();
    waiter.t = host_new_task();
    waiter.s = host_new_task();
    for (int i = 8; i < 24; i++)
        root(waiter.k, KV(i), RW);
    for (int i = 0; i < 4; i++)
        root(waiter.s, KV(i), RW);
}

/* s maps its pages KV(0..n) to t at RG(5) under a kmem_op that waits. */
static i64 wait_map(int n)
{
    op = (struct kmem_op){.task = waiter.t, .wait = wait_hook};
    kmem_op = &op;
    i64 r = mapdb_transfer(waiter.s, KM_MAPITEM(0, 0), KM_FPAGE(KV(0), n == 1 ? 12 : 14, RW), waiter.t,
                           KM_FPAGE(RG(5), 21, 0));
    kmem_op = NULL;
    host_check_all();
    return r;
}

/* One page a wait, each answered: the transfer goes on where it stopped
 * and asks in hierarchy order, each page once. */
static void test_wait_in_place(void **state)
{
    (void)state;
    wait_world();
    assert_int_equal(wait_map(1), 1);
    assert_int_equal(waiter.calls, 5); /* PDPT, PD, PT, node table, node page (t has its top-level table) */
    u64 want[5] = {KM_KS_PDPT_OF(RG(5)), KM_KS_PD_OF(RG(5)), KM_KS_PT_OF(RG(5)), KM_KS_NT_OF(RG(5)), KM_KS_MN_OF(0)};
    for (int i = 0; i < 5; i++)
        assert_int_equal(waiter.asked[i], want[i]);
    u64 phys, src;
    assert_int_equal(held(waiter.t, RG(5), &phys), RW);
    assert_int_equal(held(waiter.s, KV(0), &src), RW);
    assert_int_equal(phys, src);
    /* four pages of the region: all there (s's edges: from the pool, s has no kpager) */
    assert_int_equal(wait_map(4), 4);
    assert_int_equal(waiter.calls, 5);
    for (int i = 0; i < 4; i++)
        assert_int_equal(held(waiter.t, RG(5) + (u64)i * PAGE_SIZE, NULL), RW);
}

/* While the transfer waits, the sender's page goes: nothing is sent. */
static void unmap_source(int call)
{
    if (call == 2)
        assert_true(mapdb_unmap(waiter.s, KM_FPAGE(KV(0), 12, KM_RWX), true) >= 0);
}

static void test_wait_source_gone(void **state)
{
    (void)state;
    wait_world();
    waiter.meddle = unmap_source;
    assert_int_equal(wait_map(1), 0);
    /* the destination's tables first (the node table too), then the
     * sender's page looked up again: gone, nothing sent, no node page */
    assert_int_equal(waiter.calls, 4);
    assert_int_equal(waiter.asked[3], KM_KS_NT_OF(RG(5)));
    assert_int_equal(held(waiter.t, RG(5), NULL), 0);
    assert_int_equal(held(waiter.s, KV(0), NULL), 0);
    assert_int_equal(counts(waiter.t, KMEM_NODETABLE), 1);
    assert_int_equal(counts(waiter.t, KMEM_MAPNODE), 0);
    assert_int_equal(waiter.t->nsupply, 0);
}

/* While the transfer waits for the leaf table, the kpager takes back the
 * page directory it lent just before: the walk starts again from the top
 * and asks for it again. */
static void revoke_pd(int call)
{
    if (call == 2) /* (asked: PT; lent: KV(8) PDPT, KV(9) PD) */
        assert_int_equal(mapdb_unmap(waiter.k, KM_FPAGE(KV(9), 12, KM_RWX), false), 1);
}

static void test_wait_table_taken_back(void **state)
{
    (void)state;
    wait_world();
    waiter.meddle = revoke_pd;
    assert_int_equal(wait_map(1), 1);
    assert_int_equal(waiter.asked[2], KM_KS_PT_OF(RG(5)));
    assert_int_equal(waiter.asked[3], KM_KS_PD_OF(RG(5))); /* again */
    assert_int_equal(waiter.asked[4], KM_KS_NT_OF(RG(5)));  /* (the PT lent meanwhile is used) */
    assert_int_equal(waiter.calls, 6);
    assert_int_equal(held(waiter.t, RG(5), NULL), RW);
    u64 p;
    assert_false(pte(waiter.k, KV(10), &p)); /* the PT it lent meanwhile is in use */
    assert_true(pte(waiter.k, KV(9), &p));   /* the PD is its own again */
}

/* While the walk waits for the leaf table, another operation of t's (with
 * pages from elsewhere) makes that table, its node table and a node page:
 * the walk goes on with them, not over them (both pages stay mapped), and
 * asks for nothing more. */
static void map_beside(int call)
{
    if (call == 2) /* (asked: PT) */
        assert_int_equal(mapdb_map_root(waiter.t, RG(5) + PAGE_SIZE, frame_alloc(), RW, true), 0);
}

static void test_wait_table_made_meanwhile(void **state)
{
    (void)state;
    wait_world();
    waiter.meddle = map_beside;
    assert_int_equal(wait_map(1), 1);
    assert_int_equal(waiter.asked[2], KM_KS_PT_OF(RG(5)));
    assert_int_equal(waiter.calls, 3); /* (not the node table, nor a node page) */
    assert_int_equal(held(waiter.t, RG(5), NULL), RW);
    assert_int_equal(held(waiter.t, RG(5) + PAGE_SIZE, NULL), RW);
    /* tables: its top-level table, the PDPT and PD lent, the other's PT;
     * the PT lent meanwhile stays in the supply, unused, until released */
    assert_int_equal(waiter.t->nsupply, 1);
    assert_int_equal(counts(waiter.t, KMEM_PAGETABLE), 5);
    u64 p;
    assert_false(pte(waiter.k, KV(10), &p));
    kmem_supply_release(waiter.t);
    assert_int_equal(counts(waiter.t, KMEM_PAGETABLE), 4);
    assert_true(pte(waiter.k, KV(10), &p)); /* the kpager's own again */
}

/* While the walk waits, the sender's page is replaced (another frame at
 * the same address): no table went, so the sender's node is read again
 * from its slot, and the new frame is what is sent. */
static u64 replaced_frame;
static void replace_source(int call)
{
    if (call == 1) { /* (the walk's last wait: for the node table) */
        assert_true(mapdb_unmap(waiter.s, KM_FPAGE(KV(0), 12, KM_RWX), true) >= 0);
        root(waiter.s, KV(5), RW); /* (takes the old node's place in its page) */
        replaced_frame = root(waiter.s, KV(0), RW);
    }
}

static void test_wait_source_replaced(void **state)
{
    (void)state;
    wait_world();
    root(waiter.t, RG(7), RW); /* (t has a free node: no wait after the walk's) */
    waiter.meddle = replace_source;
    assert_int_equal(wait_map(1), 1);
    assert_int_equal(waiter.asked[0], KM_KS_PT_OF(RG(5))); /* (its PDPT and PD are there) */
    assert_int_equal(waiter.asked[1], KM_KS_NT_OF(RG(5)));
    assert_int_equal(waiter.calls, 2);
    u64 phys = 0;
    assert_int_equal(held(waiter.t, RG(5), &phys), RW);
    assert_int_equal(phys, replaced_frame);
    /* derived from the new mapping, not from the one in the old node's place */
    assert_true(mapdb_unmap(waiter.s, KM_FPAGE(KV(5), 12, KM_RWX), true) >= 0);
    assert_int_equal(held(waiter.t, RG(5), NULL), RW);
    assert_true(mapdb_unmap(waiter.s, KM_FPAGE(KV(0), 12, KM_RWX), false) >= 0);
    assert_int_equal(held(waiter.t, RG(5), NULL), 0);
}

/* While the walk waits, the sender's node table goes out: its slot is not
 * read again (the page is looked at from the start, the table made again
 * from the sender's nodes), and the page is sent. */
static u64 source_nt;
static void source_table_out(int call)
{
    if (call == 2) {
        struct mmu_slot s;
        assert_true(mmu_walk(waiter.s, KV(0), MMU_FIND, &s) && s.node);
        source_nt = virt_to_phys(s.node) & ~(u64)(PAGE_SIZE - 1);
        assert_true(nodetable_export(waiter.s, KM_KS_NT_OF(KV(0)), source_nt));
        kmem_page_free(waiter.s, KMEM_NODETABLE, source_nt); /* (a pool page: back to the pool) */
    }
}

/* s's page KV(0) mapped to t while meddle runs during the waits: the
 * sender's own frame is sent, and s keeps its mapping. */
static void sent_despite(void (*meddle)(int call))
{
    wait_world();
    u64 src = 0;
    assert_int_equal(held(waiter.s, KV(0), &src), RW);
    waiter.meddle = meddle;
    assert_int_equal(wait_map(1), 1);
    u64 phys = 0;
    assert_int_equal(held(waiter.t, RG(5), &phys), RW);
    assert_int_equal(phys, src);
    assert_int_equal(held(waiter.s, KV(0), NULL), RW);
}

static void test_wait_source_table_out(void **state)
{
    (void)state;
    sent_despite(source_table_out);
}

/* A space whose top-level table its kpager took back (lazy again): while
 * the walk waits for the page directory, the kpager takes back the
 * top-level table it lent just before: the walk does not go on in the
 * tables that went with it, but starts again and asks for them again. */
static void revoke_top(int call)
{
    if (call == 2) /* (asked: PD; lent: KV(8) top-level table, KV(9) PDPT) */
        assert_int_equal(mapdb_unmap(waiter.k, KM_FPAGE(KV(8), 12, KM_RWX), false), 1);
}

static void test_wait_top_taken_back(void **state)
{
    (void)state;
    wait_world();
    struct task *t = waiter.t;
    kmem_page_free(t, KMEM_PAGETABLE, t->as.pml4); /* (as a kpager's taking it back leaves it) */
    t->as.pml4 = 0;
    t->as.lazy = true;
    waiter.meddle = revoke_top;
    assert_int_equal(wait_map(1), 1);
    assert_int_equal(waiter.asked[0], KM_KS_PML4);
    assert_int_equal(waiter.asked[2], KM_KS_PD_OF(RG(5)));
    assert_int_equal(waiter.asked[3], KM_KS_PML4); /* again, and what was below it */
    assert_int_equal(waiter.asked[4], KM_KS_PDPT_OF(RG(5)));
    assert_int_equal(held(t, RG(5), NULL), RW);
    u64 p;
    assert_true(pte(waiter.k, KV(8), &p)); /* the kpager's own again */
}

/* While the walk waits for the node table, another operation of t's
 * makes it (and a node page): the walk takes that one, not a second. */
static void map_beside_nt(int call)
{
    if (call == 3) /* (asked: the node table) */
        assert_int_equal(mapdb_map_root(waiter.t, RG(5) + PAGE_SIZE, frame_alloc(), RW, true), 0);
}

static void test_wait_node_table_made_meanwhile(void **state)
{
    (void)state;
    wait_world();
    waiter.meddle = map_beside_nt;
    assert_int_equal(wait_map(1), 1);
    assert_int_equal(waiter.asked[3], KM_KS_NT_OF(RG(5)));
    assert_int_equal(waiter.calls, 4); /* (no node page: the other's has room) */
    assert_int_equal(held(waiter.t, RG(5), NULL), RW);
    assert_int_equal(held(waiter.t, RG(5) + PAGE_SIZE, NULL), RW);
    assert_int_equal(counts(waiter.t, KMEM_NODETABLE), 2); /* the other's, and the one lent meanwhile (unused) */
    kmem_supply_release(waiter.t);
    assert_int_equal(counts(waiter.t, KMEM_NODETABLE), 1);
}

/* While the walk waits, the sender's page is lent to the kernel (for
 * another task): read again from its slot, it has no access now, and
 * nothing is sent (a lent frame never reaches user level). */
static struct task *lent_to;
static void lend_source(int call)
{
    if (call == 3)
        supply(lent_to, waiter.s, KV(0), KM_KS_RESERVE);
}

static void test_wait_source_lent(void **state)
{
    (void)state;
    wait_world();
    lent_to = host_new_task();
    waiter.meddle = lend_source;
    assert_int_equal(wait_map(1), 0);
    assert_int_equal(held(waiter.t, RG(5), NULL), 0);
    assert_int_equal(held(waiter.s, KV(0), NULL), 0);
    kmem_supply_release(lent_to);
    host_check_all();
}

/* While the walk waits, the sender's node page goes out (exported in
 * place, as a kpager's taking it back does): its node is not read from
 * the slot (it is out), the page is looked at again, the node brought in,
 * and the page sent. */
static void source_node_out(int call)
{
    if (call == 3) {
        struct mmu_slot s;
        assert_true(mmu_walk(waiter.s, KV(0), MMU_FIND, &s) && s.node && *s.node);
        u64 pg = virt_to_phys(*s.node) & ~(u64)(PAGE_SIZE - 1);
        assert_int_equal(mapdb_reclaim_node_page(waiter.s, pg), 1);
        assert_true(mmu_walk(waiter.s, KV(0), MMU_FIND, &s) && s.node && mn_is_out(*s.node));
        kmem_page_free(waiter.s, KMEM_MAPNODE, pg); /* (a pool page: back to the pool) */
    }
}

static void test_wait_source_node_out(void **state)
{
    (void)state;
    sent_despite(source_node_out);
}

/* Suspending an entry marks its space: only such a space's page faults
 * are tried as soft ones (mapdb_soft_fault), which give access back once
 * the frame is not lent. */
static void test_suspend_marks_space(void **state)
{
    (void)state;
    struct task *t = host_new_task(), *u = host_new_task();
    u64 f = root(t, KV(0), RW), g = root(u, KV(0), RW), p;
    struct mmu_slot s;
    assert_false(t->as.suspended || u->as.suspended);
    assert_true(mmu_walk(t, KV(0), MMU_FIND, &s));
    mmu_set_suspended(t, KV(0), &s, f);
    assert_true(mmu_walk(u, KV(0), MMU_FIND, &s));
    mmu_suspend(u, KV(0), &s);
    assert_true(t->as.suspended && u->as.suspended);
    assert_false(pte(t, KV(0), &p) || pte(u, KV(0), &p));
    assert_true(mapdb_soft_fault(t, KV(0)) && mapdb_soft_fault(u, KV(0)));
    assert_true(pte(t, KV(0), &p) && p == f);
    assert_true(pte(u, KV(0), &p) && p == g);
}

/* The receiver is destroyed while the transfer waits: the wait says so
 * (xfer_kfault: -KM_ERESTART), and the transfer ends there. */
static void test_wait_error(void **state)
{
    (void)state;
    wait_world();
    waiter.result = -KM_ERESTART;
    assert_int_equal(wait_map(1), -KM_ERESTART);
    assert_int_equal(waiter.calls, 1);
    waiter.result = -KM_EDEADLK;
    assert_int_equal(wait_map(1), -KM_EDEADLK);
    /* no wait possible: -KM_ENOMEM, the missing page noted (redone after) */
    op = (struct kmem_op){.task = waiter.t};
    kmem_op = &op;
    assert_int_equal(mapdb_transfer(waiter.s, KM_MAPITEM(0, 0), KM_FPAGE(KV(0), 12, RW), waiter.t,
                                    KM_FPAGE(RG(5), 21, 0)),
                     -KM_ENOMEM);
    assert_true(op.missing_set);
    assert_int_equal(kmem_op_wait(), -KM_ENOMEM);
    kmem_op = NULL;
    host_check_all();
}

/* The task a kernel page fault is for changes while its kpager runs: the
 * answer must not reach the task now in that slot, nor a dying one. */
static struct task *gone_task;
static void task_replaced(void) { gone_task->version++; }
static void task_dying(void) { gone_task->flags |= TASK_F_DYING; }
static void task_freed(void) { gone_task->number = 0; } /* (the version stays: task.c) */

static void test_kfault_task_gone(void **state)
{
    (void)state;
    struct task *k = host_new_task(), *t = host_new_task(), *u = host_new_task();
    root(k, KV(0), RW);
    struct thread *kp = mk_thread(1, k, 0), *self = mk_thread(2, u, 1), *client = mk_thread(3, t, 2);
    client->kpager = thread_id(kp);
    gone_task = t;
    u64 f = frame_alloc();
    void (*change[3])(void) = {task_replaced, task_dying, task_freed};
    for (int i = 0; i < 3; i++) {
        u32 number = t->number, version = t->version, flags = t->flags;
        op_begin(t);
        assert_int_equal(mapdb_map_root(t, RG(3), f, RW, true), -KM_ENOMEM);
        kmem_op = NULL;
        answer(KM_MAPITEM(op.missing, 0), KM_FPAGE(KV(0), 12, RW));
        reply.meanwhile = change[i];
        assert_int_equal(kfault_raise(self, client, t, op.missing, RG(3)), -KM_ENOMEM);
        reply.meanwhile = NULL;
        t->number = number, t->version = version, t->flags = flags;
        assert_int_equal(exts[1].kfault_got, 0);
        assert_int_equal(t->nsupply, 0);
        assert_int_equal(kmem_lent_frames, 0);
        assert_int_equal(held(k, KV(0), NULL), RW); /* not lent */
        assert_true(pte(k, KV(0), &(u64){0}));
        host_check_all();
    }
    /* the same answer, the task unchanged: taken */
    op_begin(t);
    assert_int_equal(mapdb_map_root(t, RG(3), f, RW, true), -KM_ENOMEM);
    kmem_op = NULL;
    answer(KM_MAPITEM(op.missing, 0), KM_FPAGE(KV(0), 12, RW));
    assert_int_equal(kfault_raise(self, client, t, op.missing, RG(3)), -KM_ERESTART);
    assert_int_equal(t->nsupply, 1);
    assert_false(pte(k, KV(0), &(u64){0}));
    host_check_all();
    kmem_supply_release(t);
    assert_int_equal(held(k, KV(0), NULL), RW);
    frame_free(f);
}

/* A kpager's page lent in line (alone, present) loses its access, and has
 * it again once returned.
 * Only a space that ever held a suspended entry has its page faults tried
 * as soft ones: the lender's; not the client's, nor the faulting thread's. */
static void test_kfault_lend_soft_fault(void **state)
{
    (void)state;
    struct task *k = host_new_task(), *t = host_new_task(), *u = host_new_task();
    root(k, KV(0), RW);
    struct thread *kp = mk_thread(1, k, 0), *self = mk_thread(2, u, 1), *client = mk_thread(3, t, 2);
    client->kpager = thread_id(kp);
    u64 f = frame_alloc();
    assert_false(k->as.suspended);
    op_begin(t);
    assert_int_equal(mapdb_map_root(t, RG(3), f, RW, true), -KM_ENOMEM);
    kmem_op = NULL;
    answer(KM_MAPITEM(op.missing, 0), KM_FPAGE(KV(0), 12, RW));
    assert_int_equal(kfault_raise(self, client, t, op.missing, RG(3)), -KM_ERESTART);
    u64 p;
    assert_false(pte(k, KV(0), &p));
    assert_false(mapdb_soft_fault(k, KV(0))); /* not while it is lent */
    assert_true(k->as.suspended);
    assert_false(t->as.suspended || u->as.suspended);
    kmem_supply_release(t); /* nothing used it: back, its own entry at once */
    assert_true(pte(k, KV(0), &p));
    host_check_all();
    frame_free(f);
}

/* An answer the supply has no room for is refused before the page is
 * lent: what derives from the kpager's page stays. */
static void test_kfault_supply_full(void **state)
{
    (void)state;
    struct task *k = host_new_task(), *t = host_new_task(), *u = host_new_task();
    for (int i = 0; i < KMEM_SUPPLY + 1; i++)
        root(k, KV(i), RW);
    for (int i = 0; i < KMEM_SUPPLY - 1; i++)
        supply(t, k, KV(i), KM_KS_RESERVE);
    map1(k, KV(KMEM_SUPPLY), u, KV(1), KM_R);
    struct thread *kp = mk_thread(1, k, 0), *self = mk_thread(2, u, 1), *client = mk_thread(3, t, 2);
    client->kpager = thread_id(kp);
    u64 shootdowns = host_tlb_shootdowns;
    /* a request for the PDPT (one slot left: one asked for); the reserve
     * page fills the supply, the answer to the request then has no room */
    answer(KM_MAPITEM(KM_KS_RESERVE, 0), KM_FPAGE(KV(KMEM_SUPPLY - 1), 12, RW));
    answer(KM_MAPITEM(KM_KS_PDPT_OF(RG(3)), 0), KM_FPAGE(KV(KMEM_SUPPLY), 12, RW));
    assert_int_equal(kfault_raise(self, client, t, KM_KS_PDPT_OF(RG(3)), RG(3)), -KM_ERESTART);
    assert_int_equal(reply.nasked, 1);
    assert_int_equal(exts[1].kfault_got, 1);
    assert_int_equal(t->nsupply, KMEM_SUPPLY);
    assert_false(kmem_supplied(t, KM_KS_PDPT_OF(RG(3))));
    assert_int_equal(host_tlb_shootdowns, shootdowns + 1); /* the reserve page's PTE only */
    assert_int_equal(held(k, KV(KMEM_SUPPLY), NULL), RW);
    assert_true(pte(k, KV(KMEM_SUPPLY), &(u64){0}));
    assert_int_equal(held(u, KV(1), NULL), KM_R); /* derived: still there */
    host_check_all();
    kmem_supply_release(t);
}

/* sigma0 grants one of its pages, then maps it again: the grant maps (a
 * frame has one tree), so lending the grantee's page suspends sigma0's and
 * the other task's mappings too.  (Found by the session-6 review: with two
 * trees, the frame stayed writable by user level while the kernel used it.) */
static void test_sigma0_grant_maps(void **state)
{
    (void)state;
    struct task *s0 = host_new_task(), *x = host_new_task(), *y = host_new_task(), *t = host_new_task();
    u64 f = 0x200000; /* sigma0's range: va == phys (as test_sigma0_page_lent) */
    assert_int_equal(mapdb_sigma0_add(s0, f, PAGE_SIZE), 0);
    assert_int_equal(mapdb_transfer(s0, KM_MAPITEM(0, 0) | KM_ITEM_GRANT, KM_FPAGE(f, 12, RW), x,
                                    KM_FPAGE(KV(0), 12, 0)),
                     1);
    assert_int_equal(held(s0, f, NULL), KM_RWX); /* sigma0 keeps it */
    assert_int_equal(mapdb_transfer(s0, KM_MAPITEM(0, 0), KM_FPAGE(f, 12, RW), y, KM_FPAGE(KV(0), 12, 0)), 1);
    host_check_all();
    supply(t, x, KV(0), KM_KS_RESERVE);
    u64 p;
    assert_false(pte(y, KV(0), &p));
    assert_false(pte(s0, f, &p));
    kmem_supply_release(t);
    host_check_all();
    assert_true(mapdb_soft_fault(y, KV(0))); /* given back: every mapping has it again at its next touch */
    assert_int_equal(held(y, KV(0), NULL), RW);
}

/* ---- revocation ------------------------------------------------------------- */

/* Client t with every table of region RG(0) (and its first node page) lent
 * by k; mappings in RG(0) (some mapped on to u), in RG(1) (pool tables),
 * in another 1 GiB (pool tables); u has its own mappings. */
struct world {
    struct task *k, *t, *u;
    u64 pdpt, pd, pt, nt, mn; /* the lent frames */
    u64 kv_pdpt, kv_pd, kv_pt, kv_nt, kv_mn;
    u64 base[KMEM_NTYPES];
};

#define FAR 0x8000000000ull /* another PML4 entry */

static void world(struct world *w)
{
    w->k = host_new_task();
    w->t = host_new_task();
    w->u = host_new_task();
    for (int i = 0; i < 8; i++)
        root(w->k, KV(i), RW);
    w->kv_pdpt = KV(0), w->kv_pd = KV(1), w->kv_pt = KV(2), w->kv_nt = KV(3), w->kv_mn = KV(4);
    w->pdpt = supply(w->t, w->k, KV(0), KM_KS_PDPT_OF(RG(0)));
    w->pd = supply(w->t, w->k, KV(1), KM_KS_PD_OF(RG(0)));
    w->pt = supply(w->t, w->k, KV(2), KM_KS_PT_OF(RG(0)));
    w->nt = supply(w->t, w->k, KV(3), KM_KS_NT_OF(RG(0)));
    w->mn = supply(w->t, w->k, KV(4), KM_KS_MN_OF(0));
    op_begin(w->t);
    for (int i = 0; i < 4; i++)
        root(w->t, RG(0) + (u64)i * PAGE_SIZE, RW);
    kmem_op = NULL;
    assert_int_equal(w->t->nsupply, 0);
    root(w->t, RG(1), RW);          /* pool PT and NT */
    root(w->t, FAR + RG(0), RW);    /* pool PDPT..NT */
    root(w->u, RG(0), RW);          /* u: same address, own tables */
    map1(w->t, RG(0) + PAGE_SIZE, w->u, RG(5), KM_R); /* derived from the region */
    map1(w->t, RG(1), w->u, RG(6), KM_R);             /* derived from elsewhere */
    map1(w->u, RG(0), w->t, RG(1) + PAGE_SIZE, RW);   /* t's, from u, outside */
    for (int i = 0; i < KMEM_NTYPES; i++)
        w->base[i] = w->t->kmem.pages[i];
    assert_int_equal(w->base[KMEM_PAGETABLE], 1 + 3 + 1 + 3);
    assert_int_equal(w->base[KMEM_NODETABLE], 3);
    assert_int_equal(w->base[KMEM_MAPNODE], 2); /* its node page, lent; its edge page */
    host_check_all();
}

/* The lender gets frame `phys` back at kv with its rights, zeroed. */
static void came_back_to(struct task *k, u64 kv, u64 phys)
{
    u64 p;
    assert_int_equal(held(k, kv, &p), RW);
    assert_int_equal(p, phys);
    assert_true(pte(k, kv, &p));
    assert_true(all_zero(phys));
    assert_int_equal(frame_lend(phys)->lender, 0);
    assert_int_equal(frame_lend(phys)->kobj, 0);
}

static void came_back(struct world *w, u64 kv, u64 phys) { came_back_to(w->k, kv, phys); }

/* Mappings outside the region stay: t's in RG(1) and FAR, u's own. */
static void others_stay(struct world *w)
{
    assert_int_equal(held(w->t, RG(1), NULL), RW);
    assert_int_equal(held(w->t, RG(1) + PAGE_SIZE, NULL), RW);
    assert_int_equal(held(w->t, FAR + RG(0), NULL), RW);
    assert_int_equal(held(w->u, RG(0), NULL), RW);
    assert_int_equal(held(w->u, RG(6), NULL), KM_R);
    for (int i = 5; i < 8; i++)
        assert_int_equal(held(w->k, KV(i), NULL), RW);
}

static void region_gone(struct world *w)
{
    for (int i = 0; i < 4; i++) {
        assert_int_equal(held(w->t, RG(0) + (u64)i * PAGE_SIZE, NULL), 0);
        assert_int_equal(aspace_lookup(&w->t->as, RG(0) + (u64)i * PAGE_SIZE), 0);
    }
    assert_int_equal(held(w->u, RG(5), NULL), 0); /* derived: gone with it */
}

static void test_revoke_leaf_table(void **state)
{
    (void)state;
    struct world w;
    world(&w);
    u64 shoot = host_tlb_shootdowns;
    assert_int_equal(mapdb_unmap(w.k, KM_FPAGE(w.kv_pt, 12, KM_RWX), false), 1);
    host_check_all();
    assert_true(host_tlb_shootdowns > shoot);
    came_back(&w, w.kv_pt, w.pt);
    came_back(&w, w.kv_nt, w.nt); /* the node table beside it went back too */
    region_gone(&w);
    others_stay(&w);
    assert_int_equal(table_entry(w.t, RG(0), 21), 0);
    assert_int_equal(counts(w.t, KMEM_PAGETABLE), w.base[KMEM_PAGETABLE] - 1);
    assert_int_equal(counts(w.t, KMEM_NODETABLE), w.base[KMEM_NODETABLE] - 1);
    assert_int_equal(counts(w.t, KMEM_MAPNODE), 2); /* node page, edge page (RG(1)'s edge to u) */
    assert_false(pte(w.k, w.kv_pd, &(u64){0})); /* still lent */
    /* the region is usable again: the kernel asks for what it lacks */
    u64 ks[5];
    assert_int_equal(mmu_missing(w.t, RG(0), ks, 5), 2);
    assert_int_equal(ks[0], KM_KS_PT_OF(RG(0)));
    root(w.t, RG(0) + 3 * PAGE_SIZE, RW); /* from the pool */
    host_check_all();
}

static void test_revoke_page_directory(void **state)
{
    (void)state;
    struct world w;
    world(&w);
    assert_int_equal(mapdb_unmap(w.k, KM_FPAGE(w.kv_pd, 12, KM_RWX), false), 1);
    host_check_all();
    came_back(&w, w.kv_pd, w.pd);
    came_back(&w, w.kv_pt, w.pt);
    came_back(&w, w.kv_nt, w.nt);
    region_gone(&w);
    /* the PD covered RG(1) too: its mappings (and what derives) went */
    assert_int_equal(held(w.t, RG(1), NULL), 0);
    assert_int_equal(held(w.t, RG(1) + PAGE_SIZE, NULL), 0);
    assert_int_equal(held(w.u, RG(6), NULL), 0);
    assert_int_equal(held(w.u, RG(0), NULL), RW); /* the parent of t's stays */
    assert_int_equal(held(w.t, FAR + RG(0), NULL), RW);
    assert_int_equal(table_entry(w.t, RG(0), 30), 0);
    assert_int_equal(counts(w.t, KMEM_PAGETABLE), w.base[KMEM_PAGETABLE] - 3);
    assert_int_equal(counts(w.t, KMEM_NODETABLE), w.base[KMEM_NODETABLE] - 2);
    assert_false(pte(w.k, w.kv_pdpt, &(u64){0}));
    assert_false(pte(w.k, w.kv_mn, &(u64){0}));
    host_check_all();
}

static void test_revoke_pdpt_self(void **state)
{
    (void)state;
    struct world w;
    world(&w);
    u64 free_before = frame_free_count();
    /* KM_UNMAP_SELF: exported, then the lender's mapping goes too */
    assert_int_equal(mapdb_unmap(w.k, KM_FPAGE(w.kv_pdpt, 12, KM_RWX), true), 1);
    host_check_all();
    assert_int_equal(held(w.k, w.kv_pdpt, NULL), 0);
    assert_int_equal(aspace_lookup(&w.k->as, w.kv_pdpt), 0);
    assert_true(all_zero(w.pdpt));
    came_back(&w, w.kv_pd, w.pd);
    came_back(&w, w.kv_pt, w.pt);
    came_back(&w, w.kv_nt, w.nt);
    region_gone(&w);
    assert_int_equal(held(w.t, RG(1), NULL), 0);
    assert_int_equal(held(w.t, FAR + RG(0), NULL), RW);
    assert_int_equal(held(w.u, RG(0), NULL), RW);
    assert_int_equal(table_entry(w.t, RG(0), 39), 0);
    assert_int_equal(counts(w.t, KMEM_PAGETABLE), w.base[KMEM_PAGETABLE] - 4);
    /* frames: pdpt (kernel-owned root) freed, pool tables of RG(1) freed,
     * t's four and its RG(1) page too */
    assert_true(frame_free_count() > free_before);
    host_check_all();
}

/* The top-level table: a space starts without one; the first operation
 * that needs tables asks for it first (kspace 0), and when the kpager
 * takes it back every mapping of the task goes, with all its tables, and
 * the space is empty again until its next mapping. */
static void test_revoke_top_level(void **state)
{
    (void)state;
    struct task *k = host_new_task(), *t = host_new_task(), *u = host_new_task();
    aspace_destroy(t); /* host_new_task gave it a table from the pool */
    assert_true(aspace_create(t));
    assert_int_equal(t->as.pml4, 0);
    for (int i = 0; i < 8; i++)
        root(k, KV(i), RW);
    u64 ks[5];
    assert_int_equal(mmu_missing(t, RG(0), ks, 5), 5);
    assert_int_equal(ks[0], KM_KS_PML4);
    assert_int_equal(ks[1], KM_KS_PDPT_OF(RG(0)));
    assert_int_equal(ks[4], KM_KS_NT_OF(RG(0)));
    u64 lent[6], want[6] = {KM_KS_PML4, KM_KS_PDPT_OF(RG(0)), KM_KS_PD_OF(RG(0)),
                             KM_KS_PT_OF(RG(0)), KM_KS_NT_OF(RG(0)), KM_KS_MN_OF(0)};
    op_begin(t);
    u64 f = frame_alloc();
    assert_int_equal(mapdb_map_root(t, RG(0), f, RW, true), -KM_ENOMEM);
    assert_int_equal(op.missing, KM_KS_PML4); /* asked for first */
    frame_free(f);
    for (int i = 0; i < 6; i++)
        lent[i] = supply(t, k, KV(i), want[i]);
    op_begin(t);
    root(t, RG(0), RW);
    root(t, RG(0) + PAGE_SIZE, RW);
    kmem_op = NULL;
    assert_int_equal(t->as.pml4, lent[0]);
    map1(t, RG(0), u, RG(5), KM_R);
    assert_int_equal(counts(t, KMEM_PAGETABLE), 4);
    host_check_all();
    assert_int_equal(mapdb_unmap(k, KM_FPAGE(KV(0), 12, KM_RWX), false), 1);
    host_check_all();
    assert_int_equal(t->as.pml4, 0);
    assert_int_equal(held(t, RG(0), NULL), 0);
    assert_int_equal(held(t, RG(0) + PAGE_SIZE, NULL), 0);
    assert_int_equal(held(u, RG(5), NULL), 0); /* derived: gone too */
    assert_int_equal(counts(t, KMEM_PAGETABLE), 0);
    assert_int_equal(counts(t, KMEM_NODETABLE), 0);
    for (int i = 0; i < 5; i++) { /* every table back to k, zeroed */
        u64 p;
        assert_int_equal(held(k, KV(i), &p), RW);
        assert_int_equal(p, lent[i]);
        assert_true(all_zero(lent[i]));
        assert_int_equal(frame_lend(lent[i])->lender, 0);
    }
    /* the next mapping makes a new one (here from the pool) */
    root(t, RG(0), RW);
    assert_true(t->as.pml4 != 0 && t->as.pml4 != lent[0]);
    assert_int_equal(held(t, RG(0), NULL), RW);
    host_check_all();
}

/* TCB and UTCB pages only for their own kspace addresses, never from the
 * reserve: their export is content the kpager keeps. */
static void test_tcb_pages_not_from_reserve(void **state)
{
    (void)state;
    struct task *k = host_new_task(), *t = host_new_task();
    for (int i = 0; i < 4; i++)
        root(k, KV(i), RW);
    for (int i = 0; i < 2; i++)
        supply(t, k, KV(i), KM_KS_RESERVE);
    u64 ks[2] = {KM_KS_TCB_OF(5), KM_KS_UTCB_OF(5)};
    op_begin(t);
    assert_false(kmem_op_available(t, ks, 2));
    assert_int_equal(op.missing, KM_KS_TCB_OF(5));
    assert_int_equal(kmem_page_alloc(t, KMEM_TCB, ks[0]), 0);
    assert_int_equal(counts(t, KMEM_RESERVE), 2); /* untouched */
    kmem_op = NULL;
    u64 tcb = supply(t, k, KV(2), ks[0]), utcb = supply(t, k, KV(3), ks[1]);
    op_begin(t);
    assert_true(kmem_op_available(t, ks, 2));
    assert_int_equal(kmem_page_alloc(t, KMEM_TCB, ks[0]), tcb);
    assert_int_equal(kmem_page_alloc(t, KMEM_UTCB, ks[1]), utcb);
    kmem_op = NULL;
    assert_int_equal(counts(t, KMEM_RESERVE), 2);
    kmem_page_free(t, KMEM_TCB, tcb); /* back to k, zeroed */
    kmem_page_free(t, KMEM_UTCB, utcb);
    assert_int_equal(held(k, KV(2), NULL), RW);
    kmem_supply_release(t); /* the reserve, unused */
    assert_int_equal(held(k, KV(0), NULL), RW);
    host_check_all();
}

/* The node of t's page va (its node table in memory). */
static struct mnode *slot_node(struct task *t, u64 va)
{
    struct mmu_slot s;
    assert_true(mmu_walk(t, va, MMU_FIND, &s));
    assert_true(s.node || !s.nt_out);
    return s.node ? *s.node : NULL;
}

/* A node table is exported localised: every mapping of its region stays
 * (PTEs, nodes, what was derived from them), the page the kpager gets back
 * names each node by its kspace address and holds nothing else; removals
 * through the tree need no table; a new mapping in the region brings it
 * back (RESTORE) as it was. */
static void test_revoke_node_table(void **state)
{
    (void)state;
    struct world w;
    world(&w);
    map1(w.u, RG(0), w.t, RG(0) + 5 * PAGE_SIZE, KM_R); /* t's, from u, in the region */
    struct mnode *before[6];
    for (int i = 0; i < 6; i++)
        before[i] = slot_node(w.t, RG(0) + (u64)i * PAGE_SIZE);
    u64 passes = nodetable_passes;
    assert_int_equal(mapdb_unmap(w.k, KM_FPAGE(w.kv_nt, 12, KM_R), false), 1);
    host_check_all();
    /* back to the lender with its export; the loan is over */
    u64 p;
    assert_int_equal(held(w.k, w.kv_nt, &p), RW);
    assert_int_equal(p, w.nt);
    assert_int_equal(frame_lend(w.nt)->lender, 0);
    assert_int_equal(frame_lend(w.nt)->kobj, 0);
    const u64 *e = phys_to_virt(w.nt);
    for (int i = 0; i < 512; i++) {
        u64 want = i < 4 ? KM_KS_MN_OF(0) + ((uptr)before[i] & 0xfff) : 0;
        if (i == 5)
            want = page_of(before[5])->ks + ((uptr)before[5] & 0xfff);
        assert_int_equal(e[i], want);
        assert_true(e[i] == 0 || (e[i] >= KM_KS_MN && e[i] < KM_KS_TCB)); /* no pointer, no frame */
    }
    /* the mappings stay (their PTEs; what derives from them) */
    assert_true(mmu_nt_out(w.t, RG(0)));
    for (int i = 0; i < 6; i++)
        assert_true(aspace_lookup(&w.t->as, RG(0) + (u64)i * PAGE_SIZE) != 0 || i == 4);
    assert_int_equal(held(w.u, RG(5), NULL), KM_R);
    others_stay(&w);
    assert_int_equal(counts(w.t, KMEM_NODETABLE), w.base[KMEM_NODETABLE] - 1);
    assert_int_equal(counts(w.t, KMEM_PAGETABLE), w.base[KMEM_PAGETABLE]);
    /* u takes its page back from t: t's mapping goes through the tree
     * (its PTE; the export's entry no longer matches), without the table */
    passes = nodetable_passes;
    assert_int_equal(mapdb_unmap(w.u, KM_FPAGE(RG(0), 12, KM_RWX), false), 2); /* and RG(1)'s */
    assert_int_equal(aspace_lookup(&w.t->as, RG(0) + 5 * PAGE_SIZE), 0);
    assert_true(mmu_nt_out(w.t, RG(0)));
    assert_int_equal(nodetable_passes, passes); /* no pass over t's nodes */
    host_check_all();
    /* a new mapping there needs the table: asked for, reason RESTORE */
    u64 f = frame_alloc();
    passes = nodetable_passes;
    op_begin(w.t);
    assert_int_equal(mapdb_map_root(w.t, RG(0) + 9 * PAGE_SIZE, f, RW, true), -KM_ENOMEM);
    kmem_op = NULL;
    assert_int_equal(op.missing, KM_KS_NT_OF(RG(0)));
    u64 ks[5];
    assert_int_equal(mmu_missing(w.t, RG(0), ks, 5), 1);
    assert_int_equal(ks[0], KM_KS_NT_OF(RG(0)) | MMU_MISSING_OUT);
    supply(w.t, w.k, w.kv_nt, KM_KS_NT_OF(RG(0)));
    passes = nodetable_passes;
    op_begin(w.t);
    assert_int_equal(mapdb_map_root(w.t, RG(0) + 9 * PAGE_SIZE, f, RW, true), 0);
    kmem_op = NULL;
    assert_false(mmu_nt_out(w.t, RG(0)));
    assert_int_equal(nodetable_passes, passes); /* the kpager's entries were right */
    for (int i = 0; i < 4; i++)
        assert_ptr_equal(slot_node(w.t, RG(0) + (u64)i * PAGE_SIZE), before[i]);
    assert_null(slot_node(w.t, RG(0) + 5 * PAGE_SIZE));
    assert_non_null(slot_node(w.t, RG(0) + 9 * PAGE_SIZE));
    assert_int_equal(counts(w.t, KMEM_NODETABLE), w.base[KMEM_NODETABLE]);
    assert_int_equal(held(w.t, RG(1) + PAGE_SIZE, NULL), 0);
    host_check_all();
    /* the leaf table's revocation forgets a table that is out: the
     * region's mappings go, as for any leaf table */
    assert_int_equal(mapdb_unmap(w.k, KM_FPAGE(w.kv_nt, 12, KM_R), false), 1);
    assert_int_equal(mapdb_unmap(w.k, KM_FPAGE(w.kv_pt, 12, KM_R), false), 1);
    host_check_all();
    region_gone(&w);
    assert_false(mmu_nt_out(w.t, RG(0)));
}

/* Any other use of a region whose node table is out (a lookup, a send
 * from it, an unmap) makes the table again from the task's nodes into a
 * pool page, in one pass over them for the whole range: never a pass per
 * page.  Five regions out, then one unmap of them all: one pass. */
static void test_node_table_rebuilt(void **state)
{
    (void)state;
    struct world w;
    world(&w);
    u64 kv[5];
    kv[0] = w.kv_nt;
    for (int r = 2; r < 6; r++) { /* RG(2..5): node tables from k too */
        kv[r - 1] = KV(r + 8);
        root(w.k, kv[r - 1], RW);
        struct mmu_slot s;
        assert_true(mmu_walk(w.t, RG(r), MMU_CREATE_PT, &s));
        supply(w.t, w.k, kv[r - 1], KM_KS_NT_OF(RG(r)));
        op_begin(w.t);
        for (int i = 0; i < 3; i++)
            root(w.t, RG(r) + (u64)i * PAGE_SIZE, RW);
        kmem_op = NULL;
    }
    host_check_all();
    struct mnode *n1 = slot_node(w.t, RG(0) + PAGE_SIZE);
    u64 nts = counts(w.t, KMEM_NODETABLE), pool = w.t->kmem.pool;
    /* one region out; a lookup there, a send from it: one pass */
    assert_int_equal(mapdb_unmap(w.k, KM_FPAGE(kv[0], 12, KM_R), false), 1);
    u64 passes = nodetable_passes;
    assert_int_equal(held(w.t, RG(0) + PAGE_SIZE, NULL), RW);
    assert_int_equal(nodetable_passes, passes + 1);
    assert_false(mmu_nt_out(w.t, RG(0)));
    assert_ptr_equal(slot_node(w.t, RG(0) + PAGE_SIZE), n1);
    map1(w.t, RG(0) + 3 * PAGE_SIZE, w.u, RG(7), KM_R);
    assert_int_equal(nodetable_passes, passes + 1);
    assert_int_equal(counts(w.t, KMEM_NODETABLE), nts);
    assert_int_equal(w.t->kmem.pool, pool + 1); /* that table is the pool's now */
    host_check_all();
    /* four regions out; t unmaps its whole 1 GiB: one pass */
    for (int r = 1; r < 5; r++)
        assert_int_equal(mapdb_unmap(w.k, KM_FPAGE(kv[r], 12, KM_R), false), 1);
    passes = nodetable_passes;
    /* t's 4 + 2 in RG(0..1), 3 in each of RG(2..5), and u's 3 derived from them */
    assert_int_equal(mapdb_unmap(w.t, KM_FPAGE(RG(0), 30, KM_RWX), true), 4 + 2 + 4 * 3 + 3);
    assert_int_equal(nodetable_passes, passes + 1);
    for (int r = 2; r < 6; r++)
        assert_int_equal(aspace_lookup(&w.t->as, RG(r)), 0);
    assert_int_equal(held(w.u, RG(7), NULL), 0);
    host_check_all();
}

/* A grant inside one task and region whose node table is out: the source
 * slot was found with the table out, the destination's walk brings the
 * table back: the source's slot must be the table's then (a review found
 * the freed source node left in the table, then reused, then followed). */
static void test_grant_in_out_region(void **state)
{
    (void)state;
    struct world w;
    world(&w);
    assert_int_equal(mapdb_unmap(w.k, KM_FPAGE(w.kv_nt, 12, KM_R), false), 1);
    supply(w.t, w.k, w.kv_nt, KM_KS_NT_OF(RG(0)));
    op_begin(w.t);
    assert_int_equal(mapdb_transfer(w.t, KM_MAPITEM(0, 1), KM_FPAGE(RG(0) + 2 * PAGE_SIZE, 12, RW), w.t,
                                    KM_FPAGE(RG(0) + 20 * PAGE_SIZE, 12, 0)), 1);
    kmem_op = NULL;
    host_check_all();
    assert_null(slot_node(w.t, RG(0) + 2 * PAGE_SIZE));
    assert_int_equal(held(w.t, RG(0) + 20 * PAGE_SIZE, NULL), RW);
    /* the next mapping made in t, and t's unmap of the page it granted */
    assert_int_equal(mapdb_transfer(w.u, KM_MAPITEM(0, 0), KM_FPAGE(RG(0), 12, KM_R), w.t,
                                    KM_FPAGE(RG(1) + 7 * PAGE_SIZE, 12, 0)), 1);
    assert_int_equal(mapdb_unmap(w.t, KM_FPAGE(RG(0) + 2 * PAGE_SIZE, 12, KM_RWX), true), 0);
    assert_int_equal(held(w.t, RG(1) + 7 * PAGE_SIZE, NULL), KM_R);
    host_check_all();
}

/* A node page reclaimed while a node table is out: its nodes are still
 * the task's while they go, and a lookup made meanwhile (a lent page of
 * the task's coming back to it) must find them (a review found a panic). */
static void test_reclaim_with_table_out(void **state)
{
    (void)state;
    struct task *k = host_new_task(), *t = host_new_task();
    for (int i = 0; i < 4; i++)
        root(k, KV(i), RW);
    struct mmu_slot s;
    assert_true(mmu_walk(t, RG(0), MMU_CREATE_PT, &s)); /* pool tables */
    supply(t, k, KV(0), KM_KS_NT_OF(RG(0)));
    supply(t, k, KV(1), KM_KS_MN_OF(0));
    op_begin(t);
    root(t, RG(0), RW);             /* z: node page A's node 0 */
    root(t, RG(0) + PAGE_SIZE, RW); /* x: A's node 1 */
    kmem_op = NULL;
    for (int i = 0; i < 124; i++) /* A full */
        root(t, RG(1) + (u64)i * PAGE_SIZE, RW);
    supply(t, t, RG(0) + PAGE_SIZE, KM_KS_MN_OF(1)); /* t lends x's page: node page B */
    supply(t, k, KV(2), KM_KS_ME_OF(2));              /* and its edge page (z's edge to y) */
    op_begin(t);
    assert_int_equal(mapdb_transfer(t, KM_MAPITEM(0, 0), KM_FPAGE(RG(0), 12, RW), t,
                                    KM_FPAGE(RG(0) + 5 * PAGE_SIZE, 12, 0)), 1); /* y, in B */
    kmem_op = NULL;
    host_check_all();
    assert_int_equal(counts(t, KMEM_MAPNODE), 3);
    assert_int_equal(mapdb_unmap(k, KM_FPAGE(KV(0), 12, KM_R), false), 1); /* RG(0)'s table out */
    host_check_all();
    /* A revoked: its nodes leave (z, x and the 124), their mappings stay,
     * y (in B) stays derived from z */
    assert_int_equal(mapdb_unmap(k, KM_FPAGE(KV(1), 12, KM_R), false), 1);
    host_check_all();
    assert_int_equal(counts(t, KMEM_MAPNODE), 2);
    assert_int_equal(t->mn_out, 126);
    assert_int_equal(held(t, RG(0) + 5 * PAGE_SIZE, NULL), RW);
    assert_int_equal(held(t, RG(0), NULL), RW); /* (by name) */
    bring_in(t, RG(0)); /* z in again (a slot of B's) */
    assert_int_equal(counts(t, KMEM_MAPNODE), 2);
    assert_int_equal(t->mn_out, 125);
    /* z's unmap takes y with it (through the node brought in) */
    assert_int_equal(mapdb_unmap(t, KM_FPAGE(RG(0), 12, KM_RWX), false), 1);
    assert_int_equal(held(t, RG(0) + 5 * PAGE_SIZE, NULL), 0);
    host_check_all();
}

/* A mapping made into a region whose node table is out by an operation
 * that has no kpager to ask (a thread without kpager, the kernel) gets the
 * table made again from the pool (a review found -KM_ENOMEM for ever). */
static void test_out_region_without_kpager(void **state)
{
    (void)state;
    struct world w;
    world(&w);
    assert_int_equal(mapdb_unmap(w.k, KM_FPAGE(w.kv_nt, 12, KM_R), false), 1);
    u64 f = frame_alloc();
    assert_int_equal(mapdb_map_root(w.t, RG(0) + 9 * PAGE_SIZE, f, RW, true), 0);
    assert_int_equal(mapdb_transfer(w.u, KM_MAPITEM(0, 0), KM_FPAGE(RG(0), 12, KM_R), w.t,
                                    KM_FPAGE(RG(0) + 10 * PAGE_SIZE, 12, 0)), 1);
    assert_false(mmu_nt_out(w.t, RG(0)));
    for (int i = 0; i < 4; i++)
        assert_int_equal(held(w.t, RG(0) + (u64)i * PAGE_SIZE, NULL), RW);
    host_check_all();
}

/* The pool capped (kmem.pool): tables made again from a task's nodes may
 * still take pages past it (they replace pages the task held), so a range
 * with many tables out costs one pass, not a pass per page (a review found
 * a second's quadratic work under the lock with the pool dry). */
static void test_node_tables_pool_capped(void **state)
{
    (void)state;
    struct task *k = host_new_task(), *S = host_new_task(), *T = host_new_task();
    root(S, RG(0), RW);
    root(T, FAR, RW); /* T's first node page: pool */
    for (int r = 0; r < 6; r++) {
        root(k, KV(r), RW);
        struct mmu_slot s;
        assert_true(mmu_walk(T, RG(r), MMU_CREATE_PT, &s));
        supply(T, k, KV(r), KM_KS_NT_OF(RG(r)));
        op_begin(T);
        assert_int_equal(mapdb_transfer(S, KM_MAPITEM(0, 0), KM_FPAGE(RG(0), 12, RW), T,
                                        KM_FPAGE(RG(r), 12, 0)), 1);
        kmem_op = NULL;
        for (int i = 1; i < 40; i++)
            map1(S, RG(0), T, RG(r) + (u64)i * PAGE_SIZE, RW);
    }
    for (int r = 0; r < 6; r++)
        assert_int_equal(mapdb_unmap(k, KM_FPAGE(KV(r), 12, KM_R), false), 1);
    assert_int_equal(T->as.nt_out, 6);
    host_check_all();
    opt.kmem_pool = kmem_pool_used(); /* dry */
    u64 passes = nodetable_passes;
    /* a send to a receiver with no kpager to ask: one pass for the range */
    assert_int_equal(mapdb_transfer(S, KM_MAPITEM(0, 0), KM_FPAGE(RG(0), 12, RW), T,
                                    KM_FPAGE(RG(2) + 100 * PAGE_SIZE, 12, 0)), 1);
    assert_int_equal(nodetable_passes, passes + 1);
    assert_int_equal(T->as.nt_out, 5);
    /* T's unmap of all of them: one pass */
    passes = nodetable_passes;
    assert_int_equal(mapdb_unmap(T, KM_FPAGE(RG(0), 30, KM_RWX), true), 6 * 40 + 1);
    assert_int_equal(nodetable_passes, passes + 1);
    assert_int_equal(T->as.nt_out, 0);
    opt.kmem_pool = 0;
    host_check_all();
}

/* A grant out of a region whose table is out, when no table can be made
 * (no frame left at all): the source slot is taken before the table came
 * back; removing the destination's old mapping gives a lent page back to
 * the source task, whose lookup brings its table back: the grant must
 * clear the slot of the table it finds then (a review found the freed
 * source node left in it). */
static void test_grant_while_table_comes_back(void **state)
{
    (void)state;
    struct task *k = host_new_task(), *F = host_new_task(), *T = host_new_task();
    struct task *X = host_new_task(), *Y = host_new_task();
    for (int i = 0; i < 4; i++)
        root(k, KV(i), RW);
    struct mmu_slot s;
    root(F, RG(1), RW);                                 /* F's node page: pool */
    assert_true(mmu_walk(F, RG(0), MMU_CREATE_PT, &s)); /* pool PT */
    supply(F, k, KV(0), KM_KS_NT_OF(RG(0)));
    op_begin(F);
    root(F, RG(0), RW);             /* sn */
    root(F, RG(0) + PAGE_SIZE, RW); /* x: will be X's node page */
    kmem_op = NULL;
    u64 dva = RG(3);
    root(T, dva, RW); /* dn */
    assert_true(mmu_walk(X, KV(50), MMU_CREATE_ALL, &s)); /* X's tables: pool */
    supply(X, F, RG(0) + PAGE_SIZE, KM_KS_MN_OF(0));
    op_begin(X);
    map1(T, dva, X, KV(50), KM_R); /* in the page F lent */
    kmem_op = NULL;
    map1(T, dva, Y, KV(60), KM_R); /* alone in Y's pool node page */
    assert_int_equal(mapdb_unmap(k, KM_FPAGE(KV(0), 12, KM_R), false), 1); /* F's RG(0) table out */
    host_check_all();
    /* no frame left: no table can be made until one is freed */
    static u64 held_frames[1 << 14];
    u32 nf = 0;
    for (u64 f; nf < sizeof held_frames / sizeof *held_frames && (f = frame_alloc());)
        held_frames[nf++] = f;
    assert_int_equal(mapdb_transfer(F, KM_MAPITEM(0, 1), KM_FPAGE(RG(0), 12, RW), T, KM_FPAGE(dva, 12, 0)), 1);
    while (nf)
        frame_free(held_frames[--nf]);
    host_check_all();
    assert_int_equal(held(T, dva, NULL), RW);
    assert_int_equal(mapdb_unmap(F, KM_FPAGE(RG(0), 12, KM_RWX), true), 0); /* nothing there */
    root(F, RG(1) + 5 * PAGE_SIZE, RW);
    assert_int_equal(mapdb_unmap(F, KM_FPAGE(RG(0), 12, KM_RWX), true), 0);
    assert_int_equal(held(F, RG(1) + 5 * PAGE_SIZE, NULL), RW);
    host_check_all();
}

/* A page lent ahead serves a node table's restore (the RESERVE rule): its
 * content is no export, so the table is made from the task's nodes. */
static void test_reserve_serves_restore(void **state)
{
    (void)state;
    struct world w;
    world(&w);
    assert_int_equal(mapdb_unmap(w.k, KM_FPAGE(w.kv_nt, 12, KM_R), false), 1);
    memset(phys_to_virt(w.nt), 0, PAGE_SIZE); /* k uses its page for something else */
    supply(w.t, w.k, w.kv_nt, KM_KS_RESERVE);
    u64 f = frame_alloc(), passes = nodetable_passes;
    op_begin(w.t);
    assert_int_equal(mapdb_map_root(w.t, RG(0) + 9 * PAGE_SIZE, f, RW, true), 0);
    kmem_op = NULL;
    assert_int_equal(nodetable_passes, passes + 1);
    assert_int_equal(counts(w.t, KMEM_RESERVE), 0);
    assert_int_equal(counts(w.t, KMEM_NODETABLE), w.base[KMEM_NODETABLE]);
    assert_false(mmu_nt_out(w.t, RG(0)));
    for (int i = 0; i < 4; i++)
        assert_int_equal(held(w.t, RG(0) + (u64)i * PAGE_SIZE, NULL), RW);
    host_check_all();
}

/* A page that lost its access while its frame was lent elsewhere, the frame
 * back, its region's table out: a touch gives the access back (a review
 * found the fault sent to the pager instead). */
static void test_soft_fault_table_out(void **state)
{
    (void)state;
    struct task *k = host_new_task(), *A = host_new_task(), *t = host_new_task();
    struct task *K2 = host_new_task(), *X = host_new_task();
    root(k, KV(0), RW);
    root(A, RG(10), RW);
    root(t, RG(1), RW); /* t's node page: pool */
    struct mmu_slot s;
    assert_true(mmu_walk(t, RG(0), MMU_CREATE_PT, &s));
    supply(t, k, KV(0), KM_KS_NT_OF(RG(0)));
    op_begin(t);
    map1(A, RG(10), t, RG(0), RW);
    kmem_op = NULL;
    map1(A, RG(10), K2, KV(20), RW);
    supply(X, K2, KV(20), KM_KS_MN_OF(0)); /* lent: t's mapping loses access */
    assert_int_equal(aspace_lookup(&t->as, RG(0)), 0);
    assert_int_equal(mapdb_unmap(K2, KM_FPAGE(KV(20), 12, KM_RWX), false), 1); /* back */
    assert_int_equal(mapdb_unmap(k, KM_FPAGE(KV(0), 12, KM_R), false), 1);    /* t's table out */
    host_check_all();
    assert_true(mapdb_soft_fault(t, RG(0)));
    assert_true(aspace_lookup(&t->as, RG(0)) != 0);
    host_check_all();
}

/* Frames with a loan record (orphans in use included). */
static u64 lent_records(void)
{
    u64 n = 0;
    for (u64 f = PAGE_SIZE; f < ARENA; f += PAGE_SIZE)
        n += frame_lend(f)->lender != 0;
    return n;
}

/* Orphans are let go after a walk, never in it: K unmaps a range where a
 * page's descendant lends K's leaf table of region R (its removal makes an
 * orphan, whose letting go drops R) and, further on, a page x in R that
 * is lent itself (a review found the orphan let go while x's loan ended:
 * x freed under the walk, its loan ended twice, a physical address left
 * in a page back with K, or a panic with KM_UNMAP_SELF). */
static void orphans_after_walk(bool self)
{
    struct task *K = host_new_task(), *L = host_new_task(), *C = host_new_task();
    u64 A = root(K, KV(0), RW);
    map1(K, KV(0), L, KV(10), RW);
    root(L, KV(11), RW);
    root(L, KV(12), RW);
    root(L, KV(13), RW);
    supply(K, L, KV(11), KM_KS_PD_OF(RG(0)));
    supply(K, L, KV(10), KM_KS_PT_OF(RG(0))); /* K's leaf table of RG(0): a's frame */
    supply(K, L, KV(12), KM_KS_NT_OF(RG(0)));
    op_begin(K);
    root(K, RG(0), RW); /* x */
    kmem_op = NULL;
    assert_int_equal(table_entry(K, RG(0), 21) & PTE_ADDR, A);
    root(C, FAR, RW);
    supply(C, K, RG(0), KM_KS_PT_OF(RG(5))); /* x lent, unused */
    root(L, KV(14), RW);
    supply(C, L, KV(14), KM_KS_PT_OF(RG(6))); /* another lent frame */
    host_check_all();
    assert_true(mapdb_unmap(K, KM_FPAGE(0, 31, KM_RWX), self) >= 2);

    host_check_all();
    assert_int_equal(kmem_lent_frames, lent_records()); /* each loan ended once */
    assert_int_equal(held(K, RG(0), NULL), 0);
    assert_true(all_zero(A)); /* the leaf table came back vacant */
    kmem_supply_release(C);
    host_check_all();
}

static void test_orphans_after_walk(void **state)
{
    (void)state;
    orphans_after_walk(false);
}

static void test_orphans_after_walk_self(void **state)
{
    (void)state;
    orphans_after_walk(true);
}

/* A kernel-owned root goes while a descendant lends its frame to the
 * kernel (an orphan, let go at the end of the operation): the frame is
 * freed then, not at once (a review found it freed and handed out as a
 * node table made meanwhile, then zeroed by the orphan's export). */
static void test_owned_root_of_orphan(void **state)
{
    (void)state;
    struct task *K = host_new_task(), *L = host_new_task(), *M = host_new_task();
    root(M, KV(0), RW);
    root(L, FAR, RW); /* L's node page: pool */
    struct mmu_slot s;
    assert_true(mmu_walk(L, RG(20), MMU_CREATE_PT, &s));
    supply(L, M, KV(0), KM_KS_NT_OF(RG(20)));
    op_begin(L);
    root(L, RG(20), RW);
    kmem_op = NULL;
    u64 P = root(K, KV(0), RW); /* y: kernel-owned */
    map1(K, KV(0), L, RG(21), RW);
    assert_true(mmu_walk(K, RG(0), MMU_CREATE_PT, &s));
    supply(K, L, RG(21), KM_KS_NT_OF(RG(0))); /* y's frame: K's node table of RG(0) */
    op_begin(K);
    root(K, RG(0), RW);
    kmem_op = NULL;
    for (int i = 0; i < 123; i++)
        root(K, KV(300 + i), RW); /* K's node page 0 full (its 3rd slot: the edge to L's KV(10)) */
    supply(K, L, RG(20), KM_KS_MN_OF(1));
    op_begin(K);
    root(K, KV(200), RW); /* alone in node page 1, which L lent from RG(20) */
    kmem_op = NULL;
    assert_int_equal(mapdb_unmap(M, KM_FPAGE(KV(0), 12, KM_R), false), 1); /* L's RG(20) table out */
    host_check_all();
    static u64 held_frames[1 << 14];
    u32 nf = 0;
    for (u64 f; nf < sizeof held_frames / sizeof *held_frames && (f = frame_alloc());)
        held_frames[nf++] = f;
    assert_true(mapdb_unmap(K, KM_FPAGE(KV(0), 20, KM_RWX), true) >= 2);
    struct mmu_leaf l;
    assert_true(mmu_leaf_of(L, RG(20), &l));
    assert_true(l.nt != P); /* P was not free to take */
    while (nf)
        frame_free(held_frames[--nf]);
    host_check_all();
    /* K's node page 1, empty now, is the one K keeps (mapdb.c): still lent */
    assert_int_equal(held(L, RG(20), NULL), 0);
    assert_int_equal(counts(K, KMEM_MAPNODE), 3); /* and node page 0, and its edge page */
}

/* sigma0 sends a page it granted away whose frame is lent now: the new
 * mapping holds the frame without access (a review found a panic: the
 * PTE was left empty, then frame 0 looked up). */
static void test_sigma0_page_lent(void **state)
{
    (void)state;
    struct task *s0 = host_new_task(), *k = host_new_task(), *t = host_new_task(), *u = host_new_task();
    u64 P = 0x200000; /* sigma0's range: va == phys */
    assert_int_equal(mapdb_sigma0_add(s0, P, 16 * PAGE_SIZE), 0);
    assert_int_equal(mapdb_transfer(s0, KM_MAPITEM(0, 1), KM_FPAGE(P, 12, KM_RWX), k, KM_FPAGE(KV(0), 12, 0)), 1);
    supply(t, k, KV(0), KM_KS_RESERVE); /* k lends it */
    assert_int_equal(mapdb_transfer(s0, KM_MAPITEM(0, 0), KM_FPAGE(P, 12, KM_RWX), u, KM_FPAGE(RG(3), 12, 0)), 0);
    assert_int_equal(held(u, RG(3), NULL), 0);
    u64 p;
    assert_false(pte(s0, P, &p));
    assert_int_equal(p, P); /* sigma0's own mapping: the frame, no access */
    host_check_all();
    kmem_supply_release(t);
    host_check_all();
    /* back: sigma0's mapping, made again without access, gets it at its
     * next touch (its space is marked as holding a suspended entry) */
    assert_true(s0->as.suspended);
    assert_true(mapdb_soft_fault(s0, P));
    assert_true(pte(s0, P, &p));
}

/* The import takes the kpager's entries only where each page in use is
 * named right; anything else (random words, entries swapped, a page left
 * out, names of other kinds or offsets) makes the table again from the
 * task's nodes: in every case the table imported is the one exported. */
static void test_node_table_import(void **state)
{
    (void)state;
    struct world w;
    world(&w);
    struct mnode *before[4];
    for (int i = 0; i < 4; i++)
        before[i] = slot_node(w.t, RG(0) + (u64)i * PAGE_SIZE);
    u64 *e = phys_to_virt(w.nt), saved[512];
    u64 seed = 0x9e3779b97f4a7c15ull;
    for (int round = 0; round < 10; round++) {
        assert_true(nodetable_export(w.t, KM_KS_NT_OF(RG(0)), w.nt));
        memcpy(saved, e, sizeof saved);
        bool fast = true;
        switch (round) {
        case 0: break; /* unchanged */
        case 1: /* words where no page is: ignored */
            for (int i = 4; i < 512; i++)
                e[i] = (seed = seed * 6364136223846793005ull + 1);
            break;
        case 2: e[1] = saved[2], e[2] = saved[1], fast = false; break;
        case 3: e[3] = 0, fast = false; break;
        case 4: e[0] += 8, fast = false; break;                /* not a node's offset */
        case 5: e[0] = KM_KS_MN_OF(7) + (saved[0] & 0xfff), fast = false; break; /* no such page */
        case 6: e[0] = KM_KS_TCB_OF(1) + (saved[0] & 0xfff), fast = false; break;
        case 7: e[0] = KM_KS_MN_OF(0) + 16, fast = false; break; /* the page header */
        case 8: e[0] = (u64)(uptr)before[0], fast = false; break; /* a kernel pointer */
        default:
            for (int i = 0; i < 512; i++)
                e[i] = (seed = seed * 6364136223846793005ull + 1);
            fast = false;
        }
        struct mmu_leaf l;
        assert_true(mmu_leaf_of(w.t, RG(0), &l));
        assert_int_equal(l.nt, MMU_NT_OUT);
        assert_int_equal(nodetable_import(w.t, RG(0), &l, w.nt), fast);
        for (int i = 0; i < 512; i++)
            assert_ptr_equal(((void **)e)[i], i < 4 ? before[i] : NULL);
        host_check_all();
    }
}

/* A map charges both sides (kernel/mnode.h): the receiver a node, the
 * sender an edge, each from its own kpager in an operation that names
 * the sender as src: the sender's missing node page is asked of the
 * sender's kpager (missing_src), and the edge lives in the page it lent. */
static void test_edge_from_senders_kpager(void **state)
{
    (void)state;
    struct task *k = host_new_task(), *s = host_new_task(), *r = host_new_task();
    root(k, KV(0), RW);
    root(k, KV(1), RW);
    root(s, RG(0), RW); /* s's node page 0 (pool); s has no edge page yet */
    assert_int_equal(counts(s, KMEM_MAPNODE), 1);
    root(r, RG(3), RW); /* r's tables and node page: pool */
    op = (struct kmem_op){.task = r, .src = s};
    kmem_op = &op;
    assert_int_equal(mapdb_transfer(s, KM_MAPITEM(0, 0), KM_FPAGE(RG(0), 12, RW), r, KM_FPAGE(RG(3) + PAGE_SIZE, 12, 0)),
                     -KM_ENOMEM);
    kmem_op = NULL;
    assert_true(op.missing_set && op.missing_src);
    assert_int_equal(op.missing, KM_KS_ME_OF(1));
    assert_int_equal(held(r, RG(3) + PAGE_SIZE, NULL), 0);
    host_check_all(); /* nothing half done: r's node went back */
    u64 page = supply(s, k, KV(1), KM_KS_ME_OF(1));
    op = (struct kmem_op){.task = r, .src = s};
    kmem_op = &op;
    map1(s, RG(0), r, RG(3) + PAGE_SIZE, RW);
    kmem_op = NULL;
    assert_false(op.missing_set);
    assert_int_equal(counts(s, KMEM_MAPNODE), 2);
    assert_int_equal(((struct mnode_page *)phys_to_virt(page))->used, 1); /* the edge */
    assert_int_equal(held(r, RG(3) + PAGE_SIZE, NULL), RW);
    /* the edge goes with the mapping; its page, empty, is kept (mapdb.c)
     * until the kpager takes it back, which costs nothing */
    assert_int_equal(mapdb_unmap(s, KM_FPAGE(RG(0), 12, KM_RWX), false), 1);
    host_check_all();
    assert_int_equal(counts(s, KMEM_MAPNODE), 2);
    assert_int_equal(((struct mnode_page *)phys_to_virt(page))->used, 0);
    assert_int_equal(mapdb_unmap(k, KM_FPAGE(KV(1), 12, KM_RWX), false), 1);
    host_check_all();
    assert_int_equal(counts(s, KMEM_MAPNODE), 1);
    came_back_to(k, KV(1), page);
    assert_int_equal(held(s, RG(0), NULL), RW);
}

/* A node page revoked leaves localised (abi/kspace.h): each record is one
 * of t's own mappings, in t's terms; the mappings stay, and so does all
 * that derives from them.  Then what the kernel does with nodes that are
 * out: a removal from above by name (with no frame to spare), a
 * reduction and a send bringing nodes in. */
static void test_revoke_node_page(void **state)
{
    (void)state;
    struct world w;
    world(&w);
    u64 used = ((struct mnode_page *)phys_to_virt(w.mn))->used;
    assert_int_equal(used, 7); /* (the edges of the 2 pages it mapped on to u: in its edge page) */
    root(w.t, RG(2), RW);
    map1(w.t, RG(2), w.u, RG(7), RW);
    for (u64 i = 1; i < 126 - used + 3; i++) /* node page 0 full, 3 in page 1 */
        root(w.t, RG(2) + i * PAGE_SIZE, RW);
    assert_int_equal(counts(w.t, KMEM_MAPNODE), 3); /* node pages 0, 1; its edge page */
    host_check_all();
    assert_int_equal(mapdb_unmap(w.k, KM_FPAGE(w.kv_mn, 12, KM_RWX), false), 1);
    host_check_all();
    /* back with k, holding t's 126 records and nothing else */
    u64 p;
    assert_int_equal(held(w.k, w.kv_mn, &p), RW);
    assert_int_equal(p, w.mn);
    assert_int_equal(frame_lend(w.mn)->lender, 0);
    const u64 *x = phys_to_virt(w.mn);
    assert_int_equal(x[0], 126);
    for (int i = 1; i < 6; i++)
        assert_int_equal(x[i], 0);
    u32 derived = 0;
    for (int k = 0; k < 126; k++) {
        const u64 *r = x + 6 + 4 * k;
        u64 va = r[0] & MN_VA, phys;
        assert_true(r[0] & KM_R);
        assert_int_equal(r[0] & ~(MN_VA | MN_RIGHTS | MN_KERNEL_OWNED), 0);
        assert_true(pte(w.t, va, &phys)); /* one of t's pages, still mapped */
        for (int j = 0; j < 4; j++) /* no kernel pointer, no frame */
            assert_true(r[j] < (1ull << 47) || (j == 1 && r[j] >> 48 < 4096));
        for (int j = 0; j < 512; j++)
            assert_true(x[j] != phys && x[j] != (phys | RW));
        assert_int_equal(r[1] | r[2] | r[3], 0); /* (not whom it came from: a grant may have moved that) */
        derived += va == RG(1) + PAGE_SIZE && (r[0] & MN_RIGHTS) == RW; /* u's, derived */
    }
    assert_int_equal(derived, 1);
    assert_int_equal(w.t->mn_out, 126);
    assert_int_equal(counts(w.t, KMEM_MAPNODE), 2); /* node page 1, the edge page */
    /* every mapping stays, and what derives from them (u's look-ups bring
     * none of t's nodes in) */
    assert_int_equal(held(w.u, RG(5), NULL), KM_R);
    assert_int_equal(held(w.u, RG(6), NULL), KM_R);
    assert_int_equal(held(w.u, RG(7), NULL), RW);
    for (u64 i = 0; i < 126 - used + 3; i++)
        assert_true(pte(w.t, RG(2) + i * PAGE_SIZE, &p));
    assert_int_equal(w.t->mn_out, 126);
    /* u takes back what t got from it, with the pool dry: by name */
    static u64 hoard[1 << 14];
    u32 nh = 0;
    for (u64 f; nh < sizeof hoard / sizeof *hoard && (f = frame_alloc());)
        hoard[nh++] = f;
    assert_int_equal(mapdb_unmap(w.u, KM_FPAGE(RG(0), 12, KM_RWX), false), 1);
    assert_false(pte(w.t, RG(1) + PAGE_SIZE, &p));
    assert_int_equal(w.t->mn_out, 125);
    while (nh)
        frame_free(hoard[--nh]);
    host_check_all();
    /* t takes W from what derives from RG(2), out: its node comes in */
    assert_int_equal(mapdb_unmap(w.t, KM_FPAGE(RG(2), 12, KM_W), false), 1);
    assert_int_equal(held(w.u, RG(7), NULL), KM_R);
    assert_int_equal(w.t->mn_out, 124);
    /* t sends from a page whose node is out: it comes in */
    map1(w.t, RG(2) + PAGE_SIZE, w.u, RG(8), KM_R);
    assert_int_equal(held(w.u, RG(8), NULL), KM_R);
    assert_int_equal(w.t->mn_out, 123);
    /* RG(2)'s frame is the kernel's: it goes with the last mapping of it */
    assert_int_equal(mapdb_unmap(w.t, KM_FPAGE(RG(2), 12, KM_RWX), true), 2);
    assert_int_equal(held(w.u, RG(7), NULL), 0);
    host_check_all();
}

/* A kpager's own node for a page it lent is out (its node page went back
 * to its own kpager): its unmap of the page still takes it back from the
 * kernel (a removal by name would have dropped the loan's record). */
static void test_lender_node_out(void **state)
{
    (void)state;
    struct task *k2 = host_new_task(), *k = host_new_task(), *t = host_new_task();
    root(k2, KV(0), RW);
    struct mmu_slot s;
    assert_true(mmu_walk(k, KV(5), MMU_CREATE_ALL, &s)); /* k's tables: pool */
    u64 mn = supply(k, k2, KV(0), KM_KS_MN_OF(0));
    op_begin(k);
    root(k, KV(5), RW); /* its node: in the page k2 lent */
    kmem_op = NULL;
    root(t, FAR, RW); /* t's node page: pool */
    assert_true(mmu_walk(t, RG(0), MMU_CREATE_PT, &s));
    u64 nt = supply(t, k, KV(5), KM_KS_NT_OF(RG(0)));
    op_begin(t);
    root(t, RG(0), RW); /* t's node table: k's KV(5) */
    kmem_op = NULL;
    host_check_all();
    assert_int_equal(mapdb_unmap(k2, KM_FPAGE(KV(0), 12, KM_RWX), false), 1);
    host_check_all();
    assert_int_equal(k->mn_out, 1);
    assert_int_equal(held(k2, KV(0), NULL), RW);
    assert_true(((const u64 *)phys_to_virt(mn))[6] & MN_LENT); /* its record says lent */
    assert_int_equal(mapdb_unmap(k, KM_FPAGE(KV(5), 12, KM_RWX), false), 1);
    host_check_all();
    u64 p;
    assert_int_equal(held(k, KV(5), &p), RW);
    assert_int_equal(p, nt);
    assert_true(mmu_nt_out(t, RG(0)));
    assert_int_equal(held(t, RG(0), NULL), RW);
}

/* Taking W from what derives from a mapping whose derived node is out, in
 * an unmap whose task's kpager is asked: the node page is asked for and
 * the unmap redone; nothing is removed (a review found the reduction
 * turned into a removal of the mapping and of another task's). */
static void test_reduce_asks_kpager(void **state)
{
    (void)state;
    struct world w;
    world(&w);
    map1(w.t, RG(1), w.t, RG(3), RW); /* t's own, derived from RG(1) */
    assert_int_equal(mapdb_unmap(w.k, KM_FPAGE(w.kv_mn, 12, KM_RWX), false), 1);
    assert_int_equal(held(w.t, RG(1), NULL), RW); /* RG(1)'s node in (pool); RG(3)'s out */
    while (mapdb_has_free_node(w.t)) /* that page full: the next node needs a page */
        root(w.t, RG(12) + (u64)w.t->mn_slots * PAGE_SIZE, RW);
    host_check_all();
    op_begin(w.t);
    assert_int_equal(mapdb_unmap(w.t, KM_FPAGE(RG(1), 12, KM_W), true), -KM_ENOMEM);
    kmem_op = NULL;
    assert_true(op.missing_set && km_ks_type(op.missing) == KMEM_MAPNODE);
    host_check_all();
    assert_int_equal(held(w.u, RG(6), NULL), KM_R);
    supply(w.t, w.k, KV(5), op.missing);
    op_begin(w.t);
    assert_int_equal(mapdb_unmap(w.t, KM_FPAGE(RG(1), 12, KM_W), true), 2);
    kmem_op = NULL;
    assert_false(op.missing_set);
    assert_int_equal(held(w.t, RG(1), NULL), KM_R);
    assert_int_equal(held(w.t, RG(3), NULL), KM_R);
    assert_int_equal(held(w.u, RG(6), NULL), KM_R);
    host_check_all();
}

/* The lender's own node brought into the very page it lends (k is its own
 * kpager), then its pager unmaps it: the loan ends as an orphan's (a
 * review found a panic: the page was given back to a mapping gone). */
static void test_lender_node_in_own_page(void **state)
{
    (void)state;
    struct task *p = host_new_task(), *k2 = host_new_task(), *k = host_new_task();
    struct mmu_slot s;
    root(p, KV(0), RW);
    root(k2, KV(50), RW);
    assert_true(mmu_walk(k, KV(1), MMU_CREATE_ALL, &s)); /* k's tables: pool */
    supply(k, k2, KV(50), KM_KS_MN_OF(0));
    op_begin(k);
    map1(p, KV(0), k, KV(1), RW); /* k's node: in k2's page */
    kmem_op = NULL;
    u64 fb = supply(k, k, KV(1), KM_KS_MN_OF(1)); /* k lends KV(1) for its own node page 1 */
    assert_int_equal(mapdb_unmap(k2, KM_FPAGE(KV(50), 12, KM_RWX), false), 1); /* k's node out */
    assert_int_equal(k->mn_out, 1);
    op_begin(k); /* an operation of k's needs the node: into KV(1)'s own frame */
    u64 phys;
    assert_int_equal(mapdb_lend(k, KV(1), &phys), -KM_EINVAL); /* (lent already: but its node came in) */
    kmem_op = NULL;
    assert_int_equal(k->mn_out, 0);
    assert_int_equal(virt_to_phys(k->mapdb), fb);
    host_check_all();
    assert_int_equal(mapdb_unmap(p, KM_FPAGE(KV(0), 12, KM_RWX), false), 1);
    host_check_all();
    assert_int_equal(held(k, KV(1), NULL), 0);
    assert_int_equal(counts(k, KMEM_MAPNODE), 0);
    assert_int_equal(kmem_lent_frames, 0);
}

/* A node table and a node page of t both out; grants across them (onto
 * and from pages whose nodes are out), then u (parent and child of t's
 * mappings) goes, then t. */
static void test_node_table_and_nodes_out(void **state)
{
    (void)state;
    struct world w;
    world(&w);
    struct task *v = host_new_task();
    root(v, RG(9), RW);
    map1(w.t, RG(0) + 2 * PAGE_SIZE, w.t, RG(0) + 3 * PAGE_SIZE, KM_R); /* replaces RG(0)+3 */
    map1(w.u, RG(5), v, RG(9) + PAGE_SIZE, KM_R); /* grandchild of t's RG(0)+1 */
    assert_int_equal(mapdb_unmap(w.k, KM_FPAGE(w.kv_mn, 12, KM_RWX), false), 1); /* nodes out */
    assert_int_equal(mapdb_unmap(w.k, KM_FPAGE(w.kv_nt, 12, KM_RWX), false), 1); /* NT out */
    host_check_all();
    assert_true(w.t->mn_out >= 6);
    assert_true(mmu_nt_out(w.t, RG(0)));
    /* u grants its RG(5) (child of t's RG(0)+1, out) to v */
    assert_int_equal(mapdb_transfer(w.u, KM_MAPITEM(0, 1), KM_FPAGE(RG(5), 12, KM_R), v,
                                    KM_FPAGE(RG(9) + 2 * PAGE_SIZE, 12, 0)), 1);
    host_check_all();
    assert_int_equal(held(v, RG(9) + 2 * PAGE_SIZE, NULL), KM_R);
    /* v grants a page of its own onto t's RG(0), whose node is out */
    assert_int_equal(mapdb_transfer(v, KM_MAPITEM(0, 1), KM_FPAGE(RG(9), 12, RW), w.t, KM_FPAGE(RG(0), 12, 0)), 1);
    host_check_all();
    assert_int_equal(held(w.t, RG(0), NULL), RW);
    host_destroy(w.u);
    host_check_all();
    /* the grant moved u's mapping, with what derives from it, to v: t's child */
    assert_int_equal(held(v, RG(9) + 2 * PAGE_SIZE, NULL), KM_R);
    assert_int_equal(held(v, RG(9) + PAGE_SIZE, NULL), KM_R);
    host_destroy(w.t);
    host_check_all();
    assert_int_equal(held(v, RG(9) + 2 * PAGE_SIZE, NULL), 0);
    assert_int_equal(held(v, RG(9) + PAGE_SIZE, NULL), 0);
}

/* A node of t's that is out comes into a page of the pool only within
 * kmem.pool (a review found a kpager could turn the pages it takes back
 * into pool pages without bound), and only when an operation needs it as
 * a node (a second review found every send from below brought it in). */
static void test_node_in_within_pool(void **state)
{
    (void)state;
    struct world w;
    world(&w);
    struct task *v = host_new_task();
    root(v, RG(9), RW);   /* v's tables and node page (room left) */
    root(w.u, RG(8), RW); /* u's node and edge pages have room */
    map1(w.u, RG(8), v, RG(9) + 3 * PAGE_SIZE, KM_R);
    assert_int_equal(mapdb_unmap(w.k, KM_FPAGE(w.kv_mn, 12, KM_RWX), false), 1);
    u64 used = kmem_pool_used(), tmn = counts(w.t, KMEM_MAPNODE), out = w.t->mn_out;
    opt.kmem_pool = used; /* the pool at its cap */
    /* u sends on what it got from t: none of t's nodes is needed */
    map1(w.u, RG(5), v, RG(9) + PAGE_SIZE, KM_R);
    assert_int_equal(w.t->mn_out, out);
    /* u takes W from what derives from its RG(0): t's RG(1) + PAGE_SIZE,
     * out, cannot come in: it is removed (as t could have done) */
    assert_int_equal(held(w.t, RG(1) + PAGE_SIZE, NULL), RW);
    assert_int_equal(mapdb_unmap(w.u, KM_FPAGE(RG(0), 12, KM_W), false), 1);
    assert_int_equal(kmem_pool_used(), used);
    assert_int_equal(counts(w.t, KMEM_MAPNODE), tmn);
    assert_int_equal(w.t->mn_out, out - 1);
    host_check_all();
    opt.kmem_pool = 0;
    assert_int_equal(held(w.t, RG(1) + PAGE_SIZE, NULL), 0);
    bring_in(w.t, RG(1)); /* a node of t's in, from the pool now */
    assert_int_equal(counts(w.t, KMEM_MAPNODE), tmn + 1);
    host_check_all();
}

/* test_lender_node_out with the pool at its cap, so that the lender's
 * node cannot come in: the page still comes back, by name (a review found
 * the unmap did nothing). */
static void test_lender_node_out_pool_capped(void **state)
{
    (void)state;
    struct task *k2 = host_new_task(), *k = host_new_task(), *t = host_new_task();
    root(k2, KV(0), RW);
    struct mmu_slot s;
    assert_true(mmu_walk(k, KV(5), MMU_CREATE_ALL, &s));
    supply(k, k2, KV(0), KM_KS_MN_OF(0));
    op_begin(k);
    root(k, KV(5), RW); /* its node: in the page k2 lent */
    kmem_op = NULL;
    root(t, FAR, RW);
    assert_true(mmu_walk(t, RG(0), MMU_CREATE_PT, &s));
    u64 nt = supply(t, k, KV(5), KM_KS_NT_OF(RG(0)));
    op_begin(t);
    root(t, RG(0), RW);
    kmem_op = NULL;
    assert_int_equal(mapdb_unmap(k2, KM_FPAGE(KV(0), 12, KM_RWX), false), 1); /* k's node out */
    assert_int_equal(k->mn_out, 1);
    host_check_all();
    opt.kmem_pool = kmem_pool_used();
    assert_int_equal(mapdb_unmap(k, KM_FPAGE(KV(5), 12, KM_RWX), false), 1);
    opt.kmem_pool = 0;
    host_check_all();
    u64 p;
    assert_int_equal(held(k, KV(5), &p), RW);
    assert_int_equal(p, nt);
    assert_int_equal(k->mn_out, 1); /* (by name: still out) */
    assert_true(mmu_nt_out(t, RG(0)));
}

/* An edge page revoked leaves localised (abi/kspace.h): each record the
 * sender's page and the rights given; the mappings derived through it
 * stay, detached (their parent named), and the sender's revocations
 * still reach them, with no memory; a reduction attaches them again. */
static void test_revoke_edge_page(void **state)
{
    (void)state;
    struct task *k = host_new_task(), *s = host_new_task(), *r = host_new_task(), *r2 = host_new_task();
    root(k, KV(0), RW);
    root(k, KV(1), RW);
    root(s, RG(0), RW);
    root(s, RG(0) + PAGE_SIZE, RW);
    root(r, RG(3), RW);
    root(r2, RG(4), RW);
    u64 ep = supply(s, k, KV(1), KM_KS_ME_OF(s->mn_next));
    op = (struct kmem_op){.task = r, .src = s};
    kmem_op = &op;
    map1(s, RG(0), r, RG(3) + PAGE_SIZE, RW); /* its edge: in the page k lent */
    kmem_op = NULL;
    map1(s, RG(0) + PAGE_SIZE, r, RG(3) + 2 * PAGE_SIZE, RW);
    map1(r, RG(3) + PAGE_SIZE, r2, RG(4) + PAGE_SIZE, KM_R); /* through r's edge page (pool) */
    assert_int_equal(((struct mnode_page *)phys_to_virt(ep))->used, 2);
    host_check_all();
    assert_int_equal(mapdb_unmap(k, KM_FPAGE(KV(1), 12, KM_RWX), false), 1);
    host_check_all();
    u64 p;
    assert_int_equal(held(k, KV(1), &p), RW);
    assert_int_equal(p, ep);
    const u64 *x = phys_to_virt(ep);
    assert_int_equal(x[0], 2);
    u32 found = 0, nonzero = 0;
    for (int i = 0; i < 512; i++)
        nonzero += x[i] != 0;
    for (int k2 = 0; k2 < 126; k2++)
        found += x[6 + 4 * k2] == (RG(0) | KM_R) || x[6 + 4 * k2] == ((RG(0) + PAGE_SIZE) | KM_R);
    assert_int_equal(found, 2);
    assert_int_equal(nonzero, 3);
    assert_int_equal(held(r, RG(3) + PAGE_SIZE, NULL), RW);
    assert_int_equal(held(r, RG(3) + 2 * PAGE_SIZE, NULL), RW);
    assert_int_equal(held(r2, RG(4) + PAGE_SIZE, NULL), KM_R);
    /* s takes W from what derives from RG(0) + PAGE_SIZE: attached again */
    assert_int_equal(mapdb_unmap(s, KM_FPAGE(RG(0) + PAGE_SIZE, 12, KM_W), false), 1);
    assert_int_equal(held(r, RG(3) + 2 * PAGE_SIZE, NULL), KM_R);
    host_check_all();
    /* s unmaps RG(0), the pool dry: r's and r2's go, by the names */
    static u64 hoard[1 << 14];
    u32 nh = 0;
    for (u64 f; nh < sizeof hoard / sizeof *hoard && (f = frame_alloc());)
        hoard[nh++] = f;
    assert_int_equal(mapdb_unmap(s, KM_FPAGE(RG(0), 12, KM_RWX), false), 2);
    while (nh)
        frame_free(hoard[--nh]);
    assert_int_equal(held(r, RG(3) + PAGE_SIZE, NULL), 0);
    assert_int_equal(held(r2, RG(4) + PAGE_SIZE, NULL), 0);
    assert_int_equal(held(s, RG(0), NULL), RW);
    host_check_all();
}

/* A node page leaves holding a detached node (its edge page went first)
 * whose removal frees a page lent for another task's nodes: the lender's
 * node, in the page leaving, must still be found (a review found a
 * panic: mapdb_unlend looked for it where it was no longer listed). */
static void test_detached_in_leaving_node_page(void **state)
{
    (void)state;
    struct task *k1 = host_new_task(), *p = host_new_task(), *l = host_new_task(), *q = host_new_task();
    struct mmu_slot ms;
    for (int i = 0; i < 4; i++)
        root(k1, KV(i), RW);
    root(p, RG(8), RW);
    assert_true(mmu_walk(l, RG(0), MMU_CREATE_PT, &ms));
    supply(l, k1, KV(1), KM_KS_NT_OF(RG(0)));
    assert_true(mmu_walk(l, RG(9), MMU_CREATE_ALL, &ms)); /* pool */
    supply(l, k1, KV(0), KM_KS_MN_OF(0));
    op_begin(l);
    root(l, RG(0), RW); /* l's node in k1's KV(0), its node table k1's KV(1) */
    kmem_op = NULL;
    supply(p, k1, KV(2), KM_KS_ME_OF(p->mn_next));
    op = (struct kmem_op){.task = l, .src = p};
    kmem_op = &op;
    map1(p, RG(8), l, RG(9), RW); /* d: l's, in KV(0) too; p's edge in KV(2) */
    kmem_op = NULL;
    assert_true(mmu_walk(q, RG(16), MMU_CREATE_ALL, &ms)); /* pool */
    supply(q, l, RG(0), KM_KS_MN_OF(0)); /* l lends RG(0) for q's node page */
    op_begin(q);
    map1(l, RG(9), q, RG(16), RW); /* q's only node, in l's RG(0) */
    kmem_op = NULL;
    host_check_all();
    assert_int_equal(mapdb_unmap(k1, KM_FPAGE(KV(1), 12, KM_RWX), false), 1); /* l's node table out */
    assert_true(mmu_nt_out(l, RG(0)));
    assert_int_equal(mapdb_unmap(k1, KM_FPAGE(KV(2), 12, KM_RWX), false), 1); /* d detached */
    assert_int_equal(mapdb_detached, 1);
    host_check_all();
    assert_int_equal(mapdb_unmap(k1, KM_FPAGE(KV(0), 12, KM_RWX), false), 1); /* l's node page */
    host_check_all();
    assert_int_equal(mapdb_detached, 0);
    assert_int_equal(held(q, RG(16), NULL), 0); /* derived from d, which went */
    assert_int_equal(held(l, RG(9), NULL), 0);
    assert_int_equal(held(l, RG(0), NULL), RW); /* back with l */
}

/* The lender's page revoked from above (its own pager unmaps it). */
static void test_revoke_from_parent(void **state)
{
    (void)state;
    struct task *p = host_new_task(), *k = host_new_task(), *t = host_new_task();
    u64 f = root(p, KV(0), RW);
    map1(p, KV(0), k, KV(1), RW);
    root(t, FAR, RW); /* node page and FAR's tables from the pool */
    struct mmu_slot s;
    assert_true(mmu_walk(t, RG(0), MMU_CREATE_PT, &s)); /* RG(0)'s tables too */
    u64 phys = supply(t, k, KV(1), KM_KS_NT_OF(RG(0)));
    assert_int_equal(phys, f);
    op_begin(t);
    root(t, RG(0), RW);
    kmem_op = NULL;
    assert_int_equal(frame_aux_get(table_entry(t, RG(0), 21) & PTE_ADDR), f);
    assert_int_equal(mapdb_unmap(p, KM_FPAGE(KV(0), 12, KM_RWX), false), 1);
    host_check_all();
    assert_int_equal(held(k, KV(1), NULL), 0);
    /* the node table went out (its lender is gone: nobody keeps its
     * export, so it is zeroed), the mapping stays */
    assert_true(mmu_nt_out(t, RG(0)));
    assert_int_equal(counts(t, KMEM_NODETABLE), 1); /* FAR's */
    assert_int_equal(held(t, RG(0), NULL), RW);     /* (its table made again: the pool's) */
    assert_int_equal(counts(t, KMEM_NODETABLE), 2);
    assert_int_equal(held(t, FAR, NULL), RW);
    assert_true(all_zero(f));
    assert_int_equal(frame_lend(f)->kobj, 0);
    /* the parent lost access while the frame was lent; the frame is back,
     * so its next touch (a soft fault) or any use of the mapping (here a
     * lookup) gives it back */
    struct mmu_slot ps;
    assert_true(mmu_walk(p, KV(0), MMU_FIND, &ps));
    assert_false(mmu_present(&ps));
    assert_true(mapdb_soft_fault(p, KV(0)));
    assert_int_equal(held(p, KV(0), NULL), RW);
}

static void test_lender_destroyed(void **state)
{
    (void)state;
    struct world w;
    world(&w);
    for (int i = 5; i < 8; i++)
        supply(w.t, w.k, KV(i), i == 7 ? KM_KS_RESERVE : KM_KS_PT_OF(RG(10 + i)));
    assert_int_equal(w.t->nsupply, 3);
    host_destroy(w.k);
    host_check_all();
    assert_int_equal(w.t->nsupply, 0);
    region_gone(&w);
    /* left: the PML4 and FAR's tables (pool), nothing of k's; t's node
     * page left localised (the only mapping of t's left, FAR's, stays,
     * its node out), its edge page went with the edges */
    assert_int_equal(w.t->kmem.pages[KMEM_PAGETABLE], 4);
    assert_int_equal(w.t->kmem.pages[KMEM_NODETABLE], 1);
    assert_int_equal(w.t->kmem.pages[KMEM_MAPNODE], 0);
    assert_int_equal(w.t->kmem.pages[KMEM_RESERVE], 0);
    assert_int_equal(w.t->mn_out, 1);
    assert_int_equal(held(w.u, RG(0), NULL), RW);
    assert_true(all_zero(w.pdpt) && all_zero(w.pd) && all_zero(w.pt) && all_zero(w.nt) && all_zero(w.mn));
    /* it stays; an operation that needs its node brings it in, into a pool page */
    assert_int_equal(held(w.t, FAR + RG(0), NULL), RW);
    bring_in(w.t, FAR + RG(0));
    assert_int_equal(w.t->kmem.pages[KMEM_MAPNODE], 1);
    assert_int_equal(w.t->mn_out, 0);
    /* t goes on with pool memory */
    root(w.t, RG(0), RW);
    host_check_all();
}

/* kmem_page_free of a lent page: back to the lender, zeroed. */
static void test_free_gives_back(void **state)
{
    (void)state;
    struct world w;
    world(&w);
    /* t unmaps all its mappings in RG(0): no node left in the lent page?
     * no: the node page holds all of t's nodes; unmap them all */
    assert_true(mapdb_unmap(w.t, KM_FPAGE(0, 47, KM_RWX), true) > 0);
    host_check_all();
    came_back(&w, w.kv_mn, w.mn);
    assert_int_equal(counts(w.t, KMEM_MAPNODE), 0);
    /* the tables stay until the space goes */
    assert_false(pte(w.k, w.kv_pt, &(u64){0}));
    mapdb_task_destroy(w.t);
    aspace_destroy(w.t);
    came_back(&w, w.kv_pdpt, w.pdpt);
    came_back(&w, w.kv_pd, w.pd);
    came_back(&w, w.kv_pt, w.pt);
    came_back(&w, w.kv_nt, w.nt);
    for (int i = 0; i < KMEM_NTYPES; i++)
        assert_int_equal(w.t->kmem.pages[i], 0);
    w.t->number = 0;
    host_check_all();
    /* direct: a supplied page allocated and freed */
    struct task *t2 = host_new_task();
    u64 phys;
    assert_int_equal(mapdb_lend(w.k, KV(5), &phys), 0);
    assert_int_equal(kmem_supply_add(t2, KM_KREQ(KM_KS_TCB, KMEM_TCB, 0), phys, w.k->number, KV(5)), 0);
    op_begin(t2);
    assert_int_equal(kmem_page_alloc(t2, KMEM_TCB, KM_KS_TCB), phys);
    kmem_op = NULL;
    memset(phys_to_virt(phys), 0x5a, PAGE_SIZE);
    assert_int_equal(counts(t2, KMEM_TCB), 1);
    kmem_page_free(t2, KMEM_TCB, phys);
    assert_int_equal(counts(t2, KMEM_TCB), 0);
    came_back(&w, KV(5), phys);
    host_check_all();
}

/* A task that is its own kpager (a thread of k serves k's other threads):
 * its lent page holds its own mapping nodes, and then a page is mapped
 * onto the lent page (the destination's old mapping is replaced). */
static void test_map_onto_own_lent_node_page(void **state)
{
    (void)state;
    struct task *k = host_new_task(), *u = host_new_task();
    for (int i = 0; i < 126; i++) /* node page 0 (pool) full */
        root(k, KV(i), RW);
    root(u, RG(0), RW);
    u64 mn = supply(k, k, KV(5), KM_KS_MN_OF(1));
    op_begin(k);
    root(k, KV(130), RW); /* its node: in the lent page */
    kmem_op = NULL;
    assert_int_equal(virt_to_phys(k->mapdb), mn);
    host_check_all();
    /* u maps onto k's lent page: it stays lent (a destination lent to the
     * kernel is skipped, like a fixed page), nothing else changes */
    assert_int_equal(mapdb_transfer(u, KM_MAPITEM(0, 0), KM_FPAGE(RG(0), 12, RW), k, KM_FPAGE(KV(5), 12, 0)), 0);
    host_check_all();
    assert_false(pte(k, KV(5), &(u64){0}));
    assert_int_equal(held(k, KV(130), NULL), RW);
    assert_int_equal(frame_lend(mn)->kobj, KM_KS_MN_OF(1) | k->number);
    /* and granted onto it, from k itself */
    assert_int_equal(mapdb_transfer(k, KM_MAPITEM(0, 1), KM_FPAGE(KV(6), 12, RW), k, KM_FPAGE(KV(5), 12, 0)), 0);
    host_check_all();
    assert_int_equal(held(k, KV(6), NULL), RW);
    /* the kpager takes it back: it holds KV(130)'s node localised (the
     * page's header: 1 node; its record: word, no parent), the mapping
     * stays, and a use brings the node in */
    assert_int_equal(mapdb_unmap(k, KM_FPAGE(KV(5), 12, KM_RWX), false), 1);
    host_check_all();
    assert_int_equal(held(k, KV(5), NULL), RW);
    const u64 *x = phys_to_virt(mn);
    u32 nonzero = 0;
    for (int i = 0; i < 512; i++)
        nonzero += x[i] != 0;
    assert_int_equal(nonzero, 2);
    assert_int_equal(x[0], 1);
    assert_int_equal(x[6], KV(130) | MN_KERNEL_OWNED | RW); /* slot 0, at 48 */
    assert_int_equal(k->mn_out, 1);
    assert_int_equal(held(k, KV(130), NULL), RW);
    bring_in(k, KV(130));
    assert_int_equal(k->mn_out, 0);
    host_check_all();
}

/* Lending takes access away from every mapping of the frame, the lender's
 * ancestors included: here t maps its own page to its kpager k and k lends
 * it for t's leaf table; t must not be able to write its own page table
 * (a PTE there would map any frame into t). */
static void test_ancestor_loses_access(void **state)
{
    (void)state;
    struct task *k = host_new_task(), *t = host_new_task();
    u64 f = root(t, KV(0), RW);
    root(k, KV(3), RW);
    root(k, KV(4), RW);
    map1(t, KV(0), k, KV(2), RW);
    supply(t, k, KV(2), KM_KS_PT_OF(RG(0)));
    supply(t, k, KV(3), KM_KS_PD_OF(RG(0)));
    supply(t, k, KV(4), KM_KS_NT_OF(RG(0)));
    op_begin(t);
    root(t, RG(0), RW);
    kmem_op = NULL;
    u64 p;
    assert_int_equal(table_entry(t, RG(0), 21) & PTE_ADDR, f);
    assert_int_equal(held(t, KV(0), &p), 0);
    assert_false(mapdb_soft_fault(t, KV(0))); /* not while it is lent */
    host_check_all();
    /* k takes it back: the table goes vacant, t's access comes back */
    assert_int_equal(mapdb_unmap(k, KM_FPAGE(KV(2), 12, KM_RWX), false), 1);
    assert_true(all_zero(f));
    assert_true(mapdb_soft_fault(t, KV(0)));
    assert_int_equal(held(t, KV(0), &p), RW);
    host_check_all();
}

/* Node page names wrap inside their range: a task that has had 2^24 node
 * pages does not name the next one in the TCB range (which once let a
 * kpager's unmap panic the kernel). */

/* The kpager pages out the node tables of regions 1..M-1 of t (it wants
 * that memory back), then takes back region 0's leaf table (its node table
 * in): the drop of region 0 makes no other table again (a review found
 * them all brought back into pool pages their kpager cannot take). */
static void test_drop_region_leaves_other_tables(void **state)
{
    (void)state;
    enum { M = 8 };
    struct task *k = host_new_task(), *t = host_new_task();
    for (int i = 0; i < 2 * M; i++)
        root(k, KV(i), RW);
    root(t, RG(M + 1), RW);
    for (int r = 0; r < M; r++) {
        supply(t, k, KV(2 * r), KM_KS_NT_OF(RG(r)));
        supply(t, k, KV(2 * r + 1), KM_KS_PT_OF(RG(r)));
        op_begin(t);
        for (int i = 0; i < 3; i++)
            root(t, RG(r) + (u64)i * PAGE_SIZE, RW);
        kmem_op = NULL;
    }
    for (int r = 1; r < M; r++)
        assert_int_equal(mapdb_unmap(k, KM_FPAGE(KV(2 * r), 12, KM_RWX), false), 1);
    host_check_all();
    u64 pool = t->kmem.pool, passes = nodetable_passes;
    assert_int_equal(t->as.nt_out, M - 1);
    assert_int_equal(mapdb_unmap(k, KM_FPAGE(KV(1), 12, KM_RWX), false), 1); /* PT_0 */
    host_check_all();
    print_message("PT_0's revocation: %llu passes, t's pool pages %llu -> %llu, tables out %u -> %u\n",
                  (unsigned long long)(nodetable_passes - passes), (unsigned long long)pool,
                  (unsigned long long)t->kmem.pool, M - 1, (unsigned)t->as.nt_out);
    assert_int_equal(t->as.nt_out, M - 1); /* the others stay out */
    assert_int_equal(t->kmem.pool, pool);
}

static void test_kspace_names(void **state)
{
    (void)state;
    assert_int_equal(KM_KS_MN_OF(0), KM_KS_MN);
    assert_int_equal(KM_KS_MN_OF((1u << 23) - 1), KM_KS_ME - 4096);
    assert_int_equal(KM_KS_MN_OF(1u << 23), KM_KS_MN);
    assert_int_equal(KM_KS_ME_OF(0), KM_KS_ME);
    assert_int_equal(KM_KS_ME_OF((1u << 23) - 1), KM_KS_TCB - 4096);
    assert_int_equal(km_ks_type(KM_KS_ME_OF(7)), KM_KMEM_MAPNODE);
    assert_int_equal(km_ks_type(KM_KS_MN_OF((1ull << 25) + 5)), KM_KMEM_MAPNODE);
    assert_int_equal(km_ks_type(KM_KS_PT_OF(0x7fffffe00000ull)), KM_KMEM_PAGETABLE);
    assert_int_equal(km_ks_type(KM_KS_NT_OF(0x7fffffe00000ull)), KM_KMEM_NODETABLE);
    assert_true(KM_KS_NT_OF(0x7fffffe00000ull) < KM_KS_MN);
    assert_int_equal(km_ks_type(KM_KS_RESERVE), KM_KMEM_RESERVE);
    assert_int_equal(km_ks_type(KM_KS_RESERVE + 4096), -1);
}


/* ---- detached nodes (edge pages out): the fourth review's scenarios -------- */

extern u64 mapdb_detached;

struct det {
    struct task *k, *s, *r, *r2;
    u64 ep;
};

/* s's RG(0) mapped on to r's RG(3) + P (rights) through an edge in a page
 * k lent to s; k takes it back: r's node is detached from s's RG(0). */
static void detach_world(struct det *d, u32 rights)
{
    d->k = host_new_task();
    d->s = host_new_task();
    d->r = host_new_task();
    d->r2 = host_new_task();
    root(d->k, KV(0), RW);
    root(d->k, KV(1), RW);
    root(d->s, RG(0), RW);
    root(d->r, RG(3), RW);
    root(d->r2, RG(4), RW);
    d->ep = supply(d->s, d->k, KV(1), KM_KS_ME_OF(d->s->mn_next));
    op = (struct kmem_op){.task = d->r, .src = d->s};
    kmem_op = &op;
    map1(d->s, RG(0), d->r, RG(3) + PAGE_SIZE, rights);
    kmem_op = NULL;
    assert_int_equal(mapdb_unmap(d->k, KM_FPAGE(KV(1), 12, KM_RWX), false), 1);
    host_check_all();
    assert_int_equal(mapdb_detached, 1);
    assert_int_equal(held(d->r, RG(3) + PAGE_SIZE, NULL), rights);
}

/* s grants its RG(0) (with a detached child) to r2: unmapping it there
 * must take r's mapping. */
static void test_detached_grant_parent(void **state)
{
    (void)state;
    struct det d;
    detach_world(&d, RW);
    assert_int_equal(mapdb_transfer(d.s, KM_MAPITEM(0, 0) | KM_ITEM_GRANT, KM_FPAGE(RG(0), 12, RW), d.r2,
                                    KM_FPAGE(RG(4) + PAGE_SIZE, 12, 0)),
                     1);
    host_check_all();
    assert_int_equal(held(d.s, RG(0), NULL), 0);
    assert_true(mapdb_unmap(d.r2, KM_FPAGE(RG(4) + PAGE_SIZE, 12, KM_RWX), false) >= 1);
    host_check_all();
    assert_int_equal(held(d.r, RG(3) + PAGE_SIZE, NULL), 0);
    assert_int_equal(mapdb_detached, 0);
}

/* s grants its RG(0) within itself (another page): same. */
static void test_detached_grant_parent_same_task(void **state)
{
    (void)state;
    struct det d;
    detach_world(&d, RW);
    assert_int_equal(mapdb_transfer(d.s, KM_MAPITEM(0, 0) | KM_ITEM_GRANT, KM_FPAGE(RG(0), 12, KM_R), d.s,
                                    KM_FPAGE(RG(0) + 8 * PAGE_SIZE, 12, 0)),
                     1);
    host_check_all();
    assert_int_equal(held(d.r, RG(3) + PAGE_SIZE, NULL), KM_R); /* (lost W) */
    assert_true(mapdb_unmap(d.s, KM_FPAGE(RG(0) + 8 * PAGE_SIZE, 12, KM_RWX), false) >= 1);
    host_check_all();
    assert_int_equal(held(d.r, RG(3) + PAGE_SIZE, NULL), 0);
}

/* r grants its detached page on to r2; s's unmap takes it there. */
static void test_detached_grant_detached(void **state)
{
    (void)state;
    struct det d;
    detach_world(&d, RW);
    assert_int_equal(mapdb_transfer(d.r, KM_MAPITEM(0, 0) | KM_ITEM_GRANT, KM_FPAGE(RG(3) + PAGE_SIZE, 12, RW),
                                    d.r2, KM_FPAGE(RG(4) + 2 * PAGE_SIZE, 12, 0)),
                     1);
    host_check_all();
    assert_int_equal(held(d.r2, RG(4) + 2 * PAGE_SIZE, NULL), RW);
    assert_true(mapdb_unmap(d.s, KM_FPAGE(RG(0), 12, KM_RWX), false) >= 1);
    host_check_all();
    assert_int_equal(held(d.r2, RG(4) + 2 * PAGE_SIZE, NULL), 0);
}

/* r grants its detached page back onto its parent. */
static void test_detached_grant_back(void **state)
{
    (void)state;
    struct det d;
    detach_world(&d, RW);
    assert_int_equal(mapdb_transfer(d.r, KM_MAPITEM(0, 0) | KM_ITEM_GRANT, KM_FPAGE(RG(3) + PAGE_SIZE, 12, RW),
                                    d.s, KM_FPAGE(RG(0), 12, 0)),
                     1);
    host_check_all();
    assert_int_equal(held(d.r, RG(3) + PAGE_SIZE, NULL), 0);
    assert_int_equal(held(d.s, RG(0), NULL), RW);
}

/* s maps RG(0) again onto r's detached page: its rights grow up to s's. */
static void test_detached_map_onto_detached(void **state)
{
    (void)state;
    struct det d;
    detach_world(&d, KM_R);
    map1(d.s, RG(0), d.r, RG(3) + PAGE_SIZE, RW);
    assert_int_equal(held(d.r, RG(3) + PAGE_SIZE, NULL), RW);
    assert_true(mapdb_unmap(d.s, KM_FPAGE(RG(0), 12, KM_W), false) >= 1);
    assert_int_equal(held(d.r, RG(3) + PAGE_SIZE, NULL), KM_R);
    host_check_all();
}

/* s destroyed: r's detached mapping goes with it; a new task at s's number
 * mapping the same page gets no child. */
static void test_detached_destroy_parent(void **state)
{
    (void)state;
    struct det d;
    detach_world(&d, RW);
    u32 num = d.s->number;
    host_destroy(d.s);
    assert_int_equal(held(d.r, RG(3) + PAGE_SIZE, NULL), 0);
    assert_int_equal(mapdb_detached, 0);
    struct task *s2 = host_new_task();
    assert_int_equal(s2->number, num);
    root(s2, RG(0), RW);
    host_check_all();
}

/* r destroyed while detached, then s unmaps. */
static void test_detached_destroy_child(void **state)
{
    (void)state;
    struct det d;
    detach_world(&d, RW);
    host_destroy(d.r);
    assert_int_equal(mapdb_detached, 0);
    assert_true(mapdb_unmap(d.s, KM_FPAGE(RG(0), 12, KM_RWX), false) >= 0);
    host_check_all();
}

/* Two levels: r's page mapped on to r2 through r's edge page, which goes
 * too: s's unmap takes both. */
static void test_detached_two_levels(void **state)
{
    (void)state;
    struct det d;
    detach_world(&d, RW);
    root(d.k, KV(2), RW);
    supply(d.r, d.k, KV(2), KM_KS_ME_OF(d.r->mn_next));
    op = (struct kmem_op){.task = d.r2, .src = d.r};
    kmem_op = &op;
    map1(d.r, RG(3) + PAGE_SIZE, d.r2, RG(4) + PAGE_SIZE, KM_R);
    kmem_op = NULL;
    assert_int_equal(mapdb_unmap(d.k, KM_FPAGE(KV(2), 12, KM_RWX), false), 1);
    host_check_all();
    assert_int_equal(mapdb_detached, 2);
    assert_int_equal(mapdb_unmap(d.s, KM_FPAGE(RG(0), 12, KM_RWX), false), 2);
    host_check_all();
    assert_int_equal(held(d.r, RG(3) + PAGE_SIZE, NULL), 0);
    assert_int_equal(held(d.r2, RG(4) + PAGE_SIZE, NULL), 0);
    assert_int_equal(mapdb_detached, 0);
}

/* r lends its detached page to the kernel: s loses access to the frame. */
static void test_detached_lend_detached(void **state)
{
    (void)state;
    struct det d;
    detach_world(&d, RW);
    u64 phys;
    assert_int_equal(mapdb_lend(d.r, RG(3) + PAGE_SIZE, &phys), 0);
    struct mmu_slot s;
    assert_true(mmu_walk(d.s, RG(0), MMU_FIND, &s));
    assert_false(mmu_present(&s));
    host_check_all();
    mapdb_unlend(d.r->number, RG(3) + PAGE_SIZE, phys);
    host_check_all();
}

static u64 kvphys(struct task *k, u64 kv) { u64 p = 0; held(k, kv, &p); return p; }

/* s's node of RG(0) in a page k lent (KV(0)), its edge to r's RG(3) + P in
 * another (KV(1)). */
static void detach_world2(struct det *d, u32 rights)
{
    d->k = host_new_task();
    d->s = host_new_task();
    d->r = host_new_task();
    d->r2 = host_new_task();
    for (int i = 0; i < 4; i++)
        root(d->k, KV(i), RW);
    struct mmu_slot ms;
    assert_true(mmu_walk(d->s, RG(0), MMU_CREATE_ALL, &ms));
    supply(d->s, d->k, KV(0), KM_KS_MN_OF(0));
    op_begin(d->s);
    root(d->s, RG(0), RW);
    kmem_op = NULL;
    root(d->r, RG(3), RW);
    root(d->r2, RG(4), RW);
    d->ep = supply(d->s, d->k, KV(1), KM_KS_ME_OF(d->s->mn_next));
    op = (struct kmem_op){.task = d->r, .src = d->s};
    kmem_op = &op;
    map1(d->s, RG(0), d->r, RG(3) + PAGE_SIZE, rights);
    kmem_op = NULL;
    host_check_all();
}

static void revoke_kv(struct task *k, u64 kv)
{
    assert_int_equal(mapdb_unmap(k, KM_FPAGE(kv, 12, KM_RWX), false), 1);
    host_check_all();
}

static u64 hoard2[1 << 14];
static u32 nh2;
static void dry(void)
{
    for (u64 f; nh2 < sizeof hoard2 / sizeof *hoard2 && (f = frame_alloc());)
        hoard2[nh2++] = f;
}
static void undry(void)
{
    while (nh2)
        frame_free(hoard2[--nh2]);
}

/* edge page out, then s's node page: s's RG(0) out with a detached child;
 * s unmaps by name, the pool dry: r's goes. */
static void test_detached_parent_out_unmap_dry(void **state)
{
    (void)state;
    struct det d;
    detach_world2(&d, RW);
    revoke_kv(d.k, KV(1));
    assert_int_equal(mapdb_detached, 1);
    revoke_kv(d.k, KV(0));
    assert_int_equal(d.s->mn_out, 1);
    dry();
    assert_int_equal(mapdb_unmap(d.s, KM_FPAGE(RG(0), 12, KM_RWX), false), 1);
    undry();
    host_check_all();
    assert_int_equal(held(d.r, RG(3) + PAGE_SIZE, NULL), 0);
    assert_int_equal(held(d.s, RG(0), NULL), RW);
    assert_int_equal(mapdb_detached, 0);
}

/* node page out first, then the edge page (the parent's name in the edge). */
static void test_detached_parent_out_first(void **state)
{
    (void)state;
    struct det d;
    detach_world2(&d, RW);
    revoke_kv(d.k, KV(0));
    revoke_kv(d.k, KV(1));
    assert_int_equal(mapdb_detached, 1);
    assert_int_equal(held(d.r, RG(3) + PAGE_SIZE, NULL), RW);
    /* s takes W: its node comes in, r's is attached again */
    assert_int_equal(mapdb_unmap(d.s, KM_FPAGE(RG(0), 12, KM_W), false), 1);
    host_check_all();
    assert_int_equal(held(d.r, RG(3) + PAGE_SIZE, NULL), KM_R);
    assert_int_equal(mapdb_detached, 0);
}

/* parent out with a detached child; it comes in by a send (flag again),
 * then is granted away; unmapping it there takes r's. */
static void test_detached_parent_in_then_grant(void **state)
{
    (void)state;
    struct det d;
    detach_world2(&d, RW);
    revoke_kv(d.k, KV(1));
    revoke_kv(d.k, KV(0));
    map1(d.s, RG(0), d.r2, RG(4) + 3 * PAGE_SIZE, KM_R); /* s's node in */
    assert_int_equal(d.s->mn_out, 0);
    assert_int_equal(mapdb_transfer(d.s, KM_MAPITEM(0, 0) | KM_ITEM_GRANT, KM_FPAGE(RG(0), 12, RW), d.r2,
                                    KM_FPAGE(RG(4) + PAGE_SIZE, 12, 0)),
                     1);
    host_check_all();
    assert_true(mapdb_unmap(d.r2, KM_FPAGE(RG(4) + PAGE_SIZE, 12, KM_RWX), false) >= 1);
    host_check_all();
    assert_int_equal(held(d.r, RG(3) + PAGE_SIZE, NULL), 0);
    assert_int_equal(held(d.r2, RG(4) + 3 * PAGE_SIZE, NULL), 0);
}

/* parent out with a detached child; s destroyed. */
static void test_detached_parent_out_destroy(void **state)
{
    (void)state;
    struct det d;
    detach_world2(&d, RW);
    revoke_kv(d.k, KV(1));
    revoke_kv(d.k, KV(0));
    host_destroy(d.s);
    assert_int_equal(held(d.r, RG(3) + PAGE_SIZE, NULL), 0);
    assert_int_equal(mapdb_detached, 0);
}

/* a partial revoke with the pool dry and nothing to bring the edge back:
 * r's is removed (as s could), not left with W. */
static void test_detached_reduce_dry(void **state)
{
    (void)state;
    struct det d;
    detach_world(&d, RW);
    dry();
    i64 c = mapdb_unmap(d.s, KM_FPAGE(RG(0), 12, KM_W), false);
    undry();
    host_check_all();
    u32 rr = held(d.r, RG(3) + PAGE_SIZE, NULL);
    assert_true(c >= 0 && (rr == 0 || rr == KM_R)); /* (removed: its edge cannot come back) */
}

/* r's own node page (holding the detached node) leaves: it goes; s fine. */
static void test_detached_child_node_page_out(void **state)
{
    (void)state;
    struct det d;
    d.k = host_new_task();
    d.s = host_new_task();
    d.r = host_new_task();
    for (int i = 0; i < 4; i++)
        root(d.k, KV(i), RW);
    root(d.s, RG(0), RW);
    struct mmu_slot ms;
    assert_true(mmu_walk(d.r, RG(3), MMU_CREATE_ALL, &ms));
    supply(d.r, d.k, KV(0), KM_KS_MN_OF(0));
    d.ep = supply(d.s, d.k, KV(1), KM_KS_ME_OF(d.s->mn_next));
    op = (struct kmem_op){.task = d.r, .src = d.s};
    kmem_op = &op;
    map1(d.s, RG(0), d.r, RG(3) + PAGE_SIZE, RW);
    kmem_op = NULL;
    host_check_all();
    revoke_kv(d.k, KV(1));
    assert_int_equal(mapdb_detached, 1);
    revoke_kv(d.k, KV(0));
    assert_int_equal(mapdb_detached, 0);
    assert_int_equal(held(d.r, RG(3) + PAGE_SIZE, NULL), 0);
    const u64 *x = phys_to_virt(kvphys(d.k, KV(0)));
    for (int i = 0; i < 512; i++)
        assert_true(x[i] < (1ull << 47));
    assert_true(mapdb_unmap(d.s, KM_FPAGE(RG(0), 12, KM_RWX), false) >= 0);
    host_check_all();
}

/* the record gives r's current rights (r took W from itself): the kpager
 * of s learns what r did. */
static void test_detached_record_rights(void **state)
{
    (void)state;
    struct det d;
    d.k = host_new_task();
    d.s = host_new_task();
    d.r = host_new_task();
    root(d.k, KV(1), RW);
    root(d.s, RG(0), RW);
    root(d.r, RG(3), RW);
    d.ep = supply(d.s, d.k, KV(1), KM_KS_ME_OF(d.s->mn_next));
    op = (struct kmem_op){.task = d.r, .src = d.s};
    kmem_op = &op;
    map1(d.s, RG(0), d.r, RG(3) + PAGE_SIZE, RW);
    kmem_op = NULL;
    assert_int_equal(mapdb_unmap(d.r, KM_FPAGE(RG(3) + PAGE_SIZE, 12, KM_W), true), 1); /* r's own act */
    revoke_kv(d.k, KV(1));
    const u64 *x = phys_to_virt(d.ep);
    assert_int_equal(x[0], 1);
    u64 rec = 0;
    for (int i = 0; i < 126; i++)
        rec |= x[6 + 4 * i];
    assert_int_equal(rec, RG(0) | KM_R); /* (not r's rights: r took W itself) */
}


/* The lender's own node, detached, in the very node page it lent (as in
 * test_lender_node_in_own_page); the lender takes the page back: the
 * export's pre-pass removes the detached node, i.e. the loan being ended. */
static void test_detached_detached_lender_in_own_page(void **state)
{
    (void)state;
    struct task *p = host_new_task(), *k2 = host_new_task(), *k = host_new_task();
    struct mmu_slot s;
    root(p, KV(0), RW);
    root(k2, KV(50), RW);
    root(k2, KV(51), RW);
    assert_true(mmu_walk(k, KV(1), MMU_CREATE_ALL, &s)); /* k's tables: pool */
    supply(k, k2, KV(50), KM_KS_MN_OF(0));
    supply(p, k2, KV(51), KM_KS_ME_OF(p->mn_next));
    op = (struct kmem_op){.task = k, .src = p};
    kmem_op = &op;
    map1(p, KV(0), k, KV(1), RW); /* k's node: in k2's page; p's edge: in k2's other page */
    kmem_op = NULL;
    u64 fb = supply(k, k, KV(1), KM_KS_MN_OF(1)); /* k lends KV(1) for its own node page 1 */
    assert_int_equal(mapdb_unmap(k2, KM_FPAGE(KV(50), 12, KM_RWX), false), 1); /* k's node out */
    op_begin(k);
    u64 phys;
    assert_int_equal(mapdb_lend(k, KV(1), &phys), -KM_EINVAL); /* its node comes in: into fb */
    kmem_op = NULL;
    assert_int_equal(virt_to_phys(k->mapdb), fb);
    host_check_all();
    assert_int_equal(mapdb_unmap(k2, KM_FPAGE(KV(51), 12, KM_RWX), false), 1); /* p's edge page: k's node detached */
    host_check_all();
    assert_int_equal(mapdb_detached, 1);
    assert_true(mapdb_unmap(k, KM_FPAGE(KV(1), 12, KM_RWX), false) >= 0);
    host_check_all();
}




int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lend, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lend_flushes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_supply_exact_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_supply_reserve, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kfault, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kfault_task_gone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kfault_lend_soft_fault, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kfault_supply_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revoke_leaf_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revoke_page_directory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revoke_pdpt_self, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revoke_top_level, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcb_pages_not_from_reserve, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revoke_node_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_node_table_import, setup, teardown),
        cmocka_unit_test_setup_teardown(test_node_table_rebuilt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_grant_in_out_region, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reclaim_with_table_out, setup, teardown),
        cmocka_unit_test_setup_teardown(test_out_region_without_kpager, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sigma0_page_lent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_node_tables_pool_capped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_grant_while_table_comes_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reserve_serves_restore, setup, teardown),
        cmocka_unit_test_setup_teardown(test_soft_fault_table_out, setup, teardown),
        cmocka_unit_test_setup_teardown(test_orphans_after_walk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_orphans_after_walk_self, setup, teardown),
        cmocka_unit_test_setup_teardown(test_owned_root_of_orphan, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revoke_node_page, setup, teardown),
        cmocka_unit_test_setup_teardown(test_edge_from_senders_kpager, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lender_node_out, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revoke_edge_page, setup, teardown),
        cmocka_unit_test_setup_teardown(test_detached_in_leaving_node_page, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lender_node_out_pool_capped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reduce_asks_kpager, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lender_node_in_own_page, setup, teardown),
        cmocka_unit_test_setup_teardown(test_node_table_and_nodes_out, setup, teardown),
        cmocka_unit_test_setup_teardown(test_node_in_within_pool, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revoke_from_parent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lender_destroyed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_gives_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_map_onto_own_lent_node_page, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ancestor_loses_access, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drop_region_leaves_other_tables, setup, teardown),
        cmocka_unit_test_setup_teardown(test_detached_grant_parent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_detached_grant_parent_same_task, setup, teardown),
        cmocka_unit_test_setup_teardown(test_detached_grant_detached, setup, teardown),
        cmocka_unit_test_setup_teardown(test_detached_grant_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_detached_map_onto_detached, setup, teardown),
        cmocka_unit_test_setup_teardown(test_detached_destroy_parent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_detached_destroy_child, setup, teardown),
        cmocka_unit_test_setup_teardown(test_detached_two_levels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_detached_lend_detached, setup, teardown),
        cmocka_unit_test_setup_teardown(test_detached_parent_out_unmap_dry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_detached_parent_out_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_detached_parent_in_then_grant, setup, teardown),
        cmocka_unit_test_setup_teardown(test_detached_parent_out_destroy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_detached_reduce_dry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_detached_child_node_page_out, setup, teardown),
        cmocka_unit_test_setup_teardown(test_detached_record_rights, setup, teardown),
        cmocka_unit_test_setup_teardown(test_detached_detached_lender_in_own_page, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wait_in_place, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sigma0_grant_maps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wait_source_gone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wait_table_taken_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wait_table_made_meanwhile, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wait_source_replaced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wait_source_table_out, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wait_top_taken_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wait_node_table_made_meanwhile, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wait_source_lent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wait_source_node_out, setup, teardown),
        cmocka_unit_test_setup_teardown(test_suspend_marks_space, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wait_error, setup, teardown),
        cmocka_unit_test(test_kspace_names),
    };
    return cmocka_run_group_tests_name("kernel memory from kpagers", tests, NULL, NULL);
}
