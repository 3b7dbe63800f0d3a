/* Mapping database: map, grant, unmap and task destruction on the real
 * page-table code (kernel/arch/x86_64/pgtable.c) over the host arena.
 * After every test each task passes mapdb_check (invariants, and kmem
 * counters equal to the pages held), and destroying every task gives back
 * every frame. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "host_support.h"
#include "host_world.h"
#include <abi/l4.h>
#include <abi/syscall.h>
#include <arch/mmu.h>
#include <kernel/frame.h>
#include <kernel/kmem.h>
#include <kernel/mapdb.h>
#include <kernel/task.h>

#define ARENA (64ull << 20)
#define PG(i) (0x10000000ull + (u64)(i)*PAGE_SIZE) /* 2 MiB aligned base */
#define R0 (48ull << 20) /* the top 16 MiB of the arena: not the kernel's */
#define S0BASE (R0 + PAGE_SIZE) /* sigma0's range: all of it but the first page */
#define S0LEN ((16ull << 20) - PAGE_SIZE)

static int setup(void **state)
{
    (void)state;
    host_world_init(ARENA, 0, R0); /* sigma0's frames (above R0) are not the kernel's */
    host_tlb_shootdowns = 0;
    return 0;
}

/* Every test ends here: all tasks go, every frame comes back. */
static int teardown(void **state)
{
    (void)state;
    host_world_end();
    return 0;
}

/* A kernel-owned root mapping of a fresh frame; returns the frame. */
static u64 root(struct task *t, u64 va, u32 rights)
{
    u64 f = frame_alloc();
    assert_true(f != 0);
    assert_int_equal(mapdb_map_root(t, va, f, rights, true), 0);
    return f;
}

static i64 xfer(struct task *from, u64 hot, u64 fpage, struct task *to, u64 window, bool grant)
{
    i64 r = mapdb_transfer(from, KM_MAPITEM(hot, grant), fpage, to, window);
    host_check_all();
    return r;
}

/* One page from `from` at src to `to` at dst. */
static void map1(struct task *from, u64 src, struct task *to, u64 dst, u32 rights)
{
    assert_int_equal(xfer(from, 0, KM_FPAGE(src, 12, rights), to, KM_FPAGE(dst, 12, 0), false), 1);
}

static void grant1(struct task *from, u64 src, struct task *to, u64 dst, u32 rights)
{
    assert_int_equal(xfer(from, 0, KM_FPAGE(src, 12, rights), to, KM_FPAGE(dst, 12, 0), true), 1);
}

static i64 unmap(struct task *t, u64 base, int log2, u32 rights, bool self)
{
    i64 r = mapdb_unmap(t, KM_FPAGE(base, log2, rights), self);
    host_check_all();
    return r;
}

/* Rights t holds at va (0: nothing mapped); *phys gets the frame. */
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

/* Frames neither free nor kernel memory of a task: user frames (the
 * kernel-owned ones of root mappings, sigma0's are not counted anyway). */
static u64 user_frames(void)
{
    u64 kmem = 0;
    for (int i = 0; i < HOST_NTASKS; i++)
        for (int k = 0; k < KMEM_NTYPES; k++)
            kmem += host_tasks[i].kmem.pages[k];
    return host_free_at_start - frame_free_count() - kmem;
}

static u64 frame_at(struct task *t, u64 va)
{
    u64 p;
    assert_true(held(t, va, &p) != 0);
    return p;
}

static void test_map_with_fewer_rights(void **state)
{
    (void)state;
    struct task *a = host_new_task(), *b = host_new_task(), *c = host_new_task(), *d = host_new_task();
    u64 f = root(a, PG(0), KM_R | KM_W);
    map1(a, PG(0), b, PG(1), KM_RWX); /* asks for X, a has none */
    assert_int_equal(held(b, PG(1), NULL), KM_R | KM_W);
    assert_int_equal(frame_at(b, PG(1)), f);
    map1(b, PG(1), c, PG(2), KM_R);
    assert_int_equal(held(c, PG(2), NULL), KM_R);
    map1(c, PG(2), d, PG(3), KM_R | KM_W); /* c cannot give W */
    assert_int_equal(held(d, PG(3), NULL), KM_R);
    assert_false(aspace_user_ok(&d->as, PG(3), 8, true));
    assert_true(aspace_user_ok(&d->as, PG(3), 8, false));
    assert_true(aspace_user_ok(&b->as, PG(1), PAGE_SIZE, true));
    /* Without R nothing is sent: x86 has no write-only mapping. */
    assert_int_equal(xfer(a, 0, KM_FPAGE(PG(0), 12, KM_W), d, KM_FPAGE(PG(9), 12, 0), false), 0);
    assert_int_equal(held(d, PG(9), NULL), 0);
    /* A page the sender has not mapped is skipped. */
    assert_int_equal(xfer(a, 0, KM_FPAGE(PG(5), 12, KM_RWX), d, KM_FPAGE(PG(9), 12, 0), false), 0);
}

