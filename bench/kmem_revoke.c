/* kmem_revoke: the cost of revoking one kernel page of each type from the
 * kernel (its export) and of the client's next touch that needs it again
 * (its restore), with kmem=kpager.
 *
 * A client task touches one page in a fresh 1 GiB region; its page
 * directory, leaf page table and node table come from a kpager of this
 * program (one kernel page fault, all pages at once).  Then, for each type
 * in turn, a thread of the kpager's task unmaps the page it lent for that
 * type, timed (`export`: the system call, in which the kernel exports the
 * page: vacant for tables and node pages, whose mappings go; localised
 * for the node table, whose mappings stay: abi/kspace.h), and the client
 * touches the page again, timed (`restore`: user page fault, the pager's
 * answer, the kernel page fault for what is missing, the map).
 * Order: node table (its page needs nothing after the export: the restore
 * is the touch of the next page of the region, a user page fault whose
 * map brings the table back, reason RESTORE), leaf table (the table and
 * its node table, which went with it), page directory (all three), node
 * page (localised too: its mappings stay, and a touch needs nothing; the
 * restore is the client's next operation that needs the node of the page
 * it touched, timed in the client: an unmap of W from what derives from
 * it, whose node comes in with a kernel page fault for a FRESH node page,
 * made from what the kernel kept).  Variants nt, pt, pd, mn; metrics
 * export, restore.
 * TCB (variant tcb): a second thread of the client, made by the client
 * (so its TCB and UTCB pages come from the kpager), waits in a receive; its
 * export is the timed unmap of its TCB page (a safe point: the kernel
 * exports the TCB, as struct km_tcb_export, and the UTCB at once), its
 * restore the client's next call to it, timed in the client: the call
 * raises the kernel page fault of reason RESTORE, the kpager gives both
 * pages back, the kernel checks and imports them, the message goes and
 * the thread answers at once (so the figure includes one intra-task IPC
 * round trip).
 * Top-level table (variant pml4, last: it takes everything): the timed
 * unmap of the client's PML4 page (kspace 0), in which the kernel drops
 * every mapping of the client and gives all its tables back; restore is
 * the client's next touch timed from here, a whole call (its code, stack,
 * UTCB and the page all fault back in, each fault's tables in one kernel
 * page fault), so it includes one IPC round trip.  8 rounds: the tables
 * the kernel gives back by itself stay counted as lent by the kpager.
 * With kmem=pool there is nothing to revoke: the program says so.
 */
#include <abi/kspace.h>
#include <user/bench.h>
#include <user/kpager.h>
#include <user/l4.h>
#include <user/stdio.h>
#include <user/string.h>
#include <user/tsc.h>

#define ROUNDS 32
#define WIN 0x0000400000000000ull
#define POOL_PAGES 512
#define CMD_TOUCH 1
#define CMD_QUIT 2
#define CMD_SPAWN 3 /* start the client's second thread: MR0 its id */
#define CMD_CALL 4  /* call it: MR0 the cycles */
#define CMD_REDUCE 5 /* unmap W from what derives from page MR0: MR0 the cycles */
#define NTYPES 6
#define PML4_ROUNDS 8

static volatile char target[4096] __attribute__((aligned(4096)));
static char pool[POOL_PAGES][4096] __attribute__((aligned(4096)));
static struct kpager kp;
static struct l4_window_pager pager;
static km_i64 samples[NTYPES][2][ROUNDS]; /* type, export/restore, round */
static const char *const types[NTYPES] = {"nt", "pt", "pd", "mn", "tcb", "pml4"};
static struct l4_thread echo_thr; /* the client's second thread */
static long echo_cpu;

/* The client's second thread: answers every message at once. */
static void echo(void *arg)
{
    (void)arg;
    long r = l4_receive_any();
    for (;;)
        r = r < 0 ? l4_receive_any() : l4_reply_and_wait(l4_sender(), KM_TAG(0, 0, 0));
}

/* The client: touches the address it is sent, or calls its second thread,
 * and answers with the cycles. */
