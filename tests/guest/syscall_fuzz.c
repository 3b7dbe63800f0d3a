/* syscall_fuzz: every system call with random arguments, a bounded number
 * of times, from a deterministic xorshift generator (the seed is printed).
 * Every result must be >= 0 or one of the -KM_E* codes of abi/syscall.h,
 * the kernel must survive, and an unrelated thread must keep running.
 *
 * What is kept out, so that the program itself survives: sys_exit; deleting,
 * restarting or reprioritising the main thread or the counting thread, or
 * deleting the own task; unmapping the program's own memory
 * (KM_UNMAP_SELF is only allowed on regions far from it); granting pages
 * away; pointers into the program's data other than a scratch buffer;
 * blocking IPC (both phases always have zero timeouts); threads of the own
 * task started anywhere but two loops that never touch memory (one yields,
 * one receives).  Threads of tasks created here start wherever the dice
 * say.
 */
#include <user/l4.h>
#include <user/stdio.h>
#include <user/string.h>
#include <user/tap.h>

#ifndef SEED
#define SEED 0x6b6d656d6c616231ul /* "kmemlab1"; -DSEED=... for another run */
#endif
#define ITERATIONS 20000
#define CHECK_EVERY 2000
#define MARK_ID 0x5346 /* "SF" */

#define KADDR 0xffff800000000000ul
#define NONCANON 0x0000800000000000ul
#define UNMAPPED 0x0000100000000000ul
#define SAFE_LO 0x0000010000000000ul /* KM_UNMAP_SELF only inside [1 TiB, 64 TiB) */
#define SAFE_HI 0x0000400000000000ul

static km_u64 rng = SEED;
static km_u64 rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}
static km_u64 below(km_u64 n) { return n ? rnd() % n : 0; }

/* Loops that never touch memory (only the kernel writes their UTCB):
 * where threads of the own task start.  fuzz_spin yields for ever,
 * fuzz_recv receives from any thread for ever (so that random IPC finds
 * partners; its acceptor is nil, so no map item reaches it). */
void fuzz_spin(void);
void fuzz_recv(void);
__asm__(".text\n"
        ".globl fuzz_spin\n"
        ".type fuzz_spin, @function\n"
        "fuzz_spin:\n"
        "1:  mov $16, %eax\n" /* KM_SYS_YIELD */
        "    syscall\n"
        "    jmp 1b\n"
        ".size fuzz_spin, . - fuzz_spin\n"
        ".globl fuzz_recv\n"
        ".type fuzz_recv, @function\n"
        "fuzz_recv:\n"
        "1:  xor %edi, %edi\n"   /* to: nil */
        "    mov $-1, %rsi\n"    /* from: any */
        "    xor %edx, %edx\n"   /* flags: wait */
        "    xor %r10d, %r10d\n" /* tag */
        "    mov $8, %eax\n"     /* KM_SYS_IPC */
        "    syscall\n"
        "    jmp 1b\n"
        ".size fuzz_recv, . - fuzz_recv\n");
KM_STATIC_ASSERT(KM_SYS_YIELD == 16 && KM_SYS_IPC == 8, "fuzz_spin's and fuzz_recv's numbers");
KM_STATIC_ASSERT(KM_ANYTHREAD == ~0ull, "fuzz_recv's receive from any");
#define KNOWN_CALLS 19 /* calls with a case in fuzz_one (see its default) */
KM_STATIC_ASSERT(sizeof(struct km_sysinfo) <= 256 && sizeof(struct km_kmem_info) <= 256,
                 "any_ptr leaves room for what the kernel writes");

static km_tid me;
static km_taskid my_task;

/* ---- the unrelated thread --------------------------------------------------- */

static volatile unsigned long counter;
static struct l4_thread counter_thr;

static void count(void *arg)
{
    (void)arg;
    for (;;) {
        counter++;
        if ((counter & 63) == 0)
            sys_yield();
    }
}

/* ---- pools of ids the dice pick from ----------------------------------------- */

#define POOL 12
struct fthread {
    km_tid tid;
    int own;      /* in the own task: may only start at fuzz_spin or fuzz_recv */
    int pager_ok; /* its pager is one of the receivers (which take a fault
                   * and never answer): it may start anywhere.  A thread
                   * faulting without a live pager ends the whole program. */
};
static struct fthread threads[POOL];
static int nthreads;
static km_taskid tasks[POOL / 2];
static int ntasks;
static km_u64 stale[16]; /* ids of things deleted */
static unsigned nstale;