static void test_grant_moves_mapping_and_keeps_subtree(void **state)
{
    (void)state;
    struct task *a = host_new_task(), *b = host_new_task(), *c = host_new_task(), *d = host_new_task();
    u64 f = root(a, PG(0), KM_R | KM_W);
    map1(a, PG(0), b, PG(10), KM_R | KM_W);
    map1(b, PG(10), c, PG(20), KM_R | KM_W);
    grant1(b, PG(10), d, PG(30), KM_R); /* granted with less: the subtree loses W */
    assert_int_equal(held(b, PG(10), NULL), 0);
    assert_int_equal(aspace_lookup(&b->as, PG(10)), 0);
    assert_int_equal(held(d, PG(30), NULL), KM_R);
    assert_int_equal(frame_at(d, PG(30)), f);
    assert_int_equal(held(c, PG(20), NULL), KM_R);
    /* d's mapping took b's place: a revokes both. */
    assert_int_equal(unmap(a, PG(0), 12, KM_RWX, false), 2);
    assert_int_equal(held(d, PG(30), NULL), 0);
    assert_int_equal(held(c, PG(20), NULL), 0);
    assert_int_equal(held(a, PG(0), NULL), KM_R | KM_W);

    /* A granted root stays kernel-owned: its frame goes with the receiver. */
    u64 before = user_frames();
    grant1(a, PG(0), b, PG(40), KM_RWX);
    assert_int_equal(held(a, PG(0), NULL), 0);
    assert_int_equal(held(b, PG(40), NULL), KM_R | KM_W);
    assert_int_equal(unmap(b, PG(40), 12, KM_RWX, true), 1);
    assert_int_equal(user_frames(), before - 1);
}

/* Depth 16 with breadth 64 at every level: node k=0 of each level carries
 * the next level.  Two other trees share the tasks and must survive. */
static void test_unmap_deep_and_broad_tree(void **state)
{
    (void)state;
    struct task *a = host_new_task(), *b = host_new_task(), *c = host_new_task();
    struct task *kids[2] = {b, c};
    enum { DEPTH = 16, BREADTH = 64 };
    static u64 va[DEPTH][BREADTH];
    static struct task *who[DEPTH][BREADTH];
    u64 next = 100;
    root(a, PG(0), KM_RWX);
    u64 other = root(a, PG(1), KM_RWX);
    map1(a, PG(1), b, PG(next), KM_RWX);
    u64 other_b = PG(next++);
    map1(b, other_b, c, PG(next), KM_R);
    u64 other_c = PG(next++);
    u64 own = root(c, PG(2), KM_R);

    struct task *pt = a;
    u64 pva = PG(0);
    for (int d = 0; d < DEPTH; d++) {
        for (int k = 0; k < BREADTH; k++) {
            who[d][k] = kids[(d + k) % 2];
            va[d][k] = PG(next++);
            assert_int_equal(mapdb_transfer(pt, 0, KM_FPAGE(pva, 12, KM_RWX), who[d][k],
                                            KM_FPAGE(va[d][k], 12, 0)),
                             1);
        }
        pt = who[d][0];
        pva = va[d][0];
    }
    host_check_all();
    u64 shoot = host_tlb_shootdowns;
    assert_int_equal(unmap(a, PG(0), 12, KM_RWX, false), DEPTH * BREADTH);
    assert_int_equal(host_tlb_shootdowns - shoot, DEPTH * BREADTH);
    for (int d = 0; d < DEPTH; d++)
        for (int k = 0; k < BREADTH; k++) {
            assert_int_equal(held(who[d][k], va[d][k], NULL), 0);
            assert_int_equal(aspace_lookup(&who[d][k]->as, va[d][k]), 0);
        }
    assert_int_equal(held(a, PG(0), NULL), KM_RWX);
    assert_int_equal(frame_at(b, other_b), other);
    assert_int_equal(frame_at(c, other_c), other);
    assert_int_equal(frame_at(c, PG(2)), own);
    /* the freed node pages went back but one node page and one edge page,
     * kept empty (mapdb.c): b holds other_b's node and its edge to c */
    assert_int_equal(b->kmem.pages[KMEM_MAPNODE], 4);
}

