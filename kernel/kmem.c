/* Kernel memory for task metadata (see kernel/kmem.h): pages from the
 * kernel's pool or lent by kpagers, zeroed, counted per task and type. */
#include <abi/kspace.h>
#include <abi/syscall.h>
#include <arch/cpu.h>
#include <kernel/trace.h>
#include <arch/mmu.h>
#include <arch/layout.h>
#include <kernel/frame.h>
#include <kernel/kmem.h>
#include <kernel/kmem_supply.h>
#include <kernel/mapdb.h>
#include <kernel/nodetable.h>
#include <kernel/options.h>
#include <kernel/printk.h>
#include <kernel/string.h>
#include <kernel/task.h>
#include <kernel/tcb_page.h>

struct kmem_account kmem_kernel_account;
struct kmem_op *kmem_op;
u64 kmem_lent_frames;
bool kmem_ever_lent;

/* An orphan's loan record (see kmem_orphan): lender = these | next orphan. */
#define LEND_ORPHAN (1ull << 63)
#define LEND_FREE (1ull << 62) /* the frame was the kernel's: freed after */
#define LEND_KEPT (1ull << 61) /* orphan still in use (a TCB): its freeing ends it */
#define LEND_NEXT 0x000ffffffffff000ull
static u64 pool_used; /* pages taken from the pool (its size: opt.kmem_pool) */

/* ---- the pool ----------------------------------------------------------- */

static u64 pool_alloc(u32 n, bool capped)
{
    if (capped && opt.kmem_pool && pool_used + n > opt.kmem_pool)
        return 0;
    u64 p = n == 1 ? frame_alloc() : frame_alloc_contig(n);
    if (p)
        pool_used += n;
    return p;
}

static void pool_free(u64 phys, u32 n)
{
    frame_free_contig(phys, n);
    pool_used -= n;
}

u64 kmem_pool_used(void) { return pool_used; }

/* ---- pages lent by kpagers ---------------------------------------------- */

static bool lent(u64 phys) { return frame_lend(phys)->lender != 0; }

/* The loan of phys ends (zeroed first unless it holds an export); the
 * lender it had. */
static inline __attribute__((always_inline)) u64 end_loan(struct frame_lend *l, u64 phys, bool zero)
{
    u64 lender = l->lender;
    if (zero)
        memset(phys_to_virt(phys), 0, PAGE_SIZE);
    l->lender = l->kobj = 0;
    kmem_lent_frames -= lender != 0; /* (a lent mapping whose loan never began: nothing to end) */
    return lender;
}

/* Gives a lent page back to its lender, vacant unless it holds content of
 * the lender's (a restore page): whatever the kernel kept there (physical
 * addresses, kernel pointers) is gone first. */
static void give_back_as(u64 phys, bool zero)
{
    struct frame_lend *l = frame_lend(phys);
    if (l->lender & LEND_ORPHAN) { /* no lender to give it to: the orphan loop ends it */
        l->kobj = 0;
        return;
    }
    u64 lender = end_loan(l, phys, zero);
    mapdb_unlend(lender & 0xfff, lender & ~0xfffull, phys);
}

static void give_back(u64 phys) { give_back_as(phys, true); }

/* A supplied page given back unused keeps its content if it came for a
 * restore (it is the kpager's saved TCB, not the kernel's). */
static bool restore_page(const struct kmem_supply *s)
{
    return KM_KREQ_REASON(s->req) == KM_KREASON_RESTORE;
}

bool kmem_supplied(struct task *t, u64 ksaddr) { return kmem_supply_find(t, ksaddr) != NULL; }

u32 kmem_supply_free(struct task *t) { return KMEM_SUPPLY - t->nsupply; }

int kmem_supply_add(struct task *t, u64 req, u64 phys, u32 lender_task, u64 lender_va)
{
    int r = kmem_supply_room(t, req);
    if (r == 0)
        kmem_supply_put(t, req, phys, frame_lend(phys), lender_va | lender_task);
    return r;
}

