/* Presenting runs from the database: list, show, and the report directory
 * (report.md plus gnuplot charts in PNG and SVG).  Everything here reads
 * the database only, never a dump, so a report can be regenerated at any
 * time from results/runs.db. */
#ifndef KM_ANALYZE_REPORT_H
#define KM_ANALYZE_REPORT_H

#include <stddef.h>
#include <stdio.h>
#include <sqlite3.h>

/* Writes one line per run (id, start, system, accel, kmem mode, CPUs, CPU
 * model, events, lost, git revision) to f.  Returns the number of runs, or
 * -1 with the reason in err. */
int report_list(sqlite3 *db, FILE *f, char *err, size_t errlen);

/* Writes run id's context (every non-empty runs column) and its results
 * table to f.  Returns 0, or -1 with the reason in err (e.g. no such run). */
int report_show(sqlite3 *db, long long id, int brief, FILE *f, char *err, size_t errlen);

/* Writes the report directory outdir (created if missing):
 *   report.md                  run context, results table, notes, chart links
 *   bench_<name>.png/.svg      per benchmark: per metric, a box chart by
 *                              variant (box p25..p75, median, whiskers
 *                              p1..p99, min and max marked) and the CDF
 *   timeline.png/.svg          per-CPU event timeline coloured by event type
 *   report.gp, data/NAME.dat    the gnuplot script and the data it plots
 *   cdf_<name>.png/.svg        per benchmark with latencies (cycles): the CDF
 *   alloc_<name>.png/.svg      benchmarks with <alloc>_<shape> variants:
 *                              pool vs kpager (alloc.h), and a table
 *   kmem_<name>.png/.svg       kmem_usage: kernel memory per task by type
 *   phases.png/.svg            fault phases from the trace (phases.h)
 * With baseline (a kmemlab baseline file; NULL: none), report.md ends
 * with the regression table of `kmemlab regress` (1%), or says why the
 * run and the baseline are not comparable (different run modes).
 * gnuplot runs with outdir as its working directory.  Returns 0, or -1
 * with the reason in err (no such run, a file not writable, gnuplot failed
 * or is missing, an unreadable baseline). */
int report_write(sqlite3 *db, long long id, const char *outdir, const char *baseline, char *err,
                 size_t errlen);

#endif