/* A chain far deeper than any kernel stack could recurse. */
static void test_unmap_very_deep_chain(void **state)
{
    (void)state;
    struct task *a = host_new_task(), *b = host_new_task(), *c = host_new_task();
    enum { DEPTH = 3000 };
    root(a, PG(0), KM_RWX);
    struct task *pt = a;
    u64 pva = PG(0);
    for (int i = 1; i <= DEPTH; i++) {
        struct task *t = i % 2 ? b : c;
        assert_int_equal(mapdb_transfer(pt, 0, KM_FPAGE(pva, 12, KM_RWX), t, KM_FPAGE(PG(i), 12, 0)),
                         1);
        pt = t;
        pva = PG(i);
    }
    host_check_all();
    assert_int_equal(unmap(b, PG(1), 12, KM_W, false), DEPTH - 1); /* W, all the way down */
    assert_int_equal(held(c, PG(DEPTH), NULL), KM_R | KM_X);
    assert_int_equal(unmap(a, PG(0), 12, KM_RWX, false), DEPTH);
    assert_int_equal(b->kmem.pages[KMEM_MAPNODE] + c->kmem.pages[KMEM_MAPNODE], 0);
    /* Again, torn down by destroying the root's task. */
    root(a, PG(1), KM_RWX);
    pt = a;
    pva = PG(1);
    for (int i = 2; i <= DEPTH; i++) {
        struct task *t = i % 2 ? b : c;
        mapdb_transfer(pt, 0, KM_FPAGE(pva, 12, KM_RWX), t, KM_FPAGE(PG(i), 12, 0));
        pt = t;
        pva = PG(i);
    }
    host_destroy(a);
    assert_int_equal(b->kmem.pages[KMEM_MAPNODE] + c->kmem.pages[KMEM_MAPNODE], 0);
}

static void test_unmap_partial_rights(void **state)
{
    (void)state;
    struct task *a = host_new_task(), *b = host_new_task(), *c = host_new_task();
    root(a, PG(0), KM_RWX);
    map1(a, PG(0), b, PG(1), KM_RWX);
    map1(b, PG(1), c, PG(2), KM_RWX);
    u64 shoot = host_tlb_shootdowns;
    assert_int_equal(unmap(a, PG(0), 12, KM_W, false), 2); /* W goes, R stays */
    assert_int_equal(host_tlb_shootdowns - shoot, 2);
    assert_int_equal(held(a, PG(0), NULL), KM_RWX);
    assert_int_equal(held(b, PG(1), NULL), KM_R | KM_X);
    assert_int_equal(held(c, PG(2), NULL), KM_R | KM_X);
    assert_false(aspace_user_ok(&b->as, PG(1), 1, true));
    assert_int_equal(unmap(a, PG(0), 12, KM_W, false), 0); /* nothing left to take */
    assert_int_equal(unmap(a, PG(0), 12, KM_W | KM_X, true), 3);
    assert_int_equal(held(a, PG(0), NULL), KM_R);
    assert_int_equal(held(c, PG(2), NULL), KM_R);
    assert_int_equal(unmap(a, PG(0), 12, 0, true), 0); /* no rights: no change */
    /* b maps on with W again?  It holds only R now. */
    map1(b, PG(1), c, PG(3), KM_RWX);
    assert_int_equal(held(c, PG(3), NULL), KM_R);
    /* R revokes everything; with self the kernel-owned frame comes back. */
    u64 before = user_frames();
    assert_int_equal(unmap(b, PG(1), 12, KM_R, false), 2);
    assert_int_equal(held(b, PG(1), NULL), KM_R);
    assert_int_equal(unmap(a, PG(0), 12, KM_R, true), 2);
    assert_int_equal(held(a, PG(0), NULL), 0);
    assert_int_equal(user_frames(), before - 1);
}