/* Two threads that receive from anyone for ever: partners for random IPC. */
#define NRECV 2
static struct l4_thread receivers[NRECV];

static void receive_forever(void *arg)
{
    (void)arg;
    for (;;)
        l4_receive_any();
}

static int protected_thread(km_tid t)
{
    for (int i = 0; i < NRECV; i++)
        if (t == receivers[i].tid)
            return 1;
    return t == me || t == counter_thr.tid;
}

static void remember_stale(km_u64 id) { stale[nstale++ % 16] = id; }

static struct fthread *find_thread(km_tid t)
{
    for (int i = 0; i < nthreads; i++)
        if (threads[i].tid == t)
            return &threads[i];
    return 0;
}

static void forget_thread(km_tid t)
{
    for (int i = 0; i < nthreads; i++)
        if (threads[i].tid == t) {
            threads[i] = threads[--nthreads];
            remember_stale(t);
            return;
        }
}

static void forget_task(km_taskid t)
{
    for (int i = 0; i < ntasks; i++)
        if (tasks[i] == t) {
            tasks[i] = tasks[--ntasks];
            remember_stale(t);
            /* Its threads went with it. */
            return;
        }
}

/* ---- argument dice -------------------------------------------------------------- */

static km_u64 any_id(void)
{
    switch (below(8)) {
    case 0: return nthreads ? threads[below(nthreads)].tid : 0;
    case 1: return ntasks ? tasks[below(ntasks)] : 0;
    case 2: return nstale ? stale[below(nstale < 16 ? nstale : 16)] : 1;
    case 3: return KM_ID(below(8), below(4));
    case 4: return me;
    case 5: return counter_thr.tid;
    case 6: return my_task;
    default: return below(2) ? KM_ANYTHREAD : KM_NILTHREAD;
    }
}

static km_u64 any_fpage(void)
{
    km_u64 base = below(2) ? rnd() : (rnd() & 0x00007ffffffff000ul);
    unsigned log2 = below(4) ? (unsigned)(12 + below(36)) : (unsigned)below(64);
    return KM_FPAGE(base & ~((1ull << (log2 < 64 ? log2 : 63)) - 1), log2, rnd()) | (below(8) ? 0 : rnd() & 0x38);
}

static km_u64 any_arg(void)
{
    switch (below(12)) {
    case 0: return 0;
    case 1: return ~0ull;
    case 2: return below(17);
    case 3: return 1ull << 63;
    case 4: return KADDR + below(1 << 20);
    case 5: return NONCANON + below(4096);
    case 6: return any_id();
    case 7: return any_fpage();
    case 8: return below(300);
    default: return rnd();
    }
}

static unsigned char scratch[2 * 4096] __attribute__((aligned(4096)));
static const char line[] = "# syscall_fuzz: a line from sys_puts\n";

/* A user pointer: bad ones, or into the scratch buffer. */
static km_u64 any_ptr(void)
{
    switch (below(7)) {
    case 0: return 0;
    case 1: return KADDR;
    case 2: return NONCANON - below(64);
    case 3: return UNMAPPED;
    case 4: return ~0ull - below(4096);
    default: /* room for the largest thing the kernel writes (a kmem_info) */
        return (km_u64)(unsigned long)scratch + below(sizeof scratch - 256);
    }
}

/* ---- results ----------------------------------------------------------------------- */

struct tally {
    unsigned long calls, ok, err[KM_EBUSY + 1], bad;
    long first_bad;
};
static struct tally tally[KM_SYS_COUNT + 1]; /* [KM_SYS_COUNT]: numbers out of range */

static int defined_error(long r) { return r >= -KM_EBUSY && r <= -KM_EINVAL; }

static void record(unsigned nr, long r)
{
    struct tally *t = &tally[nr < KM_SYS_COUNT ? nr : KM_SYS_COUNT];
    t->calls++;
    if (r >= 0)
        t->ok++;
    else if (defined_error(r))
        t->err[-r]++;
    else if (!t->bad++)
        t->first_bad = r;
}

/* ---- one call ---------------------------------------------------------------------- */

