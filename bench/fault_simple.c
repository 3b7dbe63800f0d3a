/* fault_simple: cycles for one user page fault resolved by a user-level
 * pager: fault entry, IPC to the pager, the pager's map reply, resume.
 *
 * A client in another task writes the first word of each page of a
 * 2 MiB region (512 pages) of this program; a pager thread of this task
 * (same CPU) maps it the same page.  One sample per page: the write's
 * cycles, fault included.  After each sweep the client unmaps the region
 * from itself (KM_UNMAP_SELF), so the next sweep faults again, on page
 * tables that now exist.  The first two sweeps are the warm-up (they also
 * build the page tables and fault the client's code, stack and the sample
 * buffer in).  Trace: the kernel's fault and IPC events between the
 * phase's markers show the phases of each fault.
 */
#include <user/bench.h>
#include <user/l4.h>
#include <user/stdio.h>
#include <user/string.h>
#include <user/tsc.h>

#define PAGE 4096
#define REGION_PAGES 512
#define WARMUP_SWEEPS 2
#define SWEEPS 20 /* measured: SWEEPS * REGION_PAGES samples */

KM_STATIC_ASSERT(SWEEPS * REGION_PAGES <= BENCH_MAX_SAMPLES, "samples fit");

static volatile char region[REGION_PAGES][PAGE] __attribute__((aligned(REGION_PAGES * PAGE)));
static volatile long client_err;

static long client(void *arg)
{
    (void)arg;
    /* Fault the sample buffer in first: no fault outside the measured write. */
    memset(bench_samples, 0, sizeof(km_i64) * SWEEPS * REGION_PAGES);
    for (int s = 0; s < WARMUP_SWEEPS + SWEEPS; s++) {
        for (int p = 0; p < REGION_PAGES; p++) {
            km_u64 t0 = tsc_begin();
            region[p][0] = 1;
            km_u64 t1 = tsc_end();
            if (s >= WARMUP_SWEEPS)
                bench_samples[(s - WARMUP_SWEEPS) * REGION_PAGES + p] = (km_i64)(t1 - t0);
        }
        long r = sys_unmap(KM_FPAGE((km_u64)(unsigned long)region, 21, KM_RWX), KM_UNMAP_SELF);
        if (r < 0) {
            client_err = r;
            return r;
        }
    }
    return 0;
}

int main(void)
{
    struct km_sysinfo si;
    struct l4_thread pager_thr;
    struct l4_pager pg;
    static struct l4_task task;
    struct km_bench_desc d;
    int errors = 0;

    km_tid me = sys_myself();
    if ((long)me < 0 || sys_sysinfo(&si) < 0) {
        printf("fault_simple: the kernel has no threads (%s)\n", sys_errname((long)me));
        return 1;
    }
    printf("fault_simple: %d samples (%d sweeps of %d pages) after %d warm-up sweeps\n",
           SWEEPS * REGION_PAGES, SWEEPS, REGION_PAGES, WARMUP_SWEEPS);
    if (bench_mark(BENCH_MARK_BEGIN, 1) < 0)
        errors++;
    km_i64 ovh = bench_empty_overhead();

    struct l4_thread_attr a = L4_THREAD_ATTR_INIT;
    a.cpu = si.cpu;
    l4_pager_init(&pg, KM_ANYTHREAD, KM_RWX);
    long r = l4_pager_thread_start(&pager_thr, &a, &pg);
    if (r == 0) {
        a.pager = pager_thr.tid;
        r = l4_task_start(&task, &a, me, client, 0);
    }
    if (r == 0) {
        r = l4_receive(task.main.tid);
        if (r == 0 && (l4_label() != L4_LABEL_DONE || (long)l4_mr(0) != 0))
            r = client_err ? client_err : -KM_EINVAL;
        l4_task_delete(&task);
    }
    if (r < 0) {
        printf("fault_simple: %s\n", sys_errname(r));
        errors++;
    } else {
        unsigned long want = (WARMUP_SWEEPS + SWEEPS) * REGION_PAGES;
        if (pg.faults < want) {
            printf("fault_simple: the pager saw %lu faults, want at least %lu\n", pg.faults, want);
            errors++;
        } else {
            bench_desc(&d, "fault_simple", "default", "fault", "cycles", ovh);
            if (bench_finish(&d, bench_samples, SWEEPS * REGION_PAGES) < 0)
                errors++;
        }
    }
    if (bench_mark(BENCH_MARK_END, 1) < 0)
        errors++;
    return errors != 0;
}
