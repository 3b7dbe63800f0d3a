/* Summary statistics of a benchmark series: what the results table holds.
 *
 * Percentiles use the nearest-rank method: the p-th percentile of n sorted
 * samples x[0..n-1] is x[ceil(p/100 * n) - 1] (rank at least 1), always an
 * actual sample; p50 of an even count is the lower of the two middle
 * samples.  stddev is the sample standard deviation (divisor n - 1). */
#ifndef KM_ANALYZE_STATS_H
#define KM_ANALYZE_STATS_H

#include <stddef.h>

struct stats {
    size_t n;
    long long min, p50, p90, p99, max;
    double mean;
    double stddev;  /* meaningful only when has_stddev */
    int has_stddev; /* n >= 2 */
};

/* Nearest-rank p-th percentile (p in percent, 1..100) of n >= 1 sorted
 * samples. */
long long stats_percentile(const long long *sorted, size_t n, unsigned p);

/* Computes the statistics of v[0..n-1] (any order; v is not modified).
 * n == 0 gives n = 0 and zeros.  Returns 0, or -1 when out of memory. */
int stats_compute(const long long *v, size_t n, struct stats *s);

/* Sorts v[0..n-1] ascending in place. */
void stats_sort(long long *v, size_t n);

/* Mann-Whitney U test (Wilcoxon rank-sum) of two sample sets, for runs
 * whose figures vary from run to run (kvm, bare metal): it compares whole
 * distributions by rank, so it needs no normality and a few outliers do not
 * swing it the way a mean would.
 *
 * u_a counts the pairs (a_i, b_j) with a_i > b_j, ties counting 1/2
 * (u_a + u_b = na * nb).  z is the normal approximation of u_a with the
 * tie-corrected variance
 *   na nb / 12 * ((N + 1) - sum(t^3 - t) / (N (N - 1)))   (t: tie group sizes)
 * and a continuity correction of 1/2 towards the mean.  p_greater is the
 * one-sided p-value of "a tends to be larger than b", p_less of "smaller".
 * With no spread at all (every value equal) there is no evidence either
 * way: z = 0, both p-values 1.  The approximation is good for na, nb >= 10
 * or so; the benchmarks take hundreds of samples. */
struct mw_result {
    double u_a, u_b;
    double z;
    double p_greater, p_less;
};

/* Runs the test on a[0..na) and b[0..nb) (any order, not modified; both
 * non-empty).  Returns 0, or -1 when out of memory or a set is empty. */
int stats_mann_whitney(const long long *a, size_t na, const long long *b, size_t nb,
                       struct mw_result *r);

#endif
