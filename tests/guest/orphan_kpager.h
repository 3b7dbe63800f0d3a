/* The setting the orphan_* programs share (tests/sh/orphans.sh): task A
 * (the program) has a page X (xpg[0]) that it maps on to its own page P1;
 * A's kpager thread K (kp_fn) lends P1 as the TCB page of the thread whose
 * kernel page fault asks for one (a thread R of A's), xpg[1] as its UTCB,
 * and pool pages for anything else.  Taking X away (unmap, not self) then
 * removes P1, the lender of R's TCB page: R's TCB is an orphan.
 *
 * K first receives X at P1 from the program's main thread (kp_mapped: 1
 * received, -1 failed), then answers kernel page faults for ever. */
#ifndef ORPHAN_KPAGER_H
#define ORPHAN_KPAGER_H

#include <abi/kspace.h>
#include <user/l4.h>

#define PAGE 4096ul
#define P1 0x0000500000000000ull

static char xpg[4][PAGE] __attribute__((aligned(PAGE))); /* X, R's UTCB, others */
static char kpool[64][PAGE] __attribute__((aligned(PAGE)));
static km_tid me;
static struct l4_thread kp_thr;
static volatile int kp_ready, kp_mapped;
static volatile unsigned kp_faults, kp_next;

static void kp_fn(void *arg)
{
    (void)arg;
    l4_set_acceptor(KM_FPAGE(P1, 12, 0));
    kp_ready = 1;
    long r = l4_receive(me); /* first: X at P1, from main */
    kp_mapped = r >= 0 ? 1 : -1;
    km_tid to = KM_NILTHREAD;
    km_u64 tag = 0;
    for (;;) {
        r = to == KM_NILTHREAD ? l4_receive_any() : l4_reply_and_wait(to, tag);
        to = KM_NILTHREAD;
        if (r < 0)
            continue;
        to = l4_sender();
        tag = KM_TAG(0, 0, 0);
        if (l4_label() != KM_LABEL_KFAULT)
            continue;
        unsigned n = (unsigned)l4_mr(1);
        unsigned mr = 0;
        kp_faults++;
        for (unsigned i = 0; i < n && i < KM_KFAULT_MAX; i++) {
            km_u64 q = l4_mr(2 + i), ks = KM_KREQ_ADDR(q);
            unsigned type = KM_KREQ_TYPE(q);
            km_u64 page = type == KM_KMEM_TCB    ? P1
                          : type == KM_KMEM_UTCB ? (km_u64)(unsigned long)xpg[1]
                                                 : (km_u64)(unsigned long)kpool[kp_next++ % 64];
            mr = l4_put_map_item(mr, ks, KM_FPAGE(page, 12, KM_R | KM_W));
        }
        tag = KM_TAG(0, 0, mr);
    }
}

#endif