static long client(void *arg)
{
    (void)arg;
    km_tid boss = KM_NILTHREAD;
    long r = l4_receive_any();
    for (;;) {
        if (r < 0)
            return r;
        boss = l4_sender();
        km_u64 label = l4_label(), t0, t1;
        if (label == CMD_TOUCH) {
            volatile char *p = (volatile char *)(unsigned long)l4_mr(0);
            t0 = tsc_begin();
            *p = 1;
            t1 = tsc_end();
            l4_set_mr(0, t1 - t0);
        } else if (label == CMD_SPAWN) { /* made by a thread with a kpager: TCB from it */
            struct l4_thread_attr a = L4_THREAD_ATTR_INIT;
            a.cpu = echo_cpu;
            long e = l4_thread_start(&echo_thr, &a, echo, 0);
            l4_set_mr(0, e < 0 ? (km_u64)e : echo_thr.tid);
        } else if (label == CMD_REDUCE) {
            km_u64 page = l4_mr(0) & ~4095ull;
            t0 = tsc_begin();
            long e = sys_unmap(KM_FPAGE(page, 12, KM_W), 0);
            t1 = tsc_end();
            l4_set_mr(0, e < 0 ? (km_u64)e : t1 - t0);
        } else if (label == CMD_CALL) {
            t0 = tsc_begin();
            long e = l4_call(echo_thr.tid, KM_TAG(0, 0, 0));
            t1 = tsc_end();
            l4_set_mr(0, e < 0 ? (km_u64)e : t1 - t0);
        } else {
            return 0;
        }
        r = l4_ipc(boss, boss, 0, KM_TAG(0, 1, 0));
    }
}

static km_u64 target_page(km_u64 addr, void *arg)
{
    (void)addr, (void)arg;
    return (km_u64)(unsigned long)target;
}

static long touch(km_tid c, km_u64 addr, km_i64 *cycles)
{
    l4_set_mr(0, addr);
    long r = l4_call(c, KM_TAG(CMD_TOUCH, 1, 0));
    *cycles = (km_i64)l4_mr(0);
    return r;
}

/* The client's call to its second thread, timed there. */
static long call_echo(km_tid c, km_i64 *cycles)
{
    long r = l4_call(c, KM_TAG(CMD_CALL, 0, 0));
    if (r == 0 && (km_i64)l4_mr(0) < 0)
        r = (long)l4_mr(0);
    *cycles = (km_i64)l4_mr(0);
    return r;
}

/* The page lent for the client's node page with the highest kspace
 * address (the one new nodes come from), or -1. */
static int newest_node_page(km_taskid task)
{
    int best = -1;
    for (unsigned i = 0; i < kp.npages; i++)
        if (kp.page[i].state == KPAGE_LENT && kp.page[i].task == task &&
            km_ks_type(kp.page[i].ksaddr) == KM_KMEM_MAPNODE &&
            (best < 0 || kp.page[i].ksaddr > kp.page[best].ksaddr))
            best = (int)i;
    return best;
}

static long unmapped; /* pages the last export's unmap took back */

/* Export (timed unmap) of the page lent for ksaddr (idx < 0: find it). */
static long export_page(km_taskid task, km_u64 ksaddr, int idx, km_i64 *cycles)
{
    if (idx < 0)
        idx = kpager_find(&kp, task, ksaddr);
    if (idx < 0)
        return -KM_ESRCH;
    km_u64 page = kpager_page(&kp, (unsigned)idx);
    km_u64 t0 = tsc_begin();
    long r = sys_unmap(KM_FPAGE(page, 12, KM_RWX), 0);
    km_u64 t1 = tsc_end();
    if (r < 0)
        return r;
    unmapped = r;
    kpager_returned(&kp, (unsigned)idx);
    *cycles = (km_i64)(t1 - t0);
    return 0;
}