static void test_map_onto_existing(void **state)
{
    (void)state;
    struct task *a = host_new_task(), *b = host_new_task(), *c = host_new_task(), *x = host_new_task();
    u64 f1 = root(a, PG(0), KM_RWX), f2 = root(a, PG(1), KM_RWX);

    /* A different frame: the old mapping goes with what was derived from it. */
    map1(a, PG(0), b, PG(5), KM_RWX);
    map1(b, PG(5), c, PG(6), KM_RWX);
    map1(a, PG(1), b, PG(5), KM_R);
    assert_int_equal(frame_at(b, PG(5)), f2);
    assert_int_equal(held(b, PG(5), NULL), KM_R);
    assert_int_equal(held(c, PG(6), NULL), 0);
    assert_int_equal(frame_at(a, PG(0)), f1);

    /* Replacing a kernel-owned root frees its frame. */
    root(b, PG(7), KM_RWX);
    u64 before = user_frames();
    map1(a, PG(0), b, PG(7), KM_R);
    assert_int_equal(user_frames(), before - 1);
    assert_int_equal(frame_at(b, PG(7)), f1);

    /* The same frame again: rights grow, no second mapping. */
    u64 nodes = b->kmem.pages[KMEM_MAPNODE];
    map1(a, PG(0), b, PG(7), KM_R | KM_W);
    assert_int_equal(held(b, PG(7), NULL), KM_R | KM_W);
    assert_int_equal(b->kmem.pages[KMEM_MAPNODE], nodes);
    assert_true(aspace_user_ok(&b->as, PG(7), 1, true));

    /* ...but never past what the mapping's parent holds. */
    map1(a, PG(0), x, PG(8), KM_R);
    map1(x, PG(8), c, PG(9), KM_R);
    map1(a, PG(0), b, PG(10), KM_RWX);
    map1(b, PG(10), c, PG(9), KM_RWX); /* c's mapping comes from x, which has R */
    assert_int_equal(held(c, PG(9), NULL), KM_R);

    /* Granted back onto the mapping it came from: the granter's goes, what
     * was derived from it now hangs from the receiver's. */
    map1(b, PG(10), c, PG(11), KM_R);
    grant1(b, PG(10), a, PG(0), KM_RWX);
    assert_int_equal(held(b, PG(10), NULL), 0);
    assert_int_equal(held(a, PG(0), NULL), KM_RWX);
    assert_int_equal(held(c, PG(11), NULL), KM_R);
    assert_int_equal(unmap(a, PG(0), 12, KM_RWX, false), 4); /* b:7, x:8, c:9, c:11 */
    assert_int_equal(held(c, PG(11), NULL), 0);

    /* Granted onto a mapping derived from it: that one is replaced. */
    map1(a, PG(1), b, PG(12), KM_R);
    grant1(a, PG(1), b, PG(12), KM_RWX);
    assert_int_equal(held(a, PG(1), NULL), 0);
    assert_int_equal(held(b, PG(12), NULL), KM_RWX);
    before = user_frames();
    assert_int_equal(held(b, PG(5), NULL), KM_R); /* a's other child hangs from b's now */
    assert_int_equal(unmap(b, PG(12), 12, KM_RWX, true), 2); /* the kernel-owned root */
    assert_int_equal(user_frames(), before - 1);

    /* A fixed page at the destination is never replaced. */
    u64 g = frame_alloc();
    assert_int_equal(mmu_map_fixed(b, PG(13), g, KM_R | KM_W), 0);
    assert_int_equal(mmu_map_fixed(b, PG(13), g, KM_R), -KM_EBUSY);
    assert_int_equal(xfer(a, 0, KM_FPAGE(PG(0), 12, KM_RWX), b, KM_FPAGE(PG(13), 12, 0), false), 0);
    assert_int_equal(aspace_lookup(&b->as, PG(13)), g);
    assert_int_equal(mmu_unmap_fixed(b, PG(13)), g);
    assert_int_equal(mmu_unmap_fixed(b, PG(13)), 0);
    frame_free(g);
}

static void test_placement(void **state)
{
    (void)state;
    struct task *a = host_new_task(), *b = host_new_task();
    u64 f[16];
    for (int i = 0; i < 16; i++)
        f[i] = root(a, PG(i), KM_RWX);

    /* |F| <= |W|: F lands at W.base + (hot mod |W|), rounded down to |F|. */
    assert_int_equal(xfer(a, 0x12345000, KM_FPAGE(PG(0), 14, KM_RWX), b, KM_FPAGE(0x20000000, 20, 0),
                          false),
                     4);
    for (int i = 0; i < 4; i++)
        assert_int_equal(frame_at(b, 0x20044000 + i * PAGE_SIZE), f[i]);
    assert_int_equal(held(b, 0x20048000, NULL), 0);
    assert_int_equal(held(b, 0x20043000, NULL), 0);

    /* |F| > |W|: the |W|-sized aligned part of F holding hot lands on W. */
    assert_int_equal(xfer(a, 0xdead1000a000, KM_FPAGE(PG(0), 16, KM_RWX), b,
                          KM_FPAGE(0x30000000, 13, 0), false),
                     2);
    assert_int_equal(frame_at(b, 0x30000000), f[10]);
    assert_int_equal(frame_at(b, 0x30001000), f[11]);
    assert_int_equal(held(b, 0x30002000, NULL), 0);

    /* Holes in the sender's fpage stay holes. */
    assert_int_equal(unmap(a, PG(4), 12, KM_RWX, true), 1);
    assert_int_equal(xfer(a, 0, KM_FPAGE(PG(0), 15, KM_R), b, KM_FPAGE(0x40000000, 15, 0), false), 7);
    assert_int_equal(held(b, 0x40004000, NULL), 0);
    assert_int_equal(frame_at(b, 0x40007000), f[7]);

    /* The whole space into the whole space: every page at its own address. */
    root(a, 0x7f0000000000, KM_R);
    struct task *c = host_new_task();
    assert_int_equal(xfer(a, 0, KM_FPAGE(0, 47, KM_RWX), c, KM_FPAGE(0, 47, 0), false), 16);
    assert_int_equal(frame_at(c, PG(15)), f[15]);
    assert_int_equal(held(c, 0x7f0000000000, NULL), KM_R);
    assert_int_equal(held(c, PG(4), NULL), 0);
}

