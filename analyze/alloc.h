/* Allocator comparison: in-kernel pool vs user-level kpager side by side.
 *
 * Any benchmark whose variants are all named <alloc>_<shape>, alloc one of
 * pool, kpager, kpager_batched (fault_complex: pool_2m, kpager_2m,
 * kpager_batched_2m, pool_1g, ...), gets a grouped chart (one group per
 * shape, one bar per allocator: median with p10-p90 whiskers, a panel per
 * metric) and a table of derived figures:
 *   ratio          p50(alloc_X) / p50(pool_X) of the time metric
 *   cost per extra kernel page fault
 *                  (p50 fault(alloc_X) - p50 fault(pool_X)) /
 *                  (p50 kfaults(alloc_X) - p50 kfaults(pool_X))
 * The time metric is `fault` when present, else the first metric in
 * cycles; kernel page faults per user fault are the metric `kfaults`.
 */
#ifndef KM_ANALYZE_ALLOC_H
#define KM_ANALYZE_ALLOC_H

#include <stdio.h>

#include "run.h"

enum alloc_kind { ALLOC_POOL, ALLOC_KPAGER, ALLOC_BATCHED, ALLOC_N };
extern const char *const alloc_names[ALLOC_N];

#define ALLOC_MAX_SHAPES 8
#define ALLOC_MAX_METRICS 4

/* The figures of one shape, per allocator (NULL where not measured). */
struct alloc_row {
    char shape[32];
    const struct series *by[ALLOC_MAX_METRICS][ALLOC_N]; /* per alloc_cmp.metric[] */
    const struct series *time[ALLOC_N];
    const struct series *kfaults[ALLOC_N];
};

struct alloc_cmp {
    char bench[64];
    char time_metric[64];                 /* "" when the benchmark has none in cycles */
    int nmetrics;                         /* every metric, a chart panel each */
    char metric[ALLOC_MAX_METRICS][64];
    int nshapes;                          /* in size order: 4k < 2m < 1g, others after */
    struct alloc_row row[ALLOC_MAX_SHAPES];
};

/* Splits variant "<alloc>_<shape>" (the longest allocator name wins:
 * kpager_batched_2m is kpager_batched, 2m).  0, or -1 when variant is not
 * of that form. */
int alloc_parse(const char *variant, enum alloc_kind *a, char *shape, size_t n);

/* Fills c for benchmark bench of s[0..n).  Returns 1 when bench qualifies
 * (every variant is <alloc>_<shape>), else 0. */
int alloc_compare(const struct series *s, int n, const char *bench, struct alloc_cmp *c);

/* p50(a) / p50(pool) of the time metric; 0, or -1 when not measured. */
int alloc_ratio(const struct alloc_row *r, enum alloc_kind a, double *ratio);
/* The cost per extra kernel page fault of allocator a; 0, or -1 when a
 * figure is missing or a has no extra kernel faults over pool. */
int alloc_fault_cost(const struct alloc_row *r, enum alloc_kind a, double *cost);

/* The Markdown table of c's derived figures (one row per shape), and under
 * it, for icount runs, what icount cannot see.  accel may be NULL. */
void alloc_md_table(FILE *f, const struct alloc_cmp *c, const char *accel);

/* The sentence every icount ratio is printed with. */
extern const char alloc_icount_caveat[];

/* The grouped chart FILE.EXT (a panel per metric). */
void alloc_gp_chart(FILE *f, const struct alloc_cmp *c, const char *file, const char *ext,
                    long long run_id, const char *accel);

#endif
