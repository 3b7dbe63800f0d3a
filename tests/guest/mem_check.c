/* mem_check: user-level pagers, map, grant and unmap (abi/l4.h).
 *
 * Worker tasks run a command loop (worker_main) in address spaces of their
 * own; the main thread tells them to probe addresses, map or grant pages
 * to each other, and unmap.  Their page faults go to a recording pager
 * thread of this task: it maps our own page for addresses in the program
 * image and, elsewhere (the windows where mappings are placed), a marker
 * page, and logs every fault.  So "gone" means: the probe faulted to the
 * pager (logged) and read the marker; "intact" means: no fault, the
 * page's own value.
 *
 * Checks: page faults resolved by a user pager; map with fewer rights
 * than held (a write then faults to the pager); map onto an existing
 * mapping; grant removes the granter's mapping; unmap of a derivation
 * tree of depth 16 and breadth 64 (every derived mapping gone, the rest
 * intact); unmap of some rights only; a pager that never answers blocks
 * only its client.
 */
#include <user/l4.h>
#include <user/stdio.h>
#include <user/string.h>
#include <user/tap.h>

#define MARK_ID 0x4d43 /* "MC" */
#define WAIT_YIELDS 100000
#define PAGE 4096ul

/* Windows outside the image where workers accept mappings. */
#define WIN 0x40000000ul       /* one page (chain); 16 pages (wide workers) */
#define WIN_Q 0x40200000ul     /* the unrelated page Q */
#define WIN_FP(base, log2) KM_FPAGE(base, log2, KM_RWX)

static km_tid me;

/* ---- pages ---------------------------------------------------------------
 * One u64 value at the start of each page identifies it. */
enum { PG_P, PG_Q, PG_P1, PG_P2, PG_P3, PG_RO, PG_MARKER, PG_SCRATCH, PG_SHARED, PG_COUNT };
static volatile km_u64 pages[PG_COUNT][PAGE / 8] __attribute__((aligned(4096)));
#define PAGE_ADDR(i) ((km_u64)(unsigned long)pages[i])
#define VALUE(i) (0x5a5a000000000000ull | (km_u64)(i) << 16 | 0x1234)
#define MARKER VALUE(PG_MARKER)

/* ---- the recording pager -------------------------------------------------- */

struct fault {
    km_tid tid;
    km_u64 addr;
    unsigned access;
};
#define LOG_MAX 4096
static struct fault fault_log[LOG_MAX];
static volatile unsigned log_n;
static struct l4_thread pager_thr;

static void recording_pager(void *arg)
{
    (void)arg;
    extern char __user_start[], __user_end[];
    km_u64 lo = (km_u64)__user_start, hi = (km_u64)__user_end;
    long r = l4_receive_any();
    for (;;) {
        if (r < 0) {
            r = l4_receive_any();
            continue;
        }
        struct km_utcb *u = utcb();
        km_tid from = u->sender;
        if (!l4_is_pagefault()) { /* not for us: drop */
            r = l4_receive_any();
            continue;
        }
        km_u64 page = u->mr[0] & ~(PAGE - 1);
        unsigned access = (unsigned)u->mr[2];
        unsigned n = log_n;
        if (n < LOG_MAX) {
            fault_log[n].tid = from;
            fault_log[n].addr = u->mr[0];
            fault_log[n].access = access;
            __atomic_store_n(&log_n, n + 1, __ATOMIC_RELEASE);
        }
        km_u64 src = page;
        unsigned rights = KM_RWX;
        if (page == PAGE_ADDR(PG_RO)) /* read-only until a write fault asks for more */
            rights = access == KM_W ? KM_R | KM_W : KM_R;
        else if (page < lo || page >= hi) { /* a window: marker to read, scratch to write */
            src = PAGE_ADDR(access == KM_W ? PG_SCRATCH : PG_MARKER);
            rights = access == KM_W ? KM_R | KM_W : KM_R;
        }
        l4_put_map_item(0, page, KM_FPAGE(src, 12, rights));
        r = sys_ipc(from, KM_ANYTHREAD, KM_IPC_SEND_NOWAIT, l4_tag(0, 0, 2));
    }
}

