/* Kernel memory per task stacked by type: the paper's Figure 2 as a chart.
 *
 * Benchmark kmem_usage: one variant per task (its name), metrics pt (page
 * tables), nt (node tables), mn (mapping nodes), tcb, utcb in pages and
 * total_kb in kB; the p50 of each is the task's figure. */
#ifndef KM_ANALYZE_KMEM_CHART_H
#define KM_ANALYZE_KMEM_CHART_H

#include <stdio.h>

#include "run.h"

#define KMEM_BENCH "kmem_usage"

/* 1 when s[0..n) holds kmem_usage figures. */
int kmem_present(const struct series *s, int n);

/* The stacked bar chart FILE.EXT: pages by type per task, the total in kB
 * on top, the paper's 40-60 kB per typical task as a band. */
void kmem_gp_chart(FILE *f, const struct series *s, int n, const char *file, const char *ext,
                   long long run_id, const char *accel);

/* A Markdown table: task, pages by type, total pages, total_kb. */
void kmem_md_table(FILE *f, const struct series *s, int n);

#endif
