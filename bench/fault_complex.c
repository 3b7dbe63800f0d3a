/* fault_complex: the paper's Figure 3.  Cycles for a user page fault in
 * an untouched region, so that the kernel needs new page-table pages and a
 * node table to resolve it, with those pages from the kernel's pool or
 * from a user-level kpager.
 *
 * Shapes (abi/kspace.h, ../shared/paper/figures.md):
 *   2m  first touch of a fresh 2 MiB region whose upper tables exist:
 *       a leaf page table and its node table (two kernel pages)
 *   1g  first touch of a fresh 1 GiB region: a page directory as well
 *       (three kernel pages)
 * Allocators:
 *   pool            the client thread has no kpager: the kernel's pool
 *   kpager          a kpager answering one page per kernel page fault
 *                   (the paper's cold case: one fault per page)
 *   kpager_batched  a kpager answering every page the fault asks for
 *                   (the kernel asks for all of them, in hierarchy order)
 *                   plus 8 pages lent ahead of need (abi/kspace.h:
 *                   RESERVE): most faults then raise no kernel page fault
 * With kmem=pool the kpager variants are not run (no kernel page fault is
 * ever sent): the run says so and reports the pool variants.
 *
 * A client task writes the first word of one page per region, a new
 * region per sample; a pager thread of this program maps it one page of
 * the program's data.  Metrics per variant: `fault` (cycles of the write,
 * fault included) and `kfaults` (kernel page faults during it).  Each
 * variant is one marker phase (1..6, in the order of `variants`), so the
 * trace's kfault events of a phase belong to that variant.  Then a traced
 * pass: each variant again, 16 faults with the fault, IPC, map and switch
 * events on (phases 7..12, same order), for the phase breakdown of the
 * report; its figures are not reported (each trace point adds about 34
 * instructions to what it measures).
 */
#include <abi/kspace.h>
#include <user/bench.h>
#include <user/kpager.h>
#include <user/l4.h>
#include <user/stdio.h>
#include <user/string.h>
#include <user/tsc.h>

#define WARMUP 8
#define SAMPLES 256
#define TRACED 16 /* faults per variant of the traced pass */
/* Events of the traced pass (the kernel page fault events are on by default). */
#define TRACED_EVENTS ((1ull << KM_EV_PAGEFAULT) | (1ull << KM_EV_IPC_SEND) | (1ull << KM_EV_IPC_RECV) | \
                       (1ull << KM_EV_MAP) | (1ull << KM_EV_FAULT_DONE) | (1ull << KM_EV_SWITCH))
#define WIN_2M 0x100000000000ull /* 16 TiB: 2 MiB regions inside one 1 GiB */
#define WIN_1G 0x200000000000ull /* 32 TiB: 1 GiB regions inside one 512 GiB */
#define WIN_END 0x300000000000ull
#define POOL_PAGES 2048

struct variant {
    const char *name;
    unsigned shift; /* region size: 21 or 30 */
    int kpager;     /* 0: none (pool), 1: cold, 2: batched */
};

static const struct variant variants[] = {
    {"pool_2m", 21, 0}, {"kpager_2m", 21, 1}, {"kpager_batched_2m", 21, 2},
    {"pool_1g", 30, 0}, {"kpager_1g", 30, 1}, {"kpager_batched_1g", 30, 2},
};

static volatile char target[4096] __attribute__((aligned(4096)));
static char pool_cold[POOL_PAGES][4096] __attribute__((aligned(4096)));
static char pool_batched[POOL_PAGES][4096] __attribute__((aligned(4096)));
static struct kpager kp_cold, kp_batched;
static km_i64 kfault_samples[SAMPLES];
static struct l4_window_pager pager;

/* Read by the client (it runs in its own task, on this program's pages). */
static volatile const struct variant *cur;
static volatile int nsamples = SAMPLES;
static volatile long client_err;

static long client(void *arg)
{
    (void)arg;
    const struct variant *v = (const struct variant *)cur;
    km_u64 base = v->shift == 21 ? WIN_2M : WIN_1G;
    struct kpager *kp = v->kpager == 1 ? &kp_cold : &kp_batched;
    memset(bench_samples, 0, sizeof(km_i64) * SAMPLES);
    memset(kfault_samples, 0, sizeof kfault_samples);
    for (int i = 0; i < WARMUP + nsamples; i++) {
        volatile char *p = (volatile char *)(unsigned long)(base + ((km_u64)i << v->shift));
        unsigned long k0 = kp->kfaults;
        km_u64 t0 = tsc_begin();
        *p = 1;
        km_u64 t1 = tsc_end();
        unsigned long k1 = kp->kfaults;
        if (i >= WARMUP) {
            bench_samples[i - WARMUP] = (km_i64)(t1 - t0);
            kfault_samples[i - WARMUP] = v->kpager ? (km_i64)(k1 - k0) : 0;
        }
    }
    return 0;
}

/* Faults in [WIN_2M, WIN_END) get the one target page. */
static km_u64 target_page(km_u64 addr, void *arg)
{
    (void)addr, (void)arg;
    return (km_u64)(unsigned long)target;
}

