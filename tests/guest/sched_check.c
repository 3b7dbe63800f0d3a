/* sched_check: scheduling parameters of threads blocked in IPC.  Threads
 * blocked sending sit on their receiver's send queue; changing their
 * priority or CPU, or deleting them, must leave both that queue and the
 * run queues intact (a review found both corrupted once). */
#include <user/l4.h>
#include <user/stdio.h>
#include <user/tap.h>

static km_tid sink; /* never started: whoever sends to it blocks */

static void sender(void *arg)
{
    (void)arg;
    l4_send(sink, l4_tag(1, 0, 0));
}

int main(void)
{
    struct km_sysinfo si;
    sys_sysinfo(&si);
    long r = sys_thread_create(0, KM_NILTHREAD);
    if (!tap_ok(r > 0, "a thread that never starts (%s)", sys_errname(r)))
        return tap_done("sched_check");
    sink = (km_tid)r;

    struct l4_thread s[3];
    int started = 0;
    for (int i = 0; i < 3; i++)
        if (l4_thread_start(&s[i], 0, sender, 0) == 0)
            started++;
    tap_ok(started == 3, "start three threads that send to it (%d)", started);
    int blocked = 1;
    for (int i = 0; i < started; i++)
        blocked &= l4_wait_state(s[i].tid, KM_TSTATE_SENDING, 10000);
    tap_ok(blocked, "all three block sending");

    EXPECT(sys_thread_control(s[1].tid, KM_TCTL_SET_PRIORITY, 90), 0,
           "the middle one of the send queue gets a lower priority");
    EXPECT(sys_thread_control(s[0].tid, KM_TCTL_SET_PRIORITY, 80), 0, "and the first one too");
    if (si.ncpus > 1)
        EXPECT(sys_thread_control(s[2].tid, KM_TCTL_SET_CPU, 1), 0, "the last one moves to CPU 1");
    for (int i = 0; i < 20; i++)
        sys_yield();
    tap_ok(1, "the caller keeps running (yields come back)");
    for (int i = 0; i < started; i++)
        tap_ok(l4_thread_state(s[i].tid) == KM_TSTATE_SENDING, "sender %d still blocked sending", i);

    /* Another sender joins the queue behind them: the queue links hold. */
    struct l4_thread late;
    r = l4_thread_start(&late, 0, sender, 0);
    tap_ok(r == 0 && l4_wait_state(late.tid, KM_TSTATE_SENDING, 10000), "a fourth sender joins the queue");

    EXPECT(sys_thread_delete(s[1].tid), 0, "delete the middle sender");
    EXPECT(sys_thread_delete(s[0].tid), 0, "delete the first");
    EXPECT(sys_thread_delete(late.tid), 0, "delete the last");
    EXPECT(sys_thread_delete(s[2].tid), 0, "delete the one on CPU 1");
    EXPECT(sys_ipc(KM_NILTHREAD, sys_myself(), KM_IPC_RECV_NOWAIT, 0), -KM_EDEADLK,
           "receiving from oneself is refused, not a wait forever");
    EXPECT(sys_exregs(sink, KM_EXREGS_SET, 0x400000, 0x500000), -KM_EBUSY,
           "exregs SET of a thread never started");
    EXPECT(sys_thread_delete(sink), 0, "delete the receiver nobody reached");
    return tap_done("sched_check");
}
