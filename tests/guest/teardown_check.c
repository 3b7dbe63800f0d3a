/* teardown_check: deleting a task ends everything it held.
 *
 * A task with threads in every state (receiving, sending, inactive,
 * running, on another CPU), pages mapped into it, and a task it created
 * itself is deleted: every id it held is dead, threads of ours that waited
 * for its threads are told (-KM_ECANCELED), messages its threads were
 * sending are gone, and our own pages are intact.  Then 300 tasks with 4
 * threads each are created and deleted in turn, more than the kernel's
 * tables hold (kernel/include/kernel/task.h, thread.h), so slots must come
 * back; and 40 tasks run a function to its end.  Frames: after each part
 * the kernel's free frames plus the kernel pages held for our own task
 * (sys_kmem_info) are what they were before it; and the kernel compares
 * free frames before and after the whole program ("(leak)" on the
 * console, which tests/sh/l4.sh looks for).
 */
#include <user/l4.h>
#include <user/stdio.h>
#include <user/string.h>
#include <user/tap.h>

#define MARK_ID 0x5444 /* "TD" */
#define WAIT_YIELDS 100000
#define PAGE 4096ul
#define WIN 0x40000000ul
#define NPAGES 16

static km_tid me;
static struct km_sysinfo si;
static struct l4_pager pg;
static struct l4_thread pager_thr;

/* Free frames plus the kernel pages held for our own task: what our task
 * gains (threads of ours, page tables) comes out of the free frames, so
 * this stays constant unless something leaks.  Yields first, so that
 * threads deleted on other CPUs are reaped.  -KM_E* if it cannot tell. */
static long frames_baseline(void)
{
    struct km_kmem_info k;
    for (int i = 0; i < 100; i++)
        sys_yield();
    long r = sys_kmem_info(0, &k);
    if (r < 0)
        return r;
    km_u64 own = 0;
    for (int i = 0; i < KM_KMEM_NTYPES; i++)
        own += k.pages[i];
    return (long)(k.free_frames + own);
}

static void check_baseline(long before, const char *what)
{
    long after = frames_baseline();
    if (before < 0 || after < 0) {
        tap_ok(0, "%s: sys_kmem_info tells free frames (%s)", what,
               sys_errname(before < 0 ? before : after));
        return;
    }
    tap_ok(after == before, "%s: free frames + our kernel pages back to %ld (now %ld, %ld more)", what,
           before, after, after - before);
}

static km_u64 pages[NPAGES][PAGE / 8] __attribute__((aligned(NPAGES * PAGE)));

/* ---- the victim task ------------------------------------------------------ */

static struct l4_task victim;
static struct l4_thread sender_thr, spinner_thr, far_thr;
static volatile km_taskid grandchild;
static volatile km_tid grandchild_thread, inactive_thread;
static volatile long victim_stage;

/* The victim's first thread: makes a task of its own with a thread in it,
 * takes a mapping of our pages, then waits for a message that never comes. */
static long victim_main(void *arg)
{
    (void)arg;
    long r = sys_task_create();
    if (r > 0) {
        grandchild = (km_taskid)r;
        r = sys_thread_create(grandchild, sys_myself());
        if (r > 0)
            grandchild_thread = (km_tid)r;
    }
    r = sys_thread_create(0, pager_thr.tid);
    if (r > 0)
        inactive_thread = (km_tid)r;
    l4_set_acceptor(KM_FPAGE(WIN, 16, KM_RWX));
    r = l4_receive(me); /* the mapping */
    victim_stage = r == 0 ? 1 : r;
    for (unsigned i = 0; i < NPAGES; i++) /* touch every page: mapped, no faults */
        victim_stage += *(volatile km_u64 *)(WIN + i * PAGE) == i ? 0 : 100;
    l4_receive(me); /* never sent */
    return 0;
}

static void send_forever(void *arg)
{
    (void)arg;
    l4_set_mr(0, 0xdead);
    l4_send(me, l4_tag(0xdead, 1, 0)); /* we never receive it */
}

/* Reads one of our pages (by fault: in the image, our pager serves it). */
static long quick(void *arg)
{
    long c = (long)arg;
    return c + (long)pages[c % NPAGES][0];
}

static void spin(void *arg)
{
    (void)arg;
    for (;;)
        sys_yield();
}

/* Threads of ours waiting for the victim's threads. */
static struct l4_thread waiter_rcv, waiter_call;
static volatile long waiter_rcv_r = 1, waiter_call_r = 1;

