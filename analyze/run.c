/* One run as the report sees it: its runs row and its results rows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errmsg.h"
#include "run.h"

int sql_fail(sqlite3 *db, char *err, size_t errlen, const char *what)
{
    return errmsg(err, errlen, "%s: %s", what, sqlite3_errmsg(db));
}

void context_free(struct context *c)
{
    for (int i = 0; i < c->n; i++) {
        free(c->name[i]);
        free(c->value[i]);
    }
    c->n = 0;
}

const char *context_get(const struct context *c, const char *name)
{
    for (int i = 0; i < c->n; i++)
        if (!strcmp(c->name[i], name))
            return c->value[i];
    return NULL;
}

int context_load(sqlite3 *db, long long id, struct context *c, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    memset(c, 0, sizeof *c);
    if (sqlite3_prepare_v2(db, "SELECT * FROM runs WHERE id = ?", -1, &st, NULL) != SQLITE_OK)
        return sql_fail(db, err, errlen, "read run");
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        if (rc == SQLITE_DONE)
            return errmsg(err, errlen, "no run %lld in the database", id);
        return sql_fail(db, err, errlen, "read run");
    }
    int ncol = sqlite3_column_count(st);
    for (int i = 0; i < ncol && c->n < 64; i++) {
        const unsigned char *v = sqlite3_column_text(st, i);
        if (!v || !*v)
            continue;
        c->name[c->n] = strdup(sqlite3_column_name(st, i));
        c->value[c->n] = strdup((const char *)v);
        c->n++;
    }
    sqlite3_finalize(st);
    /* bit fields read better in hex; run flags by name */
    for (int i = 0; i < c->n; i++) {
        int mask = !strcmp(c->name[i], "trace_mask"), sig = !strcmp(c->name[i], "cpuid_sig");
        int flags = !strcmp(c->name[i], "run_flags");
        if (!mask && !sig && !flags)
            continue;
        unsigned long long v = (unsigned long long)strtoll(c->value[i], NULL, 10);
        char buf[160];
        int len = snprintf(buf, sizeof buf, "0x%llx", v);
        if (flags && v) { /* KM_RUN_F_* in bit order */
            static const char *const names[] = { "hypervisor", "pmu", "invariant_tsc", "trace_compiled" };
            const char *sep = " (";
            for (int b = 0; b < 4; b++)
                if (v & (1ull << b)) {
                    len += snprintf(buf + len, sizeof buf - (size_t)len, "%s%s", sep, names[b]);
                    sep = ", ";
                }
            snprintf(buf + len, sizeof buf - (size_t)len, ")");
        }
        free(c->value[i]);
        c->value[i] = strdup(buf);
    }
    return 0;
}

int results_load(sqlite3 *db, long long id, struct series **out, int *nout, char *err,
                        size_t errlen)
{
    sqlite3_stmt *st;
    struct series *v = NULL;
    int n = 0, cap = 0, rc;
    *out = NULL;
    *nout = 0;
    if (sqlite3_prepare_v2(db,
                           "SELECT benchmark, variant, metric, unit, n, min, p50, mean, p90, p99, "
                           "max, stddev, overhead FROM results WHERE run_id = ? "
                           "ORDER BY benchmark, metric, variant", -1, &st, NULL) != SQLITE_OK)
        return sql_fail(db, err, errlen, "read results");
    sqlite3_bind_int64(st, 1, id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            struct series *t = realloc(v, (size_t)cap * sizeof *v);
            if (!t) {
                free(v);
                sqlite3_finalize(st);
                return errmsg(err, errlen, "out of memory");
            }
            v = t;
        }
        struct series *s = &v[n];
        memset(s, 0, sizeof *s);
        snprintf(s->benchmark, sizeof s->benchmark, "%s", (const char *)sqlite3_column_text(st, 0));
        snprintf(s->variant, sizeof s->variant, "%s", (const char *)sqlite3_column_text(st, 1));
        snprintf(s->metric, sizeof s->metric, "%s", (const char *)sqlite3_column_text(st, 2));
        const unsigned char *u = sqlite3_column_text(st, 3);
        snprintf(s->unit, sizeof s->unit, "%s", u ? (const char *)u : "");
        s->n = sqlite3_column_int64(st, 4);
        s->min = sqlite3_column_int64(st, 5);
        s->p50 = sqlite3_column_int64(st, 6);
        s->mean = sqlite3_column_double(st, 7);
        s->p90 = sqlite3_column_int64(st, 8);
        s->p99 = sqlite3_column_int64(st, 9);
        s->max = sqlite3_column_int64(st, 10);
        s->has_stddev = sqlite3_column_type(st, 11) != SQLITE_NULL;
        s->stddev = sqlite3_column_double(st, 11);
        s->overhead = sqlite3_column_int64(st, 12);
        s->file = n;
        n++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        free(v);
        return sql_fail(db, err, errlen, "read results");
    }
    *out = v;
    *nout = n;
    return 0;
}

/* One line a reader needs before any figure: how the run was measured. */
void run_summary(FILE *f, const struct context *c, int markdown)
{
    const char *em = markdown ? "**" : "";
    const char *v[] = { context_get(c, "system"), context_get(c, "accel"), context_get(c, "ncpus"),
                        context_get(c, "cpu_model"), context_get(c, "kmem_mode"),
                        context_get(c, "git_rev"), context_get(c, "git_dirty"),
                        context_get(c, "started_utc") };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        if (!v[i])
            v[i] = "?";
    size_t rl = strlen(v[5]);
    int says_dirty = rl > 6 && !strcmp(v[5] + rl - 6, "-dirty");
    fprintf(f, "%s on %s CPUs, run mode %s%s%s, CPU model %s, kernel memory %s; "
               "git %s%s; started %s.\n",
            v[0], v[2], em, v[1], em, v[3], v[4], v[5],
            strcmp(v[6], "1") || says_dirty ? "" : " (uncommitted changes)", v[7]);
}

const struct series *series_find(const struct series *s, int n, const char *benchmark,
                                 const char *variant, const char *metric)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(s[i].benchmark, benchmark) && !strcmp(s[i].variant, variant) &&
            !strcmp(s[i].metric, metric))
            return &s[i];
    return NULL;
}

int samples_load(sqlite3 *db, long long id, const char *benchmark, const char *variant,
                 const char *metric, long long **out, size_t *nout, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    long long *v = NULL;
    size_t n = 0, cap = 0;
    int rc;
    *out = NULL;
    *nout = 0;
    if (sqlite3_prepare_v2(db, "SELECT value FROM samples WHERE run_id = ? AND benchmark = ? AND "
                               "variant = ? AND metric = ? ORDER BY value", -1, &st, NULL) != SQLITE_OK)
        return sql_fail(db, err, errlen, "read samples");
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, benchmark, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, variant, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, metric, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? 2 * cap : 1024;
            long long *t = realloc(v, cap * sizeof *v);
            if (!t) {
                free(v);
                sqlite3_finalize(st);
                return errmsg(err, errlen, "out of memory");
            }
            v = t;
        }
        v[n++] = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        free(v);
        return sql_fail(db, err, errlen, "read samples");
    }
    *out = v;
    *nout = n;
    return 0;
}