/* One variant: a fresh client task, SAMPLES faults (TRACED when traced,
 * with the per-fault events on and nothing reported); 1 when the kpager
 * variant did not raise kernel page faults (kmem=pool), else 0 or < 0. */
static long run_variant(const struct variant *v, struct l4_thread_attr *a, km_tid me,
                        km_tid kpager, km_i64 ovh, int traced)
{
    static struct l4_task task;
    struct km_bench_desc d;
    cur = v;
    client_err = 0;
    struct kpager *kp = v->kpager == 1 ? &kp_cold : &kp_batched;
    unsigned long kf0 = kp->kfaults;
    nsamples = traced ? TRACED : SAMPLES;
    long mask = traced ? sys_trace_ctl(KM_TRACE_CTL_GET_MASK, 0) : 0;
    if (traced && mask >= 0)
        sys_trace_ctl(KM_TRACE_CTL_SET_MASK, (unsigned long)mask | TRACED_EVENTS);
    long r = l4_task_start(&task, a, me, client, 0);
    if (r < 0)
        return r;
    if (v->kpager)
        r = sys_thread_control(task.main.tid, KM_TCTL_SET_KPAGER, kpager);
    long w = l4_receive(task.main.tid);
    if (r == 0 && w == 0 && (l4_label() != L4_LABEL_DONE || (long)l4_mr(0) != 0))
        r = client_err ? client_err : -KM_EINVAL;
    if (r == 0 && w < 0)
        r = w;
    l4_task_delete(&task);
    if (traced && mask >= 0)
        sys_trace_ctl(KM_TRACE_CTL_SET_MASK, (unsigned long)mask);
    if (v->kpager && kpager_revoke(kpager, 0, 0, KM_KS_END) < 0)
        r = r ? r : -KM_EINVAL;
    if (r < 0)
        return r;
    if (v->kpager && kp->kfaults == kf0)
        return 1; /* kmem=pool: nothing to compare */
    if (traced)
        return 0;
    bench_desc(&d, "fault_complex", v->name, "fault", "cycles", ovh);
    if (bench_finish(&d, bench_samples, SAMPLES) < 0)
        return -KM_EINVAL;
    bench_desc(&d, "fault_complex", v->name, "kfaults", "count", 0);
    return bench_finish(&d, kfault_samples, SAMPLES) < 0 ? -KM_EINVAL : 0;
}

int main(void)
{
    struct km_sysinfo si;
    struct l4_thread pager_thr, cold_thr, batched_thr;
    int errors = 0, skipped = 0;

    km_tid me = sys_myself();
    if ((long)me < 0 || sys_sysinfo(&si) < 0) {
        printf("fault_complex: the kernel has no threads (%s)\n", sys_errname((long)me));
        return 1;
    }
    printf("fault_complex: %d samples per variant after %d warm-up faults; regions of 2 MiB "
           "at 0x%lx, of 1 GiB at 0x%lx\n", SAMPLES, WARMUP, (unsigned long)WIN_2M, (unsigned long)WIN_1G);
    km_i64 ovh = bench_empty_overhead();
    kpager_init(&kp_cold, pool_cold, POOL_PAGES, 1, 0);
    kpager_init(&kp_batched, pool_batched, POOL_PAGES, KM_KFAULT_MAX, KPAGER_MAX_RESERVE);
    l4_window_pager_init(&pager, WIN_2M, WIN_END, target_page, 0);
    target[0] = 0;

    struct l4_thread_attr a = L4_THREAD_ATTR_INIT;
    a.cpu = si.cpu;
    long r = l4_window_pager_start(&pager_thr, &a, &pager);
    if (r == 0)
        r = kpager_thread_start(&cold_thr, &a, &kp_cold);
    if (r == 0)
        r = kpager_thread_start(&batched_thr, &a, &kp_batched);
    if (r < 0) {
        printf("fault_complex: threads: %s\n", sys_errname(r));
        return 1;
    }
    a.pager = pager_thr.tid;
    const unsigned nv = sizeof variants / sizeof variants[0];
    for (unsigned i = 0; i < 2 * nv; i++) {
        const struct variant *v = &variants[i % nv];
        km_tid kpager = v->kpager == 1 ? cold_thr.tid : batched_thr.tid;
        if (bench_mark(BENCH_MARK_BEGIN, i + 1) < 0 || bench_mark_variant(v->name) < 0)
            errors++;
        r = run_variant(v, &a, me, kpager, ovh, i >= nv);
        if (r < 0) {
            printf("fault_complex: %s%s: %s\n", v->name, i >= nv ? " (traced)" : "", sys_errname(r));
            errors++;
        }
        skipped += r == 1 && i < nv;
        if (bench_mark(BENCH_MARK_END, i + 1) < 0)
            errors++;
    }
    if (skipped)
        printf("fault_complex: %d kpager variants sent no kernel page fault (kmem=pool): "
               "not reported\n", skipped);
    printf("fault_complex: kpager (cold) answered %lu kernel page faults with %lu pages; "
           "batched %lu with %lu\n", kp_cold.kfaults, kp_cold.supplied, kp_batched.kfaults,
           kp_batched.supplied);
    return errors != 0;
}
