/* kpager_check: kernel memory supplied, revoked and restored by user-level
 * kpagers (abi/kspace.h), and the invariants of ../shared/DESIGN.md §4.
 *
 * Run twice by tests/sh/kpager.sh: with kmem=kpager every part runs; with
 * kmem=pool the program checks that its kpagers are never asked (invariant
 * 6) and skips the rest (it says so).
 *
 *  1. supply and accounting (inv. 5): first touches of fresh regions make
 *     the client's kernel pages grow by exactly the pages its kpager lent;
 *     the requests come in hierarchy order with the right types;
 *     a kpager's quota bounds a task's kernel memory;
 *  2. revocation, client unaware (inv. 3): a client keeps calling an echo
 *     server and writing and checking its memory while its kernel pages
 *     (page tables, node tables, node pages) are revoked in a loop;
 *  3. exported pages (inv. 1): every page revoked comes back all zero, so
 *     it holds no physical address, kernel pointer or other task's data;
 *  4. a malicious kpager (inv. 2, 4), seeded rounds: garbage items, wrong
 *     addresses, pages not its own or read-only, one frame twice, random
 *     bytes in the pages it lends, revocation in the middle of the
 *     client's work, no answer at all; a sentinel task with its own kpager
 *     checks its memory and IPC all along; the client sees only a failed
 *     fault (an exception message), never another task's state;
 *  5. deadlock (inv. 4): a pager that is its client's kpager; two kpagers
 *     each waiting for the other; a kpager that faults while serving, to
 *     the pager waiting for it.  They end with -KM_EDEADLK (the other side
 *     of each told), nothing hangs, the sentinel goes on.
 */
#include <abi/kspace.h>
#include <user/kpager.h>
#include <user/l4.h>
#include <user/stdio.h>
#include <user/string.h>
#include <user/tap.h>

#define PAGE 4096ul
#define BK_PAGES 64               /* the clients' memory: backing pages */
#define REGION 0x0000300000000000ull /* fresh 1 GiB regions from here */
#define SENT_REGION 0x0000380000000000ull
#define POOL 1024
#define ROUNDS 24                 /* malicious kpager rounds */

static km_tid me;
static struct km_sysinfo si;
static struct l4_thread pager_thr, kp_thr, echo_thr;
static char bk[BK_PAGES][PAGE] __attribute__((aligned(PAGE)));
static char sent_bk[8][PAGE] __attribute__((aligned(PAGE)));
static char pool[POOL][PAGE] __attribute__((aligned(PAGE)));
static struct kpager kp;
static int kpager_mode;
static unsigned long rng = 1;

static unsigned long rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* ---- the pager of every client: backing pages, and the image ---------- */

static struct l4_window_pager pager;

/* REGION + i * 2 MiB + j * 4 KiB -> bk[(i * 8 + j) % BK_PAGES]; the
 * sentinel's region -> sent_bk. */
static km_u64 backing(km_u64 a, void *arg)
{
    (void)arg;
    if (a >= SENT_REGION)
        return (km_u64)(unsigned long)sent_bk[(a - SENT_REGION) / PAGE];
    km_u64 off = a - REGION;
    return (km_u64)(unsigned long)bk[((off >> 21) * 8 + ((off >> 12) & 511)) % BK_PAGES];
}

/* An echo server: replies MR0 + 1. */
static void echo(void *arg)
{
    (void)arg;
    long r = l4_receive_any();
    for (;;) {
        if (r < 0) {
            r = l4_receive_any();
            continue;
        }
        l4_set_mr(0, l4_mr(0) + 1);
        r = l4_reply_and_wait(l4_sender(), KM_TAG(0, 1, 0));
    }
}

/* Starts fn in a new task with our pager and kpager `kpager` (nil: the
 * pool).  The task's first faults (code, stack) are served before the
 * kpager is set, from the pool; the test parts touch fresh regions after. */
static long start(struct l4_task *t, long (*fn)(void *), void *arg, km_tid kpager)
{
    struct l4_thread_attr a = L4_THREAD_ATTR_INIT;
    a.pager = pager_thr.tid;
    a.cpu = si.cpu;
    long r = l4_task_start(t, &a, me, fn, arg);
    if (r == 0 && kpager != KM_NILTHREAD)
        r = sys_thread_control(t->main.tid, KM_TCTL_SET_KPAGER, kpager);
    return r;
}

/* Waits for the task's DONE message; its result, or -KM_E*. */
static long finish(struct l4_task *t)
{
    long r = l4_receive(t->main.tid);
    if (r == 0)
        r = l4_label() == L4_LABEL_DONE ? (long)l4_mr(0) : -KM_EINVAL;
    l4_task_delete(t);
    return r;
}

