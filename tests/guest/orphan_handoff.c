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

static volatile long unmap_r = 12345, r_calls, r_recv = 12345;
static volatile int r_back;

static void r_fn(void *arg)
{
    (void)arg;
    r_recv = l4_receive(me); /* blocked here when its TCB is orphaned */
    r_back = 1;              /* user code of a thread that should be gone */
    orphan_run_on(&r_calls);
}

int main(void)
{
    long r = orphan_setup();
    if (r == 0)
        r = orphan_spinner();
    if (r == 0)
        r = orphan_start_r(r_fn);
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
