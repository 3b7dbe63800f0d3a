/* Benchmark helpers: overhead, statistics, submission (see <user/bench.h>). */
#include <user/bench.h>
#include <user/stdio.h>
#include <user/string.h>
#include <user/sys.h>
#include <user/tsc.h>

km_i64 bench_samples[BENCH_MAX_SAMPLES];
static km_i64 scratch[BENCH_MAX_SAMPLES]; /* sorted copies for statistics */

long bench_mark(enum bench_marker id, unsigned long phase)
{
    return sys_trace_marker(id, phase);
}

long bench_mark_variant(const char *variant)
{
    return sys_trace_marker(BENCH_MARK_VARIANT, km_name_hash(variant));
}

static void sift_down(km_i64 *v, unsigned long root, unsigned long n)
{
    for (;;) {
        unsigned long child = 2 * root + 1;
        if (child >= n)
            return;
        if (child + 1 < n && v[child + 1] > v[child])
            child++;
        if (v[root] >= v[child])
            return;
        km_i64 t = v[root];
        v[root] = v[child];
        v[child] = t;
        root = child;
    }
}

void bench_sort(km_i64 *v, unsigned long n)
{
    for (unsigned long i = n / 2; i-- > 0;)
        sift_down(v, i, n);
    for (unsigned long end = n; end-- > 1;) {
        km_i64 t = v[0];
        v[0] = v[end];
        v[end] = t;
        sift_down(v, 0, end);
    }
}

void bench_stats(const km_i64 *samples, unsigned long n, struct bench_stats *st)
{
    memset(st, 0, sizeof *st);
    if (n > BENCH_MAX_SAMPLES)
        n = BENCH_MAX_SAMPLES;
    st->n = n;
    if (!n)
        return;
    memcpy(scratch, samples, n * sizeof *samples);
    bench_sort(scratch, n);
    st->min = scratch[0];
    st->median = scratch[(n - 1) / 2];
    st->max = scratch[n - 1];
}

km_i64 bench_stable_median(const char *what, bench_measure_fn measure, void *arg)
{
    static km_i64 round[BENCH_OVH_SAMPLES];
    km_i64 prev = -1, best = -1;

    for (int i = 0; i < BENCH_WARMUP; i++) {
        km_i64 r = measure(arg);
        if (r < 0)
            return r;
    }
    for (int k = 0; k < BENCH_OVH_ROUNDS; k++) {
        for (int i = 0; i < BENCH_OVH_SAMPLES; i++) {
            round[i] = measure(arg);
            if (round[i] < 0)
                return round[i];
        }
        struct bench_stats st;
        bench_stats(round, BENCH_OVH_SAMPLES, &st);
        if (best < 0 || st.median < best)
            best = st.median;
        if (prev >= 0) {
            km_i64 d = st.median > prev ? st.median - prev : prev - st.median;
            if (d <= prev / 50 + 1)
                return st.median;
        }
        prev = st.median;
    }
    printf("bench: warning: %s not stable after %d rounds of %d; using the smallest median %ld\n",
           what, BENCH_OVH_ROUNDS, BENCH_OVH_SAMPLES, best);
    return best;
}

static km_i64 measure_empty(void *arg)
{
    (void)arg;
    km_u64 t0 = tsc_begin();
    km_u64 t1 = tsc_end();
    return (km_i64)(t1 - t0);
}

km_i64 bench_empty_overhead(void)
{
    return bench_stable_median("empty measurement", measure_empty, 0);
}

static void copy_name(char *dst, size_t size, const char *src, const char *field)
{
    if (strlcpy(dst, src, size) >= size)
        printf("bench: warning: %s \"%s\" cut to %zu bytes\n", field, src, size - 1);
}

void bench_desc(struct km_bench_desc *d, const char *benchmark, const char *variant,
                const char *metric, const char *unit, km_i64 overhead)
{
    memset(d, 0, sizeof *d);
    copy_name(d->benchmark, sizeof d->benchmark, benchmark, "benchmark");
    copy_name(d->variant, sizeof d->variant, variant, "variant");
    copy_name(d->metric, sizeof d->metric, metric, "metric");
    copy_name(d->unit, sizeof d->unit, unit, "unit");
    d->overhead = overhead;
}

long bench_finish(const struct km_bench_desc *d, km_i64 *samples, unsigned long n)
{
    struct bench_stats st;

    for (unsigned long i = 0; i < n; i++)
        samples[i] -= d->overhead;
    long r = sys_bench_submit(d, samples, n);
    bench_stats(samples, n, &st);
    printf("bench: %s/%s %s: n=%lu min=%ld median=%ld max=%ld %s (overhead %ld subtracted)%s%s\n",
           d->benchmark, d->variant, d->metric, st.n, st.min, st.median, st.max, d->unit,
           d->overhead, r < 0 ? "; sys_bench_submit failed: " : "", r < 0 ? sys_errname(r) : "");
    return r;
}