static km_u64 kpages(km_taskid task)
{
    struct km_kmem_info k;
    if (sys_kmem_info(task, &k) < 0)
        return ~0ull;
    km_u64 n = 0;
    for (int i = 0; i < KM_KMEM_NTYPES; i++)
        n += k.pages[i];
    return n;
}

static unsigned lent_to(const struct kpager *k, km_taskid task)
{
    unsigned n = 0;
    for (unsigned i = 0; i < k->npages; i++)
        n += k->page[i].state == KPAGE_LENT && k->page[i].task == task;
    return n;
}

/* ---- clients ------------------------------------------------------------ */

static volatile int go, stop_flag;
static volatile long client_rounds, client_errors;

/* Touches one page in each of n fresh 1 GiB regions (from `first`). */
static long touch_fresh(void *arg)
{
    unsigned long first = (unsigned long)arg;
    while (!go)
        sys_yield();
    for (unsigned long i = first; i < first + 4; i++)
        *(volatile char *)(unsigned long)(REGION + (i << 30)) = 1;
    return 0;
}

/* Writes and checks a pattern over 4 regions x 4 pages and calls the echo
 * server, until stop_flag; counts rounds and errors. */
static long worker(void *arg)
{
    km_u64 base = (km_u64)(unsigned long)arg;
    unsigned long round = 0;
    while (!stop_flag) {
        round++;
        for (int g = 0; g < 4; g++)
            for (int p = 0; p < 4; p++) {
                volatile km_u64 *w = (volatile km_u64 *)(unsigned long)(base + ((km_u64)g << 21) + (km_u64)p * PAGE + 8 * (unsigned)g);
                *w = round * 131 + (unsigned)(g * 4 + p);
            }
        for (int g = 0; g < 4; g++)
            for (int p = 0; p < 4; p++) {
                volatile km_u64 *w = (volatile km_u64 *)(unsigned long)(base + ((km_u64)g << 21) + (km_u64)p * PAGE + 8 * (unsigned)g);
                if (*w != round * 131 + (unsigned)(g * 4 + p))
                    client_errors++;
            }
        l4_set_mr(0, round);
        long rr = l4_call(echo_thr.tid, KM_TAG(1, 1, 0));
        if (rr < 0 || l4_mr(0) != round + 1)
            client_errors++;
        client_rounds = (long)round;
    }
    return 0;
}

/* ---- the sentinel: its own kpager, its own memory ---------------------- */

static struct kpager sent_kp;
static char sent_pool[64][PAGE] __attribute__((aligned(PAGE)));
static struct l4_thread sent_kp_thr;
static struct l4_task sentinel;
static volatile long sent_rounds, sent_errors;
static volatile int sent_stop;

static long sentinel_fn(void *arg)
{
    (void)arg;
    unsigned long round = 0;
    while (!sent_stop) {
        round++;
        for (int p = 0; p < 8; p++)
            *(volatile km_u64 *)(unsigned long)(SENT_REGION + (km_u64)p * PAGE + 64) = round ^ (unsigned)p;
        for (int p = 0; p < 8; p++)
            if (*(volatile km_u64 *)(unsigned long)(SENT_REGION + (km_u64)p * PAGE + 64) != (round ^ (unsigned)p))
                sent_errors++;
        l4_set_mr(0, round);
        if (l4_call(echo_thr.tid, KM_TAG(1, 1, 0)) < 0 || l4_mr(0) != round + 1)
            sent_errors++;
        sent_rounds = (long)round;
        sys_yield();
    }
    return 0;
}

/* ---- part 1: supply and accounting --------------------------------------- */