/* Did tid fault at page (with access, 0: any) since log entry `since`? */
static int faulted(unsigned since, km_tid tid, km_u64 addr, unsigned access)
{
    unsigned n = __atomic_load_n(&log_n, __ATOMIC_ACQUIRE);
    for (unsigned i = since; i < n; i++)
        if (fault_log[i].tid == tid && (fault_log[i].addr & ~(PAGE - 1)) == (addr & ~(PAGE - 1)) &&
            (!access || fault_log[i].access == access))
            return 1;
    return 0;
}

static unsigned log_mark(void) { return __atomic_load_n(&log_n, __ATOMIC_ACQUIRE); }

/* ---- workers --------------------------------------------------------------- */

enum {
    CMD_READ = 1,  /* MR0 addr -> MR0 value */
    CMD_WRITE,     /* MR0 addr, MR1 value */
    CMD_ACCEPT,    /* MR0 acceptor, MR1 from: receive one message, then send ACK to main */
    CMD_MAP,       /* MR0 to, MR1 fpage, MR2 first send base, MR3 items (stepping a page), MR4 grant */
    CMD_UNMAP,     /* MR0 fpage, MR1 flags -> MR0 result */
    CMD_QUIT,
    LBL_ITEMS = 0x17e5,
    LBL_ACK = 0xac,
};

#define NWORKERS 40
struct worker {
    struct l4_task t;
    volatile long accept_r;
};
static struct worker workers[NWORKERS];

static long worker_main(void *arg)
{
    struct worker *w = arg;
    (void)w;
    long r = l4_receive(me);
    for (;;) {
        if (r < 0)
            return r;
        struct km_utcb *u = utcb();
        km_u64 a0 = u->mr[0], a1 = u->mr[1], a2 = u->mr[2], a3 = u->mr[3], a4 = u->mr[4];
        km_u64 res = 0;
        switch (KM_TAG_LABEL(u->tag)) {
        case CMD_READ:
            res = *(volatile km_u64 *)a0;
            break;
        case CMD_WRITE:
            *(volatile km_u64 *)a0 = a1;
            break;
        case CMD_ACCEPT:
            l4_set_acceptor(a0);
            r = l4_receive(a1);
            u = utcb();
            u->mr[0] = (km_u64)r;
            u->mr[1] = u->tag;
            r = l4_send(me, l4_tag(LBL_ACK, 2, 0));
            if (r < 0)
                return r;
            r = l4_receive(me);
            continue;
        case CMD_MAP: {
            unsigned i = 0;
            for (km_u64 k = 0; k < a3 && k < KM_MR_COUNT / 2; k++)
                i = a4 ? l4_put_grant_item(i, a2 + k * PAGE, a1) : l4_put_map_item(i, a2 + k * PAGE, a1);
            res = (km_u64)l4_send(a0, l4_tag(LBL_ITEMS, 0, i));
            break;
        }
        case CMD_UNMAP:
            res = (km_u64)sys_unmap(a0, a1);
            break;
        case CMD_QUIT:
            l4_reply(me, l4_tag(CMD_QUIT, 0, 0));
            return 0;
        default:
            res = (km_u64)-KM_EINVAL;
        }
        l4_set_mr(0, res);
        r = l4_reply(me, l4_tag(KM_TAG_LABEL(utcb()->tag), 1, 0));
        if (r < 0)
            return r;
        r = l4_receive(me);
    }
}

static int nworkers;
static unsigned ncpus = 1;

static struct worker *worker_new(void)
{
    if (nworkers == NWORKERS)
        return 0;
    struct worker *w = &workers[nworkers];
    struct l4_thread_attr a = L4_THREAD_ATTR_INIT;
    a.pager = pager_thr.tid;
    a.cpu = nworkers % ncpus; /* spread: unmap must reach other CPUs' TLBs too */
    long r = l4_task_start(&w->t, &a, KM_NILTHREAD, worker_main, w);
    if (r < 0) {
        tap_diag("worker %d: %s", nworkers, sys_errname(r));
        return 0;
    }
    nworkers++;
    return w;
}