static void fuzz_ipc(void)
{
    struct km_utcb *u = utcb();
    km_u64 tag = below(4) ? KM_TAG(rnd(), below(20), below(3) ? 0 : 2 * below(6)) : rnd();
    for (unsigned k = 0; k < KM_MR_COUNT; k++)
        u->mr[k] = below(3) ? any_arg() : any_fpage();
    /* Typed words: map items only (a grant would give our pages away). */
    unsigned uw = KM_TAG_U(tag), tw = KM_TAG_T(tag);
    for (unsigned k = uw; k < uw + tw && k < KM_MR_COUNT; k += 2)
        u->mr[k] &= ~KM_ITEM_GRANT;
    u->acceptor = 0; /* and we accept none */
    km_u64 flags = KM_IPC_SEND_NOWAIT | KM_IPC_RECV_NOWAIT | (below(4) ? 0 : rnd() & ~3ull);
    km_tid to = below(3) == 0 ? receivers[below(NRECV)].tid
              : below(3) == 0 && nthreads ? threads[below(nthreads)].tid
                                          : any_id();
    long r = sys_ipc(to, below(2) ? KM_NILTHREAD : any_id(), flags, tag);
    record(KM_SYS_IPC, r);
}

static void fuzz_thread_create(void)
{
    km_taskid task = below(2) ? 0 : below(2) && ntasks ? tasks[below(ntasks)] : any_id();
    km_tid pager = below(2) ? receivers[below(NRECV)].tid : any_id();
    long r = sys_thread_create(task, pager);
    record(KM_SYS_THREAD_CREATE, r);
    if (r <= 0)
        return;
    if (nthreads == POOL) { /* make room: the oldest goes */
        long d = sys_thread_delete(threads[0].tid);
        record(KM_SYS_THREAD_DELETE, d);
        forget_thread(threads[0].tid);
    }
    threads[nthreads].tid = (km_tid)r;
    threads[nthreads].own = task == 0 || task == my_task;
    threads[nthreads].pager_ok = protected_thread(pager) && pager != me && pager != counter_thr.tid;
    nthreads++;
}

static void fuzz_thread_delete(void)
{
    km_tid t = any_id();
    if (protected_thread(t))
        return;
    long r = sys_thread_delete(t);
    record(KM_SYS_THREAD_DELETE, r);
    if (r >= 0)
        forget_thread(t);
}

static void fuzz_thread_control(void)
{
    km_tid t = below(2) && nthreads ? threads[below(nthreads)].tid : any_id();
    long op = below(4) ? (long)(1 + below(4)) : (long)any_arg();
    km_u64 arg = op == KM_TCTL_SET_CPU && below(2) ? below(8) : any_arg();
    if (protected_thread(t) && (km_u32)op != KM_TCTL_SET_PAGER && (km_u32)op != KM_TCTL_SET_KPAGER)
        return;
    struct fthread *f = find_thread(t);
    if (f && (km_u32)op == KM_TCTL_SET_PAGER)
        f->pager_ok = 0;
    record(KM_SYS_THREAD_CONTROL, sys_thread_control(t, op, arg));
}

static void fuzz_task_create(void)
{
    long r = sys_task_create();
    record(KM_SYS_TASK_CREATE, r);
    if (r <= 0)
        return;
    if (ntasks == POOL / 2) {
        long d = sys_task_delete(tasks[0]);
        record(KM_SYS_TASK_DELETE, d);
        forget_task(tasks[0]);
    }
    tasks[ntasks++] = (km_taskid)r;
}

static void fuzz_task_delete(void)
{
    km_taskid t = below(2) && ntasks ? tasks[below(ntasks)] : any_id();
    if (t == my_task)
        return;
    long r = sys_task_delete(t);
    record(KM_SYS_TASK_DELETE, r);
    if (r >= 0)
        forget_task(t);
}

static void fuzz_unmap(void)
{
    km_u64 fp = any_fpage();
    km_u64 flags = below(4) ? below(2) : rnd();
    km_u64 base = KM_FPAGE_BASE(fp), log2 = KM_FPAGE_LOG2(fp);
    int safe = log2 >= 12 && log2 < 47 && base >= SAFE_LO && base + (1ull << log2) <= SAFE_HI;
    if (!safe)
        flags &= ~(km_u64)KM_UNMAP_SELF;
    record(KM_SYS_UNMAP, sys_unmap(fp, flags));
}

