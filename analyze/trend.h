/* Trends across runs: the p50 of every benchmark/variant/metric, run after
 * run, one chart per benchmark and metric (kmemlab trend). */
#ifndef KM_ANALYZE_TREND_H
#define KM_ANALYZE_TREND_H

#include <stddef.h>
#include <sqlite3.h>

struct trend_opts {
    const char *benchmark; /* NULL: every benchmark */
    const char *accel;     /* run mode; NULL: the mode of the newest run of system */
    const char *system;    /* runs.system, default "kmemlab" */
    const char *outdir;
};

/* Writes outdir/trend.md, trend_<benchmark>_<metric>.png/.svg (x: run id
 * and git revision, y: p50 in the metric's unit, a line per variant),
 * and trend.gp (data inline).  Only runs of one system and run mode are compared.
 * Returns the number of charts (> 0), or -1 with the reason in err (no
 * matching runs or benchmark, a file not writable, gnuplot failed). */
int trend_write(sqlite3 *db, const struct trend_opts *o, char *err, size_t errlen);

#endif