static void part_supply(void)
{
    static struct l4_task t;
    go = 0;
    unsigned long kf0 = kp.kfaults;
    if (start(&t, touch_fresh, (void *)0ul, kp_thr.tid) < 0) {
        tap_ok(0, "supply: client started");
        return;
    }
    km_u64 before = kpages(t.id);
    unsigned lent0 = lent_to(&kp, t.id);
    go = 1;
    while (!t.done && l4_thread_state(t.main.tid) >= 0 && kp.kfaults - kf0 < 64)
        sys_yield();
    /* The client has returned and waits to send DONE: count before it goes. */
    l4_wait_state(t.main.tid, KM_TSTATE_SENDING, 100000);
    km_u64 after = kpages(t.id);
    unsigned lent1 = lent_to(&kp, t.id);
    if (kp.kfaults == kf0) { /* kmem=pool */
        tap_ok(after > before, "pool: the client's kernel pages grew (%lu) and no kernel page fault was "
               "sent to its kpager (inv. 6)", (unsigned long)(after - before));
        tap_ok(finish(&t) == 0, "pool: the client ran to its end");
        return;
    }
    tap_ok(kp.kfaults > kf0, "supply: fresh 1 GiB regions raised kernel page faults (%lu)", kp.kfaults - kf0);
    tap_ok(after - before == lent1 - lent0,
           "supply: the client's kernel pages grew by exactly the pages its kpager lent (%lu, %u)",
           (unsigned long)(after - before), lent1 - lent0);
    tap_ok(lent1 - lent0 >= 4 * 3, "supply: at least 3 pages per fresh 1 GiB region (%u for 4)", lent1 - lent0);
    int order = 1, types = 1;
    for (unsigned i = 1; i < kp.last_n; i++)
        order &= KM_KREQ_ADDR(kp.last_req[i]) > KM_KREQ_ADDR(kp.last_req[i - 1]);
    for (unsigned i = 0; i < kp.last_n; i++)
        types &= (int)KM_KREQ_TYPE(kp.last_req[i]) == km_ks_type(KM_KREQ_ADDR(kp.last_req[i])) &&
                 KM_KREQ_REASON(kp.last_req[i]) == KM_KREASON_FRESH;
    tap_ok(kp.last_n >= 1 && order, "supply: requests in hierarchy order (last fault: %u)", kp.last_n);
    tap_ok(types, "supply: each request names its kspace range's type, reason fresh");
    tap_ok(finish(&t) == 0, "supply: the client ran to its end");
    tap_ok(lent_to(&kp, t.id) == 0 || kpager_revoke(kp_thr.tid, t.id, 0, KM_KS_END) >= 0,
           "supply: pages of the gone task can be taken back");
}

/* ---- quota: the kpager controls each task's kernel memory -------------- */

static struct kpager quota_kp;
static char quota_pool[32][PAGE] __attribute__((aligned(PAGE)));
static struct l4_thread quota_thr;
static volatile long quota_reached = -1;

/* Touches one page in each of 8 fresh 1 GiB regions; quota_reached: how
 * many it got before its kernel memory ran out. */
static volatile int quota_go;

static long quota_client(void *arg)
{
    (void)arg;
    while (!quota_go)
        sys_yield();
    for (long i = 0; i < 8; i++) {
        quota_reached = i;
        *(volatile char *)(unsigned long)(REGION + ((500ull + (km_u64)i) << 30)) = 1;
    }
    quota_reached = 8;
    return 0;
}

static void part_quota(void)
{
    static struct l4_task t;
    kpager_init(&quota_kp, quota_pool, 32, KM_KFAULT_MAX, 0);
    quota_go = 0;
    struct l4_thread_attr a = L4_THREAD_ATTR_INIT;
    a.cpu = si.cpu;
    long r = kpager_thread_start(&quota_thr, &a, &quota_kp);
    if (r == 0)
        r = start(&t, quota_client, 0, quota_thr.tid);
    /* Its code and stack came first; then 7 pages more: a fresh 1 GiB
     * region takes 3 (a page directory, a leaf table, a node table), so
     * the third region finds the quota reached. */
    l4_wait_state(t.main.tid, KM_TSTATE_RUNNABLE, 1000);
    for (int y = 0; y < 200; y++)
        sys_yield();
    unsigned base = lent_to(&quota_kp, t.id);
    quota_kp.quota = base + 7;
    quota_go = 1;
    for (int y = 0; y < 20000 && !t.done && l4_thread_state(t.main.tid) >= 0 &&
                    l4_thread_state(t.main.tid) != KM_TSTATE_DEAD; y++)
        sys_yield();
    unsigned held = lent_to(&quota_kp, t.id);
    tap_ok(r == 0 && quota_reached == 2 && quota_kp.refused > 0,
           "quota: 7 pages more than its start took: the client gets 2 fresh 1 GiB regions, the "
           "third fault is refused (got %ld, %lu refused)", quota_reached, quota_kp.refused);
    tap_ok(held <= base + 7, "quota: the client never held more than its quota (%u of %u)", held, base + 7);
    l4_task_delete(&t);
    l4_thread_kill(&quota_thr);
}

/* ---- parts 2 and 3: revocation loop, exported pages ---------------------- */

static int all_zero(const void *p)
{
    const km_u64 *w = p;
    for (unsigned i = 0; i < PAGE / 8; i++)
        if (w[i])
            return 0;
    return 1;
}