static void fuzz_exregs(void)
{
    km_tid t = below(2) && nthreads ? threads[below(nthreads)].tid : any_id();
    long op = below(4) ? (long)(1 + below(3)) : (long)any_arg();
    km_u64 ip = any_arg(), sp = any_arg();
    if (protected_thread(t))
        return;
    struct fthread *f = find_thread(t);
    if ((km_u32)op == KM_EXREGS_START || (km_u32)op == KM_EXREGS_SET) {
        if (!f || f->own) /* ours (or dead): only the loops */
            ip = (km_u64)(unsigned long)(below(2) ? fuzz_spin : fuzz_recv);
        else if (!f->pager_ok) /* another task's, whose fault would end us */
            return;
        /* else: another task's with a receiver as pager: anywhere */
    }
    record(KM_SYS_EXREGS, sys_exregs(t, op, ip, sp));
}

static void fuzz_one(void)
{
    unsigned nr = (unsigned)below(KM_SYS_COUNT + 1);
    long r;
    switch (nr) {
    case KM_SYS_EXIT:
        return;
    case KM_SYS_PUTS:
        if (below(2)) { /* a whole line now and then, else nothing */
            r = sys_puts(line, below(32) ? 0 : sizeof line - 1);
        } else {
            km_u64 p = any_ptr(), len = below(2) ? below(8192) : any_arg();
            /* Scratch would print garbage: length 0 only. */
            if (p >= (km_u64)(unsigned long)scratch && p < (km_u64)(unsigned long)scratch + sizeof scratch)
                len = 0;
            r = sys_puts((const char *)(unsigned long)p, len);
        }
        break;
    case KM_SYS_TRACE_MARKER:
        r = sys_trace_marker(any_arg(), any_arg());
        break;
    case KM_SYS_TRACE_CTL:
        r = sys_trace_ctl(below(2) ? (long)below(5) : (long)any_arg(), any_arg());
        break;
    case KM_SYS_TRACE_PROBE:
        r = sys_trace_probe(below(2) ? (long)below(3) : (long)any_arg());
        break;
    case KM_SYS_BENCH_SUBMIT: {
        struct km_bench_desc *d = (struct km_bench_desc *)scratch;
        if (below(2)) {
            memset(d, 0, sizeof *d);
            strlcpy(d->benchmark, "syscall_fuzz", sizeof d->benchmark);
            strlcpy(d->variant, "fuzz", sizeof d->variant);
            strlcpy(d->metric, "junk", sizeof d->metric);
            strlcpy(d->unit, "count", sizeof d->unit);
        }
        r = sys_bench_submit(below(2) ? d : (const struct km_bench_desc *)(unsigned long)any_ptr(),
                             (const km_i64 *)(unsigned long)any_ptr(), below(2) ? below(64) : any_arg());
        break;
    }
    case KM_SYS_SYSINFO:
        r = sys_sysinfo((struct km_sysinfo *)(unsigned long)any_ptr());
        break;
    case KM_SYS_IPC: fuzz_ipc(); return;
    case KM_SYS_THREAD_CREATE: fuzz_thread_create(); return;
    case KM_SYS_THREAD_DELETE: fuzz_thread_delete(); return;
    case KM_SYS_THREAD_CONTROL: fuzz_thread_control(); return;
    case KM_SYS_TASK_CREATE: fuzz_task_create(); return;
    case KM_SYS_TASK_DELETE: fuzz_task_delete(); return;
    case KM_SYS_UNMAP: fuzz_unmap(); return;
    case KM_SYS_EXREGS: fuzz_exregs(); return;
    case KM_SYS_KMEM_INFO:
        r = sys_kmem_info(below(2) ? any_id() : 0, (struct km_kmem_info *)(unsigned long)any_ptr());
        break;
    case KM_SYS_YIELD:
        r = sys_yield();
        break;
    case KM_SYS_MYSELF:
        r = (long)sys_myself();
        if (r >= 0 && (km_tid)r != me)
            r = -1000; /* wrong answer: counted as bad */
        break;
    case KM_SYS_COUNT: /* a number out of range */
        nr = (unsigned)(KM_SYS_COUNT + below(1000));
        if (below(2))
            nr = (unsigned)rnd();
        r = km_syscall5((long)(nr == KM_SYS_EXIT ? KM_SYS_COUNT : nr), (long)any_arg(),
                        (long)any_arg(), (long)any_arg(), (long)any_arg(), (long)any_arg());
        break;
    default: /* KM_SYS_NULL, and calls added to the ABI since (arguments that
              * are not pointers into our memory; a new call that writes
              * through one needs a case above) */
        r = km_syscall5(nr, (long)any_arg(), (long)any_arg(), (long)any_arg(), (long)any_arg(),
                        (long)any_arg());
        break;
    }
    record(nr, r);
}

