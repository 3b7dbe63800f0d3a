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
    k->quota = 0;
    k->refused = 0;
    k->last_n = 0;
    k->nfree = 0;
    for (unsigned i = k->npages; i-- > 0;) {
        k->page[i].state = KPAGE_FREE;
        k->free[k->nfree++] = (unsigned short)i;
        *(volatile char *)(unsigned long)(k->pool + (km_u64)i * 4096) = 0; /* mapped now */
    }
}

static km_u64 page_addr(const struct kpager *k, unsigned i) { return k->pool + (km_u64)i * 4096; }

/* A free pool page (the lowest-numbered first after init), or -1. */
static int take_page(struct kpager *k) { return k->nfree ? k->free[--k->nfree] : -1; }

static void put_page(struct kpager *k, unsigned i)
{
    k->page[i].state = KPAGE_FREE;
    k->free[k->nfree++] = (unsigned short)i;
}

/* The reply to the kernel page fault in the UTCB: map items of free pool
 * pages, one per request (at most batch); returns the tag. */
static km_u64 answer_kfault(struct kpager *k)
{
    km_taskid task = l4_mr(0);
    km_u64 n = l4_mr(1);
    if (n < 1 || n > KM_KFAULT_MAX || KM_TAG_U(l4_msgtag()) != 2 + n) {
        k->bad++;
        return KM_TAG(0, 0, 0);
    }
    km_u64 req[KM_KFAULT_MAX];
    for (unsigned i = 0; i < n; i++)
        req[i] = l4_mr(2 + i);
    k->kfaults++;
    k->requested += n;
    k->last_n = (unsigned)n;
    for (unsigned i = 0; i < n; i++)
        k->last_req[i] = req[i];
    unsigned mr = 0, given = 0, want = (n < k->batch ? (unsigned)n : k->batch) + k->reserve;
    if (k->quota) { /* the task's kernel memory is what its kpager allows */
        unsigned held = 0;
        for (unsigned i = 0; i < k->npages; i++)
            held += k->page[i].state == KPAGE_LENT && k->page[i].task == task;
        want = held >= k->quota ? 0 : want < k->quota - held ? want : k->quota - held;
        if (!want)
            k->refused++;
    }
    for (unsigned i = 0; given < want; i++) {
        int p = take_page(k);
        if (p < 0) {
            k->exhausted++;
            break;
        }
        km_u64 ks = i < n && i < k->batch ? KM_KREQ_ADDR(req[i]) : KM_KS_RESERVE;
        k->page[p] = (struct kpage){.ksaddr = ks, .task = task, .state = KPAGE_LENT};
        mr = l4_put_map_item(mr, ks, KM_FPAGE(page_addr(k, (unsigned)p), 12, KM_R | KM_W));
        given++;
    }
    k->supplied += given;
    return KM_TAG(0, 0, mr);
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
        put_page(k, i);
        k->revoked++;
        n++;
    }
    return n;
}

/* The kernel gives pages back by itself when it frees what they held:
 * every page of a task that is gone.  Those are free again. */
static void collect(struct kpager *k)
{
    struct km_kmem_info info;
    for (unsigned i = 0; i < k->npages; i++) {
        struct kpage *p = &k->page[i];
        if (p->state == KPAGE_LENT && sys_kmem_info(p->task, &info) == -KM_ESRCH)
            put_page(k, i);
    }
}

void kpager_serve(struct kpager *k)
{
    km_u64 tag = 0;
    km_tid to = KM_NILTHREAD;
    for (;;) {
        long r = to == KM_NILTHREAD ? l4_receive_any() : l4_reply_and_wait(to, tag);
        to = KM_NILTHREAD;
        if (r < 0)
            continue; /* the one to answer is gone: wait for the next */
        to = l4_sender();
        km_u64 label = l4_label();
        if (label == KM_LABEL_KFAULT) {
            tag = answer_kfault(k);
            if (KM_TAG_T(tag) == 0) { /* the pool ran dry */
                collect(k);
                tag = answer_kfault(k);
            }
        } else if (label == KPAGER_LABEL_REVOKE) {
            l4_set_mr(0, (km_u64)revoke(k, l4_mr(0), l4_mr(1), l4_mr(2)));
            tag = KM_TAG(0, 1, 0);
        } else {
            l4_set_mr(0, (km_u64)-KM_EINVAL);
            tag = KM_TAG(0, 1, 0);
        }
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

int kpager_find(const struct kpager *k, km_taskid task, km_u64 ksaddr)
{
    for (unsigned i = 0; i < k->npages; i++)
        if (k->page[i].state == KPAGE_LENT && k->page[i].task == task && k->page[i].ksaddr == ksaddr)
            return (int)i;
    return -1;
}

km_u64 kpager_page(const struct kpager *k, unsigned i) { return page_addr(k, i); }

void kpager_returned(struct kpager *k, unsigned i)
{
    put_page(k, i);
    k->revoked++;
}