static void test_utcb_area_refused(void **state)
{
    (void)state;
    struct task *a = host_new_task(), *b = host_new_task();
    u64 u = frame_alloc(), f = frame_alloc();
    assert_int_equal(mapdb_map_root(a, KM_UTCB_AREA + 0x5000, f, KM_RWX, true), -KM_EINVAL);
    assert_int_equal(mmu_map_fixed(a, KM_UTCB_AREA, u, KM_R | KM_W), 0);
    root(a, PG(0), KM_RWX);
    /* Items or windows inside the area are errors... */
    assert_int_equal(xfer(a, 0, KM_FPAGE(KM_UTCB_AREA, 12, KM_RWX), b, KM_FPAGE(PG(0), 12, 0), false),
                     -KM_EINVAL);
    assert_int_equal(xfer(a, 0, KM_FPAGE(KM_UTCB_AREA, 22, KM_RWX), b, KM_FPAGE(0, 47, 0), false),
                     -KM_EINVAL);
    assert_int_equal(xfer(a, 0, KM_FPAGE(PG(0), 12, KM_RWX), b, KM_FPAGE(KM_UTCB_AREA + 0x3000, 12, 0),
                          false),
                     -KM_EINVAL);
    assert_int_equal(xfer(a, 0, KM_FPAGE(PG(0), 12, KM_RWX), b, KM_FPAGE(USER_TOP, 12, 0), false),
                     -KM_EINVAL);
    assert_int_equal(unmap(a, KM_UTCB_AREA, 12, KM_RWX, true), -KM_EINVAL);
    /* ...regions holding it skip it: the UTCB page is never sent or removed. */
    assert_int_equal(xfer(a, 0, KM_FPAGE(0, 47, KM_RWX), b, KM_FPAGE(0, 47, 0), false), 1);
    assert_int_equal(aspace_lookup(&b->as, KM_UTCB_AREA), 0);
    assert_int_equal(held(a, KM_UTCB_AREA, NULL), 0); /* fixed pages are not the database's */
    assert_int_equal(unmap(a, 0, 47, KM_RWX, true), 2);
    assert_int_equal(aspace_lookup(&a->as, KM_UTCB_AREA), u);
    assert_int_equal(mmu_unmap_fixed(a, KM_UTCB_AREA), u);
    /* Fixed pages are not sent even where database pages share their table. */
    root(a, PG(0), KM_RWX);
    assert_int_equal(mmu_map_fixed(a, PG(1), u, KM_R), 0);
    assert_int_equal(xfer(a, 0, KM_FPAGE(PG(0), 13, KM_RWX), b, KM_FPAGE(PG(8), 13, 0), false), 1);
    assert_int_equal(aspace_lookup(&b->as, PG(9)), 0);
    assert_int_equal(unmap(a, PG(0), 13, KM_RWX, true), 2);
    assert_int_equal(mmu_unmap_fixed(a, PG(1)), u);
    frame_free(u);
    frame_free(f);
}

static void test_destroy_frees_everything(void **state)
{
    (void)state;
    struct task *a = host_new_task(), *b = host_new_task(), *c = host_new_task(), *d = host_new_task();
    for (int i = 256; i < 556; i++) /* three node pages, two leaf tables */
        root(a, PG(i), KM_RWX);
    assert_int_equal(a->kmem.pages[KMEM_MAPNODE], 3);
    assert_int_equal(a->kmem.pages[KMEM_PAGETABLE], 5); /* PML4, PDPT, PD, 2 PTs */
    assert_int_equal(a->kmem.pages[KMEM_NODETABLE], 2);
    assert_int_equal(xfer(a, 0, KM_FPAGE(PG(256), 20, KM_RWX), b, KM_FPAGE(PG(256), 20, 0), false), 256);
    assert_int_equal(xfer(b, 0, KM_FPAGE(PG(256), 18, KM_R), c, KM_FPAGE(0x4000000000, 18, 0), false), 64);
    grant1(c, 0x4000000000, d, PG(7), KM_R);
    root(c, PG(1), KM_R);
    map1(c, PG(1), a, 0x5000000000, KM_R); /* a holds one of c's pages too */
    u64 g = frame_alloc();
    assert_int_equal(mmu_map_fixed(d, KM_UTCB_AREA, g, KM_R | KM_W), 0);

    /* b goes: what c and d got through b goes with it; a keeps its own. */
    host_destroy(b);
    assert_int_equal(held(c, 0x4000001000, NULL), 0);
    assert_int_equal(held(d, PG(7), NULL), 0);
    assert_int_equal(held(c, PG(1), NULL), KM_R);
    assert_int_equal(held(a, PG(555), NULL), KM_RWX);
    /* c goes: a's page from c goes. */
    host_destroy(c);
    assert_int_equal(held(a, 0x5000000000, NULL), 0);
    assert_int_equal(a->kmem.pages[KMEM_MAPNODE], 3 + 1); /* its edges' page, kept empty */
    host_destroy(a);
    assert_int_equal(mmu_unmap_fixed(d, KM_UTCB_AREA), g);
    frame_free(g);
    host_destroy(d);
    assert_int_equal(frame_free_count(), host_free_at_start);
}

