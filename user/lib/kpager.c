/* The reference kpager (see user/kpager.h). */
#include <user/kpager.h>
#include <user/stdio.h>

void kpager_init(struct kpager *k, void *pool, unsigned npages, unsigned batch,
                 unsigned reserve)
{
    k->reserve = reserve > KPAGER_MAX_RESERVE ? KPAGER_MAX_RESERVE : reserve;
    k->pool = (km_u64)(unsigned long)pool;
    k->npages = npages < KPAGER_MAX_PAGES ? npages : KPAGER_MAX_PAGES;
    k->batch = batch < 1 ? 1 : batch > KM_KFAULT_MAX ? KM_KFAULT_MAX : batch;
    k->kfaults = k->supplied = k->revoked = k->requested = k->exhausted = k->bad = 0;
    k->restores = k->restored = k->restore_missed = 0;
    k->quota = 0;
    k->refused = 0;
    k->last_n = 0;
    k->nfree = 0;
    k->nheld = 0;
    for (unsigned i = k->npages; i-- > 0;) {
        k->page[i].state = KPAGE_FREE;
        k->free[k->nfree++] = (unsigned short)i;
        *(volatile char *)(unsigned long)(k->pool + (km_u64)i * 4096) = 0; /* mapped now */
    }
}

static km_u64 page_addr(const struct kpager *k, unsigned i) { return k->pool + (km_u64)i * 4096; }

/* A thread's TCB or UTCB page: exported with its state, kept for restore. */
static int tcb_range(km_u64 ksaddr) { return ksaddr >= KM_KS_TCB && ksaddr < KM_KS_END; }
/* A node table: exported localised (its mappings stay), kept for restore. */
static int nt_range(km_u64 ksaddr) { return ksaddr >= KM_KS_NT && ksaddr < KM_KS_MN; }

/* held[0 .. nheld): the HELD pages, so that a restore finds its pages
 * without a walk over the pool. */
static void hold(struct kpager *k, unsigned i)
{
    k->page[i].state = KPAGE_HELD;
    k->held[k->nheld++] = (unsigned short)i;
}

static void unhold(struct kpager *k, unsigned i)
{
    for (unsigned j = 0; j < k->nheld; j++)
        if (k->held[j] == i) {
            k->held[j] = k->held[--k->nheld];
            return;
        }
}

static int find_held(const struct kpager *k, km_taskid task, km_u64 ksaddr)
{
    for (unsigned j = 0; j < k->nheld; j++) {
        const struct kpage *p = &k->page[k->held[j]];
        if (p->task == task && p->ksaddr == ksaddr)
            return k->held[j];
    }
    return -1;
}

static void put_page(struct kpager *k, unsigned i)
{
    if (k->page[i].state == KPAGE_HELD)
        unhold(k, i);
    k->page[i].state = KPAGE_FREE;
    k->free[k->nfree++] = (unsigned short)i;
}

/* The page in `state` recorded for task's kspace address ksaddr, or -1. */
static int find_state(const struct kpager *k, unsigned state, km_taskid task, km_u64 ksaddr)
{
    for (unsigned i = 0; i < k->npages; i++)
        if (k->page[i].state == state && k->page[i].task == task && k->page[i].ksaddr == ksaddr)
            return (int)i;
    return -1;
}

/* The kernel gives pages back by itself when it frees what they held:
 * every page of a task that is gone, lent or held (its threads are gone
 * too).  Those are free again. */
static void collect(struct kpager *k)
{
    struct km_kmem_info info;
    for (unsigned i = 0; i < k->npages; i++) {
        struct kpage *p = &k->page[i];
        if ((p->state == KPAGE_LENT || p->state == KPAGE_HELD) &&
            sys_kmem_info(p->task, &info) == -KM_ESRCH)
            put_page(k, i);
    }
}

/* A free pool page (the lowest-numbered first after init), or -1. */
static int take_page(struct kpager *k) { return k->nfree ? k->free[--k->nfree] : -1; }

/* take_page, and when the pool is dry: once per fault, the pages of gone
 * tasks back to it first. */
static int take_page_collect(struct kpager *k, int *collected)
{
    int p = take_page(k);
    if (p < 0 && !*collected) {
        *collected = 1;
        collect(k);
        p = take_page(k);
    }
    if (p < 0)
        k->exhausted++;
    return p;
}

