/* One run as the report, trend and benchmarks-md writers see it: the runs
 * row as (column, text) pairs and the results rows as series. */
#ifndef KM_ANALYZE_RUN_H
#define KM_ANALYZE_RUN_H

#include <stddef.h>
#include <stdio.h>
#include <sqlite3.h>

/* The runs row of one run as (column, text) pairs, NULL columns left out;
 * bit fields (trace_mask, cpuid_sig, run_flags) in hex. */
struct context {
    int n;
    char *name[64];
    char *value[64];
};

/* Loads run id's row; -1 with "no run ID in the database" or the SQL error. */
int context_load(sqlite3 *db, long long id, struct context *c, char *err, size_t errlen);
/* The value of column name, or NULL when it is NULL or empty. */
const char *context_get(const struct context *c, const char *name);
void context_free(struct context *c);

/* One results row (benchmark/variant/metric) and, once its samples are
 * read (report.c), the percentiles the charts draw. */
struct series {
    char benchmark[64], variant[64], metric[64], unit[32];
    long long n, min, p50, p90, p99, max, overhead;
    double mean, stddev;
    int has_stddev;
    long long p1, p10, p25, p75; /* from the samples (nearest rank) */
    int sampled;                 /* 1: p1..p75 were read from the samples */
    int file;                    /* data/series_<file>.dat */
};

/* Loads run id's results rows, ordered by benchmark, metric, variant. */
int results_load(sqlite3 *db, long long id, struct series **out, int *nout, char *err,
                 size_t errlen);
/* The series benchmark/variant/metric of s[0..n), or NULL. */
const struct series *series_find(const struct series *s, int n, const char *benchmark,
                                 const char *variant, const char *metric);

/* Reads the samples of run id's series benchmark/variant/metric, sorted
 * ascending, into *v (malloc'd, *n values; NULL and 0 when there are none).
 * Returns 0, or -1 with the SQL error or "out of memory" in err. */
int samples_load(sqlite3 *db, long long id, const char *benchmark, const char *variant,
                 const char *metric, long long **v, size_t *n, char *err, size_t errlen);

/* One line a reader needs before any figure: system, CPUs, run mode (bold
 * in Markdown), CPU model, kernel memory mode, git revision, start. */
void run_summary(FILE *f, const struct context *c, int markdown);

/* err <- "what: the SQL error"; returns -1. */
int sql_fail(sqlite3 *db, char *err, size_t errlen, const char *what);

#endif