static void part_revoke(void)
{
    static struct l4_task t;
    stop_flag = 0;
    client_rounds = client_errors = 0;
    unsigned long faults0 = pager.faults;
    if (start(&t, worker, (void *)(unsigned long)(REGION + (64ull << 30)), kp_thr.tid) < 0) {
        tap_ok(0, "revoke: client started");
        return;
    }
    long revoked = 0, zero = 0, checked = 0, last = 0;
    for (int i = 0; i < 40; i++) {
        for (int y = 0; y < 100000 && client_rounds == last && l4_thread_state(t.main.tid) >= 0; y++) {
            sys_yield();
        }
        if (client_rounds == last) {
            tap_diag("revoke: the client makes no progress (state %ld)", l4_thread_state(t.main.tid));
            break;
        }
        last = client_rounds;
        /* which pages are lent to the client now: check them once back */
        unsigned char was[POOL];
        for (unsigned p = 0; p < kp.npages; p++)
            was[p] = kp.page[p].state == KPAGE_LENT && kp.page[p].task == t.id;
        long n = kpager_revoke(kp_thr.tid, t.id, 0, KM_KS_END);
        if (n < 0)
            break;
        revoked += n;
        for (unsigned p = 0; p < kp.npages; p++)
            if (was[p] && kp.page[p].state == KPAGE_FREE) {
                checked++;
                zero += all_zero(pool[p]);
            }
    }
    long rounds = client_rounds;
    stop_flag = 1;
    for (int y = 0; y < 100000 && !t.done; y++)
        sys_yield();
    long r = t.done ? finish(&t) : (l4_task_delete(&t), -KM_ETIMEOUT);
    tap_ok(r == 0, "revoke: the client ran to its end (%s)", sys_errname(r));
    tap_ok(revoked >= 40, "revoke: %ld kernel pages revoked in 40 rounds", revoked);
    tap_ok(rounds >= 40 && client_errors == 0,
           "revoke: the client saw its memory and its IPC intact (%ld rounds, %ld errors)", rounds,
           client_errors);
    tap_ok(pager.faults - faults0 > 40 * 4,
           "revoke: its mappings were rebuilt by user-level page faults (%lu faults)",
           pager.faults - faults0);
    tap_ok(checked > 0 && zero == checked,
           "export: every revoked page came back all zero (%ld of %ld): no physical address, no kernel pointer",
           zero, checked);
}

/* ---- part 4: a malicious kpager ----------------------------------------- */

enum evil { EVIL_GARBAGE, EVIL_NOT_OURS, EVIL_READONLY, EVIL_TWICE, EVIL_RANDOM_BYTES,
            EVIL_WRONG_ADDR, EVIL_REVOKE_MIDWAY, EVIL_SILENT, EVIL_N };
static const char *const evil_names[] = {"garbage items", "pages not its own", "read-only pages",
    "one frame twice", "random bytes in its pages", "wrong kspace addresses",
    "revocation mid-operation", "no answer"};
static unsigned evil_done[EVIL_N], evil_told[EVIL_N];

static char evil_pool[64][PAGE] __attribute__((aligned(PAGE)));
static const char ro_page[PAGE] __attribute__((aligned(PAGE))) = {1};
static volatile enum evil mode;
static struct l4_thread evil_thr;
static volatile unsigned long evil_kfaults;

