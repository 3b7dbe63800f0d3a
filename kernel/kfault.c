/* Kernel page faults (see kernel/kfault.h, abi/kspace.h). */
#include <abi/kspace.h>
#include <abi/syscall.h>
#include <arch/cpu.h>
#include <kernel/ipc.h>
#include <kernel/kfault.h>
#include <kernel/kmem.h>
#include <arch/mmu.h>
#include <kernel/mapdb.h>
#include <kernel/options.h>
#include <kernel/task.h>
#include <kernel/tcb_page.h>
#include <kernel/thread.h>
#include <kernel/trace.h>

bool kfault_applies(const struct thread *client)
{
    return opt.kmem == KMEM_MODE_KPAGER && client->task && client->kpager != KM_NILTHREAD;
}

/* Whether k waits for self: k is self, or blocked on a thread that waits
 * for self.  A receive from any thread is an open wait; it ends the chain. */
static bool waits_for(struct thread *k, const struct thread *self)
{
    for (u32 i = 0; k && i < THREAD_MAX; i++) {
        if (k == self)
            return true;
        if (k->state != TS_SENDING && k->state != TS_RECEIVING)
            return false;
        k = k->partner;
    }
    return false;
}

/* Inline, and the supply looked at only when it holds pages (at a kernel
 * page fault it mostly holds none): requests() makes up to 7 of these. */
static inline __attribute__((always_inline)) bool add_request(u64 *req, u32 *n, struct task *t,
                                                              u64 ksaddr, u32 reason)
{
    int type = km_ks_type(ksaddr);
    if (*n >= KM_KFAULT_MAX || type < 0 || (t->nsupply && kmem_supplied(t, ksaddr)))
        return false;
    for (u32 i = 0; i < *n; i++)
        if (KM_KREQ_ADDR(req[i]) == ksaddr)
            return false;
    req[(*n)++] = KM_KREQ(ksaddr, type, reason);
    return true;
}

/* The common case of requests(): missing is one of the page tables of
 * va's region (a walk stops at the first table that is not there, top
 * down), or its node table while none of t's is out, and t holds no
 * supplied page.  A table that is not there has none below it, and a leaf
 * table that is not there no node table (so none out): all of them are
 * asked for, fresh, with no walk.  0: not that case (missing is another
 * region's, or va is in the UTCB area, whose pages have no nodes). */
static u32 region_chain(struct task *t, u64 missing, u64 va, u64 *req)
{
    int level; /* missing's: 0 top-level table .. 3 leaf table, 4 node table */
    if (missing == KM_KS_NT_OF(va) && !t->as.nt_out)
        level = 4; /* (with none of t's out, a node table missing is fresh) */
    else if (missing == KM_KS_PT_OF(va))
        level = 3;
    else if (missing == KM_KS_PD_OF(va))
        level = 2;
    else if (missing == KM_KS_PDPT_OF(va))
        level = 1;
    else if (missing == KM_KS_PML4 && !t->as.pml4)
        level = 0;
    else
        return 0;
    if (t->nsupply || (va >= KM_UTCB_AREA && va < KM_UTCB_AREA + KM_UTCB_AREA_SIZE))
        return 0;
    u32 n = 0;
    switch (level) {
    case 0:
        req[n++] = KM_KREQ(KM_KS_PML4, KM_KMEM_PAGETABLE, KM_KREASON_FRESH);
        /* fall through */
    case 1:
        req[n++] = KM_KREQ(KM_KS_PDPT_OF(va), KM_KMEM_PAGETABLE, KM_KREASON_FRESH);
        /* fall through */
    case 2:
        req[n++] = KM_KREQ(KM_KS_PD_OF(va), KM_KMEM_PAGETABLE, KM_KREASON_FRESH);
        /* fall through */
    case 3:
        req[n++] = KM_KREQ(KM_KS_PT_OF(va), KM_KMEM_PAGETABLE, KM_KREASON_FRESH);
        break;
    default:
        break;
    }
    req[n++] = KM_KREQ(KM_KS_NT_OF(va), KM_KMEM_NODETABLE, KM_KREASON_FRESH);
    return n;
}

/* What to ask for: everything the page that stopped the operation needs,
 * top down (the tables and node table of its region, then a node page if
 * t has no free node), beginning with the missing one.  Fault ordering: a
 * page never depends on one requested after it. */
