/* Address spaces: 4-level x86-64 page tables, with a node table beside
 * each leaf page table for the mapping database (kernel/mapdb.h).
 *
 * The kernel half (PML4 entries 256..511) is shared by every address
 * space.  The user half is built from two kinds of mappings:
 *  - mapping-database pages: the PTE plus a node-table slot pointing at the
 *    page's mapping node (only the mapping database, kernel/mapdb*.c,
 *    writes these);
 *  - fixed pages (UTCBs): a PTE and no node, made by mmu_map_fixed.
 * Page-table pages are charged to the task as KMEM_PAGETABLE, node tables
 * as KMEM_NODETABLE.  Tables are freed with the space (aspace_destroy) and
 * when a kpager takes one back (mmu_detach): each time a counter moves,
 * so that a walk that waited for a kpager knows whether what it holds is
 * still there (mmu_walk_wait).
 * A leaf table finds its node table through the frame allocator's aux word
 * (frame_aux_get(leaf table) = node table, 0 = none yet); node tables exist
 * only beside leaf tables that hold (or held) mapping-database pages.
 *
 * The page-table code (pgtable.c) is portable C and runs in host unit tests
 * as written; mmu.c holds what touches the hardware (CR3, TLB, IPIs) and
 * the kernel half.
 *
 * Locking: the kernel lock, for everything but the direct map (mmu_init,
 * boot CPU, before the others start).
 */
#ifndef ARCH_MMU_H
#define ARCH_MMU_H

#include <arch/current.h>
#include <arch/layout.h>
#include <kernel/types.h>

struct task;

struct aspace {
    u64 pml4;   /* physical address of the top-level table; 0 = none */
    bool lazy;  /* pml4 0: made by the first walk that creates tables (a
                   new space, or one whose table a kpager took back);
                   false once the space is destroyed */
    bool suspended; /* a PTE was ever suspended (no access, frame kept):
                       only then may a page fault be a soft one */
    u32 nt_out; /* leaf tables whose node table is out (MMU_NT_OUT) */
};

/* Direct map of [4 GiB, max_phys) (the boot tables map the first 4 GiB). */
void mmu_init(u64 max_phys);

/* ---- spaces ---------------------------------------------------------- */

/* Makes t's space (t->as is zero): empty; its top-level table (with the
 * kernel half) comes with the first table a walk creates, from where that
 * operation takes pages (a kpager's, in a kmem_op).  A space without one
 * is loaded as the kernel's tables: its threads' first touch faults. */
bool aspace_create(struct task *t);
/* Gives t's space its top-level table now if it has none (false: memory
 * short, or in a kmem_op not supplied, or the space is destroyed). */
bool aspace_top(struct task *t);
/* Frees t's page tables and node tables.  Every mapping-database page must
 * be gone (mapdb_task_destroy first); fixed pages left are dropped, their
 * frames are the caller's.  No other CPU may have the space loaded; this
 * CPU leaves it for the kernel's tables. */
void aspace_destroy(struct task *t);
/* Physical address mapped at user page va, or 0. */
u64 aspace_lookup(struct aspace *as, u64 va);
/* true when every byte of [va, va+len) is mapped user-accessible (and
 * writable if write); len 0 is ok; overflow and kernel addresses fail. */
bool aspace_user_ok(struct aspace *as, u64 va, u64 len, bool write);
/* Loads as (or the kernel's tables) on this CPU.  Every CR3 switch must go
 * through these: TLB shootdowns find the CPUs to flush from them. */
void aspace_activate(struct aspace *as);
void aspace_activate_kernel(void);
/* Makes every CPU that has as loaded load the kernel's tables (its top-
 * level table is going; the kernel lock is held). */
void aspace_evict(struct aspace *as);
/* On entry from user mode, with the kernel lock: this CPU may have been
 * made to leave the space while it waited for the lock (aspace_evict), or
 * run it before it had a top-level table, which it may have now. */
static inline void aspace_check(struct aspace *as)
{
    if (__builtin_expect(cpu_on_kernel_tables(), 0))
        aspace_activate(as);
}

/* ---- fixed pages (outside the mapping database) ---------------------- */

/* Maps user page va of t to phys with rights (KM_R|KM_W|KM_X; R implied).
 * 0, -KM_EINVAL (va not a page-aligned user address), -KM_EBUSY (va is
 * mapped), -KM_ENOMEM (no memory for page tables). */
int mmu_map_fixed(struct task *t, u64 va, u64 phys, u32 rights);
/* Removes the fixed page at va (TLBs flushed); returns its frame, or 0 if
 * nothing was mapped there.  Panics on a mapping-database page. */
u64 mmu_unmap_fixed(struct task *t, u64 va);

/* ---- for the mapping database ---------------------------------------- */

/* Where one user page of a space is: its leaf PTE and its node-table slot
 * (NULL when the leaf table has no node table, or its node table is out:
 * then nt_out, which is set only when node is NULL). */
struct mmu_slot {
    u64 *pte;
    void **node;
    bool nt_out;
};

/* A leaf table's aux word when its node table is paged out (kmem=kpager):
 * the node table's content is with its kpager, in localised form
 * (kernel/nodetable.c); the page tables and their PTEs stay. */
