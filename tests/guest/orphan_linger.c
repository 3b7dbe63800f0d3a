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

static volatile long unmap_r = 12345, r_calls;

static void r_fn(void *arg)
{
    (void)arg;
    unmap_r = sys_unmap(KM_FPAGE((km_u64)(unsigned long)xpg[0], 12, KM_RWX), 0); /* own TCB orphaned */
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
        return tap_done("orphan_linger");
    r = l4_receive(r_thr.tid);
    s_stop = 1;
    tap_diag("main's receive from R: %ld; R's unmap %ld; R made %ld system calls after", r, unmap_r, r_calls);
    tap_ok(unmap_r >= 1, "R orphaned its own TCB page");
    tap_ok(r == -KM_ECANCELED, "R is deleted, not left running for 50 ticks with an orphaned TCB");
    return tap_done("orphan_linger");
}
