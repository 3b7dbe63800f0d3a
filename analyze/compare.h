/* kmemlab compare: the deltas between two stored runs, per
 * benchmark/variant/metric.
 *
 * Rows are matched by (benchmark, variant, metric); a row of one run only
 * is listed as such.  icount runs are exact (one tick per guest
 * instruction, the same on every run), so any p50 difference is real and
 * reads 'higher' or 'lower'.  Other run modes vary from run to run: there
 * the verdict comes from regress's statistical rule (a one-sided
 * Mann-Whitney U test of the two sample sets, p < RG_ALPHA, and a p50
 * change above RG_STAT_MIN_PCT), so the same numbers that fail `kmemlab
 * regress` read 'higher' here.
 */
#ifndef KM_ANALYZE_COMPARE_H
#define KM_ANALYZE_COMPARE_H

#include <stdio.h>
#include <sqlite3.h>

#include "regress.h"

/* Two runs and their rows, as compare_load leaves them. */
struct comparison {
    long long id_a, id_b;
    struct baseline a, b; /* p50 per metric and each run's context */
    struct rg_result r;   /* rows: a's metrics in order, then b's own */
    int statistical;      /* neither run is icount: U-test verdicts */
};

/* Loads runs a and b and compares them.  Runs of different run modes
 * (runs.accel) are refused unless force is set.  Returns 0, or -1 with the
 * reason in err (unknown run, different modes, database error). */
int compare_load(sqlite3 *db, long long a, long long b, int force, struct comparison *c, char *err,
                 size_t errlen);

/* The Markdown table (metric, unit, p50 A, p50 B, delta, delta %, [p,]
 * verdict), then one summary line 'compare: ...'. */
void compare_print(FILE *f, const struct comparison *c);

void compare_free(struct comparison *c);

#endif