#define MMU_NT_OUT 0xffffffff000ull /* (frame number 2^32 - 1: never RAM) */
_Static_assert(MMU_NT_OUT >> 12 == 0xffffffffull, "mmu_find_in: the largest aux word");

enum mmu_walk_mode {
    MMU_FIND,       /* only look */
    MMU_CREATE_PT,  /* create missing page tables (not the node table) */
    MMU_CREATE_ALL, /* create missing page tables and the node table */
};
/* Finds the slot of user page va (page aligned, below USER_TOP) of t.
 * false: a table is missing (MMU_FIND) or memory is short.  A node table
 * that is out is not made again (in any mode): true, node NULL, nt_out. */
bool mmu_walk(struct task *t, u64 va, enum mmu_walk_mode mode, struct mmu_slot *s);
/* mmu_walk(MMU_CREATE_ALL) in an operation that holds nothing
 * (kmem_op_wait): a page still missing is waited for in place, and the
 * walk goes on from the table it stopped at.  true: found, no wait.
 * false: *wait is 0 (not there, nothing waited for: a page missing where
 * no wait is possible, or no space), a wait's error, MMU_WAITED (a wait
 * let the kernel lock go: what the caller found before is stale, look
 * again), or MMU_WAITED_KEPT: found (*s), and no table of any space went
 * since before the first wait, so slots the caller took before it are
 * still in their tables (mmu_slot_kept says whether a slot's node table
 * is still its own). */
#define MMU_WAITED 1
#define MMU_WAITED_KEPT 2
bool mmu_walk_wait(struct task *t, u64 va, struct mmu_slot *s, i64 *wait);
/* Whether slot s (with its node table in: s->node), taken before a wait
 * that mmu_walk_wait reported MMU_WAITED_KEPT, still has that node table
 * (not gone out, or come back in another page, meanwhile). */
bool mmu_slot_kept(const struct mmu_slot *s);
/* The first page >= va and < end whose node slot is set (a mapping-database
 * page), or end.  Skips absent tables whole, so sparse spaces are cheap.
 * Where a node table is out, the pages whose PTE is in use (present or
 * suspended) outside the UTCB area: the mapping-database pages there. */
u64 mmu_next_node(struct task *t, u64 va, u64 end);
/* A leaf PTE's present bit and frame (pgtable.c's PTE_P, PTE_ADDR). */
#define MMU_PTE_P 0x1ull
#define MMU_PTE_ADDR 0x000ffffffffff000ull
/* (Inline: two loads; the mapping database asks on every path.) */
static inline bool mmu_present(const struct mmu_slot *s) { return *s->pte & MMU_PTE_P; }
/* The PTE holds a frame (present, or suspended by mmu_suspend). */
bool mmu_used(const struct mmu_slot *s);
/* The frame, present or suspended. */
static inline u64 mmu_phys(const struct mmu_slot *s) { return *s->pte & MMU_PTE_ADDR; }
/* mmu_walk(t, va, MMU_FIND, s) in line for the lend of a kpager's page
 * (kernel/mapdb_lend.c), only where every table and the node table are there
 * and in: then true, s->pte and s->node (not NULL) set; else false, and
 * the caller takes mmu_walk.  va: a page-aligned user address.  The leaf
 * table's aux word read as mmu_walk does (the frame is one of as's
 * tables). */
extern u32 *frame_aux_words;
static inline __attribute__((always_inline)) bool mmu_find_in(const struct aspace *as, u64 va, struct mmu_slot *s)
{
    u64 tb = as->pml4;
    if (__builtin_expect(!tb, 0))
        return false;
#pragma GCC unroll 3
    for (int shift = 39; shift >= 21; shift -= 9) {
        u64 e = ((const u64 *)phys_to_virt(tb))[(va >> shift) & 511];
        if (__builtin_expect(!(e & MMU_PTE_P), 0))
            return false;
        tb = e & MMU_PTE_ADDR;
    }
    /* No node table (aux 0) or out (MMU_NT_OUT's frame, 2^32 - 1): one
     * compare of the aux word less one. */
    u32 aux = frame_aux_words[tb >> 12];
    if (__builtin_expect(aux - 1 >= (u32)(MMU_NT_OUT >> 12) - 1, 0))
        return false;
    s->pte = (u64 *)phys_to_virt(tb) + ((va >> 12) & 511);
    s->node = (void **)phys_to_virt((u64)aux << 12) + ((va >> 12) & 511);
    return true;
}
/* The rights the PTE grants (KM_R always; KM_X also without NX). */
u32 mmu_rights(const struct mmu_slot *s);
/* Sets the PTE of page va of t (slot s) to phys with rights (KM_R implied);
 * flushes TLBs when it replaces a present entry. */
void mmu_set(struct task *t, u64 va, struct mmu_slot *s, u64 phys, u32 rights);
/* Takes the PTE's access away but keeps its frame (mmu_phys still gives
 * it); TLBs flushed.  For pages lent to the kernel. */