static long round_of(km_tid c, km_taskid task, int i)
{
    km_u64 va = WIN + ((km_u64)i << 30);
    km_i64 cyc;
    long r = touch(c, va, &cyc); /* the region's tables come */
    const km_u64 ks[3] = {KM_KS_NT_OF(va), KM_KS_PT_OF(va), KM_KS_PD_OF(va)};
    for (int t = 0; r == 0 && t < 4; t++) {
        r = t < 3 ? export_page(task, ks[t], -1, &samples[t][0][i])
                  : export_page(task, 0, newest_node_page(task), &samples[t][0][i]);
        /* A node table's mappings stay: va needs nothing; a new page of
         * the region needs the table back (RESTORE).  A node page's too:
         * the unmap needs va's node, which comes in. */
        unsigned long kfaults = kp.kfaults;
        if (r == 0 && t == 3) {
            l4_set_mr(0, va);
            r = l4_call(c, KM_TAG(CMD_REDUCE, 1, 0));
            samples[t][1][i] = (km_i64)l4_mr(0);
            if (r == 0 && (samples[t][1][i] < 0 || kp.kfaults != kfaults + 1)) {
                printf("kmem_revoke: round %d: the node's return took %lu kernel page faults (%ld)\n", i,
                       kp.kfaults - kfaults, (long)samples[t][1][i]);
                r = -KM_EINVAL;
            }
        } else if (r == 0) {
            r = touch(c, t == 0 ? va + 4096 : va, &samples[t][1][i]);
        }
    }
    return r;
}

/* The second thread waits in its receive: its TCB goes out at once (the
 * kpager then holds both its pages), and the client's call brings it
 * back.  (After the other types' rounds, which it would change: its
 * stack's mappings would be among those of the node page.) */
static long tcb_round(km_tid c, km_taskid task, int i)
{
    unsigned long restores = kp.restores;
    struct km_kmem_info k0, k1;
    long r = sys_kmem_info(task, &k0);
    if (r == 0)
        r = export_page(task, KM_KS_TCB_OF(KM_ID_NUMBER(echo_thr.tid)), -1, &samples[4][0][i]);
    if (r == 0)
        r = sys_kmem_info(task, &k1);
    if (r == 0 && (unmapped != 1 || kpager_held(&kp) != 2 || k1.pages[KM_KMEM_TCB] != k0.pages[KM_KMEM_TCB] - 1 ||
                   k1.pages[KM_KMEM_UTCB] != k0.pages[KM_KMEM_UTCB] - 1)) {
        printf("kmem_revoke: round %d: the TCB's unmap took back %ld pages, the kpager holds %u, the "
               "task's TCB and UTCB pages %lu -> %lu, %lu -> %lu (its TCB and UTCB exported at once)\n",
               i, unmapped, kpager_held(&kp), (unsigned long)k0.pages[KM_KMEM_TCB],
               (unsigned long)k1.pages[KM_KMEM_TCB], (unsigned long)k0.pages[KM_KMEM_UTCB],
               (unsigned long)k1.pages[KM_KMEM_UTCB]);
        r = -KM_EINVAL;
    }
    if (r == 0)
        r = call_echo(c, &samples[4][1][i]);
    if (r == 0 && kp.restores != restores + 1) {
        printf("kmem_revoke: round %d: %lu restores for one call (1: its TCB and UTCB at once)\n", i,
               kp.restores - restores);
        r = -KM_EINVAL;
    }
    return r;
}

/* The client's whole space goes with its top-level table; its next
 * touch (a call from here, timed here) brings back what it needs. */
static long pml4_round(km_tid c, km_taskid task, int i)
{
    km_i64 inner;
    long r = export_page(task, KM_KS_PML4, -1, &samples[5][0][i]);
    struct km_kmem_info k;
    if (r == 0)
        r = sys_kmem_info(task, &k);
    /* (Node tables may stay counted: pages supplied ahead for one, unused.) */
    if (r == 0 && k.pages[KM_KMEM_PAGETABLE] != 0) {
        printf("kmem_revoke: round %d: after its top-level table the client holds %lu table pages "
               "(0: all went with it)\n", i, (unsigned long)k.pages[KM_KMEM_PAGETABLE]);
        r = -KM_EINVAL;
    }
    km_u64 t0 = tsc_begin();
    if (r == 0)
        r = touch(c, WIN + ((km_u64)i << 30), &inner);
    km_u64 t1 = tsc_end();
    samples[5][1][i] = (km_i64)(t1 - t0);
    return r;
}

