/* sigma0 requests and the anonymous-memory pager (see <user/sigma0.h>). */
#include <user/l4.h>
#include <user/sigma0.h>
#include <user/string.h>

km_tid sigma0_tid(void)
{
    struct km_sysinfo si;
    return sys_sysinfo(&si) == 0 ? si.sigma0 : KM_NILTHREAD;
}

long sigma0_get(unsigned log2, unsigned rights, km_u64 phys, km_u64 where)
{
    km_tid s0 = sigma0_tid();
    if (s0 == KM_NILTHREAD)
        return -KM_ESRCH;
    km_u64 old = l4_set_acceptor(KM_FPAGE(where, log2, KM_RWX));
    l4_set_mr(0, KM_FPAGE(phys, log2, rights));
    long r = l4_call(s0, KM_TAG(KM_LABEL_SIGMA0, 1, 0));
    l4_set_acceptor(old);
    if (r < 0)
        return r;
    if (KM_TAG_T(l4_msgtag()) != 2) /* an error reply: MR0 says which */
        return KM_TAG_U(l4_msgtag()) == 1 ? (long)l4_mr(0) : -KM_EINVAL;
    return 0;
}

/* The pool slot holding the anonymous page of fault page `page`. */
static km_u64 pool_slot(const struct anon_pager *p, km_u64 page)
{
    return p->pool + (page - p->anon_lo);
}

static km_u64 serve_fault(struct anon_pager *p, km_u64 addr, unsigned access)
{
    km_u64 page = addr & ~0xfffull;
    km_u64 src = page;
    unsigned rights = KM_RWX;
    if (page >= p->anon_lo && page < p->anon_hi) {
        src = pool_slot(p, page);
        rights = KM_R | KM_W;
        /* First touch: a fresh page from sigma0 into our pool slot.  A
         * page already there is probed by reading it: mapped => no fault. */
        unsigned long idx = (page - p->anon_lo) >> 12;
        if (idx >= ANON_MAX_PAGES)
            return 0;
        if (!p->have[idx]) {
            long r = sigma0_get(12, KM_R | KM_W, 0, src);
            if (r < 0) {
                if (!p->error)
                    p->error = r;
                return 0;
            }
            memset((void *)src, 0, 4096);
            p->have[idx] = 1;
            p->pages++;
        }
    }
    (void)access;
    p->faults++;
    l4_put_map_item(0, page, KM_FPAGE(src, 12, rights));
    return KM_TAG(0, 0, 2);
}

void anon_pager_serve(struct anon_pager *p)
{
    long r = l4_receive_any();
    for (;;) {
        if (r < 0) {
            r = l4_receive_any();
            continue;
        }
        if (p->stop)
            return;
        km_tid from = l4_sender();
        km_u64 tag = 0;
        if (l4_is_pagefault())
            tag = serve_fault(p, l4_mr(0), (unsigned)l4_mr(2));
        if (!tag) { /* not a fault, or none to give: no reply, it stays blocked */
            r = l4_receive_any();
            continue;
        }
        r = l4_reply_and_wait(from, tag);
    }
}