static u32 requests(struct task *t, u64 missing, u64 va, u64 *req)
{
    u32 n = 0;
    u64 ks[5];
    if (missing >= KM_KS_TCB && missing < KM_KS_END) {
        /* A thread's two pages: new ones, or its exported ones back. */
        struct thread *th = &thread_table[KM_KS_TCB_THREAD(missing) % THREAD_MAX];
        u32 reason = th->task == t && (th->flags & TF_OUT) ? KM_KREASON_RESTORE : KM_KREASON_FRESH;
        u64 tcb = missing & ~(u64)PAGE_SIZE;
        add_request(req, &n, t, tcb, reason);
        add_request(req, &n, t, tcb + PAGE_SIZE, reason);
        return n;
    }
    bool listed = false; /* missing is among va's, asked for */
    if (missing < KM_KS_MN && (n = region_chain(t, missing, va, req)) > 0) {
        listed = true;
    } else if (missing < KM_KS_MN && missing != KM_KS_NT_OF(va)) { /* (that one alone: below) */
        /* A node table that is out comes back (RESTORE): it holds what
         * the mapping database of that region needs. */
        int m = mmu_missing(t, va, ks, 5);
        for (int i = 0; i < m; i++) {
            u64 a = ks[i] & ~MMU_MISSING_OUT;
            if (a < missing)
                continue;
            bool added = add_request(req, &n, t, a, ks[i] & MMU_MISSING_OUT ? KM_KREASON_RESTORE : KM_KREASON_FRESH);
            listed |= added && a == missing;
        }
    }
    /* missing may be a table of another region than va's (a source's):
     * then it is not among those, and may be out */
    bool out = false;
    if (!listed) {
        out = t->as.nt_out && km_ks_type(missing) == KMEM_NODETABLE &&
              mmu_nt_out(t, ((missing - KM_KS_NT) >> 12) << 21);
        add_request(req, &n, t, missing, out ? KM_KREASON_RESTORE : KM_KREASON_FRESH);
    }
    if (!out && !mapdb_has_free_node(t)) /* (a table brought back needs no node) */
        add_request(req, &n, t, KM_KS_MN_OF(t->mn_next), KM_KREASON_FRESH);
    return n;
}

/* kfault_raise's checks of kpager kp beyond the common case (kp waits in
 * an open receive, in memory; self is in no kernel message): 0 to go on,
 * or the kernel page fault's result. */
static __attribute__((noinline)) i64 kpager_ready(struct thread *self, struct thread *kp)
{
    if ((self->flags & TF_KMSG) || waits_for(kp, self)) {
        /* never a kernel page fault inside one; never wait for oneself */
        trace(KDEADLOCK, thread_id(kp), thread_id(self));
        return -KM_EDEADLK;
    }
    if ((kp->flags & TF_OUT) && !(kp->flags & TF_OUT_REQ)) {
        /* (One asking for its TCB itself gets this message once back.) */
        /* A kpager waiting in its receive may be paged out itself: it is
         * restored first (from its own kpager), then asked.  One level:
         * a kpager whose kpager is out too is a cycle or a chain the
         * kernel does not follow. */
        if (self->flags & TF_RESTORING)
            return -KM_EDEADLK;
        self->flags |= TF_RESTORING;
        i64 r = tcb_page_restore(self, kp);
        self->flags &= ~TF_RESTORING;
        if (r < 0)
            return r; /* -KM_ERESTART: redo, the kpager is back */
    }
    return 0;
}

i64 kfault_raise(struct thread *self, struct thread *client, struct task *t, u64 missing, u64 va)
{
    struct thread *kp = thread_lookup(client->kpager);
    if (!kp || !kp->task)
        return -KM_ENOMEM; /* its kpager is gone */
    /* (kp in an open receive waits for no one: waits_for is false.) */
    i64 r;
    if (__builtin_expect((self->flags & TF_KMSG) || kp->state != TS_RECEIVING || kp->partner ||
                             (kp->flags & TF_OUT),
                         0) &&
        (r = kpager_ready(self, kp)) != 0)
        return r;
    u32 room = KMEM_SUPPLY - t->nsupply;
    if (room == 0) {
        kmem_supply_release(t); /* pages of an earlier try nothing used */
        room = KMEM_SUPPLY - t->nsupply;
    }
    /* The requests straight into the message (fault[2..]). */
    struct thread_ext *x = self->ext;
    u32 n = requests(t, missing, va, &x->fault[2]);
    n = n < room ? n : room;
    if (n == 0)
        return -KM_ENOMEM;
    u64 first = x->fault[2];
    x->fault[0] = task_id(t);
    x->fault[1] = n;
    x->kmsg_tag = KM_TAG(KM_LABEL_KFAULT, 2 + n, 0);
    x->kfault_task = t;
    x->kfault_version = t->version;
    x->kfault_got = 0;
    self->flags |= TF_KMSG | TF_KFAULT_IPC;
    trace(KFAULT, first, n);
    r = ipc_kfault_call(self, kp);
    self->flags &= ~(TF_KMSG | TF_KFAULT_IPC);
    x->kfault_task = 0;
    trace(KFAULT_DONE, first, r < 0 ? r : (i64)x->kfault_got);
    if (r < 0)
        return r;
    return x->kfault_got ? -KM_ERESTART : -KM_ENOMEM;
}

