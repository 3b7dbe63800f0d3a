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
    enum rg_verdict v;
};

struct rg_result {
    struct rg_row *rows;
    int nrows;
    int count[RG_UNIT + 1]; /* rows per verdict */
    int failed;             /* regressions + missing + unit changes */
};

/* Compares run with base: p50 above base*(1+pct/100) is a regression, below
 * base*(1-pct/100) an improvement; a metric of base absent from run is
 * missing (a failure), one only in run is new (a note); a changed unit is a
 * failure.  Rows in base order, then new ones.  Does not check accel. */
int regress_compare(const struct baseline *base, const struct baseline *run, double pct,
                    struct rg_result *r, char *err, size_t errlen);
void regress_free(struct rg_result *r);
const char *regress_verdict_name(enum rg_verdict v);

/* The Markdown table, notes and the one-line verdict (last line). */
void regress_print(FILE *f, const struct baseline *base, const char *base_path,
                   const struct baseline *run, long long run_id, double pct,
                   const struct rg_result *r);

#endif
