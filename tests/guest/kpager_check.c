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
 *     server and a thread of its own and writing and checking its memory
 *     while its kernel pages (page tables, node tables, node pages, its
 *     thread's TCB and UTCB) are revoked in a loop; the calls to its
 *     thread restore that thread (kernel page faults of reason RESTORE);
 *  3. exported pages (inv. 1): every page revoked other than a TCB, a
 *     UTCB or a node table that names nodes (part 10) comes back all zero,
 *     so it holds no physical address, kernel pointer or other task's data;
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
 *  6. TCB paging (inv. 1, 3, 5): a client's threads (TCB and UTCB pages
 *     from its kpager) paged out while they wait in a receive, or before
 *     they start: the task's TCB and UTCB counts drop, the exported TCB
 *     page holds the magic, the thread's id, its continuation and its
 *     user registers (those it set) and no kernel address; a message
 *     restores it (one RESTORE kernel page fault), received intact, its
 *     registers and stack unchanged, and it answers again and again;
 *     exregs START restores and starts a paged-out inactive thread; a
 *     restore the kpager cannot serve fails the send with -KM_ENOMEM and
 *     the thread stays paged out, restorable later; held pages of a gone
 *     task return to the kpager's pool;
 *  7. malicious restores (inv. 2, 4), seeded rounds: the held TCB or UTCB
 *     pages are corrupted before the kpager gives them back (random bytes,
 *     a bit flipped in magic, tid or continuation, a kernel rip, IOPL and
 *     VM in rflags, random registers, random UTCB bytes, another thread's
 *     or another type's page): the send or exregs that needs the thread
 *     returns 0 or -KM_ESRCH (the thread dropped) and the thread runs
 *     with what it got back, never more; the task's other thread and the
 *     sentinel keep their state.
 *  8. a paged-out thread whose IPC ends (its partner deleted) asks its
 *     kpager for its TCB itself and runs on; a bad answer drops only that
 *     thread; a kpager deleted while the request waits leaves it out,
 *     restorable through a new kpager.
 *  9. the top-level table (and every other kernel page) of a client that
 *     runs on the other CPU taken again and again: that CPU leaves the
 *     space at once, the client faults it back, unaware.
 * 10. node tables under onward mappings (inv. 1, 3, 5): a client C maps
 *     pages of a region onward to a task X (whose pager never gives them
 *     back); C's node tables are revoked round after round: they are held
 *     by the kpager, localised (only node names, or 0), the region's
 *     naming exactly its pages, C's node-table count down by exactly what
 *     was taken; X and C (one of its threads writing all along, on the
 *     other CPU) read right, no page fault to either pager; a new page in
 *     the region brings the table back (one RESTORE, the held page), one
 *     in a fresh region gets a fresh table; a held table corrupted
 *     (random, swapped, zero, names off, another region's, lost) comes
 *     back made from C's nodes, the next export exact; C's unmap of an
 *     onward page reaches X's mapping with the table out and back in.
 * 11. node pages (inv. 1, 3, 5): a client C with its own kpager maps
 *     pages on to X and to itself; its node pages are revoked round after
 *     round while C, its other thread and X (its other thread too) work
 *     on with no fault; each export is checked word by word against C's
 *     mappings (page and rights, nothing else); what needs
 *     a node (a reduction of W, a send, an own unmap of W) costs one FRESH
 *     kernel page fault, a removal (an own unmap, an unmap from above)
 *     none, and takes X's mappings at once; C's edge pages revoked leave
 *     localised, what C gave on stays (but where its node is out too);
 *     no RESTORE is ever asked; C's kernel
 *     pages are exactly those its kpager lent, all back when it goes.
 * Part 2's client is made with its kpager set, so its top-level table and
 * first TCB are revoked with the rest; part 4 ends each silent round by
 * deleting the silent kpager, so that its waiting pager serves the rounds
 * that follow.
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

static struct l4_window_pager pager, pager2;
static struct l4_thread pager2_thr;
static km_tid clients_pager; /* the pager start() gives: pager's thread, then pager2's */

/* Part 10's client: its 2 MiB region at NT_REGION (page j -> nt_bk[j]),
 * then 2 MiB scratch regions after it (all -> nt_bk[NT_BK - 1]); the
 * faults the pagers serve there are counted. */
#define NT_REGION (REGION + (600ull << 30))
#define NT_SPAN (64ull << 20)
#define NT_BK 48
static char nt_bk[NT_BK][PAGE] __attribute__((aligned(PAGE)));
static volatile unsigned long nt_user_faults;

/* Part 11's client: its 2 MiB region at MN_REGION (page j -> mn_bk[j]),
 * and the 2 MiB after it, where it maps some of its pages to itself (a
 * fault there, once such a mapping went, gets mn_cdecoy); both counted. */
#define MN_REGION (REGION + (700ull << 30))
#define MN_ALIAS (MN_REGION + (2ull << 20))
#define MN_NP 14
static char mn_bk[MN_NP][PAGE] __attribute__((aligned(PAGE)));
static char mn_cdecoy[PAGE] __attribute__((aligned(PAGE)));
static volatile unsigned long mn_c_faults, mn_alias_faults;

/* REGION + i * 2 MiB + j * 4 KiB -> bk[(i * 8 + j) % BK_PAGES]; the
 * sentinel's region -> sent_bk; parts 10 and 11's as above. */
static km_u64 backing(km_u64 a, void *arg)
{
    (void)arg;
    if (a >= SENT_REGION)
        return (km_u64)(unsigned long)sent_bk[(a - SENT_REGION) / PAGE];
    if (a - NT_REGION < NT_SPAN) {
        km_u64 j = (a - NT_REGION) / PAGE;
        nt_user_faults++;
        return (km_u64)(unsigned long)nt_bk[j < NT_BK - 1 ? j : NT_BK - 1];
    }
    if (a - MN_REGION < (2ull << 20)) {
        km_u64 j = (a - MN_REGION) / PAGE;
        mn_c_faults++;
        return (km_u64)(unsigned long)mn_bk[j < MN_NP ? j : MN_NP - 1];
    }
    if (a - MN_ALIAS < (2ull << 20)) {
        mn_alias_faults++;
        return (km_u64)(unsigned long)mn_cdecoy;
    }
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
    a.pager = clients_pager;
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

/* ---- pageable threads: an echo that checks its own registers and stack -- */

#define LABEL_ECHO 0x54454348ull /* "TECH" */
#define KERNEL_HALF 0xffff800000000000ull
#define USER_END 0x0000800000000000ull
#define RFLAGS_IOPL 0x3000ull
#define RFLAGS_NT 0x4000ull
#define RFLAGS_RF 0x10000ull
#define RFLAGS_VM 0x20000ull
#define RFLAGS_VIF 0x80000ull
#define RFLAGS_VIP 0x100000ull
#define NECHO 3 /* echo slots: 0 and 1 in the TCB parts' tasks, 2 in the revoke loop's */

/* Stacks (0, 1: the echoes of parts 6-7; 2: their inactive thread; 3: the
 * revoke loop's echo), in the image, so that the clients' pager serves
 * them. */
static char tstack[4][L4_STACK_SIZE] __attribute__((aligned(4096)));
static km_u64 echo_key[NECHO];
static volatile long echo_served[NECHO], echo_regs_bad[NECHO], echo_msg_bad[NECHO];

/* sys_ipc with rbx, r12, r13, r14, r15 and r9 set to key + 0..5 across
 * the system call; *bad: the bits of those (and of rdi, rsi, rdx, r10, r8,
 * the arguments) that came back changed: 0 when the kernel kept them, an
 * export and a restore of the thread in between included. */
static long checked_ipc(km_tid to, km_tid from, unsigned long flags, km_u64 tag, km_u64 key, km_u64 *bad)
{
    register km_u64 r10 __asm__("r10") = tag;
    register km_u64 r8 __asm__("r8") = 0;
    km_u64 d = to, sr = from, dx = flags, b;
    long ret = KM_SYS_IPC;
    __asm__ volatile("mov %[k], %%rbx\n\t"
                     "lea 1(%%rbx), %%r12\n\t"
                     "lea 2(%%rbx), %%r13\n\t"
                     "lea 3(%%rbx), %%r14\n\t"
                     "lea 4(%%rbx), %%r15\n\t"
                     "lea 5(%%rbx), %%r9\n\t"
                     "syscall\n\t"
                     "mov %[k], %%rcx\n\t"
                     "sub %%rcx, %%rbx\n\t"
                     "lea 1(%%rcx), %%r11\n\t"
                     "xor %%r11, %%r12\n\t"
                     "or %%r12, %%rbx\n\t"
                     "lea 2(%%rcx), %%r11\n\t"
                     "xor %%r11, %%r13\n\t"
                     "or %%r13, %%rbx\n\t"
                     "lea 3(%%rcx), %%r11\n\t"
                     "xor %%r11, %%r14\n\t"
                     "or %%r14, %%rbx\n\t"
                     "lea 4(%%rcx), %%r11\n\t"
                     "xor %%r11, %%r15\n\t"
                     "or %%r15, %%rbx\n\t"
                     "lea 5(%%rcx), %%r11\n\t"
                     "xor %%r11, %%r9\n\t"
                     "or %%r9, %%rbx\n\t"
                     "mov %%rbx, %[b]"
                     : "+a"(ret), [b] "=m"(b), "+D"(d), "+S"(sr), "+d"(dx), "+r"(r10), "+r"(r8)
                     : [k] "m"(key)
                     : "rbx", "rcx", "r9", "r11", "r12", "r13", "r14", "r15", "memory", "cc");
    *bad = b | (d ^ to) | (sr ^ from) | (dx ^ flags) | (r10 ^ tag) | r8;
    return ret;
}

static km_u64 read_rflags(void)
{
    km_u64 f;
    /* below the red zone: the compiler may keep data there */
    __asm__ volatile("lea -128(%%rsp), %%rsp\n\tpushfq\n\tpopq %0\n\tlea 128(%%rsp), %%rsp" : "=r"(f));
    return f;
}

/* Echo slot e: waits in a receive (a safe point: its TCB can be paged out
 * at once) with its registers set (checked_ipc); a message LABEL_ECHO with
 * MR0 v, MR1 3v, MR2 ~v, MR3 v ^ key is answered (a blocking send, then
 * the next receive) with MR0 v + 1, MR1 the register bits that changed
 * over the receive, MR2 bit 0 if the message or the stack canaries were
 * not intact, bit 1 if its UTCB's user word was not, MR3 its rflags. */
static void tcb_echo(void *arg)
{
    unsigned e = (unsigned)(unsigned long)arg;
    km_u64 key = echo_key[e], bad = 0;
    volatile km_u64 canary[32];
    for (unsigned i = 0; i < 32; i++)
        canary[i] = key * 7 + i;
    utcb()->user = key ^ 0x5a5a5a5aull; /* its own word of its UTCB */
    long r = checked_ipc(KM_NILTHREAD, KM_ANYTHREAD, 0, 0, key, &bad);
    for (;;) {
        if (r < 0) {
            r = checked_ipc(KM_NILTHREAD, KM_ANYTHREAD, 0, 0, key, &bad);
            continue;
        }
        km_u64 flags = read_rflags(), v = l4_mr(0);
        km_u64 mbad = l4_label() != LABEL_ECHO || KM_TAG_U(l4_msgtag()) != 4 || l4_mr(1) != v * 3 ||
                      l4_mr(2) != ~v || l4_mr(3) != (v ^ key);
        for (unsigned i = 0; i < 32; i++)
            mbad |= canary[i] != key * 7 + i;
        mbad |= (km_u64)(utcb()->user != (key ^ 0x5a5a5a5aull)) << 1;
        echo_served[e]++;
        echo_regs_bad[e] += bad != 0;
        echo_msg_bad[e] += mbad != 0;
        l4_set_mr(0, v + 1);
        l4_set_mr(1, bad);
        l4_set_mr(2, mbad);
        l4_set_mr(3, flags);
        r = checked_ipc(l4_sender(), KM_ANYTHREAD, 0, KM_TAG(0, 4, 0), key, &bad);
    }
}

/* The message tcb_echo checks, for slot e; returns its tag. */
static km_u64 echo_msg(unsigned e, km_u64 v)
{
    l4_set_mr(0, v);
    l4_set_mr(1, v * 3);
    l4_set_mr(2, ~v);
    l4_set_mr(3, v ^ echo_key[e]);
    return KM_TAG(LABEL_ECHO, 4, 0);
}

/* 0 when the answer in the UTCB is slot e's to v with its registers,
 * stack and message intact (and no privileged flag in its rflags). */
static int echo_answer_bad(km_u64 v)
{
    return l4_mr(0) != v + 1 || l4_mr(1) != 0 || l4_mr(2) != 0 ||
           (l4_mr(3) & (RFLAGS_IOPL | RFLAGS_VM | RFLAGS_VIF | RFLAGS_VIP));
}

/* A call to echo slot e: 0 when it answered intact (echo_answer_bad), 1
 * when it answered otherwise, or -KM_E*. */
static long echo_call(km_tid echo, unsigned e, km_u64 v)
{
    long r = l4_call(echo, echo_msg(e, v));
    return r < 0 ? r : echo_answer_bad(v);
}

static struct l4_thread rv_echo;
static volatile int worker_go;

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
    while (!worker_go) /* its kpager is set: its thread's TCB comes from it */
        sys_yield();
    struct l4_thread_attr a = L4_THREAD_ATTR_INIT;
    a.cpu = si.cpu;
    a.stack = tstack[3];
    a.stack_size = sizeof tstack[3];
    if (l4_thread_start(&rv_echo, &a, tcb_echo, (void *)2ul) < 0)
        client_errors++;
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
        if (echo_call(rv_echo.tid, 2, round) != 0) /* its own thread, maybe paged out */
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

/* A node page's export (abi/kspace.h): a count, then records of the
 * client's own mappings in its own terms: page, rights and flags. */
static int node_page_localised(const void *p)
{
    const km_u64 *w = p;
    if (w[0] > 126 || w[1] | w[2] | w[3] | w[4] | w[5])
        return 0;
    unsigned n = 0;
    for (unsigned k = 0; k < 126; k++) {
        const km_u64 *r = w + 6 + 4 * k;
        if (r[1] | r[2] | r[3] || r[0] >> 47 || (r[0] & 0xfe0) || (r[0] && !(r[0] & KM_R)))
            return 0;
        n += r[0] != 0;
    }
    return n == w[0];
}

static void part_revoke(void)
{
    static struct l4_task t;
    stop_flag = worker_go = 0;
    client_rounds = client_errors = 0;
    echo_key[2] = 0x0000521000000000ull;
    unsigned long faults0 = pager.faults, restores0 = kp.restores, missed0 = kp.restore_missed;
    long served0 = echo_served[2];
    /* Made with kp set here too: its top-level table and first TCB come
     * from kp, and are revoked with the rest. */
    long sr = sys_thread_control(me, KM_TCTL_SET_KPAGER, kp_thr.tid);
    if (sr == 0)
        sr = start(&t, worker, (void *)(unsigned long)(REGION + (64ull << 30)), kp_thr.tid);
    sys_thread_control(me, KM_TCTL_SET_KPAGER, KM_NILTHREAD);
    if (sr < 0) {
        tap_ok(0, "revoke: client started");
        return;
    }
    worker_go = 1;
    long revoked = 0, zero = 0, checked = 0, last = 0, tcbs = 0, tops = 0, nodes = 0;
    for (int i = 0; i < 40; i++) {
        for (int y = 0; y < 100000 && client_rounds == last && l4_thread_state(t.main.tid) >= 0; y++) {
            sys_yield();
        }
        if (client_rounds == last) {
            tap_diag("revoke: the client makes no progress (state %ld)", l4_thread_state(t.main.tid));
            break;
        }
        last = client_rounds;
        /* which pages are lent to the client now: check them once back
         * (a TCB or UTCB page is held: exported with its thread's state,
         * and not to be touched until it is given back) */
        unsigned char was[POOL];
        for (unsigned p = 0; p < kp.npages; p++) {
            int ty = km_ks_type(kp.page[p].ksaddr);
            was[p] = kp.page[p].state == KPAGE_LENT && kp.page[p].task == t.id;
            was[p] += was[p] && (ty == KM_KMEM_TCB || ty == KM_KMEM_UTCB);
        }
        long n = kpager_revoke(kp_thr.tid, t.id, 0, KM_KS_END);
        if (n < 0)
            break;
        revoked += n;
        for (unsigned p = 0; p < kp.npages; p++) {
            tcbs += was[p] == 2 && kp.page[p].state == KPAGE_HELD;
            tops += was[p] == 1 && kp.page[p].state == KPAGE_FREE && kp.page[p].ksaddr == KM_KS_PML4;
            if (was[p] == 1 && kp.page[p].state == KPAGE_FREE) {
                int mn = kp.page[p].ksaddr >= KM_KS_MN && kp.page[p].ksaddr < KM_KS_ME;
                checked++;
                nodes += mn;
                zero += mn ? node_page_localised(pool[p]) : all_zero(pool[p]);
            }
        }
    }
    long rounds = client_rounds;
    stop_flag = 1;
    for (int y = 0; y < 100000 && !t.done; y++)
        sys_yield();
    long r = t.done ? finish(&t) : (l4_task_delete(&t), -KM_ETIMEOUT);
    tap_ok(r == 0, "revoke: the client ran to its end (%s)", sys_errname(r));
    tap_ok(revoked >= 40, "revoke: %ld kernel pages revoked in 40 rounds", revoked);
    tap_ok(tops >= 20, "revoke: its top-level table among them (%ld times): every mapping of the task "
           "went each time and came back by its faults", tops);
    tap_ok(rounds >= 40 && client_errors == 0,
           "revoke: the client saw its memory and its IPC intact (%ld rounds, %ld errors)", rounds,
           client_errors);
    tap_ok(tcbs >= 2 * 20 && kp.restores - restores0 >= 20 && kp.restore_missed == missed0,
           "revoke: its thread's TCB and UTCB were paged out (%ld pages) and restored by the client's "
           "calls (%lu RESTORE faults served, %lu missed)", tcbs, kp.restores - restores0,
           kp.restore_missed - missed0);
    tap_ok(echo_served[2] - served0 >= rounds && echo_regs_bad[2] == 0 && echo_msg_bad[2] == 0,
           "revoke: the client's thread answered every call with its registers, stack and messages "
           "intact (%ld calls, %ld with registers changed, %ld with stack or message changed)",
           echo_served[2] - served0, echo_regs_bad[2], echo_msg_bad[2]);
    tap_ok(pager.faults - faults0 > 40 * 4,
           "revoke: its mappings were rebuilt by user-level page faults (%lu faults)",
           pager.faults - faults0);
    tap_ok(checked > 0 && zero == checked,
           "export: every revoked page but TCBs, UTCBs and node tables that name nodes (held: their "
           "exports are checked in part 10) came back all zero, or (%ld node pages) as the client's own "
           "records (%ld of %ld): no physical address, no kernel pointer",
           nodes, zero, checked);
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
    int bad = 0, told = 0, done = 0, silent_rounds = 0, done_after_silent = 0;
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
        if (mode == EVIL_SILENT && !t.done) {
            /* The clients' pager still waits for the silent kpager's
             * answer to a kernel page fault for the (now deleted) client:
             * the kpager goes, its waiter gets an error for a client that
             * is gone (the kernel must not finish that client's IPC), and
             * a new kpager serves the rounds that follow. */
            long k = l4_thread_kill(&evil_thr);
            for (int y = 0; y < 8; y++)
                sys_yield();
            struct l4_thread_attr a = L4_THREAD_ATTR_INIT;
            a.cpu = si.cpu;
            if (k < 0 || l4_thread_start(&evil_thr, &a, evil_kpager, 0) < 0)
                bad++;
            silent_rounds++;
        } else if (silent_rounds && t.done) {
            done_after_silent++;
        }
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
    tap_ok(silent_rounds > 0 && done_after_silent > 0,
           "malicious kpager: after %d silent kpagers were deleted, the pager served %d more clients",
           silent_rounds, done_after_silent);
}

/* ---- parts 6 and 7: TCB paging, malicious restores ----------------------- */

/* A client task for parts 6-7: its first thread (from the pool, its kpager
 * set after start) makes echo slots 0 and 1 and one inactive thread, which
 * inherit its kpager: their TCB and UTCB pages come from kp. */
static struct {
    volatile int go, ready;
    volatile long err;
    struct l4_thread echo[2];
    volatile km_tid inactive;
} host;
static struct l4_task host_task;
static struct l4_thread inact; /* what the inactive thread starts with */
static volatile int inact_ran;

static long tcb_host(void *arg)
{
    (void)arg;
    while (!host.go)
        sys_yield();
    long r = 0;
    for (unsigned e = 0; r == 0 && e < 2; e++) {
        struct l4_thread_attr a = L4_THREAD_ATTR_INIT;
        a.cpu = si.cpu;
        a.stack = tstack[e];
        a.stack_size = sizeof tstack[e];
        r = l4_thread_start(&host.echo[e], &a, tcb_echo, (void *)(unsigned long)e);
    }
    if (r == 0)
        r = sys_thread_create(0, KM_NILTHREAD);
    if (r > 0) {
        host.inactive = (km_tid)r;
        r = sys_thread_control((km_tid)r, KM_TCTL_SET_CPU, (unsigned long)si.cpu);
    }
    host.err = r;
    host.ready = 1;
    return r; /* its echoes and the inactive thread stay */
}

/* Starts a host task (keys for its echoes from rnd()) and waits until its
 * echoes wait in their receive; 0 or -KM_E*. */
static long host_start(void)
{
    host.go = host.ready = 0;
    host.err = 0;
    host.inactive = KM_NILTHREAD;
    for (unsigned e = 0; e < 2; e++)
        echo_key[e] = 0x0000100000000000ull + ((rnd() & 0xffffffffull) << 12) + e * 0x100;
    long r = start(&host_task, tcb_host, 0, kp_thr.tid);
    if (r < 0)
        return r;
    host.go = 1;
    for (int y = 0; y < 100000 && !host.ready; y++)
        sys_yield();
    if (!host.ready) {
        long ip = sys_exregs(host_task.main.tid, KM_EXREGS_READ, 0, 0);
        tap_diag("tcb: the client did not make its threads (state %ld) ip %lx sp %lx ready %d err %ld e0 %lx kp: nfree %u exh %lu kf %lu", l4_thread_state(host_task.main.tid), ip, l4_mr(0), host.ready, host.err, host.echo[0].tid, kp.nfree, kp.exhausted, kp.kfaults);
        return -KM_ETIMEOUT;
    }
    if (host.err < 0)
        return host.err;
    l4_receive(host_task.main.tid); /* its DONE: its first thread is gone */
    for (unsigned e = 0; e < 2; e++)
        if (!l4_wait_state(host.echo[e].tid, KM_TSTATE_RECEIVING, 100000)) {
            tap_diag("tcb: its thread %u does not wait in its receive (state %ld)", e,
                     l4_thread_state(host.echo[e].tid));
            return -KM_ETIMEOUT;
        }
    return 0;
}

static void inact_fn(void *arg)
{
    (void)arg;
    inact_ran = 1;
}

/* exregs START of the host's inactive thread at l4_thread_entry, on
 * tstack[2], running inact_fn; the result of sys_exregs. */
static long inact_start(void)
{
    inact = (struct l4_thread){.tid = host.inactive, .fn = inact_fn, .stack = tstack[2],
                               .stack_size = sizeof tstack[2]};
    inact_ran = 0;
    unsigned long sp = (((unsigned long)tstack[2] + sizeof tstack[2]) & ~15ul) - 16;
    ((void **)sp)[0] = &inact;
    ((void **)sp)[1] = 0;
    return sys_exregs(host.inactive, KM_EXREGS_START, (unsigned long)l4_thread_entry, sp);
}

static int wait_flag(volatile int *f)
{
    for (int y = 0; y < 20000 && !*f; y++)
        sys_yield();
    return *f;
}

static int kmem_of(km_taskid task, struct km_kmem_info *k) { return sys_kmem_info(task, k) == 0; }

/* What the exported TCB page of a thread waiting in the receive of
 * checked_ipc(.., KM_ANYTHREAD, .., key) (slot e) must hold: magic, tid,
 * IPC_WAIT, from = any; the registers it set; rip and rsp in user space,
 * rsp on its stack; no other word that looks like a kernel address (rsi
 * and from hold KM_ANYTHREAD, its own argument); zero from offset 176.
 * Returns a bit per failed check (0: all passed). */
static unsigned export_bad(const struct km_tcb_export *x, km_tid tid, unsigned e)
{
    km_u64 key = echo_key[e];
    unsigned bad = 0;
    bad |= (x->magic != KM_TCB_MAGIC) << 0;
    bad |= (x->tid != tid) << 1;
    bad |= (x->cont != KM_KCONT_IPC_WAIT || x->reserved) << 2;
    bad |= (x->from != KM_ANYTHREAD) << 3;
    bad |= (x->rbx != key || x->r12 != key + 1 || x->r13 != key + 2 || x->r14 != key + 3 ||
            x->r15 != key + 4 || x->r9 != key + 5 || x->rsi != KM_ANYTHREAD) << 4;
    bad |= (x->rip >= USER_END || x->rsp < (km_u64)(unsigned long)tstack[e] ||
            x->rsp >= (km_u64)(unsigned long)tstack[e] + sizeof tstack[e]) << 5;
    const km_u64 *w = (const km_u64 *)x;
    for (unsigned i = 0; i < sizeof *x / 8; i++) {
        int own = &w[i] == &x->from || &w[i] == &x->rsi; /* KM_ANYTHREAD */
        if (w[i] >= KERNEL_HALF && !(own && w[i] == KM_ANYTHREAD))
            bad |= 1u << 6;
    }
    for (unsigned i = sizeof *x / 8; i < PAGE / 8; i++)
        if (w[i])
            bad |= 1u << 7;
    return bad;
}

/* ---- part 8: a paged-out thread whose IPC ends ------------------------------
 * A client thread W waits to receive from its task's thread Z; W's TCB is
 * paged out; then Z is deleted.  W's receive ends (-KM_ECANCELED) while W
 * is out, so W itself asks its kpager for its TCB (nobody else needs it),
 * comes back and runs on. */
static char rs_stack[2][L4_STACK_SIZE] __attribute__((aligned(4096)));
static struct l4_thread rs_thr[2];
static volatile km_tid rs_waiter, rs_partner;
static volatile long rs_result, rs_after;
static volatile int rs_stop;

static void rs_partner_fn(void *arg)
{
    (void)arg;
    while (!rs_waiter)
        sys_yield();
    l4_receive(rs_waiter); /* waits for W, which waits for it */
}

static void rs_waiter_fn(void *arg)
{
    (void)arg;
    while (!rs_partner)
        sys_yield();
    rs_result = l4_receive(rs_partner);
    rs_after = 1; /* it runs on after its restore */
}

static long rs_client(void *arg)
{
    (void)arg;
    struct l4_thread_attr a = L4_THREAD_ATTR_INIT;
    a.cpu = si.cpu;
    long r = 0;
    for (int i = 0; r == 0 && i < 2; i++) {
        a.stack = rs_stack[i];
        a.stack_size = sizeof rs_stack[i];
        r = l4_thread_start(&rs_thr[i], &a, i ? rs_partner_fn : rs_waiter_fn, 0);
    }
    if (r == 0) {
        rs_partner = rs_thr[1].tid;
        rs_waiter = rs_thr[0].tid;
    }
    while (r == 0 && !rs_stop)
        sys_yield();
    return r;
}

/* A thread of this task that takes messages and never answers: a kpager
 * that leaves a paged-out thread's request unanswered. */
static struct l4_thread rs_silent;
static void rs_silent_fn(void *arg)
{
    (void)arg;
    for (;;)
        l4_receive_any();
}

enum rs_case { RS_PLAIN, RS_REFUSED, RS_KPAGER_GONE };

/* Starts the client, pages W out (kp holds its pages), and returns the
 * kspace address of W's TCB; 0 on failure. */
static km_u64 rs_setup(struct l4_task *t)
{
    rs_waiter = rs_partner = 0;
    rs_result = 1;
    rs_after = rs_stop = 0;
    if (start(t, rs_client, 0, kp_thr.tid) < 0)
        return 0;
    for (int y = 0; y < 100000 && (!rs_waiter || l4_thread_state(rs_waiter) != KM_TSTATE_RECEIVING ||
                                   l4_thread_state(rs_partner) != KM_TSTATE_RECEIVING); y++)
        sys_yield();
    km_u64 ks = KM_KS_TCB_OF(KM_ID_NUMBER(rs_waiter));
    if (!rs_waiter || kpager_revoke(kp_thr.tid, t->id, ks, ks + 2 * PAGE) < 1 ||
        kpager_find_held(&kp, t->id, ks) < 0 || kpager_find_held(&kp, t->id, ks + PAGE) < 0)
        return 0;
    return ks;
}

static void rs_end(struct l4_task *t, const char *what)
{
    rs_stop = 1;
    for (int y = 0; y < 100000 && !t->done; y++)
        sys_yield();
    long r = t->done ? finish(t) : (l4_task_delete(t), -KM_ETIMEOUT);
    tap_ok(r == 0, "resume (%s): the client ran to its end (%s)", what, sys_errname(r));
}

/* ---- part 9: the top-level table taken while the client runs elsewhere ----
 * The client spins on the other CPU, writing and checking its memory; its
 * top-level table is revoked from this CPU again and again: the other CPU
 * must leave the space at once (an eviction IPI) and its thread fault it
 * back, unaware. */
static volatile long ev_rounds, ev_errors;
static volatile int ev_stop;

static long ev_client(void *arg)
{
    km_u64 base = (km_u64)(unsigned long)arg;
    unsigned long round = 0;
    while (!ev_stop) {
        round++;
        for (int p = 0; p < 4; p++)
            *(volatile km_u64 *)(unsigned long)(base + (km_u64)p * PAGE + 16) = round * 7 + (unsigned)p;
        for (int p = 0; p < 4; p++)
            if (*(volatile km_u64 *)(unsigned long)(base + (km_u64)p * PAGE + 16) != round * 7 + (unsigned)p)
                ev_errors++;
        ev_rounds = (long)round;
    }
    return 0;
}

static void part_pml4_other_cpu(void)
{
    static struct l4_task t;
    if (si.ncpus < 2) {
        tap_diag("pml4 elsewhere: one CPU, skipped");
        return;
    }
    ev_rounds = ev_errors = ev_stop = 0;
    struct l4_thread_attr a = L4_THREAD_ATTR_INIT;
    a.pager = clients_pager;
    a.cpu = si.cpu ? 0 : 1;
    long r = sys_thread_control(me, KM_TCTL_SET_KPAGER, kp_thr.tid);
    if (r == 0)
        r = l4_task_start(&t, &a, me, ev_client, (void *)(unsigned long)(REGION + (96ull << 30)));
    sys_thread_control(me, KM_TCTL_SET_KPAGER, KM_NILTHREAD);
    if (r == 0)
        r = sys_thread_control(t.main.tid, KM_TCTL_SET_KPAGER, kp_thr.tid);
    int evicted = 0;
    long last = 0;
    for (int i = 0; r == 0 && i < 20; i++) {
        for (int y = 0; y < 100000 && ev_rounds == last; y++)
            sys_yield();
        if (ev_rounds == last)
            break;
        /* Everything kp has lent it (the kpager may know its top-level
         * table as a reserve page; every table of the task is kp's: its
         * pinned pages stay 0). */
        struct km_kmem_info k;
        long n = kpager_revoke(kp_thr.tid, t.id, 0, KM_KS_RESERVE + PAGE);
        long ki = sys_kmem_info(t.id, &k);
        evicted += n >= 1 && ki == 0 && k.pinned_pages == 0;
        last = ev_rounds; /* (it may have counted on while the revocation ran) */
    }
    for (int y = 0; y < 100000 && ev_rounds == last; y++)
        sys_yield();
    long rounds = ev_rounds;
    ev_stop = 1;
    for (int y = 0; y < 100000 && !t.done; y++)
        sys_yield();
    long f = t.done ? finish(&t) : (l4_task_delete(&t), -KM_ETIMEOUT);
    tap_ok(r == 0 && f == 0 && evicted == 20 && rounds > last && ev_errors == 0,
           "pml4 elsewhere: all kernel pages of a client running on the other CPU, its top-level table "
           "among them, taken %d times, the client unaware (%ld rounds, %ld errors, %s)", evicted, rounds,
           ev_errors, sys_errname(f));
}

static void part_tcb_resume(void)
{
    static struct l4_task t;
    /* plain: its kpager answers its own request */
    km_u64 ks = rs_setup(&t);
    unsigned long restores0 = kp.restores, kfaults0 = kp.kfaults;
    long d = ks ? sys_thread_delete(rs_partner) : -KM_ESRCH;
    for (int y = 0; y < 100000 && !rs_after; y++)
        sys_yield();
    tap_ok(ks && d == 0 && rs_after && rs_result == -KM_ECANCELED && kp.restores == restores0 + 1 &&
               kp.kfaults == kfaults0 + 1,
           "resume: a paged-out thread whose partner went asked for its own TCB (%lu restore, %lu kernel "
           "page fault), came back and got %s", kp.restores - restores0, kp.kfaults - kfaults0,
           sys_errname(rs_result));
    rs_end(&t, "plain");

    /* refused: its kpager answers with a TCB page that fails the checks */
    ks = rs_setup(&t);
    km_u64 page = ks ? kpager_held_page(&kp, t.id, ks) : 0;
    if (page)
        ((volatile km_u64 *)(unsigned long)page)[1] ^= 1; /* another tid */
    km_tid w = rs_waiter;
    d = page ? sys_thread_delete(rs_partner) : -KM_ESRCH;
    for (int y = 0; y < 100000 && l4_thread_state(w) != -KM_ESRCH; y++)
        sys_yield();
    tap_ok(page && d == 0 && l4_thread_state(w) == -KM_ESRCH && !rs_after,
           "resume: a paged-out thread whose own restore brought a bad TCB page was dropped (state %s), "
           "nothing else", sys_errname(l4_thread_state(w)));
    rs_end(&t, "refused");

    /* its kpager goes while its request waits: the request ends; later a
     * working kpager set for it brings it back when something needs it */
    struct l4_thread_attr a = L4_THREAD_ATTR_INIT;
    a.cpu = si.cpu;
    ks = rs_setup(&t);
    long r = ks ? l4_thread_start(&rs_silent, &a, rs_silent_fn, 0) : -KM_ESRCH;
    if (r == 0)
        r = sys_thread_control(rs_waiter, KM_TCTL_SET_KPAGER, rs_silent.tid);
    if (r == 0)
        r = sys_thread_delete(rs_partner);
    for (int y = 0; y < 1000 && r == 0 && l4_thread_state(rs_silent.tid) != KM_TSTATE_RECEIVING; y++)
        sys_yield();
    long k = r == 0 ? l4_thread_kill(&rs_silent) : r;
    for (int y = 0; y < 100; y++)
        sys_yield();
    int still_out = !rs_after;
    long st = sys_exregs(rs_waiter, KM_EXREGS_READ, 0, 0); /* nobody to ask: an error, no hang */
    long c = sys_thread_control(rs_waiter, KM_TCTL_SET_KPAGER, kp_thr.tid);
    long st2 = l4_thread_state(rs_waiter); /* now restored (a RESTORE fault to kp) */
    for (int y = 0; y < 100000 && !rs_after; y++)
        sys_yield();
    tap_ok(r == 0 && k == 0 && still_out && st == -KM_ENOMEM && c == 0 && st2 >= 0 && rs_after &&
               rs_result == -KM_ECANCELED,
           "resume: a paged-out thread whose kpager was deleted while it waited for its answer stayed out "
           "(exregs %s), and came back through a new kpager (%s)", sys_errname(st), sys_errname(rs_result));
    rs_end(&t, "kpager gone");
}

static void part_tcb(void)
{
    /* The clients' pager may be left waiting by part 4 (in a kernel page
     * fault to the kpager that never answers, for a client since deleted):
     * the clients from here on get a pager of their own. */
    struct l4_thread_attr a = L4_THREAD_ATTR_INIT;
    a.cpu = si.cpu;
    l4_window_pager_init(&pager2, REGION, SENT_REGION + 8 * PAGE, backing, 0);
    long r = l4_window_pager_start(&pager2_thr, &a, &pager2);
    if (!tap_ok(r == 0, "tcb: a pager for the clients (%s)", sys_errname(r)))
        return;
    clients_pager = pager2_thr.tid;
    r = host_start();
    if (!tap_ok(r == 0, "tcb: a client with two threads and an inactive one, TCBs from its kpager (%s)",
                sys_errname(r))) {
        l4_task_delete(&host_task);
        return;
    }
    km_taskid task = host_task.id;
    km_tid e0 = host.echo[0].tid, e1 = host.echo[1].tid, in = host.inactive;
    km_u64 ks0 = KM_KS_TCB_OF(KM_ID_NUMBER(e0)), ks1 = KM_KS_TCB_OF(KM_ID_NUMBER(e1)),
           ksi = KM_KS_TCB_OF(KM_ID_NUMBER(in));
    tap_ok(kpager_find(&kp, task, ks0) >= 0 && kpager_find(&kp, task, ks0 + PAGE) >= 0 &&
               kpager_find(&kp, task, ksi) >= 0 && kpager_find(&kp, task, ksi + PAGE) >= 0,
           "tcb: its threads' TCB and UTCB pages were lent by its kpager at KM_KS_TCB_OF(n), "
           "KM_KS_UTCB_OF(n)");
    tap_ok(echo_call(e0, 0, 1000) == 0, "tcb: its thread answers before it is paged out");

    /* one thread waiting in a receive: a safe point, exported at once */
    struct km_kmem_info k0, k1, k2;
    int info = kmem_of(task, &k0);
    unsigned long rs0 = kp.restores, rp0 = kp.restored;
    r = kpager_revoke(kp_thr.tid, task, ks0, ks0 + 2 * PAGE);
    info &= kmem_of(task, &k1);
    tap_ok(r == 2 && kpager_find_held(&kp, task, ks0) >= 0 && kpager_find_held(&kp, task, ks0 + PAGE) >= 0,
           "tcb: revoking a receiving thread's TCB and UTCB takes both back, held by the kpager (%ld)", r);
    tap_ok(info && k1.pages[KM_KMEM_TCB] == k0.pages[KM_KMEM_TCB] - 1 &&
               k1.pages[KM_KMEM_UTCB] == k0.pages[KM_KMEM_UTCB] - 1,
           "tcb: the task's TCB and UTCB pages dropped by one each (TCB %lu -> %lu, UTCB %lu -> %lu)",
           (unsigned long)k0.pages[KM_KMEM_TCB], (unsigned long)k1.pages[KM_KMEM_TCB],
           (unsigned long)k0.pages[KM_KMEM_UTCB], (unsigned long)k1.pages[KM_KMEM_UTCB]);
    km_u64 tp = kpager_held_page(&kp, task, ks0), up = kpager_held_page(&kp, task, ks0 + PAGE);
    unsigned xb = tp && info && k1.pages[KM_KMEM_TCB] < k0.pages[KM_KMEM_TCB]
                      ? export_bad((const struct km_tcb_export *)(unsigned long)tp, e0, 0)
                      : ~0u;
    tap_ok(xb == 0, "tcb: the exported TCB: magic, tid, continuation IPC_WAIT, the thread's own registers, "
           "rip and rsp in user space, no kernel address, zero from offset 176 (failed checks 0x%x)", xb);
    int utcb_ok = 0;
    for (unsigned o = 0; up && xb != ~0u && o < PAGE; o += sizeof(struct km_utcb)) {
        const struct km_utcb *eu = (const struct km_utcb *)(unsigned long)(up + o);
        utcb_ok |= eu->tid == e0 && eu->user == (echo_key[0] ^ 0x5a5a5a5aull);
    }
    tap_ok(utcb_ok, "tcb: the exported UTCB page is the thread's UTCB as it was (its id, its own word)");

    /* a message restores it */
    long a1 = echo_call(e0, 0, 2000);
    info = kmem_of(task, &k2);
    tap_ok(a1 == 0, "tcb: a message to the paged-out thread is received intact, its registers and stack "
           "unchanged (%ld)", a1);
    tap_ok(kp.restores == rs0 + 1 && kp.restored == rp0 + 2,
           "tcb: after one RESTORE kernel page fault for its TCB and UTCB (%lu faults, %lu pages)",
           kp.restores - rs0, kp.restored - rp0);
    tap_ok(info && k2.pages[KM_KMEM_TCB] == k0.pages[KM_KMEM_TCB] &&
               k2.pages[KM_KMEM_UTCB] == k0.pages[KM_KMEM_UTCB] && kpager_find(&kp, task, ks0) >= 0 &&
               kpager_find(&kp, task, ks0 + PAGE) >= 0,
           "tcb: its TCB and UTCB pages are lent and counted again");
    long a2 = echo_call(e0, 0, 3000), a3 = echo_call(e0, 0, 3001);
    tap_ok(a2 == 0 && a3 == 0 && kp.restores == rs0 + 1, "tcb: it goes on: answers again without a restore");
    /* twice more out and back */
    int again = 1;
    for (int i = 0; i < 2; i++) {
        again &= kpager_revoke(kp_thr.tid, task, ks0, ks0 + 2 * PAGE) == 2;
        again &= echo_call(e0, 0, 4000 + (km_u64)i) == 0;
    }
    tap_ok(again && kp.restores == rs0 + 3 && echo_regs_bad[0] == 0 && echo_msg_bad[0] == 0,
           "tcb: paged out and restored twice more, intact (%lu restores)", kp.restores - rs0);

    /* the task's whole TCB range: both echoes and the inactive thread */
    info = kmem_of(task, &k0);
    r = kpager_revoke(kp_thr.tid, task, KM_KS_TCB, KM_KS_END);
    info &= kmem_of(task, &k1);
    tap_ok(r == 6 && info && k1.pages[KM_KMEM_TCB] == k0.pages[KM_KMEM_TCB] - 3 &&
               k1.pages[KM_KMEM_UTCB] == k0.pages[KM_KMEM_UTCB] - 3,
           "tcb: revoking the task's TCB range takes its three threads' pages (%ld; TCB %lu -> %lu, "
           "UTCB %lu -> %lu)", r, (unsigned long)k0.pages[KM_KMEM_TCB], (unsigned long)k1.pages[KM_KMEM_TCB],
           (unsigned long)k0.pages[KM_KMEM_UTCB], (unsigned long)k1.pages[KM_KMEM_UTCB]);
    const struct km_tcb_export *xi = (const void *)(unsigned long)kpager_held_page(&kp, task, ksi);
    tap_ok(xi && k1.pages[KM_KMEM_TCB] < k0.pages[KM_KMEM_TCB] && xi->magic == KM_TCB_MAGIC &&
               xi->tid == in && xi->cont == KM_KCONT_START,
           "tcb: the inactive thread's export: magic, tid, continuation START");

    /* a restore the kpager cannot serve: the send fails, the thread stays out */
    int h0 = kpager_find_held(&kp, task, ks1), h1 = kpager_find_held(&kp, task, ks1 + PAGE);
    unsigned long miss0 = kp.restore_missed;
    long am = -KM_EINVAL;
    if (h0 >= 0 && h1 >= 0) {
        kp.page[h0].task = kp.page[h1].task = 0; /* as if lost */
        am = l4_call(e1, echo_msg(1, 5000));
        kp.page[h0].task = kp.page[h1].task = task;
    }
    tap_ok(am == -KM_ENOMEM && kp.restore_missed == miss0 + 2,
           "tcb: a restore the kpager has no page for: the send fails with -KM_ENOMEM (%s), no fresh page "
           "given (%lu missed)", sys_errname(am), kp.restore_missed - miss0);
    long a4 = echo_call(e1, 1, 6000);
    tap_ok(a4 == 0 && kpager_find_held(&kp, task, ks1) < 0,
           "tcb: the thread stayed paged out, intact: restored by the next send (%ld)", a4);

    /* the inactive thread: started by exregs, which restores it */
    unsigned long rs1 = kp.restores;
    r = inact_start();
    tap_ok(r == 0 && kp.restores == rs1 + 1 && wait_flag(&inact_ran) && wait_flag(&inact.done),
           "tcb: exregs START restores a paged-out inactive thread, which runs (%s, %lu restores)",
           sys_errname(r), kp.restores - rs1);

    /* a thread not at a safe point (blocked sending its answer to us, who
     * do not receive yet): the export waits until it is back in its
     * receive; the kpager holds the pages (and must not touch them) */
    unsigned long rs2 = kp.restores;
    r = l4_send(e1, echo_msg(1, 7000));
    info = r == 0 && kmem_of(task, &k0);
    long rv = kpager_revoke(kp_thr.tid, task, ks1, ks1 + 2 * PAGE);
    info &= kmem_of(task, &k1);
    tap_ok(info && rv == 2 && kpager_find_held(&kp, task, ks1) >= 0 &&
               k1.pages[KM_KMEM_TCB] == k0.pages[KM_KMEM_TCB] &&
               k1.pages[KM_KMEM_UTCB] == k0.pages[KM_KMEM_UTCB],
           "tcb: revoking a thread that is sending (no safe point): held, the export deferred (its pages "
           "still counted: TCB %lu -> %lu)", (unsigned long)k0.pages[KM_KMEM_TCB],
           (unsigned long)k1.pages[KM_KMEM_TCB]);
    long a5 = l4_receive(e1) == 0 && !echo_answer_bad(7000) ? 0 : 1;
    info = kmem_of(task, &k2);
    const struct km_tcb_export *x1 =
        info && k2.pages[KM_KMEM_TCB] == k0.pages[KM_KMEM_TCB] - 1 && k2.pages[KM_KMEM_UTCB] == k0.pages[KM_KMEM_UTCB] - 1
            ? (const void *)(unsigned long)kpager_held_page(&kp, task, ks1)
            : 0;
    unsigned xb1 = x1 ? export_bad(x1, e1, 1) : ~0u;
    tap_ok(a5 == 0 && xb1 == 0,
           "tcb: its answer comes; back in its receive it is exported by itself: counts down by one each, "
           "the export as it should be (failed checks 0x%x)", xb1);
    long a6 = echo_call(e1, 1, 7001);
    tap_ok(a6 == 0 && kp.restores == rs2 + 1 && echo_regs_bad[1] == 0 && echo_msg_bad[1] == 0,
           "tcb: then a message restores it, intact (%ld, %lu restores)", a6, kp.restores - rs2);
    rv = kpager_revoke(kp_thr.tid, task, ks1, ks1 + 2 * PAGE); /* out again, at once */

    /* held pages of a gone task (both echoes', paged out above): back to the pool */
    unsigned held = 0;
    for (unsigned p = 0; p < kp.npages; p++)
        held += kp.page[p].state == KPAGE_HELD && kp.page[p].task == task;
    l4_task_delete(&host_task);
    kpager_revoke(kp_thr.tid, 0, 0, 0); /* nothing to unmap: collects */
    unsigned left = 0;
    for (unsigned p = 0; p < kp.npages; p++)
        left += kp.page[p].state != KPAGE_FREE && kp.page[p].task == task;
    tap_ok(rv == 2 && held == 4 && left == 0,
           "tcb: a task deleted with a thread paged out: its held pages return to the kpager's pool "
           "(%u held, %u left)", held, left);
}

enum tcb_evil { TE_NONE, TE_RANDOM, TE_MAGIC, TE_TID, TE_CONT, TE_KERNEL_RIP, TE_RFLAGS, TE_REGS,
                TE_UTCB, TE_OTHER_THREAD, TE_OTHER_TYPE, TE_N };
static const char *const te_names[] = {"unchanged", "random bytes", "a bit of magic", "a bit of tid",
    "a bit of the continuation", "a kernel rip", "IOPL, VM, VIF, VIP, NT in rflags",
    "random registers", "random UTCB bytes", "another thread's TCB", "its UTCB as its TCB"};
/* Outcomes: dropped (-KM_ESRCH), answered intact (or ran, the inactive
 * thread), ran with what it got (no answer, or another one). */
enum { OUT_DROPPED, OUT_INTACT, OUT_CHANGED, OUT_N };
static unsigned te_out[TE_N][3][OUT_N]; /* kind, target (echo 0, echo 1, inactive), outcome */

/* Corrupts what the kpager holds for thread tid's TCB (and UTCB) page. */
static void corrupt(enum tcb_evil kind, km_taskid task, km_tid tid, km_tid other)
{
    km_u64 ks = KM_KS_TCB_OF(KM_ID_NUMBER(tid));
    struct km_tcb_export *x = (void *)(unsigned long)kpager_held_page(&kp, task, ks);
    km_u64 *u = (void *)(unsigned long)kpager_held_page(&kp, task, ks + PAGE);
    if (!x || !u)
        return;
    switch (kind) {
    case TE_NONE:
    case TE_N:
        break;
    case TE_RANDOM:
        for (unsigned i = 0; i < PAGE / 8; i++)
            ((km_u64 *)x)[i] = rnd();
        break;
    case TE_MAGIC:
        x->magic ^= 1ull << (rnd() % 64);
        break;
    case TE_TID:
        x->tid ^= 1ull << (rnd() % 64);
        break;
    case TE_CONT:
        x->cont ^= 1u << (rnd() % 32);
        break;
    case TE_KERNEL_RIP:
        x->rip = KERNEL_HALF + (rnd() & 0x7fffffffffffull);
        break;
    case TE_RFLAGS:
        x->rflags |= RFLAGS_IOPL | RFLAGS_VM | RFLAGS_VIF | RFLAGS_VIP | RFLAGS_NT;
        break;
    case TE_REGS: /* user addresses where nothing is mapped nor served */
        x->rip = 0x0000100000000000ull + (rnd() & 0xffffffffff0ull);
        x->rsp = 0x0000100000000000ull + (rnd() & 0xffffffffff0ull);
        for (km_u64 *g = &x->rax; g <= &x->r15; g++)
            *g = rnd();
        break;
    case TE_UTCB:
        for (unsigned i = 0; i < PAGE / 8; i++)
            u[i] = rnd();
        break;
    case TE_OTHER_THREAD:
        kpager_held_swap(&kp, task, ks, task, KM_KS_TCB_OF(KM_ID_NUMBER(other)));
        break;
    case TE_OTHER_TYPE:
        kpager_held_swap(&kp, task, ks, task, ks + PAGE);
        break;
    }
}

/* Sends echo slot e a message; its outcome (OUT_*), or -1 when the send
 * returned something else than 0 or -KM_ESRCH. */
static int send_outcome(km_tid echo, unsigned e, km_u64 v)
{
    long r = l4_send(echo, echo_msg(e, v));
    if (r == -KM_ESRCH)
        return OUT_DROPPED;
    if (r != 0) {
        tap_diag("tcb restore: a send returned %s", sys_errname(r));
        return -1;
    }
    /* it answers with a blocking send, unless what it got back derails it */
    for (int y = 0; y < 3000; y++) {
        if (l4_receive_nowait(echo) == 0)
            return echo_answer_bad(v) ? OUT_CHANGED : OUT_INTACT;
        sys_yield();
    }
    return OUT_CHANGED;
}

static void part_tcb_malicious(void)
{
    unsigned long seed = si.tsc_hz ^ 0x2545f4914f6cdd1dul;
    rng = seed | 1;
    tap_diag("malicious restores: %d rounds, seed %lu", ROUNDS, seed);
    int bad = 0, odd = 0, deferred = 0, other_bad = 0;
    long s0 = sent_rounds;
    for (int i = 0; i < ROUNDS; i++) {
        enum tcb_evil kind = (enum tcb_evil)(i < TE_N ? (unsigned long)i : rnd() % TE_N);
        for (unsigned e = 0; e < 2; e++)
            echo_served[e] = echo_regs_bad[e] = echo_msg_bad[e] = 0;
        if (host_start() < 0) {
            bad++;
            l4_task_delete(&host_task);
            continue;
        }
        km_taskid task = host_task.id;
        km_tid e0 = host.echo[0].tid, e1 = host.echo[1].tid;
        struct km_kmem_info k0, k1;
        int info = kmem_of(task, &k0);
        long n = kpager_revoke(kp_thr.tid, task, KM_KS_TCB, KM_KS_END);
        info &= kmem_of(task, &k1);
        if (n != 6 || !info || k1.pages[KM_KMEM_TCB] != k0.pages[KM_KMEM_TCB] - 3) {
            deferred++; /* not all exported now: their pages are not to be touched */
        } else {
            corrupt(kind, task, e0, e1);
            if (kind != TE_OTHER_THREAD)
                corrupt(kind, task, host.inactive, e1);
        }
        int o0 = send_outcome(e0, 0, 7000 + (km_u64)i);
        int o1 = send_outcome(e1, 1, 8000 + (km_u64)i);
        long rs = inact_start();
        int oi = rs == -KM_ESRCH ? OUT_DROPPED
                 : rs == 0        ? (wait_flag(&inact_ran) ? OUT_INTACT : OUT_CHANGED)
                                  : -1;
        if (rs != 0 && rs != -KM_ESRCH)
            tap_diag("tcb restore: exregs START returned %s", sys_errname(rs));
        if (o0 < 0 || o1 < 0 || oi < 0) {
            odd++;
        } else {
            te_out[kind][0][o0]++;
            te_out[kind][1][o1]++;
            te_out[kind][2][oi]++;
            /* the task's other thread keeps its state (unless it was the one swapped) */
            other_bad += kind != TE_OTHER_THREAD && o1 != OUT_INTACT;
        }
        l4_task_delete(&host_task);
        if (sent_errors)
            bad++;
    }
    kpager_revoke(kp_thr.tid, 0, 0, 0); /* the gone tasks' held pages: back to the pool */
    for (int m = 0; m < TE_N; m++)
        tap_diag("malicious restores: %-34s thread dropped/intact/changed %u/%u/%u, other %u/%u/%u, "
                 "inactive %u/%u/%u", te_names[m], te_out[m][0][0], te_out[m][0][1], te_out[m][0][2],
                 te_out[m][1][0], te_out[m][1][1], te_out[m][1][2], te_out[m][2][0], te_out[m][2][1],
                 te_out[m][2][2]);
    tap_ok(bad == 0 && odd == 0 && deferred == 0,
           "malicious restores: %d rounds, the kernel survived; every send and exregs returned 0 or "
           "-KM_ESRCH (%d not, %d clients failed, %d exports deferred)", ROUNDS, odd, bad, deferred);
    /* what the contract says of each */
    unsigned refused = 0, of = 0, intact = 0, iof = 0;
    for (int m = 0; m < TE_N; m++) {
        int must_drop = m == TE_RANDOM || m == TE_MAGIC || m == TE_TID || m == TE_CONT ||
                        m == TE_KERNEL_RIP || m == TE_OTHER_THREAD || m == TE_OTHER_TYPE;
        int must_run = m == TE_NONE || m == TE_RFLAGS;
        for (int tg = 0; tg < 3; tg++) {
            if (tg == 1 && m != TE_OTHER_THREAD)
                continue; /* the other echo: counted above */
            if (tg == 2 && m == TE_OTHER_THREAD)
                continue; /* the inactive thread was not touched then */
            unsigned tot = te_out[m][tg][0] + te_out[m][tg][1] + te_out[m][tg][2];
            /* START sets rip and rsp: the inactive thread runs with any of those */
            int drop = must_drop, run = must_run || (tg == 2 && (m == TE_REGS || m == TE_UTCB));
            if (tg == 2 && m == TE_KERNEL_RIP)
                drop = 1;
            if (drop) {
                refused += te_out[m][tg][OUT_DROPPED];
                of += tot;
            }
            if (run) {
                intact += te_out[m][tg][OUT_INTACT];
                iof += tot;
            }
        }
    }
    tap_ok(of > 0 && refused == of,
           "malicious restores: TCB pages with a wrong magic, tid, continuation or rip, random or another "
           "thread's or type's, are refused: the thread dropped, -KM_ESRCH (%u of %u)", refused, of);
    tap_ok(iof > 0 && intact == iof,
           "malicious restores: an unchanged page, or one with privileged rflags bits (masked), restores the "
           "thread intact (%u of %u)", intact, iof);
    tap_ok(other_bad == 0, "malicious restores: the task's other thread kept its state (%d not)", other_bad);
    tap_ok(sent_errors == 0 && sent_rounds > s0,
           "malicious restores: the sentinel's memory and IPC stayed intact (%ld rounds, %ld errors)",
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

/* ---- part 10: node tables revoked under onward mappings -------------------
 * Client C (kernel memory from kp) has pages in a 2 MiB region and maps 4
 * of them onward to task X; a thread of C writes and checks its other
 * pages all along (on the other CPU when there is one).  C's node tables
 * are revoked again and again: they come back to kp localised (held), the
 * mappings stay, so neither C nor X notices; a new page in the region
 * brings the table back (a RESTORE kernel page fault served from the held
 * page), also when what kp holds was corrupted (the kernel makes the table
 * again from C's nodes). */
#define NT_X_WIN 0x0000200000000000ull /* X's acceptor window (2 MiB), served by no pager */
#define NT_NP0 8                       /* C's first pages in its region */
#define NT_NX 4                        /* of them, mapped onward to X */
#define NT_ROUNDS 20
#define NT_SCRATCH_VAL 0x5343524154434831ull
#define NT_GONE_TASK KM_ID(0x7fffffffu, 0x7fffffffu) /* no task: what kp holds for it is collected */
enum { NT_OP_TOUCH = 0x4e5401, NT_OP_WRITE, NT_OP_CHECK, NT_OP_MAP, NT_OP_UNMAP, NT_OP_STOP,
       NT_OP_XCHECK, NT_ANSWER };

static struct l4_task nt_c, nt_x;
static struct l4_thread nt_bg_thr, nt_xpager_thr;
static char nt_stack[L4_STACK_SIZE] __attribute__((aligned(4096)));
static char nt_decoy[PAGE] __attribute__((aligned(PAGE)));
static volatile unsigned nt_np, nt_nscratch; /* C's pages in its region; its scratch regions */
static volatile int nt_bg_stop;
static volatile long nt_bg_err, nt_bg_rounds, nt_bg_errors, nt_x_items;
static volatile unsigned long nt_x_faults, nt_x_other;

static km_u64 nt_val(unsigned j, km_u64 v, unsigned k)
{
    return 0x4e54000000000000ull ^ (v << 20) ^ ((km_u64)j << 8) ^ k;
}

/* Word k (of 8, 512 bytes apart) of page j at base. */
static volatile km_u64 *nt_word(km_u64 base, unsigned j, unsigned k)
{
    return (volatile km_u64 *)(unsigned long)(base + (km_u64)j * PAGE + (km_u64)k * 512);
}

static km_u64 nt_scratch(unsigned k) { return NT_REGION + ((km_u64)(1 + k) << 21); }

/* X's pager: the image; a fault in X's window (X lost a page C mapped it)
 * is counted and answered with a page of zeros, never C's page. */
static void nt_xpager(void *arg)
{
    (void)arg;
    struct l4_pager img;
    l4_pager_init(&img, KM_ANYTHREAD, KM_RWX);
    long r = l4_receive_any();
    for (;;) {
        if (r < 0 || !l4_is_pagefault()) {
            r = l4_receive_any();
            continue;
        }
        km_tid from = l4_sender();
        km_u64 a = l4_mr(0) & ~0xfffull;
        long tag = l4_pager_answer(&img);
        if (tag < 0 && a - NT_X_WIN < (2ull << 20)) {
            nt_x_faults++;
            l4_put_map_item(0, a, KM_FPAGE((km_u64)(unsigned long)nt_decoy, 12, KM_R));
            tag = (long)KM_TAG(0, 0, 2);
        }
        if (tag < 0) {
            nt_x_other++;
            r = l4_receive_any();
            continue;
        }
        r = l4_reply_and_wait(from, (km_u64)tag);
    }
}

/* C's other thread: writes and checks words 1, 4, 7 of its pages NT_NX ..
 * nt_np - 1, round after round. */
static void nt_bg(void *arg)
{
    (void)arg;
    for (km_u64 b = 1; !nt_bg_stop; b++) {
        unsigned np = nt_np;
        for (unsigned j = NT_NX; j < np; j++)
            for (unsigned k = 1; k < 8; k += 3)
                *nt_word(NT_REGION, j, k) = nt_val(j, b, k) ^ 0xb6;
        for (unsigned j = NT_NX; j < np; j++)
            for (unsigned k = 1; k < 8; k += 3)
                if (*nt_word(NT_REGION, j, k) != (nt_val(j, b, k) ^ 0xb6))
                    nt_bg_errors++;
        nt_bg_rounds = (long)b;
        sys_yield();
    }
}

/* C's errors over what it wrote: its onward pages (round v), word 0 of its
 * other pages (as touched), its scratch pages. */
static long nt_c_errors(km_u64 v)
{
    long e = 0;
    for (unsigned j = 0; j < NT_NX; j++)
        for (unsigned k = 0; k < 8; k++)
            e += *nt_word(NT_REGION, j, k) != nt_val(j, v, k);
    for (unsigned j = NT_NX; j < nt_np; j++)
        e += *nt_word(NT_REGION, j, 0) != nt_val(j, 0, 0);
    for (unsigned k = 0; k < nt_nscratch; k++)
        e += *nt_word(nt_scratch(k), 0, 0) != NT_SCRATCH_VAL;
    return e;
}

/* C's first thread: starts nt_bg, then does what this task asks (an
 * operation NT_OP_*, MR0 its argument) and answers (NT_ANSWER, MR0 the
 * result) with a blocking send, then waits for the next. */
static long nt_client(void *arg)
{
    (void)arg;
    struct l4_thread_attr a = L4_THREAD_ATTR_INIT;
    a.cpu = si.ncpus >= 2 ? (si.cpu ? 0 : 1) : si.cpu;
    a.stack = nt_stack;
    a.stack_size = sizeof nt_stack;
    nt_bg_err = l4_thread_start(&nt_bg_thr, &a, nt_bg, 0);
    km_u64 cur = 0;
    long r = l4_receive(me);
    for (;;) {
        if (r < 0) {
            r = l4_receive(me);
            continue;
        }
        km_u64 op = l4_label(), x = l4_mr(0); /* (a fault overwrites the MRs) */
        long res = 0;
        if (op == NT_OP_STOP) {
            nt_bg_stop = 1;
            for (int y = 0; y < 100000 && !nt_bg_thr.done; y++)
                sys_yield();
            return nt_bg_thr.done ? 0 : 1;
        } else if (op == NT_OP_TOUCH && x - NT_REGION < (2ull << 20)) { /* a page of its region */
            unsigned j = (unsigned)((x - NT_REGION) / PAGE);
            for (unsigned k = 0; k < 8; k++)
                *nt_word(NT_REGION, j, k) = nt_val(j, 0, k);
            for (unsigned k = 0; k < 8; k++)
                res += *nt_word(NT_REGION, j, k) != nt_val(j, 0, k);
            if (j == nt_np)
                nt_np = j + 1;
        } else if (op == NT_OP_TOUCH) { /* a scratch region's first page */
            *nt_word(x, 0, 0) = NT_SCRATCH_VAL;
            res = *nt_word(x, 0, 0) != NT_SCRATCH_VAL;
            nt_nscratch++;
        } else if (op == NT_OP_WRITE) { /* round x in its onward pages */
            cur = x;
            for (unsigned j = 0; j < NT_NX; j++)
                for (unsigned k = 0; k < 8; k++)
                    *nt_word(NT_REGION, j, k) = nt_val(j, cur, k);
            res = nt_c_errors(cur);
        } else if (op == NT_OP_CHECK) {
            res = nt_c_errors(cur);
        } else if (op == NT_OP_MAP) { /* its pages 0 .. NT_NX - 1 to X, read-only */
            unsigned mr = 0;
            for (unsigned j = 0; j < NT_NX; j++)
                mr = l4_put_map_item(mr, (km_u64)j * PAGE, KM_FPAGE(NT_REGION + (km_u64)j * PAGE, 12, KM_R));
            res = l4_send(nt_x.main.tid, KM_TAG(NT_OP_MAP, 0, mr));
        } else if (op == NT_OP_UNMAP) { /* page x's onward mappings (its own stays) */
            res = sys_unmap(KM_FPAGE(NT_REGION + x * PAGE, 12, KM_RWX), 0);
        } else {
            res = -KM_EINVAL;
        }
        l4_set_mr(0, (km_u64)res);
        r = sys_ipc(me, me, 0, KM_TAG(NT_ANSWER, 1, 0));
    }
}

/* X: takes C's map (its window: NT_X_WIN), and answers NT_OP_XCHECK v with
 * the mask of its pages (of NT_NX) that do not hold round v. */
static long nt_xtask(void *arg)
{
    (void)arg;
    l4_set_acceptor(KM_FPAGE(NT_X_WIN, 21, KM_RWX));
    long r = l4_receive_any();
    for (;;) {
        if (r < 0) {
            r = l4_receive_any();
            continue;
        }
        km_u64 op = l4_label(), v = l4_mr(0), mask = 0;
        if (op == NT_OP_MAP) {
            nt_x_items = KM_TAG_T(l4_msgtag()) / 2;
            r = l4_receive_any();
            continue;
        }
        if (l4_sender() != me) {
            r = l4_receive_any();
            continue;
        }
        if (op == NT_OP_STOP)
            return 0;
        for (unsigned j = 0; j < NT_NX; j++)
            for (unsigned k = 0; k < 8; k++)
                if (*nt_word(NT_X_WIN, j, k) != nt_val(j, v, k))
                    mask |= 1ull << j;
        l4_set_mr(0, op == NT_OP_XCHECK ? mask : (km_u64)-KM_EINVAL);
        r = sys_ipc(me, KM_ANYTHREAD, 0, KM_TAG(NT_ANSWER, 1, 0));
    }
}

/* Asks thread `to` (C's or X's) for op with argument x; its answer (MR0),
 * or -KM_E* (-KM_ETIMEOUT: no answer, nothing hangs here). */
static long nt_cmd(km_tid to, km_u64 op, km_u64 x)
{
    long r = -KM_ETIMEOUT;
    for (int y = 0; y < 100000 && r == -KM_ETIMEOUT; y++) {
        l4_set_mr(0, x);
        r = l4_send_nowait(to, KM_TAG(op, 1, 0));
        if (r == -KM_ETIMEOUT)
            sys_yield();
    }
    if (r < 0)
        return r;
    for (int y = 0; y < 200000; y++) {
        if (l4_receive_nowait(to) == 0 && l4_label() == NT_ANSWER)
            return (long)l4_mr(0);
        sys_yield();
    }
    return -KM_ETIMEOUT;
}

static int nt_range(km_u64 ks) { return ks >= KM_KS_NT && ks < KM_KS_MN; }

static unsigned nt_lent(km_taskid task)
{
    unsigned n = 0;
    for (unsigned i = 0; i < kp.npages; i++)
        n += kp.page[i].state == KPAGE_LENT && kp.page[i].task == task && nt_range(kp.page[i].ksaddr);
    return n;
}

/* An exported node table (kspace address ks) as nodetable.c's format
 * says: every word 0 or a node's kspace name (a node page in [KM_KS_MN,
 * KM_KS_TCB), offset 48 + 32 k, k < 126), no two alike; at least one,
 * but in the UTCB area's tables (UTCBs have no mapping nodes): none. */
static int nt_export_ok(const km_u64 *w, km_u64 ks)
{
    int utcb_area = ks >= KM_KS_NT_OF(KM_UTCB_AREA) && ks < KM_KS_NT_OF(KM_UTCB_AREA + KM_UTCB_AREA_SIZE);
    unsigned nz = 0;
    for (unsigned i = 0; i < PAGE / 8; i++) {
        km_u64 off = w[i] & 0xfff;
        if (!w[i])
            continue;
        nz++;
        if (w[i] < KM_KS_MN || w[i] >= KM_KS_TCB || off < 48 || (off - 48) % 32 || off >= 48 + 32 * 126)
            return 0;
        for (unsigned j = 0; j < i; j++)
            if (w[j] == w[i])
                return 0;
    }
    return utcb_area ? nz == 0 : nz > 0;
}

/* Figures of the revocations (nt_revoke). */
static long nt_revs, nt_revoked, nt_rev_min = -1, nt_held_bad, nt_count_bad, nt_checked, nt_content_bad,
            nt_exact, nt_exact_bad;
static km_u64 nt_saved[PAGE / 8];

/* Revokes C's node tables and checks: the pages taken became HELD (as
 * many as revoke says), C's node-table count dropped by exactly that (and
 * equals the tables kp has lent it), every held table of C's is an export
 * in the format, and the one of its region names exactly its pages
 * 0 .. nt_np - 1 (and is as it was when it went out, if it was out
 * before).  Returns what kpager_revoke returned. */
static long nt_revoke(void)
{
    km_taskid c = nt_c.id;
    km_u64 ks0 = KM_KS_NT_OF(NT_REGION);
    static unsigned char was[POOL];
    for (unsigned p = 0; p < kp.npages; p++)
        was[p] = kp.page[p].state == KPAGE_LENT && kp.page[p].task == c && nt_range(kp.page[p].ksaddr);
    struct km_kmem_info kb, ka;
    int info = kmem_of(c, &kb);
    long n = kpager_revoke(kp_thr.tid, c, KM_KS_NT, KM_KS_MN);
    info &= kmem_of(c, &ka);
    nt_revs++;
    if (n < 0)
        return n;
    nt_revoked += n;
    if (nt_rev_min < 0 || n < nt_rev_min)
        nt_rev_min = n;
    long held = 0;
    for (unsigned p = 0; p < kp.npages; p++) {
        const struct kpage *q = &kp.page[p];
        if (q->state != KPAGE_HELD || q->task != c || !nt_range(q->ksaddr))
            continue;
        held += was[p];
        nt_checked++;
        nt_content_bad += !nt_export_ok((const km_u64 *)pool[p], q->ksaddr);
    }
    nt_held_bad += held != n;
    nt_count_bad += !info || ka.pages[KM_KMEM_NODETABLE] != kb.pages[KM_KMEM_NODETABLE] - (km_u64)n ||
                    ka.pages[KM_KMEM_NODETABLE] != nt_lent(c);
    int h = kpager_find_held(&kp, c, ks0);
    nt_exact++;
    if (h < 0) {
        nt_exact_bad++;
        return n;
    }
    const km_u64 *w = (const km_u64 *)pool[h];
    int bad = 0;
    for (unsigned i = 0; i < PAGE / 8; i++)
        bad |= (w[i] != 0) != (i < nt_np);
    if (was[h])
        memcpy(nt_saved, w, PAGE);
    else
        bad |= memcmp(nt_saved, w, PAGE) != 0;
    nt_exact_bad += bad;
    return n;
}

enum nt_evil { NTE_RANDOM, NTE_SWAPPED, NTE_ZERO, NTE_OFF, NTE_OTHER_REGION, NTE_LOST, NTE_N };
static const char *const nt_evil_names[] = {"random words", "two entries swapped", "all zero",
    "each name one node off", "another region's table", "lost (a fresh page instead)"};

static void part_nodetables(void)
{
    long s0 = sent_rounds;
    unsigned long seed = si.tsc_hz ^ 0x6a09e667f3bcc909ul;
    rng = seed | 1;
    nt_np = nt_nscratch = 0;
    nt_bg_stop = 0;
    nt_bg_err = 1;
    nt_bg_rounds = nt_bg_errors = nt_x_items = 0;
    nt_x_faults = nt_x_other = 0;
    for (int i = 0; i < NT_BK; i++)
        nt_bk[i][0] = 0; /* mapped here, so that the pager can map them */
    nt_decoy[0] = 0;
    /* X: its own pager, kernel memory from kp */
    struct l4_thread_attr a = L4_THREAD_ATTR_INIT;
    a.cpu = si.cpu;
    long r = l4_thread_start(&nt_xpager_thr, &a, nt_xpager, 0);
    a.pager = nt_xpager_thr.tid;
    if (r == 0)
        r = l4_task_start(&nt_x, &a, me, nt_xtask, 0);
    if (r == 0)
        r = sys_thread_control(nt_x.main.tid, KM_TCTL_SET_KPAGER, kp_thr.tid);
    /* C: made with kp set, as part 2's client */
    if (r == 0) {
        r = sys_thread_control(me, KM_TCTL_SET_KPAGER, kp_thr.tid);
        if (r == 0)
            r = start(&nt_c, nt_client, 0, kp_thr.tid);
        sys_thread_control(me, KM_TCTL_SET_KPAGER, KM_NILTHREAD);
    }
    km_tid ct = nt_c.main.tid, xt = nt_x.main.tid;
    km_taskid c = nt_c.id;
    km_u64 ks0 = KM_KS_NT_OF(NT_REGION), v = 1;
    /* its pages, X's map; every operation of C's done once (so that its
     * code and stack are mapped before the rounds), a scratch region too */
    long setup = r;
    for (unsigned j = 0; setup == 0 && j < NT_NP0; j++)
        setup = nt_cmd(ct, NT_OP_TOUCH, NT_REGION + (km_u64)j * PAGE);
    if (setup == 0)
        setup = nt_cmd(ct, NT_OP_MAP, 0);
    if (setup == 0)
        setup = nt_cmd(ct, NT_OP_WRITE, v);
    if (setup == 0)
        setup = nt_cmd(ct, NT_OP_TOUCH, nt_scratch(nt_nscratch));
    if (setup == 0)
        setup = nt_cmd(ct, NT_OP_CHECK, 0);
    long m0 = setup == 0 ? nt_cmd(xt, NT_OP_XCHECK, v) : -1;
    for (int y = 0; y < 100000 && setup == 0 && nt_bg_rounds < 2; y++)
        sys_yield();
    struct km_kmem_info k;
    int ki = kmem_of(c, &k);
    tap_diag("node tables: seed %lu, C's background thread on CPU %u", seed,
             si.ncpus >= 2 ? (si.cpu ? 0u : 1u) : si.cpu);
    if (!tap_ok(setup == 0 && m0 == 0 && nt_x_items == NT_NX && nt_bg_err == 0 && nt_bg_rounds >= 2 &&
                    nt_x_faults == 0 && ki && k.pages[KM_KMEM_NODETABLE] >= 2 &&
                    k.pages[KM_KMEM_NODETABLE] == nt_lent(c) && kpager_find(&kp, c, ks0) >= 0,
                "node tables: client C with %u pages in a fresh 2 MiB region, %ld of them mapped onward to "
                "task X, which reads them (%s, mask %lx, X faults %lu); C's %lu node tables all lent by kp",
                (unsigned)nt_np, nt_x_items, sys_errname(setup), (unsigned long)m0, nt_x_faults,
                ki ? (unsigned long)k.pages[KM_KMEM_NODETABLE] : 0ul)) {
        l4_task_delete(&nt_c);
        l4_task_delete(&nt_x);
        l4_thread_kill(&nt_xpager_thr);
        return;
    }

    /* the rounds: revoke C's node tables; X and C read on, nobody faults;
     * then a new page: in the region (even rounds: its table comes back
     * from kp's held page) or in a fresh region (odd: a fresh table; the
     * region's stays out through the next revocation) */
    long x_checks = 0, x_wrong = 0, c_checks = 0, c_wrong = 0, quiet_bad = 0, stalled = 0;
    int rest_ok = 0, rest_of = 0, fresh_ok = 0, fresh_of = 0;
    unsigned long uf_start = nt_user_faults, new_pages = 0;
    int i;
    for (i = 0; i < NT_ROUNDS; i++) {
        unsigned long rs0 = kp.restores, ms0 = kp.restore_missed, uf0 = nt_user_faults;
        long n = nt_revoke();
        if (n < 0) {
            tap_diag("node tables: round %d: kpager_revoke %s", i, sys_errname(n));
            break;
        }
        long bg0 = nt_bg_rounds;
        long m1 = nt_cmd(xt, NT_OP_XCHECK, v);
        v++;
        long w = nt_cmd(ct, NT_OP_WRITE, v);
        long m2 = nt_cmd(xt, NT_OP_XCHECK, v);
        long ck = nt_cmd(ct, NT_OP_CHECK, 0);
        for (int y = 0; y < 100000 && nt_bg_rounds < bg0 + 2; y++)
            sys_yield();
        x_checks += 2;
        x_wrong += (m1 != 0) + (m2 != 0);
        c_checks += 2;
        c_wrong += (w != 0) + (ck != 0);
        stalled += nt_bg_rounds < bg0 + 2;
        quiet_bad += nt_user_faults != uf0 || kp.restores != rs0 || kp.restore_missed != ms0;
        if (m1 || m2 || w || ck)
            tap_diag("node tables: round %d: X mask %lx, %lx; C %ld, %ld", i, (unsigned long)m1,
                     (unsigned long)m2, w, ck);
        struct km_kmem_info ka, kn;
        int info = kmem_of(c, &ka);
        int h = kpager_find_held(&kp, c, ks0);
        int restore = i % 2 == 0;
        km_u64 addr = restore ? NT_REGION + (km_u64)nt_np * PAGE : nt_scratch(nt_nscratch);
        long t = nt_cmd(ct, NT_OP_TOUCH, addr);
        info &= kmem_of(c, &kn);
        new_pages++;
        int ok = info && t == 0 && nt_user_faults == uf0 + 1 && kp.restore_missed == ms0 &&
                 kn.pages[KM_KMEM_NODETABLE] == ka.pages[KM_KMEM_NODETABLE] + 1 &&
                 kn.pages[KM_KMEM_NODETABLE] == nt_lent(c);
        if (restore) {
            ok &= h >= 0 && kp.restores == rs0 + 1 && kpager_find(&kp, c, ks0) == h;
            rest_ok += ok;
            rest_of++;
        } else {
            ok &= kp.restores == rs0 && kpager_find_held(&kp, c, ks0) == h && h >= 0;
            fresh_ok += ok;
            fresh_of++;
        }
        if (!ok)
            tap_diag("node tables: round %d (%s): touch %s, user faults +%lu, restores +%lu, missed +%lu, "
                     "node tables %lu -> %lu (kp lent %u), held %d -> lent %d", i,
                     restore ? "restore" : "fresh region", sys_errname(t), nt_user_faults - uf0,
                     kp.restores - rs0, kp.restore_missed - ms0, (unsigned long)ka.pages[KM_KMEM_NODETABLE],
                     (unsigned long)kn.pages[KM_KMEM_NODETABLE], nt_lent(c), h, kpager_find(&kp, c, ks0));
    }
    tap_ok(i == NT_ROUNDS && nt_rev_min >= 1,
           "node tables: %d rounds, C's node tables revoked each round (%ld pages, at least %ld a round)",
           i, nt_revoked, nt_rev_min);
    tap_ok(nt_held_bad == 0, "node tables: the pages revoked were held by the kpager, as many as it took "
           "(%ld rounds of %ld not)", nt_held_bad, nt_revs);
    tap_ok(nt_checked > 0 && nt_content_bad == 0,
           "node tables: every held node table holds only 0 or node names in [KM_KS_MN, KM_KS_TCB), offset "
           "48 + 32 k, distinct, at least one (none in the UTCB area's): no pointer, no physical address "
           "(%ld held pages read, %ld not; inv. 1)", nt_checked, nt_content_bad);
    tap_ok(nt_exact > 0 && nt_exact_bad == 0,
           "node tables: the region's held table names exactly its mapped pages, and stays as it went out "
           "while held (%ld exports read, %ld not)", nt_exact, nt_exact_bad);
    tap_ok(nt_count_bad == 0, "node tables: C's node-table count dropped by exactly the pages revoked and "
           "equals the tables kp lent it, every round (%ld of %ld not; inv. 5)", nt_count_bad, nt_revs);
    tap_ok(x_checks > 0 && x_wrong == 0 && nt_x_faults == 0 && nt_x_other == 0,
           "node tables: X read the onward-mapped pages right after every revocation, C's new values "
           "through them too (%ld reads, %ld wrong), no page fault to X's pager (%lu, %lu)",
           x_checks, x_wrong, nt_x_faults, nt_x_other);
    tap_ok(c_checks > 0 && c_wrong == 0 && nt_bg_errors == 0 && stalled == 0 && quiet_bad == 0,
           "node tables: C wrote and read its pages all along (%ld checks, %ld wrong; its other thread "
           "%ld rounds, %ld errors), no fault nor restore until a new page (%ld rounds not)", c_checks,
           c_wrong, nt_bg_rounds, nt_bg_errors, quiet_bad + stalled);
    tap_ok(rest_of > 0 && rest_ok == rest_of,
           "node tables: a new page in the region brought its table back: one RESTORE kernel page fault "
           "served from the held page, the count up by one (%d of %d)", rest_ok, rest_of);
    tap_ok(fresh_of > 0 && fresh_ok == fresh_of,
           "node tables: a new page in a fresh region got a fresh table, the region's staying held (%d of %d)",
           fresh_ok, fresh_of);
    tap_ok(nt_user_faults - uf_start == new_pages,
           "node tables: C's pager saw a fault for each new page only (%lu faults, %lu new pages)",
           nt_user_faults - uf_start, new_pages);

    /* a corrupted held table: the restore brings it back made from C's
     * nodes, the mappings intact; the next export is exact again */
    int ev_ok = 0, ev_of = 0, ev_prev = -1;
    unsigned char ev_pass[NTE_N];
    for (int e = 0; e < NTE_N; e++) {
        unsigned long rs0 = kp.restores, ms0 = kp.restore_missed, uf0 = nt_user_faults, xf0 = nt_x_faults;
        long eb0 = nt_exact_bad, cb0 = nt_content_bad, bge0 = nt_bg_errors;
        long n = nt_revoke();
        if (ev_prev >= 0) /* the table the previous case rebuilt went out as it should */
            ev_pass[ev_prev] &= nt_exact_bad == eb0 && nt_content_bad == cb0;
        int h = kpager_find_held(&kp, c, ks0), prepared = h >= 0 && n >= 1;
        km_u64 *w = (km_u64 *)pool[h >= 0 ? h : 0];
        if (prepared) {
            switch ((enum nt_evil)e) {
            case NTE_RANDOM:
                for (unsigned j = 0; j < PAGE / 8; j++)
                    w[j] = rnd();
                break;
            case NTE_SWAPPED: {
                km_u64 t0 = w[0];
                w[0] = w[1];
                w[1] = t0;
                break;
            }
            case NTE_ZERO:
                memset(w, 0, PAGE);
                break;
            case NTE_OFF:
                for (unsigned j = 0; j < PAGE / 8; j++)
                    if (w[j])
                        w[j] ^= 32;
                break;
            case NTE_OTHER_REGION:
                prepared = kpager_held_swap(&kp, c, ks0, c, KM_KS_NT_OF(nt_scratch(0))) == 0;
                break;
            case NTE_LOST:
                kp.page[h].task = NT_GONE_TASK;
                break;
            case NTE_N:
                break;
            }
        }
        struct km_kmem_info ka, kn;
        int info = kmem_of(c, &ka);
        long t = nt_cmd(ct, NT_OP_TOUCH, NT_REGION + (km_u64)nt_np * PAGE);
        info &= kmem_of(c, &kn);
        long ck = nt_cmd(ct, NT_OP_CHECK, 0);
        long m = nt_cmd(xt, NT_OP_XCHECK, v);
        int lost = e == NTE_LOST;
        unsigned long rs = kp.restores - rs0, ms = kp.restore_missed - ms0;
        int ok = prepared && info && t == 0 && ck == 0 && m == 0 && nt_x_faults == xf0 &&
                 nt_user_faults == uf0 + 1 && nt_bg_errors == bge0 && rs == (lost ? 0u : 1u) &&
                 ms == (lost ? 1u : 0u) && kpager_find(&kp, c, ks0) >= 0 &&
                 kn.pages[KM_KMEM_NODETABLE] == ka.pages[KM_KMEM_NODETABLE] + 1 &&
                 kn.pages[KM_KMEM_NODETABLE] == nt_lent(c);
        if (lost && h >= 0) { /* the page given to no task: back to kp's pool */
            kpager_revoke(kp_thr.tid, 0, 0, 0);
            ok &= kp.page[h].state == KPAGE_FREE;
        }
        ev_pass[e] = (unsigned char)ok;
        ev_prev = e;
        tap_diag("node tables: held table corrupted (%s): revoked %ld, touch %s, C %ld wrong, X mask %lx, "
                 "X faults +%lu, restores +%lu, missed +%lu, node tables %lu -> %lu", nt_evil_names[e], n,
                 sys_errname(t), ck, (unsigned long)m, nt_x_faults - xf0, rs, ms,
                 (unsigned long)ka.pages[KM_KMEM_NODETABLE], (unsigned long)kn.pages[KM_KMEM_NODETABLE]);
    }
    long eb0 = nt_exact_bad, cb0 = nt_content_bad;
    long nf = nt_revoke(); /* the last rebuilt table goes out right too; the region's stays out */
    if (ev_prev >= 0)
        ev_pass[ev_prev] &= nf >= 1 && nt_exact_bad == eb0 && nt_content_bad == cb0;
    for (int e = 0; e < NTE_N; e++) {
        ev_of++;
        ev_ok += ev_pass[e];
    }
    tap_ok(ev_of == NTE_N && ev_ok == ev_of,
           "node tables: a held table corrupted before its restore (random, swapped, zero, names off, "
           "another region's, lost) came back made from C's nodes: C and X read right, X never faulted, "
           "the next export exact (%d of %d)", ev_ok, ev_of);

    /* a send from the region while its table is out: C's own kpager
     * brings the table back (one RESTORE), not the kernel's pool */
    nt_revoke(); /* (it may be out already: then nothing to take) */
    unsigned long srs0 = kp.restores, sxf0 = nt_x_faults;
    int sout = kpager_find_held(&kp, c, ks0) >= 0;
    long sm = nt_cmd(ct, NT_OP_MAP, 0);
    struct km_kmem_info sk;
    int s_info = kmem_of(c, &sk);
    long s_mask = nt_cmd(xt, NT_OP_XCHECK, v);
    tap_ok(sout && sm == 0 && s_info && kp.restores == srs0 + 1 && kpager_find(&kp, c, ks0) >= 0 &&
               sk.pages[KM_KMEM_NODETABLE] == nt_lent(c) && s_mask == 0 && nt_x_faults == sxf0,
           "node tables: C's send of its onward pages again (%s), with the region's table out (held by kp: "
           "%d), brought it back from kp (%lu RESTORE, node tables %lu, kp lent %u: none from the pool); X "
           "reads them right (mask %lx, %lu faults)", sys_errname(sm), sout, kp.restores - srs0, (unsigned long)sk.pages[KM_KMEM_NODETABLE],
           nt_lent(c), (unsigned long)s_mask, nt_x_faults - sxf0);
    nt_revoke();

    /* the mapping database is exact with the table out: C's unmap of an
     * onward page reaches X's mapping, and only that */
    unsigned long uf0 = nt_user_faults, xf0 = nt_x_faults, urs0 = kp.restores;
    int out = kpager_find_held(&kp, c, ks0) >= 0;
    long u = nt_cmd(ct, NT_OP_UNMAP, 0);
    long m = nt_cmd(xt, NT_OP_XCHECK, v);
    long ck = nt_cmd(ct, NT_OP_CHECK, 0);
    /* (the unmap brings the region's table back from kp first: a RESTORE) */
    tap_ok(out && u >= 0 && m == 1 && nt_x_faults == xf0 + 1 && ck == 0 && nt_user_faults == uf0 &&
               kp.restores == urs0 + 1 && kpager_find(&kp, c, ks0) >= 0,
           "node tables: with the table out, C's unmap of an onward-mapped page (%ld) brought the table back "
           "from kp (%lu RESTORE) and took X's mapping of it (X faulted %lu time, pages wrong mask %lx) and "
           "left C's own (%ld wrong, %lu faults)", u, kp.restores - urs0, nt_x_faults - xf0,
           (unsigned long)m, ck, nt_user_faults - uf0);
    /* and with the table back in, made from C's nodes (random words held):
     * the unmap of another onward page finds its node through it */
    nt_revoke();
    int h = kpager_find_held(&kp, c, ks0);
    for (unsigned j = 0; h >= 0 && j < PAGE / 8; j++)
        ((km_u64 *)pool[h])[j] = rnd();
    unsigned long rs0 = kp.restores;
    long t = h >= 0 ? nt_cmd(ct, NT_OP_TOUCH, NT_REGION + (km_u64)nt_np * PAGE) : -KM_ESRCH;
    int in = kpager_find(&kp, c, ks0) >= 0 && kp.restores == rs0 + 1;
    uf0 = nt_user_faults;
    xf0 = nt_x_faults;
    u = nt_cmd(ct, NT_OP_UNMAP, 1);
    m = nt_cmd(xt, NT_OP_XCHECK, v);
    ck = nt_cmd(ct, NT_OP_CHECK, 0);
    tap_ok(t == 0 && in && u >= 0 && m == 3 && nt_x_faults == xf0 + 1 && ck == 0 && nt_user_faults == uf0,
           "node tables: with the table back in, made again from C's nodes, C's unmap of another onward "
           "page (%ld) took X's mapping of it (X faulted %lu time, pages wrong mask %lx) and left C's own "
           "(%ld wrong, %lu faults)", u, nt_x_faults - xf0, (unsigned long)m, ck, nt_user_faults - uf0);

    /* the end: both tasks, their held pages back to kp's pool */
    l4_set_mr(0, 0);
    long sc = l4_send(ct, KM_TAG(NT_OP_STOP, 1, 0));
    for (int y = 0; y < 100000 && !nt_c.done; y++)
        sys_yield();
    long rc = sc == 0 && nt_c.done ? finish(&nt_c) : (l4_task_delete(&nt_c), -KM_ETIMEOUT);
    l4_set_mr(0, 0);
    long sx = l4_send(xt, KM_TAG(NT_OP_STOP, 1, 0));
    for (int y = 0; y < 100000 && !nt_x.done; y++)
        sys_yield();
    long rx = sx == 0 && nt_x.done ? finish(&nt_x) : (l4_task_delete(&nt_x), -KM_ETIMEOUT);
    l4_thread_kill(&nt_xpager_thr);
    unsigned held = kpager_held(&kp);
    kpager_revoke(kp_thr.tid, 0, 0, 0); /* nothing to unmap: collects */
    unsigned left = 0;
    for (unsigned p = 0; p < kp.npages; p++)
        left += kp.page[p].state != KPAGE_FREE && (kp.page[p].task == c || kp.page[p].task == nt_x.id);
    tap_ok(rc == 0 && rx == 0 && left == 0,
           "node tables: C and X ran to their end (%s, %s); their held pages returned to kp's pool (%u held "
           "before, %u left)", sys_errname(rc), sys_errname(rx), held, left);
    tap_ok(sent_errors == 0 && sent_rounds > s0,
           "node tables: the sentinel's memory and IPC stayed intact (%ld rounds, %ld errors)",
           sent_rounds - s0, sent_errors);
}

/* ---- part 11: node pages revoked, their mappings staying -----------------
 * Client C (all its kernel memory from mn_kp, a kpager of its own, so
 * that its kernel page faults are counted apart) has MN_NP pages in a
 * 2 MiB region: pages 0..3 mapped on to task X (read-write; X's pager
 * gives X a decoy page of its own for any fault in its window), pages 4..7
 * mapped by C to itself (a second thread of C receives them at MN_ALIAS),
 * the rest only C's (8..11 written by that thread all along, on the other
 * CPU when there is one).  mn_kp revokes C's node pages round after round:
 * each comes back localised (abi/kspace.h: a count, records of C's own
 * mappings), its mappings stay, so C and X go on with no fault; what needs
 * a node (a reduction of rights, a send, an own unmap of W) brings it back
 * in a FRESH page (one kernel page fault), a removal (an own unmap, an
 * unmap from above) needs none; C's edge pages revoked leave localised,
 * what C gave on staying unless its node is out too.  The test keeps a
 * model of C's mappings (page, rights, whether its node is in) and checks
 * every export word by word against it. */
#define MN_X_WIN 0x0000210000000000ull /* X's acceptor window (2 MiB) */
#define MN_NX 4                        /* pages 0..3: on to X */
#define MN_NA 4                        /* pages 4..7: aliased by C at MN_ALIAS */
#define MN_NM (MN_NP + MN_NA)          /* the model: C's region pages, then its aliases */
#define MN_ROUNDS 8
#define MN_POOL 128
#define MN_POKE 0x504f4b4550000000ull
enum { MN_OP_TOUCH = 0x4d4e01, MN_OP_ALIAS, MN_OP_SEND, MN_OP_WORK, MN_OP_UNMAP, MN_OP_PEEK, MN_OP_POKE,
       MN_OP_STOP, MN_OP_XCHECK, MN_OP_XBG };

extern char __user_start[], __rodata_start[], __data_start[], __user_end[]; /* user/user.ld */
static struct kpager mn_kp;
static char mn_pool[MN_POOL][PAGE] __attribute__((aligned(PAGE)));
static char mn_xdecoy[MN_NX][PAGE] __attribute__((aligned(PAGE)));
static char mn_stack[L4_STACK_SIZE] __attribute__((aligned(4096)));
static char mn_xstack[L4_STACK_SIZE] __attribute__((aligned(4096)));
static struct l4_thread mn_kp_thr, mn_xpager_thr, mn_c2_thr, mn_xbg_thr;
static struct l4_task mn_c, mn_x;
static volatile int mn_bg_stop, mn_xbg_stop;
static volatile long mn_xbg_rounds, mn_xbg_errors;
static volatile long mn_bg_err, mn_bg_rounds, mn_bg_errors, mn_alias_items, mn_x_items;
static volatile unsigned long mn_x_faults, mn_x_wfaults, mn_x_other;

static km_u64 mn_val(unsigned j, km_u64 v, unsigned k)
{
    return 0x4d4e000000000000ull ^ (v << 20) ^ ((km_u64)j << 8) ^ k;
}

static km_u64 mn_page(unsigned j) { return MN_REGION + (km_u64)j * PAGE; }
static km_u64 mn_alias(unsigned k) { return MN_ALIAS + (km_u64)k * PAGE; }

/* X's pager: the image; a fault in X's window (X lost a page of C's, or
 * wrote one C made read-only) is counted and answered with a decoy page
 * of this task's, read-write: never C's page. */
static void mn_xpager(void *arg)
{
    (void)arg;
    struct l4_pager img;
    l4_pager_init(&img, KM_ANYTHREAD, KM_RWX);
    long r = l4_receive_any();
    for (;;) {
        if (r < 0 || !l4_is_pagefault()) {
            r = l4_receive_any();
            continue;
        }
        km_tid from = l4_sender();
        km_u64 a = l4_mr(0) & ~0xfffull, access = l4_mr(2);
        long tag = l4_pager_answer(&img);
        if (tag < 0 && a - MN_X_WIN < MN_NX * PAGE) {
            mn_x_faults++;
            mn_x_wfaults += (access & KM_W) != 0;
            l4_put_map_item(0, a, KM_FPAGE((km_u64)(unsigned long)mn_xdecoy[(a - MN_X_WIN) / PAGE], 12, KM_R | KM_W));
            tag = (long)KM_TAG(0, 0, 2);
        }
        if (tag < 0) {
            mn_x_other++;
            r = l4_receive_any();
            continue;
        }
        r = l4_reply_and_wait(from, (km_u64)tag);
    }
}

/* C's second thread: takes C's pages 4..7 at MN_ALIAS (from C's first
 * thread, arg), then writes and checks words 1, 4, 7 of pages 8..11 round
 * after round. */
static void mn_c2(void *arg)
{
    l4_set_acceptor(KM_FPAGE(MN_ALIAS, 21, KM_RWX));
    long r;
    while ((r = l4_receive((km_tid)(unsigned long)arg)) < 0 || l4_label() != MN_OP_ALIAS)
        ;
    mn_alias_items = KM_TAG_T(l4_msgtag()) / 2;
    for (km_u64 b = 1; !mn_bg_stop; b++) {
        for (unsigned j = 8; j < 12; j++)
            for (unsigned k = 1; k < 8; k += 3)
                *nt_word(MN_REGION, j, k) = mn_val(j, b, k) ^ 0xc2;
        for (unsigned j = 8; j < 12; j++)
            for (unsigned k = 1; k < 8; k += 3)
                if (*nt_word(MN_REGION, j, k) != (mn_val(j, b, k) ^ 0xc2))
                    mn_bg_errors++;
        mn_bg_rounds = (long)b;
        sys_yield();
    }
}

/* X's second thread (on the other CPU when there is one): reads word 5
 * of its pages 0..3 round after round, each a value C wrote there. */
static void mn_xbg(void *arg)
{
    (void)arg;
    for (long b = 1; !mn_xbg_stop; b++) {
        for (unsigned j = 0; j < MN_NX; j++) {
            km_u64 w = *nt_word(MN_X_WIN, j, 5);
            mn_xbg_errors += ((w ^ mn_val(j, 0, 5)) & 0xfffffull) != 0 || w == mn_val(j, 0, 5);
        }
        mn_xbg_rounds = b;
        sys_yield();
    }
}

/* C's first thread: starts mn_c2, then does what this task asks (an
 * operation MN_OP_*, MR0 and MR1 its arguments) and answers (NT_ANSWER,
 * MR0 the result) with a blocking send. */
static long mn_client(void *arg)
{
    (void)arg;
    struct l4_thread_attr a = L4_THREAD_ATTR_INIT;
    a.cpu = si.ncpus >= 2 ? (si.cpu ? 0 : 1) : si.cpu;
    a.stack = mn_stack;
    a.stack_size = sizeof mn_stack;
    mn_bg_err = l4_thread_start(&mn_c2_thr, &a, mn_c2, (void *)(unsigned long)sys_myself());
    long r = l4_receive(me);
    for (;;) {
        if (r < 0) {
            r = l4_receive(me);
            continue;
        }
        km_u64 op = l4_label(), x = l4_mr(0), y = l4_mr(1); /* (a fault overwrites the MRs) */
        long res = 0;
        unsigned mr = 0;
        if (op == MN_OP_STOP) {
            mn_bg_stop = 1;
            for (int i = 0; i < 100000 && !mn_c2_thr.done; i++)
                sys_yield();
            return mn_c2_thr.done ? 0 : 1;
        } else if (op == MN_OP_TOUCH) { /* its pages, round 0 */
            for (unsigned j = 0; j < MN_NP; j++)
                for (unsigned k = 0; k < 8; k++)
                    *nt_word(MN_REGION, j, k) = mn_val(j, 0, k);
            for (unsigned j = 0; j < MN_NP; j++)
                for (unsigned k = 0; k < 8; k++)
                    res += *nt_word(MN_REGION, j, k) != mn_val(j, 0, k);
        } else if (op == MN_OP_ALIAS) { /* pages 4..7 to itself, read-write */
            for (unsigned k = 0; k < MN_NA; k++)
                mr = l4_put_map_item(mr, (km_u64)k * PAGE, KM_FPAGE(mn_page(MN_NX + k), 12, KM_R | KM_W));
            res = l4_send(mn_c2_thr.tid, KM_TAG(MN_OP_ALIAS, 0, mr));
        } else if (op == MN_OP_SEND) { /* pages x .. x + y - 1 to X, read-write */
            for (km_u64 j = x; j < x + y; j++)
                mr = l4_put_map_item(mr, j * PAGE, KM_FPAGE(mn_page((unsigned)j), 12, KM_R | KM_W));
            res = l4_send(mn_x.main.tid, KM_TAG(MN_OP_SEND, 0, mr));
        } else if (op == MN_OP_WORK) { /* round x: pages 0..3 (X reads them), its aliases, an IPC */
            for (unsigned j = 0; j < MN_NX; j++)
                for (unsigned k = 0; k < 8; k++)
                    *nt_word(MN_REGION, j, k) = mn_val(j, x, k);
            for (unsigned k = 0; k < MN_NA; k++) {
                *nt_word(MN_ALIAS, k, 2) = mn_val(MN_NX + k, x, 2); /* through the alias... */
                *nt_word(MN_REGION, MN_NX + k, 3) = mn_val(MN_NX + k, x, 3);
            }
            for (unsigned j = 0; j < MN_NX; j++)
                for (unsigned k = 0; k < 8; k++)
                    res += *nt_word(MN_REGION, j, k) != mn_val(j, x, k);
            for (unsigned k = 0; k < MN_NA; k++) /* ...seen through the page, and back */
                res += (*nt_word(MN_REGION, MN_NX + k, 2) != mn_val(MN_NX + k, x, 2)) +
                       (*nt_word(MN_ALIAS, k, 3) != mn_val(MN_NX + k, x, 3));
            for (unsigned j = 12; j < MN_NP; j++)
                res += *nt_word(MN_REGION, j, 0) != mn_val(j, 0, 0);
            l4_set_mr(0, x);
            r = l4_call(echo_thr.tid, KM_TAG(1, 1, 0));
            res += r < 0 || l4_mr(0) != x + 1;
        } else if (op == MN_OP_UNMAP) {
            res = sys_unmap(x, (unsigned long)y);
        } else if (op == MN_OP_PEEK) {
            res = (long)*(volatile km_u64 *)(unsigned long)x;
        } else if (op == MN_OP_POKE) {
            *(volatile km_u64 *)(unsigned long)x = y;
            res = *(volatile km_u64 *)(unsigned long)x != y;
        } else {
            res = -KM_EINVAL;
        }
        l4_set_mr(0, (km_u64)res);
        r = sys_ipc(me, me, 0, KM_TAG(NT_ANSWER, 1, 0));
    }
}

/* X: takes C's maps (its window: MN_X_WIN), and answers this task:
 * MN_OP_XCHECK v with the mask of its pages (of MN_NX) that do not hold
 * round v, MN_OP_PEEK and MN_OP_POKE as C does. */
static long mn_xtask(void *arg)
{
    (void)arg;
    l4_set_acceptor(KM_FPAGE(MN_X_WIN, 21, KM_RWX));
    long r = l4_receive_any();
    for (;;) {
        if (r < 0) {
            r = l4_receive_any();
            continue;
        }
        km_u64 op = l4_label(), x = l4_mr(0), y = l4_mr(1);
        long res = 0;
        if (op == MN_OP_SEND) {
            mn_x_items += KM_TAG_T(l4_msgtag()) / 2;
            r = l4_receive_any();
            continue;
        }
        if (l4_sender() != me) {
            r = l4_receive_any();
            continue;
        }
        if (op == MN_OP_STOP)
            return 0;
        if (op == MN_OP_XBG) {
            struct l4_thread_attr a = L4_THREAD_ATTR_INIT;
            a.cpu = si.ncpus >= 2 ? (si.cpu ? 0 : 1) : si.cpu;
            a.stack = mn_xstack;
            a.stack_size = sizeof mn_xstack;
            res = l4_thread_start(&mn_xbg_thr, &a, mn_xbg, 0);
        } else if (op == MN_OP_XCHECK) {
            for (unsigned j = 0; j < MN_NX; j++)
                for (unsigned k = 0; k < 8; k++)
                    if (*nt_word(MN_X_WIN, j, k) != mn_val(j, x, k))
                        res |= 1l << j;
        } else if (op == MN_OP_PEEK) {
            res = (long)*(volatile km_u64 *)(unsigned long)x;
        } else if (op == MN_OP_POKE) {
            *(volatile km_u64 *)(unsigned long)x = y;
            res = *(volatile km_u64 *)(unsigned long)x != y;
        } else {
            res = -KM_EINVAL;
        }
        l4_set_mr(0, (km_u64)res);
        r = sys_ipc(me, KM_ANYTHREAD, 0, KM_TAG(NT_ANSWER, 1, 0));
    }
}

/* nt_cmd with two arguments. */
static long mn_cmd(km_tid to, km_u64 op, km_u64 x, km_u64 y)
{
    long r = -KM_ETIMEOUT;
    for (int i = 0; i < 100000 && r == -KM_ETIMEOUT; i++) {
        l4_set_mr(0, x);
        l4_set_mr(1, y);
        r = l4_send_nowait(to, KM_TAG(op, 2, 0));
        if (r == -KM_ETIMEOUT)
            sys_yield();
    }
    if (r < 0)
        return r;
    for (int i = 0; i < 200000; i++) {
        if (l4_receive_nowait(to) == 0 && l4_label() == NT_ANSWER)
            return (long)l4_mr(0);
        sys_yield();
    }
    return -KM_ETIMEOUT;
}

/* The model of C's mappings: m < MN_NP its region's page m, else its
 * alias m - MN_NP; whether it exists, its rights and whether its node is
 * in the kernel (so that the next revocation exports it).  (A record
 * does not name whom a mapping came from: abi/kspace.h.) */
static unsigned char mn_exists[MN_NM], mn_rights[MN_NM], mn_in[MN_NM], mn_seen[MN_NM];

static km_u64 mn_addr(unsigned m) { return m < MN_NP ? mn_page(m) : mn_alias(m - MN_NP); }

/* Model entry m is (again) a mapping whose node is in, read and write. */
static void mn_set(unsigned m)
{
    mn_exists[m] = mn_in[m] = 1;
    mn_rights[m] = KM_R | KM_W;
}

/* Figures of the exports read (mn_export). */
static long mn_pages_read, mn_fmt_bad, mn_records, mn_img_records, mn_rec_bad, mn_model_bad, mn_zero_bad,
            mn_edge_pages, mn_acct_bad, mn_revs;

/* Checks an exported node page word by word: the count, zeros where the
 * format has them, and each record: a page of C's model (its rights, its
 * parent, its node in before the revocation) or of the program image
 * (mapped by C's pager from this task's page at the same address, with
 * this task's rights there: the pager gives all, C gets no more than it
 * had); nothing else, no flag (C lends nothing, has no kernel-owned
 * frame).  Records of model entries are counted in mn_seen. */
static void mn_export(const km_u64 *w)
{
    km_u64 lo = (km_u64)(unsigned long)__user_start & ~0xfffull;
    km_u64 hi = ((km_u64)(unsigned long)__user_end + 0xfff) & ~0xfffull;
    int fmt = w[0] <= 126 && !(w[1] | w[2] | w[3] | w[4] | w[5] | w[510] | w[511]);
    unsigned n = 0;
    mn_pages_read++;
    for (unsigned k = 0; k < 126; k++) {
        const km_u64 *r = w + 6 + 4 * k;
        if (!r[0]) {
            fmt &= !(r[1] | r[2] | r[3]);
            continue;
        }
        n++;
        mn_records++;
        fmt &= !(r[1] | r[2] | r[3]);
        km_u64 page = r[0] & ~0xfffull, low = r[0] & 0xfff;
        int ok = 0;
        unsigned m;
        for (m = 0; m < MN_NM && mn_addr(m) != page; m++)
            ;
        if (m < MN_NM) {
            ok = mn_exists[m] && mn_in[m] && low == mn_rights[m] && !mn_seen[m];
            mn_seen[m]++;
        } else if (page >= lo && page < hi) { /* this task's rights there: text, rodata, data */
            km_u64 rights = page < (km_u64)(unsigned long)__rodata_start ? KM_R | KM_X
                            : page < (km_u64)(unsigned long)__data_start ? KM_R : KM_R | KM_W;
            ok = low == rights;
            mn_img_records++;
        }
        if (!ok && mn_rec_bad++ < 4)
            tap_diag("node pages: record %u: %lx %lx %lx %lx (model entry %u)", k, (unsigned long)r[0],
                     (unsigned long)r[1], (unsigned long)r[2], (unsigned long)r[3], m);
    }
    fmt &= n == w[0];
    if (!fmt && mn_fmt_bad++ < 4)
        tap_diag("node pages: export not in the format: count %lu, %u records", (unsigned long)w[0], n);
}

static unsigned mn_lent(km_taskid task, km_u64 lo, km_u64 hi)
{
    unsigned n = 0;
    for (unsigned i = 0; i < mn_kp.npages; i++)
        n += mn_kp.page[i].state == KPAGE_LENT && mn_kp.page[i].task == task && mn_kp.page[i].ksaddr >= lo &&
             mn_kp.page[i].ksaddr < hi;
    return n;
}

/* An edge page's export (abi/kspace.h): a count, then per edge the page
 * of C's it was derived from (one of C's region's) and the rights given;
 * nothing else. */
static int mn_edge_export(const km_u64 *w)
{
    if (w[0] > 126 || w[1] | w[2] | w[3] | w[4] | w[5] | w[510] | w[511])
        return 0;
    unsigned n = 0;
    for (unsigned k = 0; k < 126; k++) {
        const km_u64 *r = w + 6 + 4 * k;
        if (r[1] | r[2] | r[3])
            return 0;
        if (!r[0])
            continue;
        n++;
        unsigned j;
        for (j = 0; j < MN_NP && mn_page(j) != (r[0] & ~0xfffull); j++)
            ;
        if (j == MN_NP || !(r[0] & KM_R) || (r[0] & 0xff8))
            return 0;
    }
    return n == w[0];
}

/* mn_kp revokes C's pages in [lo, hi) (node pages or edge pages): every
 * page taken back is read (a node page: mn_export, then the model's
 * records exported exactly once each if their nodes were in; an edge
 * page: mn_edge_export); after it C's mapping-node count equals the pages
 * of that type mn_kp has lent it still.  Returns what kpager_revoke did. */
static long mn_revoke(km_u64 lo, km_u64 hi)
{
    static unsigned char was[MN_POOL];
    km_taskid c = mn_c.id;
    for (unsigned p = 0; p < mn_kp.npages; p++)
        was[p] = mn_kp.page[p].state == KPAGE_LENT && mn_kp.page[p].task == c && mn_kp.page[p].ksaddr >= lo &&
                 mn_kp.page[p].ksaddr < hi;
    memset(mn_seen, 0, sizeof mn_seen);
    long n = kpager_revoke(mn_kp_thr.tid, c, lo, hi);
    mn_revs++;
    int nodes = lo == KM_KS_MN;
    for (unsigned p = 0; p < mn_kp.npages; p++) {
        if (!was[p] || mn_kp.page[p].state != KPAGE_FREE)
            continue;
        if (nodes) {
            mn_export((const km_u64 *)mn_pool[p]);
        } else {
            mn_edge_pages++;
            mn_zero_bad += !mn_edge_export((const km_u64 *)mn_pool[p]);
        }
    }
    if (nodes) {
        int bad = 0;
        for (unsigned m = 0; m < MN_NM; m++) {
            bad |= mn_seen[m] != (mn_exists[m] && mn_in[m]);
            mn_in[m] = 0;
        }
        mn_model_bad += bad;
        if (bad)
            tap_diag("node pages: revocation %ld: the model's records exported differ from its nodes in", mn_revs);
    }
    struct km_kmem_info k;
    int acct = kmem_of(c, &k) && k.pages[KM_KMEM_MAPNODE] == mn_lent(c, KM_KS_MN, KM_KS_TCB) &&
               mn_lent(c, lo, hi) == 0;
    if (!acct && mn_acct_bad++ < 4)
        tap_diag("node pages: after revocation %ld: C's mapping-node pages %lu, mn_kp lent %u", mn_revs,
                 (unsigned long)k.pages[KM_KMEM_MAPNODE], mn_lent(c, KM_KS_MN, KM_KS_TCB));
    return n;
}

/* Whether mn_kp's last kernel page fault was one FRESH request for a node
 * page (every request it saw: RESTORE ones are counted apart). */
static int mn_fresh_node_fault(void)
{
    km_u64 q = mn_kp.last_req[0];
    return mn_kp.last_n == 1 && KM_KREQ_TYPE(q) == KM_KMEM_MAPNODE && KM_KREQ_REASON(q) == KM_KREASON_FRESH &&
           KM_KREQ_ADDR(q) >= KM_KS_MN && KM_KREQ_ADDR(q) < KM_KS_ME;
}

static void part_nodepages(void)
{
    long s0 = sent_rounds;
    mn_bg_stop = mn_xbg_stop = 0;
    mn_bg_err = 1;
    mn_xbg_rounds = mn_xbg_errors = 0;
    mn_bg_rounds = mn_bg_errors = mn_alias_items = mn_x_items = 0;
    mn_x_faults = mn_x_wfaults = mn_x_other = 0;
    for (int i = 0; i < MN_NP; i++)
        mn_bk[i][0] = 0; /* mapped here, so that the pager can map them */
    for (int i = 0; i < MN_NX; i++)
        mn_xdecoy[i][0] = 0;
    *(volatile km_u64 *)mn_cdecoy = 0x4445434f59ull; /* "DECOY" */
    memset(mn_exists, 0, sizeof mn_exists);
    kpager_init(&mn_kp, mn_pool, MN_POOL, KM_KFAULT_MAX, 0);
    struct l4_thread_attr a = L4_THREAD_ATTR_INIT;
    a.cpu = si.cpu;
    long r = kpager_thread_start(&mn_kp_thr, &a, &mn_kp);
    /* X: its own pager, kernel memory from kp */
    if (r == 0)
        r = l4_thread_start(&mn_xpager_thr, &a, mn_xpager, 0);
    a.pager = mn_xpager_thr.tid;
    if (r == 0)
        r = l4_task_start(&mn_x, &a, me, mn_xtask, 0);
    if (r == 0)
        r = sys_thread_control(mn_x.main.tid, KM_TCTL_SET_KPAGER, kp_thr.tid);
    /* C: made with mn_kp set, so that all its kernel memory is mn_kp's */
    if (r == 0) {
        r = sys_thread_control(me, KM_TCTL_SET_KPAGER, mn_kp_thr.tid);
        if (r == 0)
            r = start(&mn_c, mn_client, 0, mn_kp_thr.tid);
        sys_thread_control(me, KM_TCTL_SET_KPAGER, KM_NILTHREAD);
    }
    km_tid ct = mn_c.main.tid, xt = mn_x.main.tid;
    km_taskid c = mn_c.id;
    km_u64 v = 1;
    long setup = r;
    if (setup == 0)
        setup = mn_cmd(ct, MN_OP_TOUCH, 0, 0);
    if (setup == 0)
        setup = mn_cmd(ct, MN_OP_ALIAS, 0, 0);
    if (setup == 0)
        setup = mn_cmd(ct, MN_OP_SEND, 0, MN_NX);
    if (setup == 0)
        setup = mn_cmd(ct, MN_OP_WORK, v, 0);
    long m0 = setup == 0 ? mn_cmd(xt, MN_OP_XCHECK, v, 0) : -1;
    if (setup == 0)
        setup = mn_cmd(xt, MN_OP_XBG, 0, 0);
    for (int i = 0; i < 100000 && setup == 0 && (mn_bg_rounds < 2 || mn_xbg_rounds < 2); i++)
        sys_yield();
    for (unsigned m = 0; m < MN_NM; m++)
        mn_set(m);
    struct km_kmem_info k;
    int ki = kmem_of(c, &k);
    tap_diag("node pages: C's second thread on CPU %u; no physical address is known to this program (no "
             "sigma0 in this run, no system call tells one): every export word is checked against what "
             "the test predicts instead", si.ncpus >= 2 ? (si.cpu ? 0u : 1u) : si.cpu);
    if (!tap_ok(setup == 0 && m0 == 0 && mn_x_items == MN_NX && mn_alias_items == MN_NA && mn_bg_err == 0 &&
                    mn_bg_rounds >= 2 && mn_xbg_rounds >= 2 && mn_x_faults == 0 && ki && k.pages[KM_KMEM_MAPNODE] >= 2 &&
                    k.pages[KM_KMEM_MAPNODE] == mn_lent(c, KM_KS_MN, KM_KS_TCB) && k.pinned_pages == 0,
                "node pages: client C with %d pages, %ld mapped on to task X (X reads them: %s, mask %lx), %ld to "
                "itself; its %lu mapping-node pages all lent by its kpager (%u; %lu from the pool)", MN_NP, mn_x_items, sys_errname(setup), (unsigned long)m0, mn_alias_items,
                ki ? (unsigned long)k.pages[KM_KMEM_MAPNODE] : 0ul, mn_lent(c, KM_KS_MN, KM_KS_TCB),
                ki ? (unsigned long)k.pinned_pages : 0ul)) {
        l4_task_delete(&mn_c);
        l4_task_delete(&mn_x);
        l4_thread_kill(&mn_xpager_thr);
        l4_thread_kill(&mn_kp_thr);
        return;
    }

    /* the rounds: C's node pages revoked; C works (writes, reads, its
     * aliases, an IPC), its other thread all along, X reads: no fault, no
     * kernel page fault; then an operation that needs the nodes of pages
     * 0..3 (even rounds: C takes W from X's mappings of them; odd: C sends
     * them to X again, W back): one kernel page fault, a FRESH node page */
    long revoked = 0, quiet_bad = 0, op_bad = 0, empty = 0, stalled = 0;
    int i;
    for (i = 0; i < MN_ROUNDS; i++) {
        long n = mn_revoke(KM_KS_MN, KM_KS_ME);
        if (n < 0) {
            tap_diag("node pages: round %d: kpager_revoke %s", i, sys_errname(n));
            break;
        }
        revoked += n;
        empty += n < 1;
        unsigned long kf0 = mn_kp.kfaults, cf0 = mn_c_faults + mn_alias_faults, xf0 = mn_x_faults;
        long bg0 = mn_bg_rounds, xbg0 = mn_xbg_rounds;
        v++;
        long w = mn_cmd(ct, MN_OP_WORK, v, 0);
        long m = mn_cmd(xt, MN_OP_XCHECK, v, 0);
        for (int y = 0; y < 100000 && (mn_bg_rounds < bg0 + 2 || mn_xbg_rounds < xbg0 + 2); y++)
            sys_yield();
        stalled += mn_bg_rounds < bg0 + 2 || mn_xbg_rounds < xbg0 + 2;
        int quiet = w == 0 && m == 0 && mn_kp.kfaults == kf0 && mn_c_faults + mn_alias_faults == cf0 &&
                    mn_x_faults == xf0;
        quiet_bad += !quiet;
        int even = i % 2 == 0;
        long o = even ? mn_cmd(ct, MN_OP_UNMAP, KM_FPAGE(MN_REGION, 14, KM_W), 0) : mn_cmd(ct, MN_OP_SEND, 0, MN_NX);
        int ok = o == (even ? MN_NX : 0) && mn_kp.kfaults == kf0 + 1 && mn_fresh_node_fault() &&
                 mn_c_faults + mn_alias_faults == cf0;
        op_bad += !ok;
        for (unsigned j = 0; j < MN_NX; j++)
            mn_in[j] = 1;
        if (!quiet || !ok)
            tap_diag("node pages: round %d: revoked %ld, C %ld wrong, X mask %lx, %s %ld, kernel page faults +%lu "
                     "(last %lx, %u requests), C faults +%lu, X faults +%lu", i, n, w, (unsigned long)m,
                     even ? "unmap W" : "send", o, mn_kp.kfaults - kf0, (unsigned long)mn_kp.last_req[0],
                     mn_kp.last_n, mn_c_faults + mn_alias_faults - cf0, mn_x_faults - xf0);
    }
    mn_xbg_stop = 1; /* (X loses pages from here on) */
    for (int y = 0; y < 100000 && !mn_xbg_thr.done; y++)
        sys_yield();
    tap_ok(i == MN_ROUNDS && empty == 0,
           "node pages: %d rounds, C's node pages revoked each round (%ld pages, %ld rounds with none)", i,
           revoked, empty);
    tap_ok(mn_pages_read > 0 && mn_fmt_bad == 0,
           "node pages: every revoked node page came back in the format: a count, 126 records of four words, "
           "zero elsewhere (%ld pages read, %ld not)", mn_pages_read, mn_fmt_bad);
    tap_ok(mn_records > 0 && mn_rec_bad == 0,
           "node pages: every record is a mapping of C's: page and rights, and nothing else (not whom it came from) "
           "as predicted, word by word: no pointer, no physical address (%ld records, %ld image pages, %ld not; "
           "inv. 1)", mn_records, mn_img_records, mn_rec_bad);
    tap_ok(mn_model_bad == 0,
           "node pages: each revocation exported exactly the nodes that were in (all at first, then those "
           "brought back since) (%ld revocations, %ld not)", mn_revs, mn_model_bad);
    tap_ok(mn_acct_bad == 0,
           "node pages: after each revocation C's mapping-node count equals the pages its kpager lent it still "
           "(%ld of %ld not; inv. 5)", mn_acct_bad, mn_revs);
    tap_ok(quiet_bad == 0 && stalled == 0 && mn_bg_errors == 0 && mn_x_other == 0,
           "node pages: nodes out, C wrote and read its pages and aliases and called, its other thread ran on "
           "(%ld rounds, %ld errors), X read C's values: no page fault, no kernel page fault (%ld not; inv. 3)",
           mn_bg_rounds, mn_bg_errors, quiet_bad + stalled);
    tap_ok(mn_xbg_thr.done && mn_xbg_rounds >= 2 * MN_ROUNDS && mn_xbg_errors == 0 && mn_x_other == 0,
           "node pages: X's other thread read C's pages all along, on the other CPU, through every revocation "
           "(%ld rounds, %ld not C's values), no page fault", mn_xbg_rounds, mn_xbg_errors);
    tap_ok(op_bad == 0,
           "node pages: C taking W from X's mappings, and C sending the pages again, brought their nodes back: "
           "one kernel page fault each, a FRESH node page (%d operations, %ld not)", i, op_bad);

    /* C takes W from X's mapping of page 0: X reads it, its write faults
     * to its pager (which gives it a decoy), C's page keeps its value */
    mn_revoke(KM_KS_MN, KM_KS_ME);
    unsigned long kf0 = mn_kp.kfaults, xf0 = mn_x_faults, xw0 = mn_x_wfaults, cf0 = mn_c_faults;
    long u = mn_cmd(ct, MN_OP_UNMAP, KM_FPAGE(mn_page(0), 12, KM_W), 0);
    int u_kf = mn_kp.kfaults == kf0 + 1 && mn_fresh_node_fault();
    mn_in[0] = 1;
    long xr = mn_cmd(xt, MN_OP_PEEK, MN_X_WIN, 0);
    unsigned long xf1 = mn_x_faults;
    long xp = mn_cmd(xt, MN_OP_POKE, MN_X_WIN, MN_POKE);
    long cr = mn_cmd(ct, MN_OP_PEEK, mn_page(0), 0);
    tap_ok(u == 1 && u_kf && xr == (long)mn_val(0, v, 0) && xf1 == xf0 && xp == 0 && mn_x_faults == xf0 + 1 &&
               mn_x_wfaults == xw0 + 1 && cr == (long)mn_val(0, v, 0) && mn_c_faults == cf0 &&
               mn_kp.kfaults == kf0 + 1,
           "node pages: C's unmap of W from X's mapping (%ld), node out: one FRESH kernel page fault (%d); X "
           "read it (%s), X's write faulted to its pager (%lu faults, %lu writes), C's page kept its value (%s, "
           "%lu faults)", u, u_kf, xr == (long)mn_val(0, v, 0) ? "right" : "wrong",
           mn_x_faults - xf0, mn_x_wfaults - xw0, cr == (long)mn_val(0, v, 0) ? "kept" : "changed",
           mn_c_faults - cf0);

    /* C sends its pages to X again: one FRESH node page; X reads C's
     * values again on all four (page 0 replaces its decoy) */
    mn_revoke(KM_KS_MN, KM_KS_ME);
    kf0 = mn_kp.kfaults;
    xf0 = mn_x_faults;
    long s = mn_cmd(ct, MN_OP_SEND, 0, MN_NX);
    int s_kf = mn_kp.kfaults == kf0 + 1 && mn_fresh_node_fault();
    for (unsigned j = 0; j < MN_NX; j++)
        mn_in[j] = 1;
    long m = mn_cmd(xt, MN_OP_XCHECK, v, 0);
    tap_ok(s == 0 && s_kf && m == 0 && mn_x_faults == xf0,
           "node pages: C's send of its pages to X again (%s), nodes out, brought them back (one FRESH kernel "
           "page fault: %d); X reads C's values on all (mask %lx, %lu faults)", sys_errname(s), s_kf,
           (unsigned long)m, mn_x_faults - xf0);

    /* C's own unmap of W (KM_UNMAP_SELF) from page 12: its node back, the
     * page read-only to C until its pager gives W again on a write */
    mn_revoke(KM_KS_MN, KM_KS_ME);
    kf0 = mn_kp.kfaults;
    cf0 = mn_c_faults;
    u = mn_cmd(ct, MN_OP_UNMAP, KM_FPAGE(mn_page(12), 12, KM_W), KM_UNMAP_SELF);
    int w_kf = mn_kp.kfaults == kf0 + 1 && mn_fresh_node_fault();
    mn_in[12] = 1;
    mn_rights[12] = KM_R;
    cr = mn_cmd(ct, MN_OP_PEEK, mn_page(12), 0);
    unsigned long cf1 = mn_c_faults;
    long cp = mn_cmd(ct, MN_OP_POKE, mn_page(12), MN_POKE + 12);
    mn_rights[12] = KM_R | KM_W; /* (the pager's map gave it back) */
    tap_ok(u == 1 && w_kf && cr == (long)mn_val(12, 0, 0) && cf1 == cf0 && cp == 0 && mn_c_faults == cf0 + 1 &&
               *(volatile km_u64 *)mn_bk[12] == MN_POKE + 12 && mn_kp.kfaults == kf0 + 1,
           "node pages: C's own unmap of W (KM_UNMAP_SELF) from a page (%ld), node out: one FRESH kernel page "
           "fault (%d); C read it still (%s), its write faulted to its pager (%lu faults) and went through", u, w_kf, cr == (long)mn_val(12, 0, 0) ? "right" : "wrong", mn_c_faults - cf0);

    /* C's own unmap of the whole mapping (KM_UNMAP_SELF, RWX) of page 13
     * and of page 3 (mapped on to X), nodes out: a removal by name, no
     * kernel page fault; X's mapping of page 3 goes with C's */
    mn_revoke(KM_KS_MN, KM_KS_ME);
    kf0 = mn_kp.kfaults;
    cf0 = mn_c_faults;
    xf0 = mn_x_faults;
    long u13 = mn_cmd(ct, MN_OP_UNMAP, KM_FPAGE(mn_page(13), 12, KM_RWX), KM_UNMAP_SELF);
    long u3 = mn_cmd(ct, MN_OP_UNMAP, KM_FPAGE(mn_page(3), 12, KM_RWX), KM_UNMAP_SELF);
    unsigned long kf1 = mn_kp.kfaults;
    mn_exists[13] = mn_exists[3] = 0;
    m = mn_cmd(xt, MN_OP_XCHECK, v, 0);
    unsigned long xf1b = mn_x_faults;
    long c13 = mn_cmd(ct, MN_OP_PEEK, mn_page(13), 0);
    long c3 = mn_cmd(ct, MN_OP_PEEK, mn_page(3), 0);
    mn_set(13);
    mn_set(3);
    tap_ok(u13 == 1 && u3 == 2 && kf1 == kf0 && m == 1 << 3 && xf1b == xf0 + 1 && mn_c_faults == cf0 + 2 &&
               c13 == (long)mn_val(13, 0, 0) && c3 == (long)mn_val(3, v, 0),
           "node pages: C's own unmap of 2 whole pages (KM_UNMAP_SELF), nodes out: removed by name (%ld, %ld "
           "mappings), no kernel page fault (%lu); X lost one (mask %lx, %lu faults), C refaulted both (%lu)", u13, u3, kf1 - kf0,
           (unsigned long)m, xf1b - xf0, mn_c_faults - cf0);

    /* an unmap from above: this task (C's pages' pager's) takes pages 1
     * (mapped on to X) and 5 (aliased by C) from everything derived from
     * its own, C's nodes out: no kernel page fault; C and X lose them */
    mn_revoke(KM_KS_MN, KM_KS_ME);
    kf0 = mn_kp.kfaults;
    cf0 = mn_c_faults;
    unsigned long af0 = mn_alias_faults;
    xf0 = mn_x_faults;
    long r1 = sys_unmap(KM_FPAGE((km_u64)(unsigned long)mn_bk[1], 12, KM_RWX), 0);
    long r5 = sys_unmap(KM_FPAGE((km_u64)(unsigned long)mn_bk[5], 12, KM_RWX), 0);
    mn_exists[1] = mn_exists[5] = mn_exists[MN_NP + 1] = 0;
    m = mn_cmd(xt, MN_OP_XCHECK, v, 0);
    kf1 = mn_kp.kfaults;
    unsigned long xf2 = mn_x_faults;
    long cp1 = mn_cmd(ct, MN_OP_PEEK, mn_page(1), 0);
    long c5 = mn_cmd(ct, MN_OP_PEEK, mn_page(5), 0);
    long ca = mn_cmd(ct, MN_OP_PEEK, mn_alias(1), 0);
    mn_set(1);
    mn_set(5);
    mn_set(MN_NP + 1);
    tap_ok(r1 == 2 && r5 == 2 && kf1 == kf0 && m == (1 << 1 | 1 << 3) && xf2 == xf0 + 1 &&
               mn_c_faults == cf0 + 2 && mn_alias_faults == af0 + 1 && cp1 == (long)mn_val(1, v, 0) &&
               c5 == (long)*(volatile km_u64 *)mn_bk[5] && ca == 0x4445434f59l,
           "node pages: unmap from above (C's pager's task: 2 pages, %ld, %ld mappings), C's nodes out: no "
           "kernel page fault (%lu); X lost its page at once (mask %lx, %lu faults), C too (%lu faults, alias %lu)", r1, r5,
           kf1 - kf0, (unsigned long)m, xf2 - xf0, mn_c_faults - cf0, mn_alias_faults - af0);

    /* C's edge pages revoked (its node pages out too): they leave
     * localised; X's mappings of C's pages (0 and 2 now) stay, detached,
     * with no fault; C's own aliases (0, 2, 3), whose nodes are out as
     * well, go (nothing holds their link); C keeps its pages; no kernel
     * page fault; then C has no mapping-node page at all */
    mn_revoke(KM_KS_MN, KM_KS_ME);
    kf0 = mn_kp.kfaults;
    cf0 = mn_c_faults;
    af0 = mn_alias_faults;
    xf0 = mn_x_faults;
    long eb0 = mn_zero_bad, ep0 = mn_edge_pages;
    long ne = mn_revoke(KM_KS_ME, KM_KS_TCB);
    struct km_kmem_info ke;
    int ke_ok = kmem_of(c, &ke) && ke.pages[KM_KMEM_MAPNODE] == 0 && mn_lent(c, KM_KS_MN, KM_KS_TCB) == 0;
    kf1 = mn_kp.kfaults;
    mn_exists[MN_NP + 0] = mn_exists[MN_NP + 2] = mn_exists[MN_NP + 3] = 0;
    m = mn_cmd(xt, MN_OP_XCHECK, v, 0);
    unsigned long xf3 = mn_x_faults;
    long cbad = 0;
    for (unsigned j = 0; j < MN_NP; j++)
        cbad += mn_cmd(ct, MN_OP_PEEK, mn_page(j), 0) != (long)*(volatile km_u64 *)mn_bk[j];
    unsigned long cf3 = mn_c_faults, kf3 = mn_kp.kfaults;
    long abad = 0;
    for (unsigned ka = 0; ka < MN_NA; ka++)
        abad += mn_cmd(ct, MN_OP_PEEK, mn_alias(ka), 0) != 0x4445434f59l;
    for (unsigned ka = 0; ka < MN_NA; ka++)
        if (ka != 1)
            mn_set(MN_NP + ka);
    tap_ok(ne >= 1 && mn_edge_pages - ep0 == ne && mn_zero_bad == eb0 && ke_ok && kf1 == kf0 &&
               m == (1 << 1 | 1 << 3) && xf3 == xf0 && cbad == 0 && cf3 == cf0 && kf3 == kf0 && abad == 0 &&
               mn_alias_faults == af0 + 3,
           "node pages: C's edge pages revoked (%ld, localised: %s; node pages left %lu): X kept C's pages (%lu "
           "faults), C lost its aliases, their nodes out too (%lu faults), no kernel page fault (%lu); C kept "
           "its own (%ld wrong, %lu faults)", ne,
           mn_zero_bad == eb0 ? "yes" : "no", (unsigned long)ke.pages[KM_KMEM_MAPNODE], xf3 - xf0,
           mn_alias_faults - af0, kf1 - kf0, cbad, cf3 - cf0);

    /* a last revocation: the exports name exactly what came in since */
    long mb0 = mn_model_bad, rb0 = mn_rec_bad, fb0 = mn_fmt_bad;
    long nl = mn_revoke(KM_KS_MN, KM_KS_ME);
    tap_ok(nl >= 1 && mn_model_bad == mb0 && mn_rec_bad == rb0 && mn_fmt_bad == fb0,
           "node pages: after it all, a revocation exported exactly C's new mappings (%ld pages)", nl);
    tap_ok(mn_fmt_bad == 0 && mn_rec_bad == 0 && mn_model_bad == 0 && mn_acct_bad == 0 && mn_zero_bad == 0,
           "node pages: all %ld revocations of the part: node pages in the format, records as predicted, "
           "edge pages in the format, counts exact (%ld pages, %ld records; %ld, %ld, %ld, %ld, %ld not)", mn_revs,
           mn_pages_read, mn_records, mn_fmt_bad, mn_rec_bad, mn_model_bad, mn_zero_bad, mn_acct_bad);
    tap_ok(mn_kp.restores == 0 && mn_kp.restore_missed == 0 && mn_kp.bad == 0 && mn_kp.exhausted == 0,
           "node pages: C's kpager was never asked to RESTORE a page (%lu answered, %lu missed) in %lu kernel "
           "page faults", mn_kp.restores, mn_kp.restore_missed, mn_kp.kfaults);

    /* accounting by type, then the end: C deleted, all mn_kp's pages back */
    struct km_kmem_info kc;
    int acct = kmem_of(c, &kc) && kc.pinned_pages == 0;
    unsigned types_bad = 0;
    for (int t = 0; t < KM_KMEM_NTYPES; t++) {
        unsigned lent = 0;
        for (unsigned p = 0; p < mn_kp.npages; p++)
            lent += mn_kp.page[p].state == KPAGE_LENT && mn_kp.page[p].task == c &&
                    km_ks_type(mn_kp.page[p].ksaddr) == t;
        if (!acct || kc.pages[t] != lent) {
            types_bad |= 1u << t;
            tap_diag("node pages: C's kernel pages of type %d: %lu, mn_kp lent %u", t,
                     acct ? (unsigned long)kc.pages[t] : 0ul, lent);
        }
    }
    tap_ok(acct && types_bad == 0,
           "node pages: C's kernel pages, type by type, are exactly those its kpager lent it, none from the "
           "pool (%lu pinned; types off: %x; inv. 5)", acct ? (unsigned long)kc.pinned_pages : 0ul, types_bad);
    l4_set_mr(0, 0);
    long sc = l4_send(ct, KM_TAG(MN_OP_STOP, 1, 0));
    for (int y = 0; y < 100000 && !mn_c.done; y++)
        sys_yield();
    long rc = sc == 0 && mn_c.done ? finish(&mn_c) : (l4_task_delete(&mn_c), -KM_ETIMEOUT);
    l4_set_mr(0, 0);
    long sx = l4_send(xt, KM_TAG(MN_OP_STOP, 1, 0));
    for (int y = 0; y < 100000 && !mn_x.done; y++)
        sys_yield();
    long rx = sx == 0 && mn_x.done ? finish(&mn_x) : (l4_task_delete(&mn_x), -KM_ETIMEOUT);
    l4_thread_kill(&mn_xpager_thr);
    struct km_kmem_info kg;
    long gone = sys_kmem_info(c, &kg);
    kpager_revoke(mn_kp_thr.tid, 0, 0, 0); /* nothing to unmap: collects */
    unsigned left = 0;
    for (unsigned p = 0; p < mn_kp.npages; p++)
        left += mn_kp.page[p].state != KPAGE_FREE;
    l4_thread_kill(&mn_kp_thr);
    tap_ok(rc == 0 && rx == 0 && gone == -KM_ESRCH && left == 0 && mn_kp.nfree == mn_kp.npages,
           "node pages: C and X ran to their end (%s, %s), C is gone (%s) and its kpager has all its pages "
           "back (%u not)", sys_errname(rc), sys_errname(rx), sys_errname(gone), left);
    tap_ok(sent_errors == 0 && sent_rounds > s0,
           "node pages: the sentinel's memory and IPC stayed intact (%ld rounds, %ld errors)", sent_rounds - s0,
           sent_errors);
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
    clients_pager = pager_thr.tid;
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
    part_tcb();
    part_tcb_malicious();
    part_tcb_resume();
    part_pml4_other_cpu();
    part_deadlock();
    part_deadlock_check();
    part_kpager_faults();
    part_nodetables();
    part_nodepages();
    sent_stop = 1;
    r = finish(&sentinel);
    tap_ok(r == 0 && sent_errors == 0 && sent_rounds > 0,
           "sentinel: ran to its end, %ld rounds, %ld errors", sent_rounds, sent_errors);
    kpager_revoke(kp_thr.tid, 0, 0, KM_KS_END);
    kpager_revoke(sent_kp_thr.tid, 0, 0, KM_KS_END);
    return tap_done("kpager_check");
}
