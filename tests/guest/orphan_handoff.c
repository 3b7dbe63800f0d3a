/* orphan_handoff: a thread whose TCB page loses its lender while it is
 * blocked (not on a CPU, so nothing to kick), then is switched into by an
 * IPC (kmem=kpager only; tests/sh/orphans.sh; the other CPU busy in user
 * mode).  It must go at its return to user mode: each switch into a
 * marked thread sets its CPU's need again (a review found it returned to
 * user mode and ran on).  Built like orphan_linger.c, with R blocked in a
 * receive from main when main takes X away, and main then sending to R.
 */
#include <abi/kspace.h>
#include <user/l4.h>
#include <user/stdio.h>
#include <user/string.h>
#include <user/tap.h>
#include <user/tsc.h>

#include "orphan_kpager.h"

static struct l4_thread r_thr, s_thr;
static volatile int s_run, s_stop;
static volatile long unmap_r = 12345, r_calls, r_recv = 12345;
static volatile int r_back;

static void s_fn(void *arg)
{
    (void)arg;
    s_run = 1;
    while (!s_stop)
        ;
}

static void r_fn(void *arg)
{
    (void)arg;
    r_recv = l4_receive(me); /* blocked here when its TCB is orphaned */
    r_back = 1;              /* user code of a thread that should be gone */
    km_u64 t0 = tsc_read();
    while (tsc_read() - t0 < 500000000ull) {
        for (volatile int i = 0; i < 10000; i++)
            ;
        sys_null();
        r_calls++;
    }
    s_stop = 1;
    l4_send(me, KM_TAG(0, 0, 0));
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
        return tap_done("orphan_handoff");
    int rcv = l4_wait_state(r_thr.tid, KM_TSTATE_RECEIVING, 10000);
    tap_ok(rcv, "R blocked in its receive");
    unmap_r = sys_unmap(KM_FPAGE((km_u64)(unsigned long)xpg[0], 12, KM_RWX), 0); /* R's TCB orphaned */
    long sr = l4_send(r_thr.tid, KM_TAG(0, 0, 0)); /* switches into R */
    r = l4_receive(r_thr.tid);
    s_stop = 1;
    tap_diag("unmap %ld, send to R %ld, R's receive %ld, R back %d, R calls %ld, main's receive %ld", unmap_r, sr,
             r_recv, r_back, r_calls, r);
    tap_ok(unmap_r >= 1, "R's TCB page orphaned");
    tap_ok(!r_back, "R never ran user code after its TCB was orphaned");
    tap_ok(r == -KM_ECANCELED, "R is deleted (main's receive from R cancelled)");
    return tap_done("orphan_handoff");
}