/* Takes entry s out of the supply; uncharge: its page is no longer held
 * as a supply page (it is the kernel's object's now, or going back). */
static inline __attribute__((always_inline)) void supply_remove(struct task *t, struct kmem_supply *s, bool uncharge)
{
    if (uncharge)
        kmem_charge(t, (enum kmem_type)KM_KREQ_TYPE(s->req), -1);
    *s = t->supply[--t->nsupply];
    t->supply[t->nsupply] = (struct kmem_supply){0, 0};
}

void kmem_supply_release(struct task *t)
{
    while (t->nsupply) {
        u64 phys = t->supply[0].phys;
        bool keep = restore_page(&t->supply[0]);
        supply_remove(t, &t->supply[0], true);
        give_back_as(phys, !keep);
    }
}

u64 kmem_supply_take(struct task *t, u64 ksaddr)
{
    struct kmem_supply *s = kmem_supply_find(t, ksaddr);
    if (!s && ksaddr < KM_KS_TCB && (s = kmem_supply_find(t, KM_KS_RESERVE))) { /* lent ahead: it is this now */
        kmem_charge(t, KMEM_RESERVE, -1);
        kmem_charge(t, (enum kmem_type)km_ks_type(ksaddr), 1);
        frame_lend(s->phys)->kobj = ksaddr | t->number;
    }
    if (!s)
        return 0;
    u64 p = s->phys;
    supply_remove(t, s, false); /* stays charged: now the object's page */
    return p;
}

void kmem_op_missing(u64 ksaddr)
{
    if (!kmem_op->missing_set) {
        kmem_op->missing = ksaddr;
        kmem_op->missing_set = true;
    }
}

i64 kmem_op_wait(void)
{
    struct kmem_op *op = kmem_op;
    if (!op || !op->wait || !op->missing_set)
        return -KM_ENOMEM;
    kmem_op = NULL; /* (others' operations run meanwhile) */
    i64 r = op->wait(op);
    kmem_op = op;
    op->missing_set = op->missing_src = false;
    return r;
}

bool kmem_op_available(struct task *t, const u64 *ksaddr, u32 n)
{
    u32 reserve = 0, need = 0;
    for (u32 i = 0; i < t->nsupply; i++)
        reserve += KM_KREQ_ADDR(t->supply[i].req) == KM_KS_RESERVE;
    for (u32 i = 0; i < n; i++) {
        if (kmem_supply_find(t, ksaddr[i]) || (ksaddr[i] < KM_KS_TCB && ++need <= reserve))
            continue;
        kmem_op_missing(ksaddr[i]);
        return false;
    }
    return true;
}

/* ---- allocation --------------------------------------------------------- */

u64 kmem_page_alloc(struct task *t, enum kmem_type type, u64 ksaddr)
{
    if (type >= KMEM_NTYPES)
        return 0;
    if (kmem_op && (kmem_op->task == t || kmem_op->src == t)) {
        /* A kpager's client: only pages its kpager supplied for this
         * content; the first one missing is what the kernel asks for
         * (of the sender's kpager when t is the op's src: a node page
         * for the edges of what it maps). */
        /* A TCB or UTCB page only as itself: its export is content its
         * kpager must keep, so the kpager must know what the page holds. */
        /* (An empty supply, as at a kernel page fault, is looked at once.) */
        struct kmem_supply *s = t->nsupply ? kmem_supply_find(t, ksaddr) : NULL;
        if (!s && t->nsupply && ksaddr < KM_KS_TCB && (s = kmem_supply_find(t, KM_KS_RESERVE))) { /* lent ahead: it is this now */
            kmem_charge(t, KMEM_RESERVE, -1);
            kmem_charge(t, type, 1);
            frame_lend(s->phys)->kobj = ksaddr | t->number;
        }
        if (!s) {
            if (!kmem_op->missing_set)
                kmem_op->missing_src = kmem_op->task != t;
            kmem_op_missing(ksaddr);
            return 0;
        }
        u64 p = s->phys;
        supply_remove(t, s, false); /* stays charged: now the object's page */
        memset(phys_to_virt(p), 0, PAGE_SIZE);
        return p;
    }
    return kmem_pages_alloc(t, type, 1);
}