void mmu_suspend(struct task *t, u64 va, struct mmu_slot *s);
/* The PTE holds frame phys without access (as mmu_suspend leaves it). */
void mmu_set_suspended(struct task *t, u64 va, struct mmu_slot *s, u64 phys);
/* Clears the PTE and flushes TLBs (the node slot is the caller's). */
void mmu_clear(struct task *t, u64 va, struct mmu_slot *s);
/* Seven bits the mapping database keeps in a PTE that holds a frame (bits
 * 52..58, which the MMU ignores: protection keys are off), for a mapping
 * whose node is paged out (kernel/mnode.h); 0 = none.  mmu_set, mmu_clear
 * and mmu_set_suspended clear them, mmu_suspend keeps them. */
#define MMU_KEPT_BITS 0x7fu
void mmu_keep(struct mmu_slot *s, u32 bits);
u32 mmu_kept(const struct mmu_slot *s);
/* The same of a PTE's value (a leaf table read entry by entry). */
static inline u32 mmu_pte_kept(u64 pte) { return (u32)(pte >> 52) & MMU_KEPT_BITS; }
/* Pages held by t's tables: page-table pages (the PML4 included) and node
 * tables, counted by walking them (tests and accounting checks). */
void mmu_count_tables(struct task *t, u64 *page_tables, u64 *node_tables);

/* ---- kernel pages from kpagers (kmem.c, abi/kspace.h) ------------------ */

/* The kspace addresses of the tables and the node table t lacks for user
 * page va, top down (hierarchy order), at most max; their number.  A node
 * table that is out comes with MMU_MISSING_OUT or-ed in (to be restored);
 * none for a page of the UTCB area (fixed pages have no mapping node). */
#define MMU_MISSING_OUT 1ull
int mmu_missing(struct task *t, u64 va, u64 *ks, int max);
/* The user region [va, end) a page table or node table with kspace
 * address ksaddr covers; false for other kspace addresses (and the pinned
 * top-level table). */
bool mmu_kobj_region(u64 ksaddr, u64 *va, u64 *end);
/* The leaf table covering [va, va + 2 MiB) of t and its node table (for
 * node tables paged out and in: kernel/nodetable.c).  false: no leaf. */
struct mmu_leaf {
    u64 *pte;          /* its 512 entries */
    u64 nt;            /* the node table's frame, 0 (none) or MMU_NT_OUT */
    u64 phys;          /* the leaf table's frame */
    struct aspace *as; /* whose */
};
#define MMU_LEAF_PAGES 512
bool mmu_leaf_of(struct task *t, u64 va, struct mmu_leaf *l);
/* The leaf's node table is nt from now on (a frame, 0 or MMU_NT_OUT). */
void mmu_leaf_set_nt(struct mmu_leaf *l, u64 nt);
/* Whether page va of t has a leaf table whose node table is out. */
bool mmu_nt_out(struct task *t, u64 va);
/* The first 2 MiB region at or after va's, below end, whose node table is
 * out, or end.  Skips absent tables whole. */
u64 mmu_next_out(struct task *t, u64 va, u64 end);
/* Leaf tables of t whose node table is out, counted by walking (checks). */
u32 mmu_count_out(struct task *t);

/* Stops using page table phys (kspace address ksaddr) of t, whose region
 * holds no mapping any more: frees the tables below it and unlinks it
 * (TLBs flushed); phys stays the caller's.  false when ksaddr does not
 * name phys (or names a node table: kernel/nodetable.c exports those). */
bool mmu_detach(struct task *t, u64 ksaddr, u64 phys);

/* ---- TLB consistency -------------------------------------------------
 * Without PCIDs a CPU caches translations only of the tables in its CR3
 * (the kernel half aside), and a CR3 write drops them.  After a present
 * PTE of as changed or went away, arch_tlb_shootdown invalidates the pages
 * on this CPU (invlpg, or a CR3 reload past 32 pages), sends IPI VEC_TLB to
 * every other CPU that has as loaded (aspace_activate says which) and waits
 * until each has reloaded CR3.  On return no CPU can reach the old frame
 * through as, so it may be reused at once.
 * Waiting with the kernel lock held is deadlock-free only if every CPU can
 * take VEC_TLB soon, so:
 *  - the VEC_TLB handler calls arch_tlb_ipi() and EOIs, from user or kernel
 *    mode, without taking the kernel lock;
 *  - waiting for the kernel lock is done with interrupts on (they go off
 *    again once it is held), and interrupts from kernel mode never take it.
 * The other windows with interrupts off (entry before the lock, return
 * after it) are short and need nothing; a CPU halted for the end of the
 * run (percpu halt_ack) is not waited for. */
#define VEC_TLB 0xf3
void arch_tlb_shootdown(struct aspace *as, u64 va, u64 npages);
void arch_tlb_ipi(void);

/* ---- arch-internal (pgtable.c <-> mmu.c, faked by host tests) --------- */
extern u64 mmu_pte_nx; /* the NX bit when the CPU has it, else 0 */
/* Copies the kernel half into a new top-level table. */
void mmu_kernel_half(u64 *pml4);
/* A space is about to be freed: this CPU leaves it; panics if another CPU
 * still has it loaded. */
void mmu_release(struct aspace *as);

#endif