/* Node pages and tables are counted exactly, and given back as they empty. */
static void test_accounting_exact(void **state)
{
    (void)state;
    struct task *a = host_new_task(), *b = host_new_task();
    assert_int_equal(a->kmem.pages[KMEM_PAGETABLE], 1); /* the PML4 */
    assert_int_equal(a->kmem.pages[KMEM_NODETABLE] + a->kmem.pages[KMEM_MAPNODE], 0);
    for (int i = 0; i < 130; i++)
        root(a, PG(i), KM_RWX);
    assert_int_equal(a->kmem.pages[KMEM_PAGETABLE], 4);
    assert_int_equal(a->kmem.pages[KMEM_NODETABLE], 1);
    assert_int_equal(a->kmem.pages[KMEM_MAPNODE], 2);
    assert_int_equal(xfer(a, 0, KM_FPAGE(PG(0), 19, KM_RWX), b, KM_FPAGE(0x600000000000, 19, 0), false),
                     128);
    assert_int_equal(b->kmem.pages[KMEM_PAGETABLE], 4);
    assert_int_equal(b->kmem.pages[KMEM_NODETABLE], 1);
    assert_int_equal(b->kmem.pages[KMEM_MAPNODE], 2);
    /* a: 130 nodes (126, 4) and the 128 edges of what it sent (126, 2) */
    assert_int_equal(a->kmem.pages[KMEM_MAPNODE], 4);
    assert_int_equal(unmap(a, PG(0), 19, KM_RWX, false), 128);
    assert_int_equal(b->kmem.pages[KMEM_MAPNODE], 0); /* tables stay with the space */
    assert_int_equal(b->kmem.pages[KMEM_PAGETABLE], 4);
    assert_int_equal(a->kmem.pages[KMEM_MAPNODE], 3); /* one edge page kept, empty */
    for (int i = 0; i < 130; i += 2) /* free every other node */
        assert_int_equal(unmap(a, PG(i), 12, KM_R, true), 1);
    assert_int_equal(a->kmem.pages[KMEM_MAPNODE], 3);
    for (int i = 0; i < 63 + 124; i++) /* the freed nodes are used again */
        root(a, PG(200 + i), KM_R);
    assert_int_equal(a->kmem.pages[KMEM_MAPNODE], 3);
    root(a, PG(600), KM_R);
    assert_int_equal(a->kmem.pages[KMEM_MAPNODE], 4);
    for (int k = 0; k < KMEM_NTYPES; k++)
        assert_true(a->kmem.peak[k] >= a->kmem.pages[k]);
}