static km_tid wtid(const struct worker *w) { return w->t.main.tid; }

/* One command; returns the worker's MR0, or the IPC error (as a negative
 * value, with *ok = 0). */
static km_u64 wcmd(struct worker *w, unsigned cmd, km_u64 a0, km_u64 a1, km_u64 a2, km_u64 a3,
                   km_u64 a4, int *ok)
{
    struct km_utcb *u = utcb();
    u->mr[0] = a0;
    u->mr[1] = a1;
    u->mr[2] = a2;
    u->mr[3] = a3;
    u->mr[4] = a4;
    long r = l4_call(wtid(w), l4_tag(cmd, 5, 0));
    if (r < 0) {
        tap_diag("command %u to worker %lx: %s", cmd, wtid(w), sys_errname(r));
        if (ok)
            *ok = 0;
        return (km_u64)r;
    }
    return l4_mr(0);
}

static km_u64 wread(struct worker *w, km_u64 addr) { return wcmd(w, CMD_READ, addr, 0, 0, 0, 0, 0); }
static void wwrite(struct worker *w, km_u64 addr, km_u64 v) { wcmd(w, CMD_WRITE, addr, v, 0, 0, 0, 0); }
static long wunmap(struct worker *w, km_u64 fpage, unsigned flags)
{
    return (long)wcmd(w, CMD_UNMAP, fpage, flags, 0, 0, 0, 0);
}

/* Maps (grants) `items` items of fpage from `from` (NULL: the main thread)
 * to `to`, which accepts them in window `acceptor`; the k-th item's send
 * base is base + k pages.  Returns 0, or the first error (sender's or
 * receiver's side). */
static long transfer(struct worker *from, struct worker *to, km_u64 fpage, km_u64 base,
                     unsigned items, int grant, km_u64 acceptor)
{
    l4_set_mr(0, acceptor);
    l4_set_mr(1, from ? wtid(from) : me);
    long r = l4_send(wtid(to), l4_tag(CMD_ACCEPT, 2, 0));
    if (r < 0)
        return r;
    long rs;
    if (!from) {
        unsigned i = 0;
        for (unsigned k = 0; k < items; k++)
            i = grant ? l4_put_grant_item(i, base + k * PAGE, fpage) : l4_put_map_item(i, base + k * PAGE, fpage);
        rs = l4_send(wtid(to), l4_tag(LBL_ITEMS, 0, i));
    } else
        rs = (long)wcmd(from, CMD_MAP, wtid(to), fpage, base, items, grant, 0);
    r = l4_receive(wtid(to));
    long rr = r < 0 ? r : (long)l4_mr(0);
    if (r == 0 && l4_label() != LBL_ACK)
        rr = -KM_EINVAL;
    if (rs < 0 || rr < 0)
        tap_diag("transfer to %lx: sender %s, receiver %s", wtid(to), sys_errname(rs), sys_errname(rr));
    return rs < 0 ? rs : rr;
}

/* Probes: 1 when w reads `want` at addr and did not fault doing so. */
static int intact(struct worker *w, km_u64 addr, km_u64 want)
{
    unsigned m = log_mark();
    km_u64 v = wread(w, addr);
    if (v != want || faulted(m, wtid(w), addr, 0)) {
        tap_diag("worker %lx at %lx: read %lx (want %lx)%s", wtid(w), addr, v, want,
                 faulted(m, wtid(w), addr, 0) ? ", faulted" : "");
        return 0;
    }
    return 1;
}

/* 1 when w's read of addr faults to the pager (which maps the marker). */
static int gone(struct worker *w, km_u64 addr)
{
    unsigned m = log_mark();
    km_u64 v = wread(w, addr);
    if (v != MARKER || !faulted(m, wtid(w), addr, KM_R)) {
        tap_diag("worker %lx at %lx: read %lx, %s (want a fault and the marker)", wtid(w), addr, v,
                 faulted(m, wtid(w), addr, KM_R) ? "faulted" : "no fault");
        return 0;
    }
    return 1;
}

