/* Trends across runs (kmemlab trend): see trend.h. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "errmsg.h"
#include "files.h"
#include "gp.h"
#include "run.h"
#include "trend.h"

/* One results row of one run. */
struct point {
    long long run;
    char rev[16];
    char benchmark[64], variant[64], metric[64], unit[32];
    long long p50;
};

struct trend {
    struct point *p;
    int n, cap;
    long long run[512]; /* the runs compared, in id order: x = index */
    char rev[512][16];
    int nruns;
};

static int x_of(const struct trend *t, long long run)
{
    for (int i = 0; i < t->nruns; i++)
        if (t->run[i] == run)
            return i;
    return -1;
}

static int add_point(struct trend *t, sqlite3_stmt *st)
{
    if (t->n == t->cap) {
        int cap = t->cap ? 2 * t->cap : 256;
        struct point *p = realloc(t->p, (size_t)cap * sizeof *p);
        if (!p)
            return -1;
        t->p = p;
        t->cap = cap;
    }
    struct point *p = &t->p[t->n++];
    const unsigned char *u = sqlite3_column_text(st, 5);
    p->run = sqlite3_column_int64(st, 0);
    snprintf(p->rev, sizeof p->rev, "%.7s", (const char *)sqlite3_column_text(st, 1));
    snprintf(p->benchmark, sizeof p->benchmark, "%s", (const char *)sqlite3_column_text(st, 2));
    snprintf(p->variant, sizeof p->variant, "%s", (const char *)sqlite3_column_text(st, 3));
    snprintf(p->metric, sizeof p->metric, "%s", (const char *)sqlite3_column_text(st, 4));
    snprintf(p->unit, sizeof p->unit, "%s", u ? (const char *)u : "");
    p->p50 = sqlite3_column_int64(st, 6);
    if (x_of(t, p->run) < 0 && t->nruns < 512) {
        t->run[t->nruns] = p->run;
        snprintf(t->rev[t->nruns++], sizeof t->rev[0], "%s", p->rev);
    }
    return 0;
}

static int load(sqlite3 *db, const struct trend_opts *o, const char *accel, struct trend *t, char *err,
                size_t errlen)
{
    sqlite3_stmt *st;
    int rc;
    if (sqlite3_prepare_v2(db,
                           "SELECT r.id, coalesce(r.git_rev, '?'), s.benchmark, s.variant, s.metric, s.unit, "
                           "s.p50 FROM results s JOIN runs r ON r.id = s.run_id WHERE r.system = ?1 AND "
                           "r.accel = ?2 AND (?3 IS NULL OR s.benchmark = ?3) AND s.n > 0 "
                           "ORDER BY s.benchmark, s.metric, s.variant, r.id",
                           -1, &st, NULL) != SQLITE_OK)
        return sql_fail(db, err, errlen, "read results");
    sqlite3_bind_text(st, 1, o->system, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, accel, -1, SQLITE_STATIC);
    if (o->benchmark)
        sqlite3_bind_text(st, 3, o->benchmark, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (add_point(t, st)) {
            sqlite3_finalize(st);
            return errmsg(err, errlen, "out of memory");
        }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return sql_fail(db, err, errlen, "read results");
    /* x follows the run id */
    for (int i = 1; i < t->nruns; i++)
        for (int j = i; j > 0 && t->run[j] < t->run[j - 1]; j--) {
            long long r = t->run[j];
            char rev[16];
            t->run[j] = t->run[j - 1];
            t->run[j - 1] = r;
            memcpy(rev, t->rev[j], sizeof rev);
            memcpy(t->rev[j], t->rev[j - 1], sizeof rev);
            memcpy(t->rev[j - 1], rev, sizeof rev);
        }
    return 0;
}

/* The run mode of the newest run of the system. */
static int newest_accel(sqlite3 *db, const char *system, char *out, size_t n, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT accel FROM runs WHERE system = ? AND accel IS NOT NULL ORDER BY id DESC "
                               "LIMIT 1", -1, &st, NULL) != SQLITE_OK)
        return sql_fail(db, err, errlen, "read runs");
    sqlite3_bind_text(st, 1, system, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        snprintf(out, n, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW)
        return errmsg(err, errlen, "no %s runs with a run mode in the database", system);
    return 0;
}

static int same_chart(const struct point *a, const struct point *b)
{
    return !strcmp(a->benchmark, b->benchmark) && !strcmp(a->metric, b->metric);
}

/* One chart: points p[first..last) (one benchmark and metric). */
static void gp_chart(FILE *f, const struct trend *t, int first, int last, const char *file, const char *ext,
                     const char *accel)
{
    const struct point *p = t->p;
    char title[256], label[160];
    gp_terminal(f, file, ext, 900 + 30 * t->nruns, 560);
    snprintf(title, sizeof title, "%s %s: p50 across runs (run mode %s)", p[first].benchmark, p[first].metric,
             accel);
    fputs("set title ", f);
    gp_str(f, title);
    snprintf(label, sizeof label, "%s p50 (%s)", p[first].metric, p[first].unit);
    fputs(" font 'Sans,13'\nset ylabel ", f);
    gp_str(f, label);
    fprintf(f, "\nset bmargin 5\nset xlabel 'run id, git revision' offset 0,-1\nset grid xtics ytics\nset key outside right top\n"
               "set xrange [-0.5:%d.5]\nset yrange [0:*]\nset xtics (",
            t->nruns - 1);
    for (int i = 0; i < t->nruns; i++) {
        snprintf(label, sizeof label, "%lld\n%s", t->run[i], t->rev[i]);
        fputs(i ? ", " : "", f);
        gp_qstr(f, label);
        fprintf(f, " %d", i);
    }
    fputs(")\n", f);
    int k = 0;
    for (int i = first, j; i < last; i = j, k++) {
        for (j = i; j < last && !strcmp(p[j].variant, p[i].variant); j++)
            ;
        fprintf(f, "$v%d << EOD\n", k);
        for (int q = i; q < j; q++)
            fprintf(f, "%d %lld\n", x_of(t, p[q].run), p[q].p50);
        fputs("EOD\n", f);
    }
    fputs("plot ", f);
    k = 0;
    for (int i = first, j; i < last; i = j, k++) {
        for (j = i; j < last && !strcmp(p[j].variant, p[i].variant); j++)
            ;
        fprintf(f, "%s$v%d using 1:2 with linespoints lw 2 pt 7 lc rgb '%s' title ", k ? ", \\\n     " : "", k,
                GP_COLOUR(k));
        gp_str(f, p[i].variant);
    }
    fputs("\nset output\nreset\n\n", f);
}