static void evil_kpager(void *arg)
{
    (void)arg;
    unsigned next = 0;
    for (;;) {
        if (l4_receive_any() < 0 || l4_label() != KM_LABEL_KFAULT)
            continue;
        evil_kfaults++;
        km_tid from = l4_sender();
        km_u64 req = l4_mr(2);
        unsigned mr = 0;
        km_u64 page = (km_u64)(unsigned long)evil_pool[next++ % 64];
        switch (mode) {
        case EVIL_GARBAGE:
            for (int i = 0; i < 4; i++)
                mr = l4_put_map_item(mr, rnd(), rnd());
            break;
        case EVIL_NOT_OURS: /* an address where it has nothing */
            mr = l4_put_map_item(mr, KM_KREQ_ADDR(req), KM_FPAGE(0x5000000000ull + (rnd() & 0xfff000), 12, KM_RWX));
            break;
        case EVIL_READONLY:
            mr = l4_put_map_item(mr, KM_KREQ_ADDR(req), KM_FPAGE((km_u64)(unsigned long)ro_page, 12, KM_R));
            break;
        case EVIL_TWICE:
            mr = l4_put_map_item(mr, KM_KREQ_ADDR(req), KM_FPAGE(page, 12, KM_RWX));
            mr = l4_put_map_item(mr, l4_mr(1) > 1 ? KM_KREQ_ADDR(l4_mr(3)) : KM_KREQ_ADDR(req) + PAGE,
                                 KM_FPAGE(page, 12, KM_RWX));
            break;
        case EVIL_RANDOM_BYTES:
            for (unsigned i = 0; i < PAGE / 8; i++)
                ((volatile km_u64 *)(unsigned long)page)[i] = rnd();
            mr = l4_put_map_item(mr, KM_KREQ_ADDR(req), KM_FPAGE(page, 12, KM_RWX));
            break;
        case EVIL_WRONG_ADDR: /* a page for another type's range */
            mr = l4_put_map_item(mr, KM_KREQ_ADDR(req) ^ 0x4000000000ull, KM_FPAGE(page, 12, KM_RWX));
            break;
        case EVIL_REVOKE_MIDWAY:
            mr = l4_put_map_item(mr, KM_KREQ_ADDR(req), KM_FPAGE(page, 12, KM_RWX));
            break;
        case EVIL_SILENT:
        case EVIL_N:
            continue; /* never answers */
        }
        sys_ipc(from, KM_NILTHREAD, KM_IPC_SEND_NOWAIT, KM_TAG(0, 0, mr));
        if (mode == EVIL_REVOKE_MIDWAY) /* take it back before the client is done */
            sys_unmap(KM_FPAGE(page, 12, KM_RWX), 0);
    }
}

static long evil_client(void *arg)
{
    unsigned long i = (unsigned long)arg;
    *(volatile char *)(unsigned long)(REGION + ((128 + i) << 30)) = 1;
    return 0;
}

static void part_malicious(void)
{
    static struct l4_task t;
    unsigned long seed = si.tsc_hz ^ 0x9e3779b97f4a7c15ul;
    rng = seed | 1;
    tap_diag("malicious kpager: %d rounds, seed %lu", ROUNDS, seed);
    int bad = 0, told = 0, done = 0;
    long s0 = sent_rounds;
    for (int i = 0; i < ROUNDS; i++) {
        mode = (enum evil)(i < EVIL_N ? (unsigned long)i : rnd() % EVIL_N);
        if (start(&t, evil_client, (void *)(unsigned long)i, evil_thr.tid) < 0) {
            bad++;
            continue;
        }
        /* The client either finishes (the kpager's pages were usable), or
         * its fault fails (an exception message to its pager: the task is
         * then deleted here), or it waits for ever (silent: deleted). */
        for (int y = 0; y < 20000 && !t.done && l4_thread_state(t.main.tid) >= 0; y++)
            sys_yield();
        if (t.done) {
            done++;
            evil_done[mode]++;
            l4_receive(t.main.tid);
        } else {
            told++;
            evil_told[mode]++;
        }
        l4_task_delete(&t);
        if (sent_errors)
            bad++;
    }
    for (int m = 0; m < EVIL_N; m++)
        tap_diag("malicious kpager: %-26s client done %u, fault failed %u", evil_names[m], evil_done[m],
                 evil_told[m]);
    tap_ok(bad == 0, "malicious kpager: %d rounds, the kernel survived, no task failed to start", ROUNDS);
    tap_ok(done > 0 && told > 0, "malicious kpager: usable pages served (%d), unusable ones failed only "
           "the client's fault (%d)", done, told);
    tap_ok(sent_errors == 0 && sent_rounds > s0,
           "malicious kpager: the sentinel's memory and IPC stayed intact (%ld rounds, %ld errors)",
           sent_rounds - s0, sent_errors);
}

/* ---- part 5: deadlocks --------------------------------------------------- */

static volatile long dl_reply_result, dl_exception_error;
static struct l4_thread dl_thr;

/* Pager and kpager of its client at once: its map reply needs kernel pages
 * only it could give. */
static void dl_pager(void *arg)
{
    (void)arg;
    dl_reply_result = 1;
    if (l4_receive_any() < 0 || !l4_is_pagefault())
        return;
    km_tid c = l4_sender();
    km_u64 a = l4_mr(0) & ~0xfffull;
    l4_put_map_item(0, a, KM_FPAGE((km_u64)(unsigned long)bk[0], 12, KM_R | KM_W));
    dl_reply_result = sys_ipc(c, KM_NILTHREAD, KM_IPC_SEND_NOWAIT, KM_TAG(0, 0, 2));
    if (l4_receive(c) == 0 && l4_label() == KM_LABEL_EXCEPTION && l4_mr(0) == 14)
        dl_exception_error = (long)(l4_mr(1) >> 32);
}

