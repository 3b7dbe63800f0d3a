/* trace_overhead: cycles one trace point costs, enabled and masked.
 *
 * The kernel measures itself: sys_trace_probe(1) returns the TSC delta
 * around exactly one PROBE trace point, sys_trace_probe(0) the delta
 * around nothing.  The median of the latter is the overhead subtracted
 * from each of the former.  The caller's trace mask is restored at the end.
 */
#include <user/bench.h>
#include <user/stdio.h>
#include <user/sys.h>

#define SAMPLES 10000

static int errors;

static long check(long r, const char *what)
{
    if (r < 0) {
        printf("trace_overhead: %s failed: %s\n", what, sys_errname(r));
        errors++;
    }
    return r;
}

static km_i64 probe_empty(void *arg)
{
    (void)arg;
    return sys_trace_probe(0);
}

/* One phase: the PROBE event enabled or disabled, one series. */
static void phase(unsigned long nr, const char *variant, int enable)
{
    struct km_bench_desc d;
    long failed = 0;

    check(bench_mark(BENCH_MARK_BEGIN, nr), "sys_trace_marker");
    check(sys_trace_ctl(enable ? KM_TRACE_CTL_ENABLE : KM_TRACE_CTL_DISABLE, KM_EV_PROBE),
          "sys_trace_ctl(PROBE)");

    km_i64 ovh = bench_stable_median("trace_probe(0)", probe_empty, 0);
    if (check(ovh, "sys_trace_probe(0)") < 0)
        ovh = 0;
    for (int i = 0; i < BENCH_WARMUP + SAMPLES; i++) {
        long r = sys_trace_probe(1);
        if (r < 0 && !failed++)
            check(r, "sys_trace_probe(1)");
        if (i >= BENCH_WARMUP)
            bench_samples[i - BENCH_WARMUP] = r;
    }
    bench_desc(&d, "trace_overhead", variant, "event_cost", "cycles", ovh);
    if (!failed)
        check(bench_finish(&d, bench_samples, SAMPLES), "sys_bench_submit");
    check(bench_mark(BENCH_MARK_END, nr), "sys_trace_marker");
}

int main(void)
{
    struct km_sysinfo si;

    if (check(sys_sysinfo(&si), "sys_sysinfo") >= 0 && !si.trace_compiled)
        printf("trace_overhead: trace points are compiled out; both series measure nothing\n");
    long mask = check(sys_trace_ctl(KM_TRACE_CTL_GET_MASK, 0), "sys_trace_ctl(GET_MASK)");
    printf("trace_overhead: %d samples per series after %d warm-up probes; mask 0x%lx\n", SAMPLES,
           BENCH_WARMUP, mask);

    phase(1, "enabled", 1);
    phase(2, "masked", 0);

    if (mask >= 0)
        check(sys_trace_ctl(KM_TRACE_CTL_SET_MASK, (unsigned long)mask), "sys_trace_ctl(SET_MASK)");
    return errors != 0;
}