/* trend.md: per chart, the image and a table run x variant. */
static void md_chart(FILE *f, const struct trend *t, int first, int last, const char *file)
{
    const struct point *p = t->p;
    fprintf(f, "## %s %s (%s)\n\n![%s %s](%s.png)\n\n([SVG](%s.svg))\n\n| run | git |", p[first].benchmark,
            p[first].metric, p[first].unit, p[first].benchmark, p[first].metric, file, file);
    int nv = 0;
    for (int i = first; i < last; i++)
        if (i == first || strcmp(p[i].variant, p[i - 1].variant)) {
            fprintf(f, " %s |", p[i].variant);
            nv++;
        }
    fputs("\n|---:|---|", f);
    for (int v = 0; v < nv; v++)
        fputs("---:|", f);
    fputc('\n', f);
    for (int r = 0; r < t->nruns; r++) {
        fprintf(f, "| %lld | %s |", t->run[r], t->rev[r]);
        for (int i = first; i < last; i++) {
            if (i != first && !strcmp(p[i].variant, p[i - 1].variant))
                continue;
            const struct point *hit = NULL;
            for (int q = i; q < last && !strcmp(p[q].variant, p[i].variant); q++)
                if (p[q].run == t->run[r])
                    hit = &p[q];
            if (hit)
                fprintf(f, " %lld |", hit->p50);
            else
                fputs(" - |", f);
        }
        fputc('\n', f);
    }
    fputc('\n', f);
}

static int write_all(const struct trend *t, const struct trend_opts *o, const char *accel, char *err,
                     size_t errlen)
{
    FILE *gp = open_out(o->outdir, "trend.gp", err, errlen), *md;
    char file[200], b[64], m[64];
    int charts = 0;
    if (!gp)
        return -1;
    fputs("# Trend charts written by `kmemlab trend`; run from this directory: gnuplot trend.gp\n"
          "set encoding utf8\n\n", gp);
    for (int e = 0; e < 2; e++)
        for (int i = 0, j; i < t->n; i = j) {
            for (j = i; j < t->n && same_chart(&t->p[i], &t->p[j]); j++)
                ;
            safe_name(t->p[i].benchmark, b, sizeof b);
            safe_name(t->p[i].metric, m, sizeof m);
            snprintf(file, sizeof file, "trend_%s_%s", b, m);
            gp_chart(gp, t, i, j, file, e ? "svg" : "png", accel);
        }
    if (close_out(gp, o->outdir, "trend.gp", err, errlen) || run_gnuplot(o->outdir, "trend.gp", err, errlen))
        return -1;
    if (!(md = open_out(o->outdir, "trend.md", err, errlen)))
        return -1;
    fprintf(md, "# kmemlab trend: %s runs, run mode **%s**%s%s\n\n"
                "Generated by `kmemlab trend` from the results database alone: the p50 of every "
                "benchmark/variant/metric across the %d runs of this system and run mode (figures of "
                "different run modes are never mixed).\n\n",
            o->system, accel, o->benchmark ? ", benchmark " : "", o->benchmark ? o->benchmark : "", t->nruns);
    for (int i = 0, j; i < t->n; i = j, charts++) {
        for (j = i; j < t->n && same_chart(&t->p[i], &t->p[j]); j++)
            ;
        safe_name(t->p[i].benchmark, b, sizeof b);
        safe_name(t->p[i].metric, m, sizeof m);
        snprintf(file, sizeof file, "trend_%s_%s", b, m);
        md_chart(md, t, i, j, file);
    }
    if (close_out(md, o->outdir, "trend.md", err, errlen))
        return -1;
    return charts;
}

int trend_write(sqlite3 *db, const struct trend_opts *o, char *err, size_t errlen)
{
    struct trend *t = calloc(1, sizeof *t);
    char accel[64], dirs[PATH_MAX + 8];
    int rc = -1;
    if (!t)
        return errmsg(err, errlen, "out of memory");
    if (o->accel)
        snprintf(accel, sizeof accel, "%s", o->accel);
    else if (newest_accel(db, o->system, accel, sizeof accel, err, errlen))
        goto out;
    if (load(db, o, accel, t, err, errlen))
        goto out;
    if (t->n == 0) {
        errmsg(err, errlen, "no results of %s runs in run mode %s%s%s in the database", o->system, accel,
               o->benchmark ? " for benchmark " : "", o->benchmark ? o->benchmark : "");
        goto out;
    }
    snprintf(dirs, sizeof dirs, "%s/", o->outdir);
    if (make_dirs_to(dirs, err, errlen))
        goto out;
    rc = write_all(t, o, accel, err, errlen);
out:
    free(t->p);
    free(t);
    return rc;
}
