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

/* One value of the pooled sample and which set it came from. */
struct mw_item {
    long long v;
    int from_a;
};

static int cmp_item(const void *x, const void *y)
{
    long long a = ((const struct mw_item *)x)->v, b = ((const struct mw_item *)y)->v;
    return (a > b) - (a < b);
}

/* Upper tail of the standard normal: P(Z > z). */
static double normal_upper(double z)
{
    return 0.5 * erfc(z / sqrt(2.0));
}

int stats_mann_whitney(const long long *a, size_t na, const long long *b, size_t nb,
                       struct mw_result *r)
{
    memset(r, 0, sizeof *r);
    if (na == 0 || nb == 0)
        return -1;
    size_t n = na + nb;
    struct mw_item *it = malloc(n * sizeof *it);
    if (!it)
        return -1;
    for (size_t i = 0; i < na; i++)
        it[i] = (struct mw_item){ a[i], 1 };
    for (size_t i = 0; i < nb; i++)
        it[na + i] = (struct mw_item){ b[i], 0 };
    qsort(it, n, sizeof *it, cmp_item);

    /* Rank sum of a with mid-ranks for ties; the tie term for the variance
     * in long double (t^3 reaches 1e18 for a million equal samples). */
    long double rank_sum_a = 0, ties = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && it[j].v == it[i].v)
            j++;
        long double t = (long double)(j - i), mid = ((long double)i + 1 + (long double)j) / 2;
        for (size_t k = i; k < j; k++)
            if (it[k].from_a)
                rank_sum_a += mid;
        ties += t * t * t - t;
        i = j;
    }
    free(it);

    long double nab = (long double)na * (long double)nb, N = (long double)n;
    long double ua = rank_sum_a - (long double)na * ((long double)na + 1) / 2;
    r->u_a = (double)ua;
    r->u_b = (double)(nab - ua);
    long double var = nab / 12 * ((N + 1) - (n > 1 ? ties / (N * (N - 1)) : 0));
    if (!(var > 0)) { /* every value equal: nothing to tell the sets apart */
        r->p_greater = r->p_less = 1.0;
        return 0;
    }
    long double sd = sqrtl(var), d = ua - nab / 2;
    /* continuity correction: a step of U is 1/2 at the least */
    long double cc = d > 0 ? -0.5L : d < 0 ? 0.5L : 0;
    r->z = (double)((d + cc) / sd);
    r->p_greater = normal_upper((double)((d - 0.5L) / sd));
    r->p_less = normal_upper((double)((-d - 0.5L) / sd));
    return 0;
}
