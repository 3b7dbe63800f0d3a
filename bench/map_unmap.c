/* map_unmap: cycles to map pages and to revoke derivation trees.
 *
 *   map_1, map_16, map_512   one IPC call to a thread of another task
 *       carrying one map item of 1, 16 or 512 pages (the receiver's empty
 *       reply included); after each sample, not measured, the mappings are
 *       revoked again, so every sample maps pages that were not mapped.
 *   unmap_depth_1, _4, _16   sys_unmap of one page (derived mappings only)
 *       whose mapping was passed down a chain of 1, 4 or 16 tasks; the
 *       chain is rebuilt, not measured, before each sample.
 *
 * Receivers and chain links are worker tasks (same CPU) that accept
 * mappings in a 2 MiB window; their page faults (code, stack) go to a
 * pager thread of this task and happen in the warm-up.
 */
#include <user/bench.h>
#include <user/l4.h>
#include <user/stdio.h>
#include <user/tsc.h>

#define PAGE 4096ul
#define WIN 0x40000000ul /* the workers' window, 2 MiB */
#define DEPTH_MAX 16
#define LBL_MAP 0x3a9
#define LBL_FWD 0xf3d
#define LBL_QUIT 0x51

static volatile char src[512][PAGE] __attribute__((aligned(512 * PAGE)));
static int errors;
static km_tid me;

static long check(long r, const char *what)
{
    if (r < 0) {
        if (errors++ < 10)
            printf("map_unmap: %s failed: %s\n", what, sys_errname(r));
    }
    return r;
}

/* A worker: accepts items in WIN; LBL_FWD (MR0 = next) maps its first
 * window page on to `next`; answers every message with MR0 = result. */
static long worker(void *arg)
{
    (void)arg;
    l4_set_acceptor(KM_FPAGE(WIN, 21, KM_RWX));
    long r = l4_receive_any();
    while (r == 0) {
        km_tid from = l4_sender();
        km_u64 label = l4_label(), next = l4_mr(0);
        long res = 0;
        if (label == LBL_QUIT) {
            l4_reply(from, l4_tag(LBL_QUIT, 0, 0));
            return 0;
        }
        if (label == LBL_FWD) {
            l4_put_map_item(0, WIN, KM_FPAGE(WIN, 12, KM_RWX));
            res = l4_call(next, l4_tag(LBL_MAP, 0, 2));
            if (res == 0)
                res = (long)l4_mr(0);
        }
        l4_set_mr(0, (km_u64)res);
        r = l4_reply_and_wait(from, l4_tag(0, 1, 0));
    }
    return r;
}

static struct l4_task workers[DEPTH_MAX];
static struct l4_thread pager_thr;
static struct l4_pager pg;

/* Maps `pages` pages of src (a power of two) to worker w's window. */
static long map_to(int w, unsigned log2pages)
{
    l4_put_map_item(0, (km_u64)(unsigned long)src, KM_FPAGE((km_u64)(unsigned long)src, 12 + log2pages, KM_R | KM_W));
    long r = l4_call(workers[w].main.tid, l4_tag(LBL_MAP, 0, 2));
    return r < 0 ? r : (long)l4_mr(0);
}

static long unmap_src(unsigned log2pages)
{
    return sys_unmap(KM_FPAGE((km_u64)(unsigned long)src, 12 + log2pages, KM_RWX), 0);
}

/* src's first page down workers 0 .. depth-1. */
static long build_chain(int depth)
{
    long r = map_to(0, 0);
    for (int k = 0; r >= 0 && k + 1 < depth; k++) {
        l4_set_mr(0, workers[k + 1].main.tid);
        r = l4_call(workers[k].main.tid, l4_tag(LBL_FWD, 1, 0));
        if (r == 0)
            r = (long)l4_mr(0);
    }
    return r;
}