static long dl_client(void *arg)
{
    (void)arg;
    *(volatile char *)(unsigned long)(REGION + (200ull << 30)) = 1;
    return 0;
}

/* Two kpagers, each mapping into a client whose kpager is the other. */
static struct l4_thread k1, k2, c1, c2;
static volatile long k1_result = 1, k2_result = 1, c1_result = 1, c2_result = 1;
static volatile int k1_go, k2_go;
static char k_pool[2][16][PAGE] __attribute__((aligned(PAGE)));

static void kp_pair(void *arg)
{
    long which = (long)arg; /* 1 or 2 */
    struct l4_thread *client = which == 1 ? &c1 : &c2;
    while (which == 2 ? !k2_go : !k1_go)
        sys_yield();
    /* map into our client: its kernel pages come from the other kpager */
    km_u64 a = REGION + ((300ull + (km_u64)which) << 30);
    l4_put_map_item(0, a, KM_FPAGE((km_u64)(unsigned long)bk[which], 12, KM_R | KM_W));
    long r = sys_ipc(client->tid, KM_NILTHREAD, 0, KM_TAG(0, 0, 2));
    if (which == 1)
        k1_result = r;
    else
        k2_result = r;
    /* then serve the other one's kernel page fault, if it is still there */
    for (int n = 0; n < 2; n++) {
        if (l4_receive_nowait(KM_ANYTHREAD) < 0) {
            sys_yield();
            continue;
        }
        if (l4_label() != KM_LABEL_KFAULT)
            continue;
        unsigned mr = 0;
        for (unsigned i = 0; i < l4_mr(1) && i < 8; i++)
            mr = l4_put_map_item(mr, KM_KREQ_ADDR(l4_mr(2 + i)),
                                 KM_FPAGE((km_u64)(unsigned long)k_pool[which - 1][i], 12, KM_RWX));
        sys_ipc(l4_sender(), KM_NILTHREAD, KM_IPC_SEND_NOWAIT, KM_TAG(0, 0, mr));
    }
}

static void pair_client(void *arg)
{
    long which = (long)arg;
    l4_set_acceptor(L4_ACCEPT_ALL);
    long r = l4_receive_any();
    if (which == 1)
        c1_result = r;
    else
        c2_result = r;
}

static void part_deadlock(void)
{
    static struct l4_task t;
    long s0 = sent_rounds;
    /* 1: the pager is its client's kpager */
    struct l4_thread_attr a = L4_THREAD_ATTR_INIT;
    a.cpu = si.cpu;
    dl_exception_error = 0;
    if (l4_thread_start(&dl_thr, &a, dl_pager, 0) < 0) {
        tap_ok(0, "deadlock: pager thread started");
        return;
    }
    a.pager = dl_thr.tid;
    long r = l4_task_start(&t, &a, me, dl_client, 0);
    if (r == 0)
        r = sys_thread_control(t.main.tid, KM_TCTL_SET_KPAGER, dl_thr.tid);
    /* its code and stack faults come from dl_pager too: map them first */
    for (int y = 0; y < 20000 && !dl_thr.done; y++)
        sys_yield();
    tap_ok(r == 0 && dl_reply_result == -KM_EDEADLK,
           "deadlock: a pager mapping into a client whose kpager it is gets -KM_EDEADLK (%s)",
           sys_errname(dl_reply_result));
    tap_ok(dl_exception_error == KM_EDEADLK,
           "deadlock: the client is told too: an exception message, error KM_EDEADLK (%ld)",
           dl_exception_error);
    l4_task_delete(&t);
    l4_thread_kill(&dl_thr);

    /* 2: two kpagers waiting for each other.  The clients are threads of
     * this task whose kernel pages come from the other kpager: k1 maps into
     * c1 (kpager k2) while k2 does not listen, so k1 waits for k2; then k2
     * maps into c2 (kpager k1): a cycle. */
    struct l4_thread_attr b = L4_THREAD_ATTR_INIT;
    b.cpu = si.cpu;
    b.pager = pager_thr.tid;
    k1_go = k2_go = 0;
    r = l4_thread_start(&c1, &b, pair_client, (void *)1l);
    if (r == 0)
        r = l4_thread_start(&c2, &b, pair_client, (void *)2l);
    if (r == 0)
        r = l4_thread_start(&k1, &b, kp_pair, (void *)1l);
    if (r == 0)
        r = l4_thread_start(&k2, &b, kp_pair, (void *)2l);
    if (r == 0)
        r = sys_thread_control(c1.tid, KM_TCTL_SET_KPAGER, k2.tid);
    if (r == 0)
        r = sys_thread_control(c2.tid, KM_TCTL_SET_KPAGER, k1.tid);
    l4_wait_state(c1.tid, KM_TSTATE_RECEIVING, 100000);
    l4_wait_state(c2.tid, KM_TSTATE_RECEIVING, 100000);
    k1_go = 1;
    tap_ok(r == 0, "deadlock: two kpagers and their clients started (%s)", sys_errname(r));
    (void)s0;
}

