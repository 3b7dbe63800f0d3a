/* orphan_revive: a thread whose TCB page loses its lender while it waits
 * for a kernel page fault of its own (kmem=kpager only; tests/sh/orphans.sh).
 *
 * Task A (this program): X = a page of A's mapped on to A's P1 (as in
 * orphan_partner.c).  A's kpager K lends P1 as R's TCB page.  R calls
 * thread_create, which faults to K (the new thread's TCB and UTCB).  K
 * unmaps X (not self): P1 goes, R's TCB is an orphan, R is marked to go.
 * K answers with one page of the two: its reply hands the CPU to R.  R
 * must go (schedule() deletes a marked thread leaving its CPU) and never
 * run user code again (a review found it deleted right after the switch
 * into it, in the middle of its own kernel operation, then brought back to
 * life by the next block: it returned to user mode). */
#include <abi/kspace.h>
#include <user/l4.h>
#include <user/stdio.h>
#include <user/string.h>
#include <user/tap.h>

#include "orphan_kpager.h"

static volatile int phase;
static volatile long unmap_r = 12345;

/* K's answers once R exists (phase 1: R's thread_create): the first one
 * orphans R's TCB and lends one page of the two; later ones pool pages. */
static long revive_hook(const km_u64 *req, unsigned n)
{
    unsigned mr = 0;
    if (phase == 0)
        return -1; /* R's own pages: P1 and xpg[1] */
    if (phase == 1) {
        phase = 2;
        unmap_r = sys_unmap(KM_FPAGE((km_u64)(unsigned long)xpg[0], 12, KM_RWX), 0);
        n = 1;
    }
    for (unsigned i = 0; i < n && i < KM_KFAULT_MAX; i++)
        mr = l4_put_map_item(mr, KM_KREQ_ADDR(req[i]), KM_FPAGE(pool_page(), 12, KM_R | KM_W));
    return mr;
}

static volatile long r_created = 12345;
static volatile int r_alive;

static void r_fn(void *arg)
{
    (void)arg;
    r_created = sys_thread_create(0, KM_NILTHREAD);
    r_alive = 1; /* user code of a thread the kernel deleted */
    l4_receive(me); /* nobody sends: R waits here */
}

int main(void)
{
    kp_hook = revive_hook;
    long r = orphan_setup();
    if (r == 0)
        r = orphan_start_r(r_fn);
    if (r != 0)
        return tap_done("orphan_revive");
    phase = 1;
    /* below R and K: they run until both block */
    sys_thread_control(me, KM_TCTL_SET_PRIORITY, KM_PRIO_DEFAULT - 10);
    for (int i = 0; i < 2000 && !r_alive && l4_thread_state(r_thr.tid) >= 0; i++)
        sys_yield();
    long st = l4_thread_state(r_thr.tid);
    tap_diag("phase %d, unmap %ld, R's thread_create %ld, R alive %d, R state %ld", phase, unmap_r, r_created,
             r_alive, st);
    tap_ok(phase == 2 && unmap_r >= 1, "K orphaned R's TCB page during R's kernel page fault");
    tap_ok(!r_alive && st < 0, "R, deleted for its orphaned TCB, never runs user code again");
    return tap_done("orphan_revive");
}
