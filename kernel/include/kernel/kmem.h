/* Kernel memory for task metadata, counted per task and per type.
 *
 * Every page the kernel uses on behalf of a task (its page tables, node
 * tables, mapping nodes, thread control blocks) comes from here and is
 * charged to that task: the paper's resource principals.  The pages come
 * from the kernel's own pool (kmem=pool, and threads without a kpager), or
 * from the kpager of the thread on whose behalf the kernel works
 * (kmem=kpager): see abi/kspace.h for the protocol.
 *
 * Locking: callers hold the kernel lock (kernel/klock.h).
 */
#ifndef KERNEL_KMEM_H
#define KERNEL_KMEM_H

#include <abi/kmem.h>
#include <kernel/types.h>

enum kmem_type {
    KMEM_PAGETABLE = KM_KMEM_PAGETABLE, /* page-table pages of the task's space */
    KMEM_NODETABLE = KM_KMEM_NODETABLE, /* node tables beside the leaf page tables */
    KMEM_MAPNODE = KM_KMEM_MAPNODE,     /* pages holding mapping-database nodes */
    KMEM_TCB = KM_KMEM_TCB,             /* pageable TCB parts (registers, IPC, stack) */
    KMEM_UTCB = KM_KMEM_UTCB,           /* UTCB pages (user-visible, kernel-owned) */
    KMEM_RESERVE = KM_KMEM_RESERVE,     /* lent ahead of need (kspace KM_KS_RESERVE) */
    KMEM_NTYPES = KM_KMEM_NTYPES
};

struct kmem_account {
    u64 pages[KMEM_NTYPES]; /* pages held now, by type */
    u64 peak[KMEM_NTYPES];  /* most ever held */
    u64 pool;               /* of pages[], those from the pool (not revocable) */
};

struct task;

/* Pages a kpager supplied for a task that no object uses yet, each bound
 * to the kspace address it was asked for (phys 0: empty slot).  Charged to
 * the task by type: the kernel holds them. */
#define KMEM_SUPPLY 16
struct kmem_supply {
    u64 req;  /* KM_KREQ(kspace address, type, reason) */
    u64 phys; /* the lent frame */
};

/* An operation that takes t's kernel pages from its kpager (kmem=kpager,
 * the thread on whose behalf it runs has a kpager): set for the duration
 * of the operation, under the kernel lock, never across a wait.  Pages
 * for t then come only from t's supply; the first one missing is noted
 * and the operation fails with -KM_ENOMEM, to be raised as a kernel page
 * fault and the operation redone (kernel/kfault.h). */
struct kmem_op {
    struct task *task;
    struct task *src; /* a sender with a kpager, or NULL: its own kpager
                         supplies its pages (node pages for its edges,
                         its node tables that are out: kernel/nodetable.h) */
    u64 va;           /* the user page being worked on (set by mapdb) */
    u64 missing;      /* kspace address of the first page not supplied */
    bool missing_set;
    bool missing_src; /* missing is src's, to be asked of src's kpager */
    /* Raises the kernel page fault for what is missing, where the
     * operation may wait in place (kmem_op_wait); NULL: it may not. */
    i64 (*wait)(struct kmem_op *op);
};
extern struct kmem_op *kmem_op;

/* Called by an operation that stopped for a page at a point where it
 * holds nothing the wait could corrupt (it restarts its step after, with
 * everything looked up again: the kernel lock is let go meanwhile), or
 * only what it checks is still good after (a walk's table entries: no
 * table went, arch mmu_walk_wait; a slot whose node table is still its
 * own, mmu_slot_kept).  0:
 * the kernel page fault was answered, restart the step; -KM_ENOMEM: no
 * wait here (missing_set stays: the operation's caller raises the kernel
 * page fault and redoes it from its start), or the kpager supplied
 * nothing (missing_set cleared: the operation fails); another error:
 * return it (-KM_ERESTART among them: the caller redoes all). */
i64 kmem_op_wait(void);

/* Frames lent to the kernel now (0 always with kmem=pool): paths that
 * must keep user level away from lent frames look only when it is not 0. */
extern u64 kmem_lent_frames;
/* A frame was ever lent (so mappings may have lost access meanwhile). */
extern bool kmem_ever_lent;

/* A zeroed 4 KiB page for t's metadata of the given type and kspace
 * address, charged to t; its physical address, or 0 when memory is short
 * (or, in a kmem_op for t, not supplied). */
u64 kmem_page_alloc(struct task *t, enum kmem_type type, u64 ksaddr);
/* n physically contiguous zeroed pages (n <= 8) from the pool, charged as
 * n pages (pinned metadata: TCBs, UTCBs, top-level tables). */
u64 kmem_pages_alloc(struct task *t, enum kmem_type type, u32 n);
/* A zeroed page of the pool for t (as kmem_pages_alloc) that may take the
 * pool past its size (kmem.pool): for metadata t held before in a page of
 * its kpager's that it needs again (a node table made from t's nodes). */