static void test_sigma0(void **state)
{
    (void)state;
    struct task *s = host_new_task(), *b = host_new_task(), *c = host_new_task();
    u64 before = user_frames();
    assert_int_equal(mapdb_sigma0_add(s, S0BASE, S0LEN), 0);
    assert_true(s->flags & TASK_F_SIGMA0);
    assert_int_equal(held(s, S0BASE, NULL), 0); /* made lazily */
    assert_int_equal(s->kmem.pages[KMEM_MAPNODE], 0);

    map1(s, R0 + 0x3000, b, PG(0), KM_R | KM_W);
    assert_int_equal(frame_at(b, PG(0)), R0 + 0x3000);
    assert_int_equal(frame_at(s, R0 + 0x3000), R0 + 0x3000); /* idempotent */
    assert_int_equal(held(s, R0 + 0x3000, NULL), KM_RWX);
    map1(s, R0 + 0x3000, c, PG(0), KM_R); /* the same root again */
    assert_int_equal(s->kmem.pages[KMEM_MAPNODE], 2); /* its node page, its edge page */
    assert_int_equal(unmap(s, R0 + 0x3000, 12, KM_RWX, false), 2);
    assert_int_equal(xfer(s, 0, KM_FPAGE(R0 + 0x4000, 14, KM_RWX), b, KM_FPAGE(PG(4), 14, 0), false), 4);
    assert_int_equal(frame_at(b, PG(6)), R0 + 0x6000);
    /* Only the pages inside the range are sigma0's. */
    assert_int_equal(xfer(s, 0, KM_FPAGE(R0, 14, KM_R), c, KM_FPAGE(0x80000000, 14, 0), false), 3);
    assert_int_equal(held(c, 0x80000000, NULL), 0);
    assert_int_equal(frame_at(c, 0x80001000), R0 + 0x1000);

    /* sigma0's own touch. */
    assert_int_equal(mapdb_sigma0_fault(s, R0 + 0x10123), 0);
    assert_int_equal(frame_at(s, R0 + 0x10000), R0 + 0x10000);
    assert_int_equal(mapdb_sigma0_fault(s, R0 + 0x10000), 0);
    assert_int_equal(mapdb_sigma0_fault(s, R0), -KM_EINVAL);
    assert_int_equal(mapdb_sigma0_fault(s, S0BASE + S0LEN), -KM_EINVAL);
    assert_int_equal(mapdb_sigma0_fault(b, S0BASE), -KM_EINVAL);

    /* Bad ranges. */
    assert_int_equal(mapdb_sigma0_add(s, S0BASE + 1, PAGE_SIZE), -KM_EINVAL);
    assert_int_equal(mapdb_sigma0_add(s, S0BASE, 0), -KM_EINVAL);
    assert_int_equal(mapdb_sigma0_add(s, USER_TOP - PAGE_SIZE, 2 * PAGE_SIZE), -KM_EINVAL);
    assert_int_equal(mapdb_sigma0_add(s, KM_UTCB_AREA - PAGE_SIZE, 2 * PAGE_SIZE), -KM_EINVAL);
    assert_int_equal(mapdb_sigma0_add(s, ~0ull & ~0xfffull, 2 * PAGE_SIZE), -KM_EINVAL);
    assert_int_equal(mapdb_sigma0_add(b, S0BASE + S0LEN - PAGE_SIZE, 2 * PAGE_SIZE), -KM_EBUSY);

    /* sigma0's frames are not the kernel's: removing them frees nothing.
     * Roots 1..7 and 0x10, with 4 + 3 derived. */
    assert_int_equal(unmap(s, 0, 47, KM_RWX, true), 8 + 7);
    assert_int_equal(user_frames(), before);
    map1(s, R0 + 0x3000, b, PG(0), KM_R); /* made again */
    host_destroy(s);
    assert_int_equal(held(b, PG(0), NULL), 0);
    assert_int_equal(user_frames(), before);
    /* The range went with sigma0: another task may own it now. */
    assert_int_equal(mapdb_sigma0_add(b, S0BASE, PAGE_SIZE), 0);
}

static void test_malformed_rejected(void **state)
{
    (void)state;
    struct task *a = host_new_task(), *b = host_new_task();
    root(a, PG(0), KM_RWX);
    u64 ok = KM_FPAGE(PG(0), 12, KM_RWX), win = KM_FPAGE(PG(0), 12, 0);
    const u64 bad_fpages[] = {
        PG(0) | (11 << 6) | KM_R,        /* log2 < 12 */
        PG(0) | (48 << 6) | KM_R,        /* log2 > 47 */
        PG(0) | (63 << 6) | KM_R,        /* log2 way out */
        KM_FPAGE(PG(1), 13, KM_R),       /* base not aligned to the size */
        KM_FPAGE(1ull << 47, 12, KM_R),  /* beyond the user half */
        KM_FPAGE(0xffff800000000000ull, 12, KM_R),
        ok | 0x8, ok | 0x20,             /* reserved bits 5..3 */
    };
    u64 frames = frame_free_count(), pts = a->kmem.pages[KMEM_PAGETABLE] + b->kmem.pages[KMEM_PAGETABLE];
    for (usize i = 0; i < ARRAY_SIZE(bad_fpages); i++) {
        assert_int_equal(mapdb_transfer(a, 0, bad_fpages[i], b, win), -KM_EINVAL);
        assert_int_equal(mapdb_transfer(a, 0, ok, b, bad_fpages[i] & ~7ull), -KM_EINVAL);
        assert_int_equal(mapdb_unmap(a, bad_fpages[i], true), -KM_EINVAL);
    }
    assert_int_equal(mapdb_transfer(a, 1, ok, b, win), -KM_EINVAL);          /* bit 0 */
    assert_int_equal(mapdb_transfer(a, KM_ITEM_GRANT | 4, ok, b, win), -KM_EINVAL);
    assert_int_equal(mapdb_transfer(a, KM_ITEM_GRANT | 0x800, ok, b, win), -KM_EINVAL);
    assert_int_equal(mapdb_transfer(a, 0, ok, b, 0), -KM_EINVAL); /* nil acceptor */
    assert_int_equal(mapdb_map_root(a, PG(1), PG(1), 0, true), -KM_EINVAL);
    assert_int_equal(mapdb_map_root(a, PG(1), PG(1), KM_W, true), -KM_EINVAL);
    assert_int_equal(mapdb_map_root(a, PG(1), PG(1), KM_R | 8, true), -KM_EINVAL);
    assert_int_equal(mapdb_map_root(a, PG(1) + 8, PG(1), KM_R, true), -KM_EINVAL);
    assert_int_equal(mapdb_map_root(a, PG(1), PG(1) + 8, KM_R, true), -KM_EINVAL);
    assert_int_equal(mapdb_map_root(a, USER_TOP, PG(1), KM_R, true), -KM_EINVAL);
    assert_int_equal(mapdb_map_root(a, PG(0), PG(1), KM_R, true), -KM_EBUSY);
    assert_int_equal(mmu_map_fixed(a, USER_TOP, PG(1), KM_R), -KM_EINVAL);
    assert_int_equal(mmu_map_fixed(a, PG(0) + 1, PG(1), KM_R), -KM_EINVAL);
    assert_int_equal(mmu_map_fixed(a, PG(0), PG(1), KM_R), -KM_EBUSY);
    expect_assert_failure(mmu_unmap_fixed(a, PG(0))); /* a database page */
    host_check_all();
    /* Nothing was changed or allocated on the way. */
    assert_int_equal(frame_free_count(), frames);
    assert_int_equal(a->kmem.pages[KMEM_PAGETABLE] + b->kmem.pages[KMEM_PAGETABLE], pts);
    assert_int_equal(held(b, PG(0), NULL), 0);
    assert_int_equal(held(a, PG(0), NULL), KM_RWX);
}