static void wait_receive(void *arg)
{
    waiter_rcv_r = l4_receive(*(km_tid *)arg);
}

static void wait_call(void *arg)
{
    waiter_call_r = l4_call(*(km_tid *)arg, l4_tag(1, 0, 0));
}

static km_tid spinner_tid;

static void check_delete_everything(void)
{
    struct l4_thread_attr a = L4_THREAD_ATTR_INIT;
    a.pager = pager_thr.tid;
    for (unsigned i = 0; i < NPAGES; i++)
        pages[i][0] = i;
    long base = frames_baseline();

    long r = l4_task_start(&victim, &a, KM_NILTHREAD, victim_main, 0);
    if (!tap_ok(r == 0, "start a task (%s)", sys_errname(r)))
        return;
    a.task = victim.id;
    long r1 = l4_thread_start(&sender_thr, &a, send_forever, 0);
    long r2 = l4_thread_start(&spinner_thr, &a, spin, 0), r3 = 0;
    if (si.ncpus > 1) {
        a.cpu = 1;
        r3 = l4_thread_start(&far_thr, &a, spin, 0);
    }
    tap_ok(r1 == 0 && r2 == 0 && r3 == 0, "with a thread sending to us, one running%s (%s, %s, %s)",
           si.ncpus > 1 ? ", one on CPU 1" : "", sys_errname(r1), sys_errname(r2), sys_errname(r3));
    /* The mapping: 16 pages, one item. */
    l4_wait_state(victim.main.tid, KM_TSTATE_RECEIVING, WAIT_YIELDS);
    l4_put_map_item(0, 0, KM_FPAGE((km_u64)(unsigned long)pages, 16, KM_R | KM_W));
    r = l4_send(victim.main.tid, l4_tag(1, 0, 2));
    tap_ok(r == 0, "map it %d pages in one item (%s)", NPAGES, sys_errname(r));
    for (int i = 0; i < 1000 && victim_stage == 0; i++)
        sys_yield();
    tap_ok(victim_stage == 1, "it reads all %d pages (stage %ld)", NPAGES, victim_stage);
    tap_ok(grandchild != 0 && grandchild_thread != 0 && inactive_thread != 0,
           "it made a task of its own with a thread, and an inactive thread");
    tap_ok(l4_wait_state(sender_thr.tid, KM_TSTATE_SENDING, WAIT_YIELDS), "its sender blocks sending to us");

    spinner_tid = spinner_thr.tid;
    int ok = l4_thread_start(&waiter_rcv, 0, wait_receive, &spinner_tid) == 0 &&
         l4_thread_start(&waiter_call, 0, wait_call, &spinner_tid) == 0;
    tap_ok(ok && l4_wait_state(waiter_rcv.tid, KM_TSTATE_RECEIVING, WAIT_YIELDS) &&
               l4_wait_state(waiter_call.tid, KM_TSTATE_SENDING, WAIT_YIELDS),
           "two threads of ours wait for its running thread (receive, call)");

    struct km_kmem_info k;
    r = sys_kmem_info(victim.id, &k);
    tap_ok(r == 0 && k.pages[KM_KMEM_PAGETABLE] && k.pages[KM_KMEM_NODETABLE] &&
               k.pages[KM_KMEM_MAPNODE] && k.pages[KM_KMEM_TCB] && k.pages[KM_KMEM_UTCB],
           "sys_kmem_info: it holds page tables %lu, node tables %lu, mapping nodes %lu, TCB %lu, "
           "UTCB %lu pages (%s)", k.pages[0], k.pages[1], k.pages[2], k.pages[3], k.pages[4],
           sys_errname(r));

    EXPECT(l4_task_delete(&victim), 0, "delete the task");
    EXPECT(sys_kmem_info(victim.id, &k), -KM_ESRCH, "sys_kmem_info of it -> -KM_ESRCH");

    EXPECT(sys_task_delete(victim.id), -KM_ESRCH, "its id is dead (task_delete)");
    EXPECT(sys_thread_create(victim.id, me), -KM_ESRCH, "its id is dead (thread_create)");
    EXPECT(l4_thread_state(victim.main.tid), -KM_ESRCH, "its receiving thread is gone");
    EXPECT(l4_thread_state(sender_thr.tid), -KM_ESRCH, "its sending thread is gone");
    EXPECT(l4_thread_state(spinner_thr.tid), -KM_ESRCH, "its running thread is gone");
    if (si.ncpus > 1)
        EXPECT(l4_thread_state(far_thr.tid), -KM_ESRCH, "its thread on CPU 1 is gone");
    EXPECT(l4_thread_state(inactive_thread), -KM_ESRCH, "its inactive thread is gone");
    EXPECT(sys_thread_create(grandchild, me), -KM_ESRCH, "the task it created is gone");
    EXPECT(l4_thread_state(grandchild_thread), -KM_ESRCH, "and that task's thread");
    EXPECT(l4_receive_any_nowait(), -KM_ETIMEOUT, "the message its sender was sending is gone");
    l4_thread_join(&waiter_rcv);
    l4_thread_join(&waiter_call);
    tap_ok(waiter_rcv_r == -KM_ECANCELED, "our thread receiving from it got -KM_ECANCELED (%s)",
           sys_errname(waiter_rcv_r));
    tap_ok(waiter_call_r == -KM_ECANCELED, "our thread calling it got -KM_ECANCELED (%s)",
           sys_errname(waiter_call_r));
    ok = 1;
    for (unsigned i = 0; i < NPAGES; i++)
        ok &= pages[i][0] == i;
    tap_ok(ok, "our pages that it had mapped are intact");
    l4_thread_kill(&sender_thr); /* -KM_ESRCH by now; returns the pool stacks */
    l4_thread_kill(&spinner_thr);
    if (si.ncpus > 1)
        l4_thread_kill(&far_thr);
    check_baseline(base, "after the deletion");
}

