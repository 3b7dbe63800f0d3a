/* Summary statistics: nearest-rank percentiles, two-pass mean and stddev. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

void stats_sort(long long *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_ll);
}

long long stats_percentile(const long long *sorted, size_t n, unsigned p)
{
    /* rank = ceil(p * n / 100) in integers: exact for every n */
    size_t rank = (size_t)(((unsigned __int128)p * n + 99) / 100);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return sorted[rank - 1];
}

int stats_compute(const long long *v, size_t n, struct stats *s)
{
    memset(s, 0, sizeof *s);
    if (n == 0)
        return 0;
    long long *sorted = malloc(n * sizeof *sorted);
    if (!sorted)
        return -1;
    memcpy(sorted, v, n * sizeof *sorted);
    stats_sort(sorted, n);

    s->n = n;
    s->min = sorted[0];
    s->max = sorted[n - 1];
    s->p50 = stats_percentile(sorted, n, 50);
    s->p90 = stats_percentile(sorted, n, 90);
    s->p99 = stats_percentile(sorted, n, 99);

    /* Two passes in long double: the sum of 2^20 values of 2^40 is exact. */
    long double sum = 0, sq = 0;
    for (size_t i = 0; i < n; i++)
        sum += sorted[i];
    long double mean = sum / (long double)n;
    for (size_t i = 0; i < n; i++) {
        long double d = (long double)sorted[i] - mean;
        sq += d * d;
    }
    s->mean = (double)mean;
    if (n >= 2) {
        s->stddev = (double)sqrtl(sq / (long double)(n - 1));
        s->has_stddev = 1;
    }
    free(sorted);
    return 0;
}
