/* null_syscall: cycles for one sys_null round trip (user -> kernel -> user). */
#include <user/bench.h>
#include <user/stdio.h>
#include <user/sys.h>
#include <user/tsc.h>

#define SAMPLES 10000

int main(void)
{
    struct km_bench_desc d;
    int errors = 0;

    printf("null_syscall: %d samples after %d warm-up round trips\n", SAMPLES, BENCH_WARMUP);
    if (bench_mark(BENCH_MARK_BEGIN, 1) < 0)
        errors++;
    km_i64 ovh = bench_empty_overhead();

    for (int i = 0; i < BENCH_WARMUP + SAMPLES; i++) {
        km_u64 t0 = tsc_begin();
        long r = sys_null();
        km_u64 t1 = tsc_end();
        if (r != 0)
            errors++;
        if (i >= BENCH_WARMUP)
            bench_samples[i - BENCH_WARMUP] = (km_i64)(t1 - t0);
    }
    if (errors)
        printf("null_syscall: sys_null failed %d times\n", errors);

    bench_desc(&d, "null_syscall", "default", "roundtrip", "cycles", ovh);
    if (bench_finish(&d, bench_samples, SAMPLES) < 0)
        errors++;
    if (bench_mark(BENCH_MARK_END, 1) < 0)
        errors++;
    return errors != 0;
}