/* ---- checks ---------------------------------------------------------------- */

static volatile km_u64 shared_in = 0x1111, shared_out;

static long touch_and_sum(void *arg)
{
    volatile km_u64 *buf = arg;
    km_u64 sum = shared_in;
    for (unsigned i = 0; i < 4; i++) {
        buf[i * PAGE / 8] = i + 1;
        sum += buf[i * PAGE / 8];
    }
    shared_out = sum;
    return (long)sum;
}

static long touch_outside(void *arg)
{
    return (long)*(volatile km_u64 *)arg;
}

static km_u64 touch_buf[4][PAGE / 8] __attribute__((aligned(4096)));

static void check_pager_basics(void)
{
    long res = 0;
    long r = l4_task_run(touch_and_sum, touch_buf, &res);
    tap_ok(r == 0, "l4_task_run: a function runs in a new task, its faults served by us (%s)",
           sys_errname(r));
    tap_ok(res == 0x1111 + 10, "it computed with our data (%lx)", res);
    tap_ok(shared_out == 0x1111 + 10 && touch_buf[3][0] == 4,
           "its writes landed in our frames (same pages, another address space)");
    r = l4_task_run(touch_outside, (void *)0x0000300000000000ul, &res);
    tap_ok(r == -KM_EFAULT, "a task touching memory the pager does not serve: l4_task_run gives up "
           "(%s) and deletes the task", sys_errname(r));

    struct worker *w = worker_new();
    if (!tap_ok(w != 0, "start a worker task with the recording pager"))
        return;
    pages[PG_SHARED][0] = VALUE(PG_SHARED);
    unsigned m = log_mark();
    tap_ok(wread(w, PAGE_ADDR(PG_SHARED)) == VALUE(PG_SHARED) &&
           faulted(m, wtid(w), PAGE_ADDR(PG_SHARED), KM_R),
           "its first read of one of our pages faults (access R) and reads our value");
    /* The worker has run now (it answered): its faults are all logged. */
    unsigned first = 0;
    while (first < log_n && fault_log[first].tid != wtid(w))
        first++;
    tap_ok(first < log_n && fault_log[first].addr == (km_u64)(unsigned long)l4_thread_entry &&
               fault_log[first].access == KM_X,
           "its first fault is the fetch of its first instruction (%lx, access %u)",
           first < log_n ? fault_log[first].addr : 0, first < log_n ? fault_log[first].access : 0);
    m = log_mark();
    tap_ok(wread(w, PAGE_ADDR(PG_SHARED)) == VALUE(PG_SHARED) && !faulted(m, wtid(w), PAGE_ADDR(PG_SHARED), 0),
           "once mapped, the page is read without a fault");
}

static void check_fewer_rights(void)
{
    struct worker *w = worker_new(), *w2 = worker_new();
    if (!tap_ok(w && w2, "start two workers"))
        return;
    /* By a fault: the pager gives R only for PG_RO. */
    pages[PG_RO][0] = VALUE(PG_RO);
    unsigned m = log_mark();
    km_u64 v = wread(w, PAGE_ADDR(PG_RO));
    tap_ok(v == VALUE(PG_RO) && faulted(m, wtid(w), PAGE_ADDR(PG_RO), KM_R),
           "a read fault is answered with a read-only mapping of a page we hold read-write");
    m = log_mark();
    wwrite(w, PAGE_ADDR(PG_RO), 0xbeef);
    tap_ok(faulted(m, wtid(w), PAGE_ADDR(PG_RO), KM_W), "then a write faults to the pager (access W)");
    tap_ok(pages[PG_RO][0] == 0xbeef, "and, once answered with write access, lands in our page");

    /* By a map item: P read-write here, given read-only. */
    pages[PG_P][0] = VALUE(PG_P);
    long r = transfer(0, w2, KM_FPAGE(PAGE_ADDR(PG_P), 12, KM_R), PAGE_ADDR(PG_P), 1, 0, WIN_FP(WIN, 12));
    tap_ok(r == 0, "map P read-only into a worker's window (%s)", sys_errname(r));
    tap_ok(intact(w2, WIN, VALUE(PG_P)), "the worker reads P there without a fault");
    m = log_mark();
    wwrite(w2, WIN, 0xdead);
    tap_ok(faulted(m, wtid(w2), WIN, KM_W), "its write faults to the pager (access W)");
    tap_ok(pages[PG_P][0] == VALUE(PG_P), "and P is unchanged");
}

