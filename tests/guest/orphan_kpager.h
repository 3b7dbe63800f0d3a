/* The setting the orphan_* programs share (tests/sh/orphans.sh): task A
 * (the program) has a page X (xpg[0]) that it maps on to its own page P1;
 * A's kpager thread K (kp_fn) lends P1 as the TCB page of the thread whose
 * kernel page fault asks for one (a thread R of A's), xpg[1] as its UTCB,
 * and pool pages for anything else.  Taking X away (unmap, not self) then
 * removes P1, the lender of R's TCB page: R's TCB is an orphan.
 *
 * K first receives X at P1 from the program's main thread (kp_mapped: 1
 * received, -1 failed), then answers kernel page faults for ever (or the
 * program's kp_hook does).  orphan_setup makes all that; orphan_spinner
 * keeps the other CPU busy in user mode. */
#ifndef ORPHAN_KPAGER_H
#define ORPHAN_KPAGER_H

#include <abi/kspace.h>
#include <user/l4.h>
#include <user/tap.h>
#include <user/tsc.h>

#define PAGE 4096ul
#define P1 0x0000500000000000ull

static char xpg[4][PAGE] __attribute__((aligned(PAGE))); /* X, R's UTCB, others */
static char kpool[64][PAGE] __attribute__((aligned(PAGE)));
static km_tid me;
static struct l4_thread kp_thr;
static volatile int kp_ready, kp_mapped;
static volatile unsigned kp_faults, kp_next;
/* A program's own answer to a kernel page fault (requests req[0 .. n)):
 * the typed words it wrote, or -1 for K's usual answer. */
static long (*kp_hook)(const km_u64 *req, unsigned n);

static km_u64 pool_page(void) { return (km_u64)(unsigned long)kpool[kp_next++ % 64]; }

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
        unsigned n = (unsigned)l4_mr(1), mr = 0;
        km_u64 req[KM_KFAULT_MAX];
        for (unsigned i = 0; i < n && i < KM_KFAULT_MAX; i++)
            req[i] = l4_mr(2 + i);
        kp_faults++;
        long own = kp_hook ? kp_hook(req, n) : -1;
        for (unsigned i = 0; own < 0 && i < n && i < KM_KFAULT_MAX; i++) {
            unsigned type = KM_KREQ_TYPE(req[i]);
            km_u64 page = type == KM_KMEM_TCB    ? P1
                          : type == KM_KMEM_UTCB ? (km_u64)(unsigned long)xpg[1]
                                                 : pool_page();
            mr = l4_put_map_item(mr, KM_KREQ_ADDR(req[i]), KM_FPAGE(page, 12, KM_R | KM_W));
        }
        tag = KM_TAG(0, 0, own < 0 ? mr : (unsigned)own);
    }
}

/* The setting made: K started, X mapped on to P1 (two checks). */
static long orphan_setup(void)
{
    me = sys_myself();
    for (int i = 0; i < 4; i++)
        xpg[i][0] = (char)i;
    for (int i = 0; i < 64; i++)
        kpool[i][0] = 0;
    struct l4_thread_attr a = L4_THREAD_ATTR_INIT;
    long r = l4_thread_start(&kp_thr, &a, kp_fn, 0);
    tap_ok(r == 0, "kpager thread started (%ld)", r);
    while (r == 0 && !kp_ready)
        sys_yield();
    l4_put_map_item(0, 0, KM_FPAGE((km_u64)(unsigned long)xpg[0], 12, KM_R | KM_W));
    r = r == 0 ? l4_send(kp_thr.tid, KM_TAG(0, 0, 2)) : r;
    while (r == 0 && !kp_mapped)
        sys_yield();
    tap_ok(r == 0 && kp_mapped == 1, "X mapped on to P1 (%ld)", r);
    return r == 0 && kp_mapped == 1 ? 0 : -1;
}

/* S: a thread spinning alone in user mode on CPU 1 (no switch, no idle
 * loop there) until s_stop (one check). */
static struct l4_thread s_thr;
static volatile int s_run, s_stop;

static void s_fn(void *arg)
{
    (void)arg;
    s_run = 1;
    while (!s_stop)
        ;
}

static __attribute__((unused)) long orphan_spinner(void)
{
    struct l4_thread_attr a1 = L4_THREAD_ATTR_INIT;
    a1.cpu = 1;
    long r = l4_thread_start(&s_thr, &a1, s_fn, 0);
    while (r == 0 && !s_run)
        sys_yield();
    tap_ok(r == 0, "S spins alone on CPU 1 (%ld)", r);
    return r;
}

/* R: a thread of the program's running fn, its TCB and UTCB pages lent by
 * K (one check). */
static struct l4_thread r_thr;

static long orphan_start_r(void (*fn)(void *))
{
    struct l4_thread_attr a = L4_THREAD_ATTR_INIT;
    long r = sys_thread_control(me, KM_TCTL_SET_KPAGER, kp_thr.tid);
    if (r == 0)
        r = l4_thread_start(&r_thr, &a, fn, 0);
    sys_thread_control(me, KM_TCTL_SET_KPAGER, KM_NILTHREAD);
    tap_ok(r == 0 && kp_faults > 0, "R made with its TCB page lent from P1 (%ld, %u kernel page faults)", r,
           kp_faults);
    return r;
}

/* R's user code for half a second (50 ticks at 1 GHz), a system call in
 * each round (counted in *calls); then S stops and main hears from R. */
static __attribute__((unused)) void orphan_run_on(volatile long *calls)
{
    km_u64 t0 = tsc_read();
    while (tsc_read() - t0 < 500000000ull) {
        for (volatile int i = 0; i < 10000; i++)
            ;
        sys_null();
        (*calls)++;
    }
    s_stop = 1;
    l4_send(me, KM_TAG(0, 0, 0)); /* still here */
}

#endif