/* A FRESH request for an address whose export this kpager may hold (a
 * thread's TCB or UTCB: that thread number is free; a node table: the
 * kernel forgot the one it exported, whose region lost its tables), so a
 * page still recorded for it (held: exported; lent: the kernel gave it
 * back by itself) is the pool's again. */
static void forget_kept_page(struct kpager *k, km_taskid task, km_u64 ksaddr)
{
    if (nt_range(ksaddr)) { /* only a held export can be stale: no walk over the pool */
        int h = find_held(k, task, ksaddr);
        if (h >= 0)
            put_page(k, (unsigned)h);
        return;
    }
    for (unsigned i = 0; i < k->npages; i++) {
        struct kpage *p = &k->page[i];
        if ((p->state == KPAGE_LENT || p->state == KPAGE_HELD) && p->task == task && p->ksaddr == ksaddr)
            put_page(k, i);
    }
}

/* The answer to a fault with pages whose export comes back (a thread's
 * TCB and UTCB, a node table) or may be held: RESTORE requests get
 * the held pages, whatever `batch`; FRESH ones (the first `batch`) pool
 * pages, then `reserve` more.  The quota counts restored pages like fresh
 * ones.  Returns the typed words written. */
static unsigned answer_kept(struct kpager *k, km_taskid task, const km_u64 *req, unsigned n,
                              unsigned room)
{
    unsigned mr = 0, given = 0, restored = 0, fresh = 0;
    int withheld = 0, collected = 0, dry = 0;
    for (unsigned i = 0; i < n + k->reserve; i++) {
        km_u64 ks = i < n ? KM_KREQ_ADDR(req[i]) : KM_KS_RESERVE;
        int p;
        int restore = i < n && KM_KREQ_REASON(req[i]) == KM_KREASON_RESTORE;
        if (restore && (p = find_held(k, task, ks)) < 0) {
            k->restore_missed++;
            /* Never a fresh page for a thread's; a node table the kernel
             * makes again from its nodes out of any page. */
            restore = !nt_range(ks);
            if (restore)
                continue;
        }
        if (restore) {
            if (given >= room) {
                withheld = 1;
                continue;
            }
            unhold(k, (unsigned)p);
            restored++;
        } else {
            if (i < n ? fresh++ >= k->batch : !fresh) /* reserve pages: with fresh ones only */
                continue;
            if (given >= room) {
                withheld = 1;
                continue;
            }
            if (i < n)
                forget_kept_page(k, task, ks);
            if (dry || (p = take_page_collect(k, &collected)) < 0) {
                dry = 1;
                continue;
            }
        }
        k->page[p] = (struct kpage){.ksaddr = ks, .task = task, .state = KPAGE_LENT};
        mr = l4_put_map_item(mr, ks, KM_FPAGE(page_addr(k, (unsigned)p), 12, KM_R | KM_W));
        given++;
    }
    k->refused += withheld && !given;
    k->supplied += given - restored;
    k->restored += restored;
    k->restores += restored > 0;
    return mr;
}

/* answer_kfault's general case: a quota to respect, or requests for
 * content it may hold (answer_kept).  Returns the tag. */
static __attribute__((noinline)) km_u64 answer_general(struct kpager *k, struct km_utcb *u, km_taskid task,
                                                       const km_u64 *req, unsigned n, int kept)
{
    unsigned room = ~0u; /* pages the quota lets the task have more */
    if (k->quota) { /* the task's kernel memory is what its kpager allows */
        unsigned lent = 0;
        for (unsigned i = 0; i < k->npages; i++)
            lent += k->page[i].state == KPAGE_LENT && k->page[i].task == task;
        room = lent >= k->quota ? 0 : k->quota - lent;
    }
    if (kept)
        return KM_TAG(0, 0, answer_kept(k, task, req, n, room));
    unsigned mr = 0, given = 0, want = (n < k->batch ? n : k->batch) + k->reserve;
    int collected = 0;
    if (want > room) {
        want = room;
        k->refused += !want;
    }
    for (unsigned i = 0; given < want; i++) {
        int p = take_page_collect(k, &collected);
        if (p < 0)
            break;
        km_u64 ks = i < n && i < k->batch ? KM_KREQ_ADDR(req[i]) : KM_KS_RESERVE;
        if (k->nheld && nt_range(ks))
            forget_kept_page(k, task, ks); /* its old export, if held, is stale now */
        k->page[p] = (struct kpage){.ksaddr = ks, .task = task, .state = KPAGE_LENT};
        u->mr[mr] = KM_MAPITEM(ks, 0); /* l4_put_map_item */
        u->mr[mr + 1] = KM_FPAGE(page_addr(k, (unsigned)p), 12, KM_R | KM_W);
        mr += 2;
        given++;
    }
    k->supplied += given;
    return KM_TAG(0, 0, mr);
}