static void check_map_over(void)
{
    struct worker *w = worker_new(), *w2 = worker_new();
    if (!tap_ok(w && w2, "start two workers"))
        return;
    pages[PG_P1][0] = VALUE(PG_P1);
    pages[PG_P2][0] = VALUE(PG_P2);
    pages[PG_P3][0] = VALUE(PG_P3);
    int ok = transfer(0, w, KM_FPAGE(PAGE_ADDR(PG_P1), 12, KM_RWX), 0, 1, 0, WIN_FP(WIN, 12)) == 0 &&
             intact(w, WIN, VALUE(PG_P1));
    tap_ok(ok, "map P1 into a worker's window");
    ok = transfer(w, w2, WIN_FP(WIN, 12), WIN, 1, 0, WIN_FP(WIN, 12)) == 0 && intact(w2, WIN, VALUE(PG_P1));
    tap_ok(ok, "the worker maps it on to a second worker");
    ok = transfer(0, w, KM_FPAGE(PAGE_ADDR(PG_P2), 12, KM_RWX), 0, 1, 0, WIN_FP(WIN, 12)) == 0;
    tap_ok(ok && intact(w, WIN, VALUE(PG_P2)), "map P2 onto the same window: it replaces P1");
    tap_ok(gone(w2, WIN), "what the second worker derived from the replaced mapping is gone");
    ok = transfer(0, w, KM_FPAGE(PAGE_ADDR(PG_P2), 12, KM_R), 0, 1, 0, WIN_FP(WIN, 12)) == 0;
    tap_ok(ok && intact(w, WIN, VALUE(PG_P2)), "mapping the same page again keeps it readable");
    ok = transfer(0, w, KM_FPAGE(PAGE_ADDR(PG_P3), 12, KM_RWX), 0, 1, 0, WIN_FP(WIN, 12)) == 0;
    tap_ok(ok && intact(w, WIN, VALUE(PG_P3)), "and P3 over it replaces it again");
}

static void check_grant(void)
{
    struct worker *a = worker_new(), *b = worker_new();
    if (!tap_ok(a && b, "start two workers"))
        return;
    pages[PG_P][0] = VALUE(PG_P);
    int ok = transfer(0, a, KM_FPAGE(PAGE_ADDR(PG_P), 12, KM_RWX), 0, 1, 0, WIN_FP(WIN, 12)) == 0 &&
             intact(a, WIN, VALUE(PG_P));
    tap_ok(ok, "map P to worker A");
    long r = transfer(a, b, WIN_FP(WIN, 12), WIN, 1, 1, WIN_FP(WIN, 12));
    tap_ok(r == 0, "A grants it to worker B (%s)", sys_errname(r));
    tap_ok(intact(b, WIN, VALUE(PG_P)), "B reads P without a fault");
    tap_ok(gone(a, WIN), "A no longer has it: its read faults to the pager");
    tap_ok(pages[PG_P][0] == VALUE(PG_P), "we still have P");
    EXPECT(sys_unmap(KM_FPAGE(PAGE_ADDR(PG_P), 12, KM_RWX), 0) >= 0, 1, "unmap P (not ourselves)");
    tap_ok(gone(b, WIN), "the granted mapping kept its place in the tree: unmapping P revokes it");
    tap_ok(pages[PG_P][0] == VALUE(PG_P), "our own P is intact");
}