/* 3: a kpager that faults while serving its client's kernel page fault,
 * its pager being the thread that waits for it. */
static volatile long kf_reply = 1, kf_client_err, kf_kpager_err;
static struct l4_thread kf_pager_thr;
static struct l4_task kf_kpager_task, kf_client_task;
static volatile int kf_stop;

/* Pager of both the kpager and the client: the image, and bk pages. */
static void kf_pager(void *arg)
{
    (void)arg;
    struct l4_pager img;
    l4_pager_init(&img, KM_ANYTHREAD, KM_RWX);
    long r = l4_receive_any();
    while (!kf_stop) {
        if (r < 0) {
            r = l4_receive_any();
            continue;
        }
        km_tid from = l4_sender();
        if (l4_label() == KM_LABEL_EXCEPTION) { /* who was told, with what */
            long err = (long)(l4_mr(1) >> 32);
            if (from == kf_client_task.main.tid)
                kf_client_err = err;
            else if (from == kf_kpager_task.main.tid)
                kf_kpager_err = err;
            r = l4_receive_any();
            continue;
        }
        long tag = l4_is_pagefault() ? l4_pager_answer(&img) : -KM_EINVAL;
        if (tag < 0 && l4_is_pagefault()) {
            l4_put_map_item(0, l4_mr(0) & ~0xfffull, KM_FPAGE((km_u64)(unsigned long)bk[5], 12, KM_R | KM_W));
            tag = (long)KM_TAG(0, 0, 2);
        }
        if (tag < 0) {
            r = l4_receive_any();
            continue;
        }
        r = l4_reply_and_wait(from, (km_u64)tag);
        if (r == -KM_EDEADLK && utcb()->error == KM_IPCERR_SEND) {
            kf_reply = r;
            r = l4_receive_any();
        }
    }
}

/* The kpager: touches a page it never had before answering. */
static long kf_kpager(void *arg)
{
    (void)arg;
    for (;;) {
        if (l4_receive_any() < 0 || l4_label() != KM_LABEL_KFAULT)
            continue;
        *(volatile char *)(unsigned long)(REGION + (400ull << 30)) = 1; /* faults */
        sys_ipc(l4_sender(), KM_NILTHREAD, KM_IPC_SEND_NOWAIT, KM_TAG(0, 0, 0));
    }
    return 0; /* not reached */
}

static long kf_client(void *arg)
{
    (void)arg;
    *(volatile char *)(unsigned long)(REGION + (401ull << 30)) = 1;
    return 0;
}

static void part_kpager_faults(void)
{
    long s0 = sent_rounds;
    struct l4_thread_attr a = L4_THREAD_ATTR_INIT;
    a.cpu = si.cpu;
    long r = l4_thread_start(&kf_pager_thr, &a, kf_pager, 0);
    a.pager = kf_pager_thr.tid;
    if (r == 0)
        r = l4_task_start(&kf_kpager_task, &a, KM_NILTHREAD, kf_kpager, 0);
    if (r == 0 && !l4_wait_state(kf_kpager_task.main.tid, KM_TSTATE_RECEIVING, 100000))
        r = -KM_ETIMEOUT;
    if (r == 0)
        r = l4_task_start(&kf_client_task, &a, KM_NILTHREAD, kf_client, 0);
    if (r == 0)
        r = sys_thread_control(kf_client_task.main.tid, KM_TCTL_SET_KPAGER, kf_kpager_task.main.tid);
    for (int y = 0; y < 50000 && (kf_client_err == 0 || kf_kpager_err == 0); y++)
        sys_yield();
    tap_ok(r == 0 && kf_reply == -KM_EDEADLK,
           "deadlock: a kpager faulting to the pager that waits for it: the pager's map ends with "
           "-KM_EDEADLK (%s, %s)", sys_errname(r), sys_errname(kf_reply));
    tap_ok(kf_client_err == KM_EDEADLK && kf_kpager_err == KM_EDEADLK,
           "deadlock: the client and the kpager are told (exceptions, error %ld and %ld)",
           kf_client_err, kf_kpager_err);
    tap_ok(sent_rounds > s0 && sent_errors == 0, "deadlock: the sentinel went on (%ld rounds)",
           sent_rounds - s0);
    kf_stop = 1;
    l4_task_delete(&kf_client_task);
    l4_task_delete(&kf_kpager_task);
    l4_thread_kill(&kf_pager_thr);
}

