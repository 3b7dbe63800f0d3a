/* orphan_linger: a thread whose TCB page loses its lender while it runs
 * alone on its CPU, the other CPU busy in user mode (kmem=kpager only;
 * tests/sh/orphans.sh).
 *
 * As orphan_partner.c: X mapped on to P1, K lends P1 as R's TCB page.  S
 * spins in user mode alone on CPU 1.  main waits in a receive from R.  R
 * unmaps X itself (P1 goes: its own TCB is an orphan, R is marked) and
 * then runs for half a second (50 timer ticks), making system calls.  R
 * must be deleted at its next kernel exit (its CPU is kicked), so main's
 * receive ends -KM_ECANCELED (a review found it ran on for ever: a marked
 * thread went only after a switch). */
#include <abi/kspace.h>
#include <user/l4.h>
#include <user/stdio.h>
#include <user/string.h>
#include <user/tap.h>
#include <user/tsc.h>

#include "orphan_kpager.h"

static struct l4_thread r_thr, s_thr;
static volatile int s_run, s_stop;
static volatile long unmap_r = 12345, r_calls;

static void s_fn(void *arg)
{
    (void)arg;
    s_run = 1;
    while (!s_stop)
        ; /* alone on CPU 1: no switch there, no idle loop */
}

static void r_fn(void *arg)
{
    (void)arg;
    unmap_r = sys_unmap(KM_FPAGE((km_u64)(unsigned long)xpg[0], 12, KM_RWX), 0); /* own TCB orphaned */
    km_u64 t0 = tsc_read();
    while (tsc_read() - t0 < 500000000ull) { /* 0.5 s at 1 GHz: 50 ticks */
        for (volatile int i = 0; i < 10000; i++)
            ;
        sys_null();
        r_calls++;
    }
    s_stop = 1;
    l4_send(me, KM_TAG(0, 0, 0)); /* still here */
}

int main(void)
{
    me = sys_myself();
    for (int i = 0; i < 4; i++)
        xpg[i][0] = (char)i;
    for (int i = 0; i < 64; i++)
        kpool[i][0] = 0;
    struct l4_thread_attr a = L4_THREAD_ATTR_INIT;
    long r = l4_thread_start(&kp_thr, &a, kp_fn, 0);
    tap_ok(r == 0, "kpager thread started (%ld)", r);
    while (!kp_ready)
        sys_yield();
    l4_put_map_item(0, 0, KM_FPAGE((km_u64)(unsigned long)xpg[0], 12, KM_R | KM_W));
    r = l4_send(kp_thr.tid, KM_TAG(0, 0, 2));
    while (!kp_mapped)
        sys_yield();
    tap_ok(r == 0 && kp_mapped == 1, "X mapped on to P1 (%ld)", r);
    struct l4_thread_attr a1 = L4_THREAD_ATTR_INIT;
    a1.cpu = 1;
    r = l4_thread_start(&s_thr, &a1, s_fn, 0);
    while (r == 0 && !s_run)
        sys_yield();
    tap_ok(r == 0, "S spins alone on CPU 1 (%ld)", r);
    r = sys_thread_control(me, KM_TCTL_SET_KPAGER, kp_thr.tid);
    if (r == 0)
        r = l4_thread_start(&r_thr, &a, r_fn, 0);
    sys_thread_control(me, KM_TCTL_SET_KPAGER, KM_NILTHREAD);
    tap_ok(r == 0 && kp_faults > 0, "R made with its TCB page lent from P1 (%ld)", r);
    if (r != 0)
        return tap_done("orphan_linger");
    r = l4_receive(r_thr.tid);
    s_stop = 1;
    tap_diag("main's receive from R: %ld; R's unmap %ld; R made %ld system calls after", r, unmap_r, r_calls);
    tap_ok(unmap_r >= 1, "R orphaned its own TCB page");
    tap_ok(r == -KM_ECANCELED, "R is deleted, not left running for 50 ticks with an orphaned TCB");
    return tap_done("orphan_linger");
}