static void phase_map(unsigned long nr, const char *variant, unsigned log2pages, int warmup,
                      int samples, km_i64 ovh)
{
    struct km_bench_desc d;
    int bad = 0;
    check(bench_mark(BENCH_MARK_BEGIN, nr), "sys_trace_marker");
    for (int i = 0; i < warmup + samples; i++) {
        l4_put_map_item(0, (km_u64)(unsigned long)src,
                        KM_FPAGE((km_u64)(unsigned long)src, 12 + log2pages, KM_R | KM_W));
        km_u64 t0 = tsc_begin();
        long r = l4_call(workers[0].main.tid, l4_tag(LBL_MAP, 0, 2));
        km_u64 t1 = tsc_end();
        if (r < 0 && !bad++)
            check(r, "the map call");
        if (i >= warmup)
            bench_samples[i - warmup] = (km_i64)(t1 - t0);
        r = unmap_src(log2pages);
        if (r < 0 && !bad++)
            check(r, "sys_unmap");
    }
    if (!bad) {
        bench_desc(&d, "map_unmap", variant, "map", "cycles", ovh);
        check(bench_finish(&d, bench_samples, (unsigned long)samples), "sys_bench_submit");
    }
    check(bench_mark(BENCH_MARK_END, nr), "sys_trace_marker");
}

static void phase_unmap(unsigned long nr, const char *variant, int depth, int warmup, int samples,
                        km_i64 ovh)
{
    struct km_bench_desc d;
    int bad = 0;
    check(bench_mark(BENCH_MARK_BEGIN, nr), "sys_trace_marker");
    for (int i = 0; i < warmup + samples; i++) {
        long r = build_chain(depth);
        if (r < 0 && !bad++)
            check(r, "building the chain");
        km_u64 t0 = tsc_begin();
        r = sys_unmap(KM_FPAGE((km_u64)(unsigned long)src, 12, KM_RWX), 0);
        km_u64 t1 = tsc_end();
        if (r < 0 && !bad++)
            check(r, "sys_unmap");
        if (i >= warmup)
            bench_samples[i - warmup] = (km_i64)(t1 - t0);
    }
    if (!bad) {
        bench_desc(&d, "map_unmap", variant, "unmap", "cycles", ovh);
        check(bench_finish(&d, bench_samples, (unsigned long)samples), "sys_bench_submit");
    }
    check(bench_mark(BENCH_MARK_END, nr), "sys_trace_marker");
}

int main(void)
{
    struct km_sysinfo si;
    me = sys_myself();
    if (check((long)me, "sys_myself") < 0 || check(sys_sysinfo(&si), "sys_sysinfo") < 0)
        return 1;
    printf("map_unmap: map 1/16/512 pages in one item; unmap chains of depth 1/4/16\n");
    km_i64 ovh = bench_empty_overhead();

    struct l4_thread_attr a = L4_THREAD_ATTR_INIT;
    a.cpu = si.cpu;
    l4_pager_init(&pg, KM_ANYTHREAD, KM_RWX);
    if (check(l4_pager_thread_start(&pager_thr, &a, &pg), "starting the pager") < 0)
        return 1;
    a.pager = pager_thr.tid;
    for (int k = 0; k < DEPTH_MAX; k++)
        if (check(l4_task_start(&workers[k], &a, KM_NILTHREAD, worker, 0), "starting a worker") < 0)
            return 1;
    for (unsigned p = 0; p < 512; p++) /* our own pages are mapped (bss), touch them anyway */
        src[p][0] = (char)p;
    /* Every worker runs to its first receive now, with nothing of ours
     * mapped to anyone: the edges of its start-up faults (code, data,
     * stack, mapped by our pager) take our edge-page slots here, the same
     * slots in every run.  Left to themselves, the workers would first run
     * when our time slice ends (the first timer tick that ends it), i.e.
     * at a point that depends on how many instructions ran since boot:
     * with a phase's mappings live, their edges land behind those, and
     * our edge pages stay split in two for the rest of the program
     * (map_512 then takes one page more or one fewer per sample). */
    for (int k = 0; k < DEPTH_MAX; k++)
        if (check(l4_call(workers[k].main.tid, l4_tag(0, 0, 0)), "calling a worker") < 0)
            return 1;

    phase_map(1, "map_1", 0, 200, 2000, ovh);
    phase_map(2, "map_16", 4, 100, 1000, ovh);
    phase_map(3, "map_512", 9, 10, 100, ovh);
    phase_unmap(4, "unmap_depth_1", 1, 100, 1000, ovh);
    phase_unmap(5, "unmap_depth_4", 4, 100, 1000, ovh);
    phase_unmap(6, "unmap_depth_16", 16, 50, 500, ovh);

    for (int k = 0; k < DEPTH_MAX; k++) {
        l4_call(workers[k].main.tid, l4_tag(LBL_QUIT, 0, 0));
        l4_task_delete(&workers[k]);
    }
    return errors != 0;
}
