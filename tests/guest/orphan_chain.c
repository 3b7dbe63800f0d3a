/* orphan_chain: a chain of kpager tasks deleted at once (kmem=kpager
 * only; tests/sh/orphans.sh).
 *
 * T0 (owned by this program's task) owns T1..Tn; each Ti has one thread
 * k_i, a kpager that lent the TCB (and the tables) of k_{i+1} from Ti's
 * own pages.  Deleting T0 deletes k1 first; T1's mappings go, so k2's TCB
 * is an orphan, and so on down the chain.  Each thread must go after a
 * switch, not inside the orphan loop (a review found the loop nested once
 * per task on the deleting thread's one-page kernel stack: 16 tasks
 * overran it).  The kernel must survive with its stack peak low.
 * RESERVE (orphan_reserve.c): reserve pages left unused in the supply of
 * each task wait in the orphan chain while a TCB orphan is let go (a
 * review found them given back from there: a panic). */
#include <abi/kspace.h>
#include <user/l4.h>
#include <user/stdio.h>
#include <user/string.h>
#include <user/tap.h>

#ifndef CHAIN
#define CHAIN 16
#endif
#define PAGE 4096ul
#define LP 40

static char lp[CHAIN + 2][LP][PAGE] __attribute__((aligned(PAGE)));
static struct l4_task tk[CHAIN + 2], t0;
static volatile int kready[CHAIN + 2];
static volatile long built;
static km_tid pager_tid;
#ifdef RESERVE
/* RESERVE: k_{i-1} adds two reserve pages (its lowest: lp[i-1][0..1]) to
 * its answer for T_i's last fault, which leaves them unused in T_i's
 * supply; they are orphaned first (lowest addresses) when T_{i-1} goes, so
 * k_i's TCB is let go while they are still chained, and T_i's destroy
 * (kmem_supply_release) gives them back. */
#define FAR 0x0000600000000000ull
static volatile int want_reserve[CHAIN + 2];
static char scratch[PAGE] __attribute__((aligned(PAGE)));
#endif
static struct l4_pager pg;
static struct l4_thread pthr;

static long kfn(void *arg)
{
    long i = (long)arg;
    for (int j = 0; j < LP; j++)
        lp[i][j][0] = 1; /* mapped in Ti (by the pager), read-write */
    unsigned next = 0;
#ifdef RESERVE
    next = 2; /* lp[i][0..1]: the reserve */
    l4_set_acceptor(KM_FPAGE(FAR + (km_u64)i * 0x40000000ull, 21, 0));
#endif
    kready[i] = 1;
    km_tid to = KM_NILTHREAD;
    km_u64 tag = 0;
    for (;;) {
        long r = to == KM_NILTHREAD ? l4_receive_any() : l4_reply_and_wait(to, tag);
        to = KM_NILTHREAD;
        if (r < 0)
            continue;
        to = l4_sender();
        tag = KM_TAG(0, 0, 0);
        if (l4_label() != KM_LABEL_KFAULT) {
            to = KM_NILTHREAD;
            continue;
        }
        unsigned n = (unsigned)l4_mr(1);
        km_u64 req[KM_KFAULT_MAX];
        for (unsigned q = 0; q < n && q < KM_KFAULT_MAX; q++)
            req[q] = l4_mr(2 + q);
        unsigned mr = 0;
        for (unsigned q = 0; q < n && q < KM_KFAULT_MAX && next < LP; q++)
            mr = l4_put_map_item(mr, KM_KREQ_ADDR(req[q]),
                                 KM_FPAGE((km_u64)(unsigned long)lp[i][next++], 12, KM_R | KM_W));
#ifdef RESERVE
        if (want_reserve[i]) {
            want_reserve[i] = 0;
            for (unsigned q = 0; q < 2; q++)
                mr = l4_put_map_item(mr, KM_KS_RESERVE, KM_FPAGE((km_u64)(unsigned long)lp[i][q], 12, KM_R | KM_W));
        }
#endif
        tag = KM_TAG(0, 0, mr);
    }
    return 0;
}

static long builder(void *arg)
{
    (void)arg;
    km_tid self = sys_myself();
    struct l4_thread_attr a = L4_THREAD_ATTR_INIT;
    a.pager = pager_tid;
    for (long i = 1; i <= CHAIN; i++) {
        long r = sys_thread_control(self, KM_TCTL_SET_KPAGER, i == 1 ? KM_NILTHREAD : tk[i - 1].main.tid);
        if (r == 0)
            r = l4_task_start(&tk[i], &a, KM_NILTHREAD, kfn, (void *)i);
        sys_thread_control(self, KM_TCTL_SET_KPAGER, KM_NILTHREAD);
        if (r < 0) {
            built = -i * 1000 + r;
            break;
        }
        for (long y = 0; y < 1000000 && !kready[i]; y++)
            sys_yield();
        if (!kready[i]) {
            built = -i;
            break;
        }
#ifdef RESERVE
        if (i >= 2) { /* a fresh region of T_i: its tables from k_{i-1}, with two reserve pages */
            scratch[0] = 1;
            want_reserve[i - 1] = 1;
            l4_put_map_item(0, 0, KM_FPAGE((km_u64)(unsigned long)scratch, 12, KM_R | KM_W));
            r = l4_send(tk[i].main.tid, KM_TAG(0, 0, 2));
            if (r < 0 || want_reserve[i - 1]) {
                built = -i * 1000000 + r;
                break;
            }
        }
#endif
    }
    if (!built)
        built = CHAIN;
    for (;;)
        l4_receive_any();
    return 0;
}

int main(void)
{
    l4_pager_init(&pg, KM_ANYTHREAD, KM_RWX);
    struct l4_thread_attr a = L4_THREAD_ATTR_INIT;
    long r = l4_pager_thread_start(&pthr, &a, &pg);
    pager_tid = pthr.tid;
    tap_ok(r == 0, "pager started");
    a.pager = pager_tid;
    r = l4_task_start(&t0, &a, KM_NILTHREAD, builder, 0);
    tap_ok(r == 0, "T0 started (%ld)", r);
    while (!built)
        sys_yield();
    tap_ok(built == CHAIN, "a chain of %d kpager tasks built (%ld)", CHAIN, built);
    if (built != CHAIN)
        return tap_done("orphan_chain");
    tap_diag("deleting T0 (and T1..T%d with it)", CHAIN);
    r = sys_task_delete(t0.id);
    tap_ok(r == 0, "T0 deleted (%ld)", r);
    return tap_done("orphan_chain");
}
