/* Regression check: a run's results (p50 per benchmark/variant/metric)
 * against a committed plain-text baseline (kmemlab baseline / regress).
 *
 * Baseline file format (version 1), written by `kmemlab baseline RUN_ID`:
 *
 *   # kmemlab baseline v1                      <- first line, exactly
 *   # any other comment line (documentation)
 *   # accel: icount                            <- header fields: "# KEY: VALUE"
 *   # git_rev: 2e883f5782f8                       with KEY one of accel (required),
 *   # date: 2026-11-25T20:08:58Z                  git_rev, date, run, system, smp,
 *   # run: 1                                      cmdline; each at most once
 *   fault_simple default fault cycles 1733 10240
 *
 * Data lines: benchmark variant metric unit p50 [n], separated by blanks;
 * names are single words, p50 and n non-negative integers.  Blank lines are
 * ignored.  A (benchmark, variant, metric) appears at most once.  Anything
 * else is rejected with its line number.
 */
#ifndef KM_ANALYZE_REGRESS_H
#define KM_ANALYZE_REGRESS_H

#include <stddef.h>
#include <stdio.h>
#include <sqlite3.h>

#define BL_MAGIC "# kmemlab baseline v1"
#define BL_NAME 64

struct bl_entry {
    char bench[BL_NAME], variant[BL_NAME], metric[BL_NAME], unit[BL_NAME];
    long long p50;
    long long n; /* -1: not given */
};

struct baseline {
    char accel[BL_NAME], git_rev[BL_NAME], date[BL_NAME], run[BL_NAME], system[BL_NAME],
        smp[BL_NAME], cmdline[256];
    struct bl_entry *e;
    int n, cap;
};

/* Parses a baseline file's text (name is used in messages).  Returns 0, or
 * -1 with "NAME:LINE: reason" in err; b is then empty (free it anyway). */
int baseline_parse(const char *text, const char *name, struct baseline *b, char *err, size_t errlen);
/* Reads and parses the file at path. */
int baseline_read(const char *path, struct baseline *b, char *err, size_t errlen);
/* Loads run id's context and results rows as a baseline. */
int baseline_from_run(sqlite3 *db, long long id, struct baseline *b, char *err, size_t errlen);
/* Writes b in the file format above; returns 0 or -1 on a write error. */
int baseline_write(FILE *f, const struct baseline *b);
void baseline_free(struct baseline *b);

enum rg_verdict { RG_OK, RG_IMPROVED, RG_REGRESSION, RG_MISSING, RG_NEW, RG_UNIT };

struct rg_row {
    const struct bl_entry *base; /* NULL for a new metric */
    const struct bl_entry *run;  /* NULL for a missing metric */
    double delta_pct;            /* (run - base) / base * 100; NAN when base p50 is 0 */
    double p;                    /* statistical mode: the U test's one-sided p-value in
                                    the direction of the p50 change; NAN: not tested */
    enum rg_verdict v;
};

struct rg_result {
    struct rg_row *rows;
    int nrows;
    int count[RG_UNIT + 1]; /* rows per verdict */
    int failed;             /* regressions + missing + unit changes */
    int statistical;        /* verdicts from regress_apply_stat */
    int untested;           /* statistical mode: rows left to the p50 rule (no samples) */
};

/* Compares run with base: p50 above base*(1+pct/100) is a regression, below
 * base*(1-pct/100) an improvement; a metric of base absent from run is
 * missing (a failure), one only in run is new (a note); a changed unit is a
 * failure.  Rows in base order, then new ones.  Does not check accel. */
int regress_compare(const struct baseline *base, const struct baseline *run, double pct,
                    struct rg_result *r, char *err, size_t errlen);
void regress_free(struct rg_result *r);

/* Statistical mode, for run modes whose figures vary from run to run (kvm,
 * bare metal, tcg): instead of a fixed percentage on p50, a Mann-Whitney U
 * test of the two sample sets (stats_mann_whitney).  A REGRESSION needs
 * both: the run's samples significantly larger (one-sided p < RG_ALPHA) and
 * its p50 worse by more than min_pct percent, so that a real but negligible
 * shift (likely with thousands of samples) does not fail CI; IMPROVED the
 * same the other way; anything else is ok. */
#define RG_ALPHA 0.01
#define RG_STAT_MIN_PCT 2.0

struct mw_result;
/* The verdict for one metric from its sample sets (base and run, non-empty)
 * and p50s; *p is the one-sided p-value in the direction of the p50 change
 * (p_greater when the p50 did not move).  Returns 0, or -1 when out of
 * memory. */
int regress_stat_verdict(const long long *base, size_t nbase, long long base_p50,
                         const long long *run, size_t nrun, long long run_p50, double min_pct,
                         enum rg_verdict *v, double *p);

/* Re-judges the rows of r that have both sides and the same unit with
 * regress_stat_verdict, reading the samples of base_id and run_id from
 * db; rows without samples on either side keep their p50 verdict (counted
 * in r->untested).  Sets r->statistical and recounts.  Returns 0, or -1
 * with the reason in err. */
int regress_apply_stat(sqlite3 *db, long long base_id, long long run_id, double min_pct,
                       struct rg_result *r, char *err, size_t errlen);
const char *regress_verdict_name(enum rg_verdict v);

/* The Markdown table, notes and the one-line verdict (last line).  In
 * statistical mode (r->statistical) the table has a p-value column and pct
 * is the practical threshold. */
void regress_print(FILE *f, const struct baseline *base, const char *base_path,
                   const struct baseline *run, long long run_id, double pct,
                   const struct rg_result *r);

#endif