#define DEPTH 16
#define WIDE 4
#define WIDE_ITEMS 16 /* WIDE x WIDE_ITEMS = 64 children of chain[MID] */
#define MID 7

static struct worker *chain[DEPTH], *wide[WIDE];

/* P to chain[0], chain[k] to chain[k+1] (depth 16 below us), chain[MID]
 * to WIDE workers with 16 items each (64 children); Q to every chain
 * worker (unrelated). */
static int build_tree(void)
{
    int ok = transfer(0, chain[0], KM_FPAGE(PAGE_ADDR(PG_P), 12, KM_RWX), 0, 1, 0, WIN_FP(WIN, 12)) == 0;
    for (int k = 0; ok && k + 1 < DEPTH; k++)
        ok = transfer(chain[k], chain[k + 1], WIN_FP(WIN, 12), WIN, 1, 0, WIN_FP(WIN, 12)) == 0;
    for (int j = 0; ok && j < WIDE; j++)
        ok = transfer(chain[MID], wide[j], WIN_FP(WIN, 12), WIN, WIDE_ITEMS, 0, WIN_FP(WIN, 16)) == 0;
    return ok;
}

static int wide_all(int want_intact, int *count)
{
    int ok = 1;
    for (int j = 0; j < WIDE; j++)
        for (int i = 0; i < WIDE_ITEMS; i++) {
            int r = want_intact ? intact(wide[j], WIN + i * PAGE, VALUE(PG_P)) : gone(wide[j], WIN + i * PAGE);
            ok &= r;
            *count += r;
        }
    return ok;
}

static void check_tree_unmap(void)
{
    int ok = 1, n = 0;
    for (int k = 0; k < DEPTH && ok; k++)
        ok = (chain[k] = worker_new()) != 0;
    for (int j = 0; j < WIDE && ok; j++)
        ok = (wide[j] = worker_new()) != 0;
    if (!tap_ok(ok, "start %d workers", DEPTH + WIDE))
        return;
    pages[PG_P][0] = VALUE(PG_P);
    pages[PG_Q][0] = VALUE(PG_Q);
    for (int k = 0; k < DEPTH && ok; k++)
        ok = transfer(0, chain[k], KM_FPAGE(PAGE_ADDR(PG_Q), 12, KM_R), 0, 1, 0, WIN_FP(WIN_Q, 12)) == 0;
    tap_ok(ok, "map Q to each of the %d chain workers", DEPTH);
    ok = build_tree();
    if (!tap_ok(ok, "build a derivation tree of P: depth %d, %d children at depth %d", DEPTH,
                WIDE * WIDE_ITEMS, MID + 1))
        return;
    ok = 1;
    for (int k = 0; k < DEPTH; k++)
        ok &= intact(chain[k], WIN, VALUE(PG_P));
    tap_ok(ok & wide_all(1, &n), "every one of the %d mappings reads P without a fault", DEPTH + WIDE * WIDE_ITEMS);

    /* The whole tree from the root. */
    long r = sys_unmap(KM_FPAGE(PAGE_ADDR(PG_P), 12, KM_RWX), 0);
    tap_ok(r >= 0, "unmap P (derived mappings only): %ld", r);
    n = 0;
    ok = 1;
    for (int k = 0; k < DEPTH; k++) {
        int g = gone(chain[k], WIN);
        ok &= g;
        n += g;
    }
    ok &= wide_all(0, &n);
    tap_ok(ok, "every derived mapping is gone: %d of %d reads faulted to the pager", n, DEPTH + WIDE * WIDE_ITEMS);
    ok = 1;
    for (int k = 0; k < DEPTH; k++)
        ok &= intact(chain[k], WIN_Q, VALUE(PG_Q));
    tap_ok(ok, "the unrelated page Q is intact in every worker");
    tap_ok(pages[PG_P][0] == VALUE(PG_P), "our own P is intact");

    /* Again, then from the middle of the chain. */
    if (!tap_ok(build_tree(), "rebuild the tree over the marker mappings"))
        return;
    r = wunmap(chain[MID], WIN_FP(WIN, 12), 0);
    tap_ok(r >= 0, "chain worker %d unmaps its page (derived mappings only): %ld", MID, r);
    ok = 1;
    for (int k = 0; k <= MID; k++)
        ok &= intact(chain[k], WIN, VALUE(PG_P));
    tap_ok(ok, "the chain down to the unmapper keeps P");
    ok = 1;
    n = 0;
    for (int k = MID + 1; k < DEPTH; k++)
        ok &= gone(chain[k], WIN);
    ok &= wide_all(0, &n);
    tap_ok(ok, "everything below it is gone (%d chain workers, %d wide mappings)", DEPTH - MID - 1, n);
    for (int k = 0; k < DEPTH; k++)
        ok &= intact(chain[k], WIN_Q, VALUE(PG_Q));
    tap_ok(ok, "Q is still intact everywhere");
}