static void exported(u64 phys, u64 t0, bool zero);

/* An orphan the kernel no longer uses: its record goes, and the frame too
 * if it was the kernel's. */
static void orphan_end(u64 phys, u64 link)
{
    exported(phys, rdtsc(), true);
    if (link & LEND_FREE)
        frame_free(phys);
}

static u64 pages_alloc(struct task *t, enum kmem_type type, u32 n, bool capped)
{
    if (type >= KMEM_NTYPES || n == 0 || n > 8)
        return 0;
    u64 p = pool_alloc(n, capped);
    if (!p)
        return 0;
    memset(phys_to_virt(p), 0, n * PAGE_SIZE);
    kmem_charge(t, type, n);
    kmem_account_of(t)->pool += n;
    return p;
}

u64 kmem_pages_alloc(struct task *t, enum kmem_type type, u32 n) { return pages_alloc(t, type, n, true); }

u64 kmem_page_alloc_again(struct task *t, enum kmem_type type) { return pages_alloc(t, type, 1, false); }

void kmem_pages_free(struct task *t, enum kmem_type type, u64 phys, u32 n)
{
    kmem_charge(t, type, -(i64)n);
    if (n == 1 && (frame_lend(phys)->lender & LEND_KEPT))
        orphan_end(phys, frame_lend(phys)->lender); /* the loop passed it by */
    else if (n == 1 && (frame_lend(phys)->lender & LEND_ORPHAN))
        frame_lend(phys)->kobj = 0; /* its lender is gone: kmem_reclaim_orphans ends it */
    else if (n == 1 && lent(phys))
        give_back(phys);
    else {
        kmem_account_of(t)->pool -= n;
        pool_free(phys, n);
    }
}

void kmem_page_free(struct task *t, enum kmem_type type, u64 phys) { kmem_pages_free(t, type, phys, 1); }

/* ---- revocation --------------------------------------------------------- */

/* Orphans: lent frames whose lender's mapping went (unmapped by an
 * ancestor, its task deleted) while the kernel used them.  The kernel lets
 * go of them after the operation that found them, never inside a walk of
 * the mapping database or of page tables: the letting go itself removes
 * mappings, and may find more orphans, so they are chained (through the
 * loan record's lender: ORPHAN | FREE | next orphan) and handled in a loop, which
 * bounds the kernel stack whatever chain of loans user level builds. */
u64 kmem_orphans;       /* first orphan's frame, 0 = none */
static u32 depth;      /* letting go in progress: orphans wait */

/* Stops the kernel's use of lent frame phys (its loan record says what it
 * holds): its content goes in its safe external form (see abi/kspace.h):
 * vacant for tables and node pages (the mappings they describe go, a
 * state t could reach by unmapping them); a TCB as a continuation, when
 * its thread is at a safe point (tcb_page.h). */