/* The reply to the kernel page fault in UTCB u: map items of free pool
 * pages, one per request (at most batch), then `reserve` more; for a
 * thread's TCB and UTCB, and node tables, answer_kept; returns the tag (no item: the
 * kernel fails the operation with -KM_ENOMEM).  (u is read and written
 * directly: utcb() reads %fs each time, it cannot know the address stays.)
 * The common case (fresh pages, no quota, the pool not dry) is answered
 * here in a few instructions a page; anything else in answer_general. */
static km_u64 answer_kfault(struct kpager *k, struct km_utcb *u)
{
    km_taskid task = u->mr[0];
    km_u64 n = u->mr[1];
    if (n < 1 || n > KM_KFAULT_MAX || KM_TAG_U(u->tag) != 2 + n) {
        k->bad++;
        return KM_TAG(0, 0, 0);
    }
    km_u64 *req = k->last_req; /* (kept for tests: the last fault's requests) */
    /* All request words or-ed: reason bits all 0 (FRESH) and below
     * KM_KS_TCB means no request is for content it may hold (kept). */
    km_u64 any = req[0] = u->mr[2]; /* (n >= 1) */
    for (unsigned i = 1; i < n; i++)
        any |= req[i] = u->mr[2 + i];
    k->kfaults++;
    k->requested += n;
    k->last_n = (unsigned)n;
    unsigned fresh = n < k->batch ? (unsigned)n : k->batch, want = fresh + k->reserve;
    /* (held pages: a fresh node table's address may name a stale export,
     * which answer_general forgets) */
    if ((any & 0xf) || any >= KM_KS_TCB || (k->quota | k->nheld) || k->nfree < want) {
        unsigned kept = 0;
        for (unsigned i = 0; i < n; i++)
            kept |= req[i] >= KM_KS_TCB || KM_KREQ_REASON(req[i]) == KM_KREASON_RESTORE;
        return answer_general(k, u, task, req, (unsigned)n, (int)kept);
    }
    /* the pool's top `want` free pages, the last first (as take_page) */
    unsigned nfree = k->nfree - want;
    const unsigned short *fp = &k->free[nfree + want];
    km_u64 base = k->pool | KM_FPAGE(0, 12, KM_R | KM_W); /* (the pool is page aligned) */
    k->nfree = nfree;
    k->supplied += want;
    unsigned i = 0;
    do { /* (want >= fresh >= 1) */
        km_u64 p = *--fp;
        km_u64 ks = i < fresh ? KM_KREQ_ADDR(req[i]) : KM_KS_RESERVE;
        k->page[p] = (struct kpage){.ksaddr = ks, .task = task, .state = KPAGE_LENT};
        u->mr[2 * i] = ks; /* KM_MAPITEM(ks, 0): ks is page aligned */
        u->mr[2 * i + 1] = base + (p << 12);
    } while (++i < want);
    return KM_TAG(0, 0, 2 * want);
}

/* Whether pool page i is all zero (a node table that names no node, or a
 * page supplied and never used, comes back so: nothing to keep). */
static int page_zero(const struct kpager *k, unsigned i)
{
    const km_u64 *w = (const km_u64 *)(unsigned long)page_addr(k, i);
    for (unsigned j = 0; j < 512; j++)
        if (w[j])
            return 0;
    return 1;
}

/* Page i came back from the kernel (its lender unmapped it; counted:
 * the unmap took it back).  A node table is held (its export, unless
 * empty); a TCB or
 * UTCB page is held with its thread's other page (the kernel exports both
 * together); any other page, or one the kernel no longer had (it gave it
 * back by itself), is free again.  Returns the pages taken back. */