static void check_partial_unmap(void)
{
    struct worker *w = worker_new(), *w2 = worker_new();
    if (!tap_ok(w && w2, "start two workers"))
        return;
    pages[PG_P1][0] = VALUE(PG_P1);
    int ok = transfer(0, w, KM_FPAGE(PAGE_ADDR(PG_P1), 12, KM_R | KM_W), 0, 1, 0, WIN_FP(WIN, 12)) == 0 &&
             transfer(w, w2, WIN_FP(WIN, 12), WIN, 1, 0, WIN_FP(WIN, 12)) == 0;
    if (!tap_ok(ok, "map P1 read-write to a worker and on to a second"))
        return;
    unsigned m = log_mark();
    wwrite(w2, WIN, VALUE(PG_P1) + 1);
    tap_ok(!faulted(m, wtid(w2), WIN, 0) && pages[PG_P1][0] == VALUE(PG_P1) + 1,
           "the second worker writes P1 without a fault");
    long r = sys_unmap(KM_FPAGE(PAGE_ADDR(PG_P1), 12, KM_W), 0);
    tap_ok(r >= 0, "unmap write access only from what derives from P1 (%ld)", r);
    tap_ok(intact(w, WIN, VALUE(PG_P1) + 1) && intact(w2, WIN, VALUE(PG_P1) + 1),
           "both still read it without a fault");
    m = log_mark();
    wwrite(w2, WIN, 1);
    tap_ok(faulted(m, wtid(w2), WIN, KM_W), "a write by the second worker now faults (access W)");
    tap_ok(pages[PG_P1][0] == VALUE(PG_P1) + 1, "P1 is unchanged by it");
    pages[PG_P1][0] = VALUE(PG_P1);
    tap_ok(pages[PG_P1][0] == VALUE(PG_P1), "we keep write access ourselves");

    /* Own mappings (KM_UNMAP_SELF): write access only, then all. */
    pages[PG_P2][0] = VALUE(PG_P2);
    ok = transfer(0, w, KM_FPAGE(PAGE_ADDR(PG_P2), 12, KM_R | KM_W), 0, 1, 0, WIN_FP(WIN_Q, 12)) == 0;
    tap_ok(ok, "map P2 read-write to the first worker");
    r = wunmap(w, KM_FPAGE(WIN_Q, 12, KM_W), KM_UNMAP_SELF);
    tap_ok(r >= 0, "the worker revokes write access from its own mapping of it (%ld)", r);
    tap_ok(intact(w, WIN_Q, VALUE(PG_P2)), "it still reads P2 without a fault");
    m = log_mark();
    wwrite(w, WIN_Q, 2);
    tap_ok(faulted(m, wtid(w), WIN_Q, KM_W) && pages[PG_P2][0] == VALUE(PG_P2),
           "its write faults to the pager, P2 unchanged");
    r = wunmap(w2, WIN_FP(WIN, 12), KM_UNMAP_SELF);
    tap_ok(r >= 0, "the second worker unmaps its own mapping at the window entirely (%ld)", r);
    tap_ok(gone(w2, WIN), "its next read faults to the pager");
}