static enum kmem_let let_go(u64 phys, bool orphan)
{
    struct frame_lend *l = frame_lend(phys);
    u64 kobj = l->kobj;
    struct task *t = task_by_number((u32)(kobj & 0xfff));
    u64 ksaddr = kobj & ~0xfffull;
    if (!t || !kobj)
        return KMEM_LET_DONE; /* the object is gone already */
    for (u32 i = 0; i < t->nsupply; i++)
        if (t->supply[i].phys == phys) {
            bool keep = restore_page(&t->supply[i]);
            supply_remove(t, &t->supply[i], true); /* supplied, not used yet */
            return keep ? KMEM_LET_EXPORTED : KMEM_LET_DONE;
        }
    int type = km_ks_type(ksaddr);
    if (type == KMEM_TCB || type == KMEM_UTCB)
        return tcb_page_revoked(t, ksaddr, phys, orphan);
    if (type == KMEM_NODETABLE) { /* localised: its mappings stay */
        if (!nodetable_export(t, ksaddr, phys))
            panic("kmem: task %u holds no node table %lx at kspace %lx", t->number, phys, ksaddr);
        kmem_charge(t, KMEM_NODETABLE, -1);
        return KMEM_LET_EXPORTED;
    }
    u64 va, end;
    bool done;
    depth++;
    if (type == KMEM_MAPNODE) {
        int r = mapdb_reclaim_node_page(t, phys);
        depth--;
        if (r < 0)
            panic("kmem: task %u holds no node page %lx at kspace %lx", t->number, phys, ksaddr);
        kmem_charge(t, KMEM_MAPNODE, -1);
        return r ? KMEM_LET_EXPORTED : KMEM_LET_DONE; /* a node page: localised, its mappings stay */
    } else {
        done = mmu_kobj_region(ksaddr, &va, &end);
        if (done) {
            mapdb_drop_region(t, va, end);
            done = mmu_detach(t, ksaddr, phys);
        }
    }
    depth--;
    if (!done)
        panic("kmem: task %u holds no %lx at kspace %lx", t->number, phys, ksaddr);
    kmem_charge(t, (enum kmem_type)type, -1);
    return KMEM_LET_DONE;
}

/* A revoked page's loan ends (traced as an export). */
static void exported(u64 phys, u64 t0, bool zero)
{
    struct frame_lend *l = frame_lend(phys);
    u64 kobj = l->kobj;
    end_loan(l, phys, zero);
    trace(KPAGE_EXPORT, kobj, rdtsc() - t0);
}

bool kmem_reclaim(u64 phys)
{
    u64 t0 = rdtsc();
    enum kmem_let r = let_go(phys, false);
    if (r != KMEM_LET_DEFERRED)
        exported(phys, t0, r == KMEM_LET_DONE);
    /* (orphans its export made wait for the end of the caller's walk) */
    return r != KMEM_LET_DEFERRED;
}

void kmem_export_give_back(struct task *t, enum kmem_type type, u64 phys, u64 t0)
{
    kmem_charge(t, type, -1);
    trace(KPAGE_EXPORT, frame_lend(phys)->kobj, rdtsc() - t0);
    give_back_as(phys, false);
}

void kmem_export_uncharge(struct task *t, enum kmem_type type) { kmem_charge(t, type, -1); }

bool kmem_is_orphan(u64 phys) { return (frame_lend(phys)->lender & LEND_ORPHAN) != 0; }

bool kmem_orphan_frees(u64 phys)
{
    struct frame_lend *l = frame_lend(phys);
    if (!(l->lender & (LEND_ORPHAN | LEND_KEPT)))
        return false;
    l->lender |= LEND_FREE;
    return true;
}

void kmem_orphan(u64 phys, bool free_frame)
{
    frame_lend(phys)->lender = kmem_orphans | LEND_ORPHAN | (free_frame ? LEND_FREE : 0);
    kmem_orphans = phys;
}

void kmem_reclaim_orphans_slow(void)
{
    if (depth)
        return;
    depth++;
    while (kmem_orphans) {
        u64 t0 = rdtsc(), phys = kmem_orphans;
        u64 link = frame_lend(phys)->lender;
        kmem_orphans = link & LEND_NEXT;
        depth--; /* let_go counts itself */
        enum kmem_let r = let_go(phys, true);
        depth++;
        if (r == KMEM_LET_KEPT) {
            /* Still a running thread's stack: freeing its TCB ends it. */
            frame_lend(phys)->lender = (link & ~LEND_NEXT) | LEND_KEPT;
            continue;
        }
        exported(phys, t0, true);
        if (link & LEND_FREE)
            frame_free(phys);
    }
    depth--;
}