int main(void)
{
    struct km_sysinfo si;
    struct l4_thread pager_thr, kp_thr;
    static struct l4_task task;
    km_tid me = sys_myself();
    if ((long)me < 0 || sys_sysinfo(&si) < 0)
        return 1;
    kpager_init(&kp, pool, POOL_PAGES, KM_KFAULT_MAX, 0);
    l4_window_pager_init(&pager, WIN, WIN + (1ull << 40), target_page, 0);
    target[0] = 0;
    km_i64 ovh = bench_empty_overhead();
    struct l4_thread_attr a = L4_THREAD_ATTR_INIT;
    a.cpu = si.cpu;
    long r = l4_window_pager_start(&pager_thr, &a, &pager);
    if (r == 0)
        r = kpager_thread_start(&kp_thr, &a, &kp);
    a.pager = pager_thr.tid;
    /* Made with the kpager set here, so that all the client's kernel
     * pages (its top-level table and first TCB too) come from it. */
    if (r == 0)
        r = sys_thread_control(me, KM_TCTL_SET_KPAGER, kp_thr.tid);
    if (r == 0)
        r = l4_task_start(&task, &a, me, client, 0);
    sys_thread_control(me, KM_TCTL_SET_KPAGER, KM_NILTHREAD);
    if (r == 0)
        r = sys_thread_control(task.main.tid, KM_TCTL_SET_KPAGER, kp_thr.tid);
    if (r < 0) {
        printf("kmem_revoke: setup: %s\n", sys_errname(r));
        return 1;
    }
    int errors = bench_mark(BENCH_MARK_BEGIN, 1) < 0;
    km_i64 warm;
    r = touch(task.main.tid, WIN + ((km_u64)(ROUNDS + 1) << 30), &warm); /* code, stack, node page */
    for (int i = 0; r == 0 && i < ROUNDS; i++)
        r = round_of(task.main.tid, task.id, i);
    echo_cpu = si.cpu;
    if (r == 0) {
        r = l4_call(task.main.tid, KM_TAG(CMD_SPAWN, 0, 0));
        if (r == 0 && (long)l4_mr(0) < 0)
            r = (long)l4_mr(0);
    }
    if (r == 0)
        r = call_echo(task.main.tid, &warm); /* its first faults */
    for (int i = 0; r == 0 && i < ROUNDS; i++)
        r = tcb_round(task.main.tid, task.id, i);
    for (int i = 0; r == 0 && i < PML4_ROUNDS; i++)
        r = pml4_round(task.main.tid, task.id, i);
    l4_set_mr(0, 0);
    l4_send(task.main.tid, KM_TAG(CMD_QUIT, 0, 0));
    l4_receive(task.main.tid);
    l4_task_delete(&task);
    if (r == -KM_ESRCH && kp.kfaults == 0) {
        printf("kmem_revoke: kmem=pool: no page is lent, nothing to revoke\n");
    } else if (r < 0) {
        printf("kmem_revoke: %s\n", sys_errname(r));
        errors++;
    } else {
        struct km_bench_desc d;
        for (int t = 0; t < NTYPES; t++) {
            int n = t == 5 ? PML4_ROUNDS : ROUNDS;
            bench_desc(&d, "kmem_revoke", types[t], "export", "cycles", ovh);
            errors += bench_finish(&d, samples[t][0], n) < 0;
            bench_desc(&d, "kmem_revoke", types[t], "restore", "cycles", ovh);
            errors += bench_finish(&d, samples[t][1], n) < 0;
        }
    }
    errors += bench_mark(BENCH_MARK_END, 1) < 0;
    kpager_revoke(kp_thr.tid, 0, 0, KM_KS_END);
    return errors != 0;
}