/* The request in asked_for (a kernel page fault's words) that a page for
 * ksaddr answers, or (lent ahead) the reserve's: true and *req. */
static inline __attribute__((always_inline)) bool request_of(const u64 *asked_for, u64 ksaddr, u64 *req)
{
    if (ksaddr == KM_KS_RESERVE) {
        *req = KM_KREQ(ksaddr, KM_KMEM_RESERVE, 0);
        return true;
    }
    /* (A request word may be 0: the top-level table, fresh.)  The first
     * request looked at first: a kpager answers them in order, mostly
     * with one page. */
    u64 n = asked_for[1];
    if (__builtin_expect(n != 0 && KM_KREQ_ADDR(asked_for[2]) == ksaddr, 1)) {
        *req = asked_for[2];
        return true;
    }
    n = n < KM_KFAULT_MAX ? n : KM_KFAULT_MAX;
    for (u64 i = 1; i < n; i++)
        if (KM_KREQ_ADDR(asked_for[2 + i]) == ksaddr) {
            *req = asked_for[2 + i];
            return true;
        }
    return false;
}

/* One page (size 2^12) with read and write rights: one compare of the
 * fpage word's size and those two rights. */
#define FPAGE_SIZE_RW (0xfc0ull | KM_R | KM_W)
#define FPAGE_4K_RW ((12ull << 6) | KM_R | KM_W)
_Static_assert(KM_FPAGE_LOG2(FPAGE_4K_RW) == 12 && KM_FPAGE_RIGHTS(FPAGE_4K_RW) == (KM_R | KM_W) &&
                   KM_FPAGE_LOG2(FPAGE_SIZE_RW) == 0x3f && (FPAGE_SIZE_RW & ~0xfc0ull) == (KM_R | KM_W),
               "the fpage word: size in bits 6..11, rights in 0..2");

/* Whether map item (word0, word1) can answer a request: one page, read-
 * write, not a grant. */
static inline __attribute__((always_inline)) bool accept_fits(u64 word0, u64 word1)
{
    return (word1 & FPAGE_SIZE_RW) == FPAGE_4K_RW && !(word0 & KM_ITEM_GRANT);
}

/* Lends the lender's page that item (word0, word1) names to the kernel as
 * t's page for a request in asked_for (*got counted up); ignored (nothing
 * changes) when it does not fit. */
static inline __attribute__((always_inline)) void accept(struct task *lender, struct task *t, const u64 *asked_for,
                                                         u64 word0, u64 word1, u32 *got)
{
    u64 req;
    if (!t || !lender || !accept_fits(word0, word1) || !request_of(asked_for, word0 & ~0xfffull, &req))
        return;
    kmem_supply_lend(t, req, lender, KM_FPAGE_BASE(word1), got);
}

/* kfault_accept for a paged-out thread asking for its own TCB: the
 * requests made again from its pinned part (what came is counted from
 * the supply at its completion: tcb_page_request_done). */
static __attribute__((noinline)) void accept_out(struct thread *kpager, struct thread *self, u64 word0, u64 word1)
{
    u64 own[2 + KM_KFAULT_MAX];
    u32 got = 0;
    tcb_page_request(self, own);
    accept(kpager->task, self->task, own, word0, word1, &got);
}

/* The task whose kspace self's kernel page fault fills, if it is still
 * the one asked for (the kernel lock was released meanwhile): carried by
 * pointer (task slots are never freed), checked as task_lookup would. */
static inline __attribute__((always_inline)) struct task *kfault_task(const struct thread_ext *x)
{
    struct task *t = x->kfault_task;
    return t && t->number && t->version == x->kfault_version && !(t->flags & TASK_F_DYING) ? t : NULL;
}

void kfault_accept(struct thread *kpager, struct thread *self, u64 word0, u64 word1)
{
    if (__builtin_expect(self->flags & TF_OUT, 0)) {
        accept_out(kpager, self, word0, word1);
        return;
    }
    struct thread_ext *x = self->ext;
    accept(kpager->task, kfault_task(x), x->fault, word0, word1, &x->kfault_got);
}

void kfault_accept_in(struct thread *kpager, struct thread *self, u64 word0, u64 word1)
{
    struct thread_ext *x = self->ext;
    struct task *t = kfault_task(x);
    u64 req;
    if (t && accept_fits(word0, word1) && request_of(x->fault, word0 & ~0xfffull, &req))
        kmem_supply_lend(t, req, kpager->task, KM_FPAGE_BASE(word1), &x->kfault_got);
}
