/* orphan_partner: a thread whose TCB page loses its lender in the middle
 * of an IPC it is the partner of (kmem=kpager only; tests/sh/orphans.sh).
 *
 * Task A (this program): X = a page of A's, mapped on to A's page P1 (P1
 * derived from X).  A's kpager K lends P1 as the TCB page of a new thread
 * R of A's.  R waits in a receive with its acceptor at X.  The main thread
 * sends R a map item of another frame to X: the transfer replaces X's
 * mapping, P1 (the lender, X's child) goes, its frame is an orphan, let go
 * at the end of the transfer, inside this very IPC.  R must go after the
 * next switch, not there (a review found it freed, then completed by the
 * IPC: a kernel page fault).  The kernel must survive, R end.
 *
 * ORPHAN_SENDER (orphan_sender.c): the same with R the blocked sender: R
 * sends main a map item of Y, main receives with its acceptor at X. */
#include <abi/kspace.h>
#include <user/l4.h>
#include <user/stdio.h>
#include <user/string.h>
#include <user/tap.h>

#include "orphan_kpager.h"


static volatile long r_result = 12345;

static void r_receiver(void *arg)
{
    (void)arg;
    l4_set_acceptor(KM_FPAGE((km_u64)(unsigned long)xpg[0], 12, 0));
    r_result = l4_receive(me);
}

static void r_sender(void *arg)
{
    (void)arg;
    l4_put_map_item(0, 0, KM_FPAGE((km_u64)(unsigned long)xpg[2], 12, KM_R | KM_W));
    r_result = l4_send(me, KM_TAG(0, 0, 2));
}

int main(void)
{
    long r = orphan_setup();
    int sender_mode = 0;
#ifdef ORPHAN_SENDER
    sender_mode = 1;
#endif
    if (r == 0)
        r = orphan_start_r(sender_mode ? r_sender : r_receiver);
    if (r != 0)
        return tap_done("orphan_partner");
    if (!sender_mode) {
        int w = l4_wait_state(r_thr.tid, KM_TSTATE_RECEIVING, 100000);
        tap_ok(w, "R waits in its receive");
        tap_diag("sending R a map item onto X (replaces X: P1 goes, R's TCB is an orphan)");
        l4_put_map_item(0, 0, KM_FPAGE((km_u64)(unsigned long)xpg[2], 12, KM_R | KM_W));
        r = l4_send(r_thr.tid, KM_TAG(0, 0, 2));
        tap_diag("send returned %ld", r);
    } else {
        int w = l4_wait_state(r_thr.tid, KM_TSTATE_SENDING, 100000);
        tap_ok(w, "R blocked sending");
        tap_diag("receiving R's map item onto X (replaces X: P1 goes, R's TCB is an orphan)");
        l4_set_acceptor(KM_FPAGE((km_u64)(unsigned long)xpg[0], 12, 0));
        r = l4_receive(r_thr.tid);
        tap_diag("receive returned %ld", r);
    }
    tap_ok(1, "the kernel survived (R state %ld)", l4_thread_state(r_thr.tid));
    return tap_done("orphan_partner");
}