/* A pager that takes the fault and never answers. */
static volatile km_u64 sleepy_fault_ip;
static void sleepy_pager(void *arg)
{
    (void)arg;
    if (l4_receive_any() == 0 && l4_is_pagefault())
        sleepy_fault_ip = l4_mr(1);
    l4_receive(me); /* we never send: blocks for ever */
}

static volatile unsigned long counter;
static struct l4_thread counter_thr;
static struct l4_task blocked;

static void count_forever(void *arg)
{
    (void)arg;
    for (;;) {
        counter++;
        sys_yield();
    }
}

static long never_runs(void *arg)
{
    (void)arg;
    return 0;
}

static void check_silent_pager(void)
{
    struct l4_thread sleepy;
    if (!tap_ok(l4_thread_start(&sleepy, 0, sleepy_pager, 0) == 0, "start a pager that never answers"))
        return;
    struct l4_thread_attr a = L4_THREAD_ATTR_INIT;
    a.pager = sleepy.tid;
    long r = l4_task_start(&blocked, &a, KM_NILTHREAD, never_runs, 0);
    if (!tap_ok(r == 0, "start a task whose first thread has it as pager (%s)", sys_errname(r)))
        return;
    struct l4_thread_attr c = L4_THREAD_ATTR_INIT;
    c.task = blocked.id;
    c.pager = pager_thr.tid;
    r = l4_thread_start(&counter_thr, &c, count_forever, 0);
    tap_ok(r == 0, "a second thread in that task, with a working pager, counts (%s)", sys_errname(r));
    tap_ok(l4_wait_state(blocked.main.tid, KM_TSTATE_RECEIVING, WAIT_YIELDS),
           "the first thread waits for its pager's answer (RECEIVING)");
    tap_ok(sleepy_fault_ip == (km_u64)(unsigned long)l4_thread_entry,
           "the silent pager got its fault at the thread's entry (ip %lx)", sleepy_fault_ip);
    unsigned long c0 = counter;
    for (int i = 0; i < 2000 && counter < c0 + 100; i++)
        sys_yield();
    tap_ok(counter >= c0 + 100, "the other thread of the task keeps running (%lu -> %lu)", c0, counter);
    EXPECT(l4_task_delete(&blocked), 0, "delete the blocked task");
    EXPECT(l4_thread_state(blocked.main.tid), -KM_ESRCH, "its blocked thread is gone");
    EXPECT(l4_thread_kill(&counter_thr), -KM_ESRCH, "its counting thread is gone");
    c0 = counter;
    for (int i = 0; i < 200; i++)
        sys_yield();
    tap_ok(counter == c0, "and counts no more");
    tap_ok(l4_thread_state(sleepy.tid) == KM_TSTATE_RECEIVING, "the silent pager is unaffected");
    l4_thread_kill(&sleepy);
}

int main(void)
{
    sys_trace_marker(MARK_ID, 0);
    pages[PG_MARKER][0] = MARKER; /* what the pager shows in a window on a read fault */
    me = sys_myself();
    if (!tap_ok((long)me > 0, "sys_myself returns a thread id (%s)", sys_errname((long)me)))
        return tap_done("mem_check");
    struct km_sysinfo si;
    if (sys_sysinfo(&si) == 0)
        ncpus = si.ncpus;
    long r = l4_thread_start(&pager_thr, 0, recording_pager, 0);
    if (!tap_ok(r == 0, "start the recording pager thread (%s)", sys_errname(r)))
        return tap_done("mem_check");

    check_pager_basics();
    check_fewer_rights();
    check_map_over();
    check_grant();
    check_partial_unmap();
    check_tree_unmap();
    check_silent_pager();
    tap_diag("%d worker tasks, %u faults logged", nworkers, log_n);
    for (int i = 0; i < nworkers; i++)
        l4_task_delete(&workers[i].t);
    sys_trace_marker(MARK_ID, 1);
    return tap_done("mem_check");
}