static void test_within_one_task(void **state)
{
    (void)state;
    struct task *a = host_new_task();
    for (int i = 0; i < 4; i++)
        root(a, PG(i), KM_RWX);
    /* Same-size aligned regions are equal or disjoint: never overlapping. */
    assert_int_equal(xfer(a, 0, KM_FPAGE(PG(0), 14, KM_R), a, KM_FPAGE(PG(0), 14, 0), true), 4);
    assert_int_equal(held(a, PG(3), NULL), KM_RWX); /* onto itself: unchanged */
    map1(a, PG(0), a, PG(100), KM_R);
    grant1(a, PG(1), a, PG(200), KM_RWX);
    assert_int_equal(held(a, PG(1), NULL), 0);
    assert_int_equal(held(a, PG(200), NULL), KM_RWX);
    assert_int_equal(unmap(a, PG(0), 12, KM_RWX, false), 1);
    assert_int_equal(held(a, PG(100), NULL), 0);
}

/* Out of memory part way: the pages mapped before stay, all is consistent,
 * and everything comes back once the tasks go. */
static void test_out_of_memory(void **state)
{
    (void)state;
    struct task *a = host_new_task(), *b = host_new_task();
    for (int i = 504; i < 520; i++) /* across two leaf tables */
        root(a, PG(i), KM_RWX);
    static u64 hoard[16384];
    usize n = 0;
    for (u64 f; (f = frame_alloc());)
        hoard[n++] = f;
    assert_int_equal(mapdb_map_root(a, PG(1024), hoard[0], KM_R, false), -KM_ENOMEM);
    for (int i = 0; i < 6; i++) /* PDPT, PD, PT, node table, node page; a's edge page */
        frame_free(hoard[--n]);
    assert_int_equal(xfer(a, 0, KM_FPAGE(PG(0), 22, KM_RWX), b, KM_FPAGE(PG(0), 22, 0), false),
                     -KM_ENOMEM);
    assert_int_equal(held(b, PG(511), NULL), KM_RWX);
    assert_int_equal(held(b, PG(512), NULL), 0);
    assert_int_equal(frame_free_count(), 0);
    struct task *c = &host_tasks[HOST_NTASKS - 1];
    assert_true(aspace_create(c)); /* empty: its top-level table comes later */
    assert_true(!aspace_top(c));
    c->as.lazy = false;
    while (n)
        frame_free(hoard[--n]);
    assert_int_equal(xfer(a, 0, KM_FPAGE(PG(0), 22, KM_RWX), b, KM_FPAGE(PG(0), 22, 0), false), 16);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_map_with_fewer_rights, setup, teardown),
        cmocka_unit_test_setup_teardown(test_grant_moves_mapping_and_keeps_subtree, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unmap_deep_and_broad_tree, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unmap_very_deep_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unmap_partial_rights, setup, teardown),
        cmocka_unit_test_setup_teardown(test_map_onto_existing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_placement, setup, teardown),
        cmocka_unit_test_setup_teardown(test_utcb_area_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_destroy_frees_everything, setup, teardown),
        cmocka_unit_test_setup_teardown(test_accounting_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sigma0, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_rejected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_within_one_task, setup, teardown),
        cmocka_unit_test_setup_teardown(test_out_of_memory, setup, teardown),
    };
    return cmocka_run_group_tests_name("mapping database", tests, NULL, NULL);
}