u64 kmem_page_alloc_again(struct task *t, enum kmem_type type);
/* Returns a page (or n pages) from kmem_page(s)_alloc, uncharging t; a
 * lent page goes back to its kpager, zeroed. */
void kmem_page_free(struct task *t, enum kmem_type type, u64 phys);
void kmem_pages_free(struct task *t, enum kmem_type type, u64 phys, u32 n);

/* The kpager supply of t: binds lent frame phys (the lender's page
 * lender_va of task number lender_task, lent already) to request req;
 * -KM_ENOMEM (full) or -KM_EBUSY (req's kspace address supplied). */
int kmem_supply_add(struct task *t, u64 req, u64 phys, u32 lender_task, u64 lender_va);
/* A kpager's answer to a kernel page fault for t (kernel/kfault.c):
 * lender's page va (a read-write mapping: mapdb_lend) lent to the kernel
 * and bound to request req, traced (KPAGE_IMPORT), *got counted up.  Nothing
 * changes (*got neither) when t's supply has no room for req (full, or its
 * kspace address supplied already) or the page cannot be lent.  In
 * kernel/mapdb_lend.c (the lend in line). */
void kmem_supply_lend(struct task *t, u64 req, struct task *lender, u64 va, u32 *got);
bool kmem_supplied(struct task *t, u64 ksaddr);
/* Free slots in t's supply. */
u32 kmem_supply_free(struct task *t);
/* Gives every supplied, unused page of t back (t is being destroyed). */
void kmem_supply_release(struct task *t);

/* The page supplied for t's kspace address ksaddr (else, below the TCB
 * range, a page lent ahead: from now on named ksaddr), taken out of the
 * supply as it is (content kept: a restore), still charged; 0: none. */
u64 kmem_supply_take(struct task *t, u64 ksaddr);
/* In kmem_op: ksaddr is what the operation lacks (unless something was
 * noted first): the kernel page fault asks for it. */
void kmem_op_missing(u64 ksaddr);
/* In kmem_op for t: whether n pages for these kspace addresses can be had
 * (supplied, or from the reserve); if not, the first missing is noted. */
bool kmem_op_available(struct task *t, const u64 *ksaddr, u32 n);

/* Revocation: the kpager takes lent frame phys back.  The kernel stops
 * using it first (its content exported: see abi/kspace.h; zeroed unless
 * the export is the content), and true: the caller gives the lender its
 * access back.  Lenders the export removed are orphans: let go by the
 * caller's kmem_reclaim_orphans once its walk is over, never in it.  false: deferred (a TCB whose thread is not at a safe
 * point): the frame stays lent and the kernel gives it back itself once
 * exported (kmem_export_give_back). */
bool kmem_reclaim(u64 phys);
/* What letting go of a lent page came to (let_go, tcb_page_revoked). */
enum kmem_let {
    KMEM_LET_DONE,     /* content gone: the page is zeroed */
    KMEM_LET_EXPORTED, /* the page holds its export (uncharged already) */
    KMEM_LET_DEFERRED, /* still in use: revocation completes later */
    KMEM_LET_KEPT,     /* orphan in use until its object is freed */
};
/* A lent page of t that holds an export goes back to its lender as it is,
 * uncharged (a TCB exported after a deferred revocation, or the sibling
 * page of one). */
void kmem_export_give_back(struct task *t, enum kmem_type type, u64 phys, u64 t0);
void kmem_export_uncharge(struct task *t, enum kmem_type type);
/* phys lost its lender while lent (kmem_orphan). */
bool kmem_is_orphan(u64 phys);
/* The owner of frame phys (its kernel-owned root mapping) goes: if the
 * kernel still uses it as an orphan, it frees it when it lets go (true);
 * false: the caller frees it now. */
bool kmem_orphan_frees(u64 phys);

/* Lent frame phys lost its lender's mapping while the kernel used it (an
 * ancestor unmapped it, the lender's task went): the kernel lets go of it
 * at the end of the current operation (kmem_reclaim_orphans), and then
 * frees the frame if free_frame (it was the kernel's own). */
void kmem_orphan(u64 phys, bool free_frame);
/* Lets go of every orphan; a no-op while a letting-go is in progress
 * (then its caller does it).  Called at the end of each operation of the
 * mapping database that removes mappings. */
void kmem_reclaim_orphans_slow(void);
static inline void kmem_reclaim_orphans(void)
{
    extern u64 kmem_orphans;
    if (kmem_orphans)
        kmem_reclaim_orphans_slow();
}

/* Pages the pool has handed out (kernel option kmem.pool caps them). */
u64 kmem_pool_used(void);

/* Kernel pages not charged to any task (the kernel's own tasks), counted
 * here so that accounting stays exact. */
extern struct kmem_account kmem_kernel_account;

#endif