/* ---- many tasks, one after another --------------------------------------- */

#define CYCLES 300
#define CYCLE_THREADS 4 /* 3 never started, 1 running */
#define RUNS 40

static struct l4_thread cyc_thr;

static void check_cycles(void)
{
    struct l4_thread_attr a = L4_THREAD_ATTR_INIT;
    a.pager = pager_thr.tid;
    int failed_at = -1;
    long why = 0;
    unsigned long threads = 0;
    long base = frames_baseline();
    for (int c = 0; c < CYCLES && failed_at < 0; c++) {
        long r = sys_task_create();
        if (r <= 0) {
            failed_at = c, why = r;
            break;
        }
        km_taskid task = (km_taskid)r;
        for (int k = 0; k < CYCLE_THREADS - 1 && r > 0; k++)
            if ((r = sys_thread_create(task, pager_thr.tid)) > 0)
                threads++;
        if (r > 0) {
            a.task = task; /* runs in, and faults its pages into, that task */
            r = l4_thread_start(&cyc_thr, &a, spin, 0);
            if (r == 0) {
                threads++;
                r = l4_wait_state(cyc_thr.tid, KM_TSTATE_RUNNABLE, 100) ? 0 : -KM_EBUSY;
            }
        }
        long d = sys_task_delete(task);
        if (r < 0 || d < 0)
            failed_at = c, why = r < 0 ? r : d;
        l4_thread_kill(&cyc_thr); /* -KM_ESRCH: gone with its task; returns the stack */
    }
    tap_ok(failed_at < 0, "create and delete %d tasks with %d threads each, one running (%lu threads)",
           CYCLES, CYCLE_THREADS, threads);
    if (failed_at >= 0)
        tap_diag("cycle %d failed: %s", failed_at, sys_errname(why));

    /* Tasks that run a function to its end, with faults served. */
    int good = 0;
    for (int c = 0; c < RUNS; c++) {
        long res = -1;
        if (l4_task_run(quick, (void *)(long)c, &res) == 0 && res == c + c % NPAGES)
            good++;
    }
    tap_ok(good == RUNS, "%d tasks ran a function to its end and were deleted (%d)", RUNS, good);
    check_baseline(base, "after those 340 tasks");
}

int main(void)
{
    sys_trace_marker(MARK_ID, 0);
    me = sys_myself();
    if (!tap_ok((long)me > 0 && sys_sysinfo(&si) == 0, "sys_myself returns a thread id (%s)",
                sys_errname((long)me)))
        return tap_done("teardown_check");
    l4_pager_init(&pg, KM_ANYTHREAD, KM_RWX);
    long r = l4_pager_thread_start(&pager_thr, 0, &pg);
    if (!tap_ok(r == 0, "start a pager thread (%s)", sys_errname(r)))
        return tap_done("teardown_check");

    check_delete_everything();
    check_cycles();
    sys_trace_marker(MARK_ID, 1);
    return tap_done("teardown_check");
}