static long taken_back(struct kpager *k, unsigned i, int counted)
{
    struct kpage *p = &k->page[i];
    k->revoked++;
    if (!counted || !(tcb_range(p->ksaddr) || (nt_range(p->ksaddr) && !page_zero(k, i)))) {
        put_page(k, i);
        return 1;
    }
    hold(k, i);
    if (nt_range(p->ksaddr))
        return 1;
    int other = find_state(k, KPAGE_LENT, p->task, p->ksaddr ^ 4096);
    if (other < 0)
        return 1;
    hold(k, (unsigned)other);
    k->revoked++;
    return 2;
}

/* Takes back task's lent pages in [lo, hi): unmapping the page from the
 * kernel (not from the kpager) makes the kernel export it first. */
static long revoke(struct kpager *k, km_taskid task, km_u64 lo, km_u64 hi)
{
    long n = 0;
    for (unsigned i = 0; i < k->npages; i++) {
        struct kpage *p = &k->page[i];
        if (p->state != KPAGE_LENT || (task && p->task != task) || p->ksaddr < lo || p->ksaddr >= hi)
            continue;
        long r = sys_unmap(KM_FPAGE(page_addr(k, i), 12, KM_RWX), 0);
        if (r < 0)
            return r;
        n += taken_back(k, i, r > 0);
    }
    if (!task)
        collect(k); /* held pages of gone tasks too */
    return n;
}

void kpager_serve(struct kpager *k)
{
    struct km_utcb *u = utcb(); /* this thread's, for good */
    long r = l4_receive_any();
    for (;;) {
        if (r < 0) { /* the one to answer is gone: wait for the next */
            r = l4_receive_any();
            continue;
        }
        km_tid to = u->sender;
        km_u64 tag, label = KM_TAG_LABEL(u->tag);
        if (label == KM_LABEL_KFAULT) {
            tag = answer_kfault(k, u);
        } else if (label == KPAGER_LABEL_REVOKE) {
            l4_set_mr(0, (km_u64)revoke(k, l4_mr(0), l4_mr(1), l4_mr(2)));
            tag = KM_TAG(0, 1, 0);
        } else {
            l4_set_mr(0, (km_u64)-KM_EINVAL);
            tag = KM_TAG(0, 1, 0);
        }
        r = l4_reply_and_wait(to, tag);
    }
}

static void serve_thread(void *arg) { kpager_serve(arg); }

long kpager_thread_start(struct l4_thread *t, const struct l4_thread_attr *a, struct kpager *k)
{
    return l4_thread_start(t, a, serve_thread, k);
}

long kpager_revoke(km_tid kp, km_taskid task, km_u64 lo, km_u64 hi)
{
    l4_set_mr(0, task);
    l4_set_mr(1, lo);
    l4_set_mr(2, hi);
    long r = l4_call(kp, KM_TAG(KPAGER_LABEL_REVOKE, 3, 0));
    return r < 0 ? r : (long)l4_mr(0);
}

unsigned kpager_lent(const struct kpager *k)
{
    unsigned n = 0;
    for (unsigned i = 0; i < k->npages; i++)
        n += k->page[i].state == KPAGE_LENT;
    return n;
}

unsigned kpager_held(const struct kpager *k)
{
    return k->nheld;
}

int kpager_find(const struct kpager *k, km_taskid task, km_u64 ksaddr)
{
    return find_state(k, KPAGE_LENT, task, ksaddr);
}

km_u64 kpager_page(const struct kpager *k, unsigned i) { return page_addr(k, i); }

void kpager_returned(struct kpager *k, unsigned i)
{
    if (i < k->npages && k->page[i].state == KPAGE_LENT)
        taken_back(k, i, 1);
}

int kpager_find_held(const struct kpager *k, km_taskid task, km_u64 ksaddr)
{
    return find_held(k, task, ksaddr);
}

km_u64 kpager_held_page(const struct kpager *k, km_taskid task, km_u64 ksaddr)
{
    int i = find_held(k, task, ksaddr);
    return i < 0 ? 0 : page_addr(k, (unsigned)i);
}

int kpager_held_swap(struct kpager *k, km_taskid task_a, km_u64 ksaddr_a, km_taskid task_b,
                     km_u64 ksaddr_b)
{
    int a = find_held(k, task_a, ksaddr_a), b = find_held(k, task_b, ksaddr_b);
    if (a < 0 || b < 0)
        return -1;
    struct kpage t = k->page[a];
    k->page[a].task = k->page[b].task;
    k->page[a].ksaddr = k->page[b].ksaddr;
    k->page[b].task = t.task;
    k->page[b].ksaddr = t.ksaddr;
    return 0;
}