/* The pair above shares our task, so its kernel pages are ours: the kfault
 * for c1 (our task) goes to k2.  It is the cycle that matters, not whose
 * pages: check the outcome. */
static void part_deadlock_check(void)
{
    /* k1 first: blocked in its kernel page fault to k2 (sending to it) */
    int k1_waits = l4_wait_state(k1.tid, KM_TSTATE_SENDING, 100000);
    k2_go = 1;
    for (int y = 0; y < 20000 && (k1_result == 1 || k2_result == 1); y++)
        sys_yield();
    int one_deadlock = (k1_result == -KM_EDEADLK) + (k2_result == -KM_EDEADLK) >= 1;
    tap_ok(k1_waits, "deadlock: k1 waits for k2 in a kernel page fault");
    tap_ok(k1_result != 1 && k2_result != 1, "deadlock: two kpagers waiting for each other: nothing hangs "
           "(%s, %s)", sys_errname(k1_result), sys_errname(k2_result));
    tap_ok(one_deadlock, "deadlock: the cycle is found and broken with -KM_EDEADLK");
    for (int y = 0; y < 2000 && (c1_result == 1 || c2_result == 1); y++)
        sys_yield();
    tap_ok((k1_result != -KM_EDEADLK || c1_result == -KM_EDEADLK) &&
           (k2_result != -KM_EDEADLK || c2_result == -KM_EDEADLK),
           "deadlock: the receiver of an aborted map is told -KM_EDEADLK too (%s, %s)",
           sys_errname(c1_result), sys_errname(c2_result));
    l4_thread_kill(&k1);
    l4_thread_kill(&k2);
    l4_thread_kill(&c1);
    l4_thread_kill(&c2);
}

int main(void)
{
    me = sys_myself();
    if ((long)me < 0 || sys_sysinfo(&si) < 0) {
        tap_ok(0, "the kernel has threads");
        return tap_done("kpager_check");
    }
    l4_window_pager_init(&pager, REGION, SENT_REGION + 8 * PAGE, backing, 0);
    kpager_init(&kp, pool, POOL, KM_KFAULT_MAX, 0);
    kpager_init(&sent_kp, sent_pool, 64, KM_KFAULT_MAX, 0);
    for (int i = 0; i < BK_PAGES; i++)
        bk[i][0] = 0;
    for (int i = 0; i < 64; i++)
        evil_pool[i][0] = 0;
    struct l4_thread_attr a = L4_THREAD_ATTR_INIT;
    a.cpu = si.cpu;
    long r = l4_window_pager_start(&pager_thr, &a, &pager);
    if (r == 0)
        r = kpager_thread_start(&kp_thr, &a, &kp);
    if (r == 0)
        r = kpager_thread_start(&sent_kp_thr, &a, &sent_kp);
    if (r == 0)
        r = l4_thread_start(&echo_thr, &a, echo, 0);
    if (r == 0)
        r = l4_thread_start(&evil_thr, &a, evil_kpager, 0);
    if (!tap_ok(r == 0, "helper threads started (%s)", sys_errname(r)))
        return tap_done("kpager_check");

    /* Which mode: a fresh region touched by a client with a kpager. */
    part_supply();
    kpager_mode = kp.kfaults > 0;
    tap_diag("mode: %s", kpager_mode ? "kpager" : "pool");
    if (!kpager_mode) {
        tap_diag("kmem=pool: the kpager parts are skipped; the kernel's pool served every page");
        return tap_done("kpager_check");
    }
    /* The sentinel runs through everything that follows. */
    sent_stop = 0;
    r = start(&sentinel, sentinel_fn, 0, sent_kp_thr.tid);
    tap_ok(r == 0, "sentinel task started (%s)", sys_errname(r));
    part_quota();
    part_revoke();
    part_malicious();
    part_deadlock();
    part_deadlock_check();
    part_kpager_faults();
    sent_stop = 1;
    r = finish(&sentinel);
    tap_ok(r == 0 && sent_errors == 0 && sent_rounds > 0,
           "sentinel: ran to its end, %ld rounds, %ld errors", sent_rounds, sent_errors);
    kpager_revoke(kp_thr.tid, 0, 0, KM_KS_END);
    kpager_revoke(sent_kp_thr.tid, 0, 0, KM_KS_END);
    return tap_done("kpager_check");
}
