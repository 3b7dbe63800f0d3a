/* Benchmark helpers (user/lib/bench.c), following sel4bench's hygiene:
 * measure the empty operation first and retry until it is stable, warm up
 * and drop the cold samples, keep every raw sample, subtract the overhead,
 * submit the raw series to the kernel (it goes into the trace dump) and
 * print a one-line summary on the console.
 *
 * A benchmark's measuring loop stays in the benchmark, written out:
 *
 *     km_i64 ovh = bench_empty_overhead();
 *     for (i = 0; i < BENCH_WARMUP + n; i++) {
 *         km_u64 t0 = tsc_begin();
 *         sys_null();
 *         km_u64 t1 = tsc_end();
 *         if (i >= BENCH_WARMUP)
 *             bench_samples[i - BENCH_WARMUP] = (km_i64)(t1 - t0);
 *     }
 *     bench_desc(&d, "null_syscall", "default", "roundtrip", "cycles", ovh);
 *     err = bench_finish(&d, bench_samples, n);
 */
#ifndef USER_BENCH_H
#define USER_BENCH_H

#include <abi/syscall.h>

#define BENCH_MAX_SAMPLES 16384 /* capacity of bench_samples */
#define BENCH_WARMUP 1000       /* iterations run and dropped before sampling */
#define BENCH_OVH_SAMPLES 1000  /* samples per round of an overhead measurement */
#define BENCH_OVH_ROUNDS 20     /* rounds before giving up on a stable overhead */

/* Raw samples of the series being measured (static: no allocator, and
 * the pages are touched by warm-up rather than mid-measurement). */
extern km_i64 bench_samples[BENCH_MAX_SAMPLES];

/* Trace markers that bracket a benchmark's phases (MARKER events: a0 = id,
 * a1 = value).  value is the phase number, 1.. in the order the program
 * runs its phases; one phase normally produces one series. */
enum bench_marker {
    BENCH_MARK_BEGIN = 1, /* phase starts (before warm-up) */
    BENCH_MARK_END = 2,   /* phase ends (after its series is submitted) */
    BENCH_MARK_VARIANT = 3, /* in a phase: what it measures is this variant
                               (value: km_name_hash of its name) */
};

/* Writes a marker; returns the sys_trace_marker result (< 0: -KM_E*). */
long bench_mark(enum bench_marker id, unsigned long phase);
/* Inside a phase: names the variant the phase measures (or traces), so
 * that host tools can label the phase's trace (BENCH_MARK_VARIANT). */
long bench_mark_variant(const char *variant);

/* A measurement for bench_stable_median: one sample (>= 0), or a
 * negative -KM_E* from a failed system call. */
typedef km_i64 (*bench_measure_fn)(void *arg);

/* Median of `measure` once it is stable: BENCH_WARMUP calls dropped, then
 * rounds of BENCH_OVH_SAMPLES calls until two consecutive round medians
 * differ by at most 2% + 1.  If that never happens within BENCH_OVH_ROUNDS,
 * prints a warning and returns the smallest round median.  Returns the
 * first negative result of measure, if any. */
km_i64 bench_stable_median(const char *what, bench_measure_fn measure, void *arg);

/* bench_stable_median of the empty measurement: tsc_begin(); tsc_end(). */
km_i64 bench_empty_overhead(void);

/* Fills *d; names longer than their fields are cut (and reported). */
void bench_desc(struct km_bench_desc *d, const char *benchmark, const char *variant,
                const char *metric, const char *unit, km_i64 overhead);

/* Subtracts d->overhead from each of samples[0..n), submits them with
 * sys_bench_submit and prints one line: names, n, min, median, max, unit.
 * Returns the sys_bench_submit result (< 0: -KM_E*). */
long bench_finish(const struct km_bench_desc *d, km_i64 *samples, unsigned long n);

struct bench_stats {
    unsigned long n;
    km_i64 min, median, max; /* median: the lower middle for even n */
};

/* Statistics of samples[0..n) (n <= BENCH_MAX_SAMPLES); samples unchanged. */
void bench_stats(const km_i64 *samples, unsigned long n, struct bench_stats *st);

/* Sorts v[0..n) ascending (heapsort: no recursion, no allocation). */
void bench_sort(km_i64 *v, unsigned long n);

#endif
