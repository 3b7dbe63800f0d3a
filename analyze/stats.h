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

#endif
