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

#define PAGE 4096ul
#define P1 0x0000500000000000ull

static char xpg[4][PAGE] __attribute__((aligned(PAGE)));
static char kpool[64][PAGE] __attribute__((aligned(PAGE)));
static km_tid me;
static struct l4_thread kp_thr, r_thr;
static volatile int kp_ready, kp_mapped, phase;
static volatile unsigned kp_faults, kp_next;
static volatile long unmap_r = 12345;

static void kp_fn(void *arg)
{
    (void)arg;
    l4_set_acceptor(KM_FPAGE(P1, 12, 0));
    kp_ready = 1;
    long r = l4_receive(me);
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
        unsigned n = (unsigned)l4_mr(1);
        km_u64 req[KM_KFAULT_MAX];
        for (unsigned i = 0; i < n && i < KM_KFAULT_MAX; i++)
            req[i] = l4_mr(2 + i);
        unsigned mr = 0;
        kp_faults++;
        if (phase == 1) {
            /* R's thread_create: orphan R's TCB, answer one page of two */
            phase = 2;
            unmap_r = sys_unmap(KM_FPAGE((km_u64)(unsigned long)xpg[0], 12, KM_RWX), 0);
            mr = l4_put_map_item(mr, KM_KREQ_ADDR(req[0]),
                                 KM_FPAGE((km_u64)(unsigned long)kpool[kp_next++ % 64], 12, KM_R | KM_W));
            tag = KM_TAG(0, 0, mr);
            continue;
        }
        for (unsigned i = 0; i < n && i < KM_KFAULT_MAX; i++) {
            km_u64 ks = KM_KREQ_ADDR(req[i]);
            unsigned type = KM_KREQ_TYPE(req[i]);
            km_u64 page = phase == 0 && type == KM_KMEM_TCB    ? P1
                          : phase == 0 && type == KM_KMEM_UTCB ? (km_u64)(unsigned long)xpg[1]
                                                               : (km_u64)(unsigned long)kpool[kp_next++ % 64];
            mr = l4_put_map_item(mr, ks, KM_FPAGE(page, 12, KM_R | KM_W));
        }
        tag = KM_TAG(0, 0, mr);
    }
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

    r = sys_thread_control(me, KM_TCTL_SET_KPAGER, kp_thr.tid);
    if (r == 0)
        r = l4_thread_start(&r_thr, &a, r_fn, 0);
    sys_thread_control(me, KM_TCTL_SET_KPAGER, KM_NILTHREAD);
    tap_ok(r == 0 && kp_faults > 0, "R made with its TCB page lent from P1 (%ld, %u kernel page faults)", r,
           kp_faults);
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