int main(void)
{
    struct km_sysinfo si;
    sys_trace_marker(MARK_ID, 0);
    me = sys_myself();
    if (!tap_ok((long)me > 0 && sys_sysinfo(&si) == 0, "sys_myself returns a thread id (%s)",
                sys_errname((long)me)))
        return tap_done("syscall_fuzz");
    my_task = utcb()->task;
    long mask = sys_trace_ctl(KM_TRACE_CTL_GET_MASK, 0);

    struct l4_thread_attr a = L4_THREAD_ATTR_INIT;
    a.cpu = si.ncpus - 1;
    long r = l4_thread_start(&counter_thr, &a, count, 0);
    if (!tap_ok(r == 0, "start the counting thread on CPU %u (%s)", si.ncpus - 1, sys_errname(r)))
        return tap_done("syscall_fuzz");
    if (KM_SYS_COUNT != KNOWN_CALLS)
        tap_diag("the ABI has %d calls, this fuzzer knows %d: the others get no pointer arguments",
                 KM_SYS_COUNT, KNOWN_CALLS);
    for (int i = 0; i < NRECV; i++)
        if (l4_thread_start(&receivers[i], 0, receive_forever, 0) != 0)
            return tap_done("syscall_fuzz") | !tap_ok(0, "start receiving threads");
    printf("# syscall_fuzz: seed 0x%lx, %d iterations, main %lx, counter %lx, %u CPUs\n", SEED,
           ITERATIONS, me, counter_thr.tid, si.ncpus);

    int stalls = 0;
    unsigned long last = counter;
    for (int i = 1; i <= ITERATIONS; i++) {
        fuzz_one();
        if (i % CHECK_EVERY == 0) {
            /* Under icount a few yields do; without it (tcg, kvm) the
             * other CPU may be slow to get host time: be patient. */
            for (int k = 0; k < 100000 && counter == last; k++)
                sys_yield();
            if (counter == last) {
                stalls++;
                tap_diag("iteration %d: the counting thread made no progress", i);
            }
            last = counter;
        }
    }
    tap_ok(1, "the kernel survived %d random system calls", ITERATIONS);
    for (unsigned nr = 0; nr <= KM_SYS_COUNT; nr++) {
        struct tally *t = &tally[nr];
        const char *name = nr < KM_SYS_COUNT ? sys_name(nr) : "(out of range)";
        if (nr == KM_SYS_EXIT)
            continue;
        char errs[160];
        int len = 0;
        for (int e = KM_EINVAL; e <= KM_EBUSY; e++)
            if (t->err[e])
                len += snprintf(errs + len, sizeof errs - (unsigned)len, " %s:%lu",
                                sys_errname(-e) + 4, t->err[e]);
        errs[len] = 0;
        tap_ok(t->bad == 0 && t->calls > 0,
               "%s: %lu calls, each >= 0 or -KM_E* (ok %lu;%s)%s", name, t->calls, t->ok,
               len ? errs : " no errors", t->bad ? " BAD RESULTS" : "");
        if (t->bad)
            tap_diag("%s: %lu results out of range, the first %ld", name, t->bad, t->first_bad);
    }
    tap_ok(stalls == 0 && counter > 0, "the counting thread kept running throughout (%lu)", counter);
    tap_ok(l4_thread_state(counter_thr.tid) >= 0, "it is still alive at the end");

    /* Clean up what the dice left. */
    for (int i = 0; i < ntasks; i++)
        sys_task_delete(tasks[i]);
    for (int i = 0; i < nthreads; i++)
        sys_thread_delete(threads[i].tid);
    if (mask >= 0)
        sys_trace_ctl(KM_TRACE_CTL_SET_MASK, (unsigned long)mask);
    sys_trace_marker(MARK_ID, 1);
    return tap_done("syscall_fuzz");
}
