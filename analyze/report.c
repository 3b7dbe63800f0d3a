/* Presenting runs: list, show, and report directories with gnuplot charts.
 *
 * Charts are drawn by gnuplot from a script (report.gp) and data files that
 * this file writes into the report directory, so a reader can tweak and
 * re-run the script by hand.  Box charts are drawn from percentiles
 * computed here (nearest rank, like the results table) rather than by
 * gnuplot's own boxplot, so the chart and the table always agree.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <abi/trace_events.h>

#include "alloc.h"
#include "errmsg.h"
#include "files.h"
#include "gp.h"
#include "kmem_chart.h"
#include "phases.h"
#include "regress.h"
#include "report.h"
#include "run.h"
#include "stats.h"

#define TIMELINE_BINS 1500   /* time-axis resolution of the timeline */
#define CDF_POINTS 4000      /* CDF curves are sampled at most this finely */

/* ---- results ---- */

/* Formats a double with one decimal, or "-" for none. */
static const char *fmt1(char *buf, size_t n, int have, double v)
{
    if (!have)
        return "-";
    snprintf(buf, n, "%.1f", v);
    return buf;
}

static void print_results_table(FILE *f, const struct series *s, int n, int markdown)
{
    static const char *const head[] = { "benchmark", "variant", "metric", "unit", "n", "min",
                                        "p50", "mean", "p90", "p99", "max", "stddev", "overhead" };
    enum { NC = 13 };
    char cell[NC][40];
    int w[NC];
    for (int c = 0; c < NC; c++)
        w[c] = (int)strlen(head[c]);
    /* two passes: widths, then output */
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            fputs(markdown ? "|" : "", f);
            for (int c = 0; c < NC; c++)
                fprintf(f, markdown ? " %-*s |" : "%-*s  ", w[c], head[c]);
            fputc('\n', f);
            fputs(markdown ? "|" : "", f);
            for (int c = 0; c < NC; c++) {
                int dashes = w[c] + (markdown ? 2 : 0);
                for (int k = 0; k < dashes; k++)
                    fputc(markdown && c >= 4 && k == dashes - 1 ? ':' : '-', f); /* numbers right */
                fputs(markdown ? "|" : "  ", f);
            }
            fputc('\n', f);
        }
        for (int i = 0; i < n; i++) {
            char m[32], sd[32];
            snprintf(cell[0], 40, "%s", s[i].benchmark);
            snprintf(cell[1], 40, "%s", s[i].variant);
            snprintf(cell[2], 40, "%s", s[i].metric);
            snprintf(cell[3], 40, "%s", s[i].unit);
            snprintf(cell[4], 40, "%lld", s[i].n);
            if (s[i].n) {
                snprintf(cell[5], 40, "%lld", s[i].min);
                snprintf(cell[6], 40, "%lld", s[i].p50);
                snprintf(cell[7], 40, "%s", fmt1(m, sizeof m, 1, s[i].mean));
                snprintf(cell[8], 40, "%lld", s[i].p90);
                snprintf(cell[9], 40, "%lld", s[i].p99);
                snprintf(cell[10], 40, "%lld", s[i].max);
            } else {
                for (int c = 5; c <= 10; c++)
                    strcpy(cell[c], "-");
            }
            snprintf(cell[11], 40, "%s", fmt1(sd, sizeof sd, s[i].has_stddev, s[i].stddev));
            snprintf(cell[12], 40, "%lld", s[i].overhead);
            for (int c = 0; c < NC; c++) {
                int l = (int)strlen(cell[c]);
                if (pass == 0 && l > w[c])
                    w[c] = l;
                if (pass == 1) {
                    if (c == 0 && markdown)
                        fputc('|', f);
                    if (c < 4)
                        fprintf(f, markdown ? " %-*s |" : "%-*s  ", w[c], cell[c]);
                    else
                        fprintf(f, markdown ? " %*s |" : "%*s  ", w[c], cell[c]);
                }
            }
            if (pass == 1)
                fputc('\n', f);
        }
    }
}

/* ---- list / show ---- */

int report_list(sqlite3 *db, FILE *f, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    int n = 0, rc;
    if (sqlite3_prepare_v2(db,
                           "SELECT id, coalesce(started_utc, imported_utc), system, "
                           "coalesce(accel, '?'), coalesce(kmem_mode, '?'), ncpus, "
                           "coalesce(cpu_model, '?'), events, lost, coalesce(git_rev, '?'), "
                           "coalesce(git_dirty, 0) FROM runs ORDER BY id", -1, &st, NULL) != SQLITE_OK)
        return sql_fail(db, err, errlen, "list runs");
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n++ == 0)
            fprintf(f, "%5s  %-20s  %-8s  %-6s  %-6s  %4s  %-28s  %10s  %8s  %s\n", "id",
                    "started (UTC)", "system", "accel", "kmem", "cpus", "cpu model", "events",
                    "lost", "git rev");
        fprintf(f, "%5lld  %-20.20s  %-8.8s  %-6.6s  %-6.6s  %4d  %-28.28s  %10lld  %8lld  %s%s\n",
                sqlite3_column_int64(st, 0), sqlite3_column_text(st, 1),
                sqlite3_column_text(st, 2), sqlite3_column_text(st, 3),
                sqlite3_column_text(st, 4), sqlite3_column_int(st, 5),
                sqlite3_column_text(st, 6), sqlite3_column_int64(st, 7),
                sqlite3_column_int64(st, 8), sqlite3_column_text(st, 9),
                sqlite3_column_int(st, 10) ? " (dirty)" : "");
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return sql_fail(db, err, errlen, "list runs");
    return n;
}

int report_show(sqlite3 *db, long long id, int brief, FILE *f, char *err, size_t errlen)
{
    struct context c;
    struct series *s;
    int n;
    if (context_load(db, id, &c, err, errlen))
        return -1;
    if (results_load(db, id, &s, &n, err, errlen)) {
        context_free(&c);
        return -1;
    }
    fprintf(f, "run %lld: ", id);
    run_summary(f, &c, 0);
    if (!brief)
        for (int i = 0; i < c.n; i++)
            if (strcmp(c.name[i], "id"))
                fprintf(f, "  %-16s %s\n", c.name[i], c.value[i]);
    fprintf(f, "\n");
    if (n) {
        print_results_table(f, s, n, 0);
        fprintf(f, "(percentiles: nearest rank; stddev: sample, n-1; values in the unit shown, "
                   "cycles = TSC ticks)\n");
    } else {
        fprintf(f, "no benchmark results in this run\n");
    }
    free(s);
    context_free(&c);
    return 0;
}

/* ---- report directory ---- */

/* Reads series s's samples (sorted), fills its box percentiles and writes
 * data/series_<file>.dat: "value fraction_of_samples_<=_value" lines. */
static int write_series_data(sqlite3 *db, long long id, struct series *s, const char *dir,
                             char *err, size_t errlen)
{
    long long *v;
    size_t n;
    if (samples_load(db, id, s->benchmark, s->variant, s->metric, &v, &n, err, errlen))
        return -1;
    if (n == 0) {
        free(v);
        return 0;
    }
    s->p1 = stats_percentile(v, n, 1);
    s->p25 = stats_percentile(v, n, 25);
    s->p75 = stats_percentile(v, n, 75);
    s->p10 = stats_percentile(v, n, 10);
    s->sampled = 1;

    char name[64];
    snprintf(name, sizeof name, "data/series_%d.dat", s->file);
    FILE *f = open_out(dir, name, err, errlen);
    if (!f) {
        free(v);
        return -1;
    }
    fprintf(f, "# %s/%s/%s (%s): sorted samples, value and fraction of samples <= value\n",
            s->benchmark, s->variant, s->metric, s->unit);
    /* the curve starts at 0 below the smallest sample, so a series of one
     * repeated value (common under icount) still draws its step */
    fprintf(f, "%lld 0\n", v[0]);
    size_t points = n < CDF_POINTS ? n : CDF_POINTS;
    for (size_t j = 0; j < points; j++) {
        size_t i = points == n ? j : (size_t)((double)j * (double)(n - 1) / (double)(points - 1));
        /* a run of equal values: plot its top so the step reaches it */
        while (i + 1 < n && v[i + 1] == v[i])
            i++;
        fprintf(f, "%lld %.6f\n", v[i], (double)(i + 1) / (double)n);
    }
    free(v);
    return close_out(f, dir, name, err, errlen);
}

/* A CDF panel: one step curve per series s[idx[0..k)] (data/series_N.dat),
 * titled by variant, or variant/metric with_metric; the value axis goes
 * logarithmic when the tail is long (max > 4 x the smallest median). */
static void gp_cdf_panel(FILE *f, const struct series *s, const int *idx, int k, const char *title,
                         int with_metric)
{
    long long lo = LLONG_MAX, hi = LLONG_MIN, mid = LLONG_MAX;
    char label[160], name[160];
    for (int j = 0; j < k; j++) {
        const struct series *x = &s[idx[j]];
        if (!x->n)
            continue;
        lo = x->min < lo ? x->min : lo;
        hi = x->max > hi ? x->max : hi;
        mid = x->p50 < mid ? x->p50 : mid;
    }
    int any = lo != LLONG_MAX;
    int logx = any && lo > 0 && hi > 4 * mid;
    double pad = any ? ((double)hi - (double)lo) * 0.05 : 0;
    if (any && hi == lo)
        pad = lo ? fabs((double)lo) * 0.1 : 1; /* constant samples (icount): a visible range */
    if (with_metric)
        snprintf(label, sizeof label, "%s%s", s[idx[0]].unit, logx ? ", log scale" : "");
    else
        snprintf(label, sizeof label, "%s (%s%s)", s[idx[0]].metric, s[idx[0]].unit, logx ? ", log scale" : "");
    if (any && !logx)
        fprintf(f, "set xrange [%.3f:%.3f]\n", (double)lo - pad, (double)hi + pad);
    else
        fprintf(f, "set xrange [*:*]\n");
    fprintf(f, "unset logscale\nunset grid\nset grid xtics ytics\nset yrange [0:1.05]\n"
               "set xtics autofreq\nset key inside bottom right box opaque\nset xlabel ");
    gp_str(f, label);
    fprintf(f, "\nset ylabel 'fraction of samples <= x'\nset title ");
    gp_str(f, title);
    if (logx) {
        /* log axis with 1-2-3-5 ticks, a little margin around the data */
        static const int steps[] = { 1, 2, 3, 5 };
        double xlo = (double)lo / 1.15, xhi = (double)hi * 1.15;
        fprintf(f, "\nset logscale x\nset xrange [%.3f:%.3f]\nset xtics (", xlo, xhi);
        int nt = 0;
        for (double dec = pow(10, floor(log10(xlo))); dec <= xhi; dec *= 10)
            for (int q = 0; q < 4; q++) {
                double t = dec * steps[q];
                if (t >= xlo && t <= xhi)
                    fprintf(f, "%s%.0f", nt++ ? ", " : "", t);
            }
        fprintf(f, ")%s", nt ? "" : "\nset xtics autofreq");
    }
    fprintf(f, "\nplot ");
    int plotted = 0;
    for (int j = 0; j < k; j++) {
        const struct series *x = &s[idx[j]];
        if (!x->n)
            continue;
        fprintf(f, "%s'data/series_%d.dat' using 1:2 with steps lw 2 lc rgb '%s' title ",
                plotted++ ? ", \\\n     " : "", x->file, GP_COLOUR(j));
        if (with_metric)
            snprintf(name, sizeof name, "%s/%s", x->variant, x->metric);
        gp_str(f, with_metric ? name : x->variant);
    }
    if (!plotted)
        fprintf(f, "NaN notitle");
    fprintf(f, "\n");
}

/* One chart per benchmark: a row per metric, box chart left, CDF right. */
static void gp_benchmark(FILE *f, const struct context *c, long long id, struct series *s, int first,
                         int last, const char *file, const char *ext)
{
    const char *accel = context_get(c, "accel");
    int nmetrics = 0;
    for (int i = first; i < last; i++)
        if (i == first || strcmp(s[i].metric, s[i - 1].metric))
            nmetrics++;
    gp_terminal(f, file, ext, 1200, 60 + 400 * nmetrics);
    fprintf(f, "set multiplot layout %d,2 title ", nmetrics);
    char title[256];
    snprintf(title, sizeof title, "%s: raw samples by variant (run %lld, accel %s)", s[first].benchmark,
             id, accel ? accel : "unknown");
    gp_str(f, title);
    fprintf(f, " font 'Sans,13'\n");

    for (int m0 = first; m0 < last;) {
        int m1 = m0;
        long long lo = LLONG_MAX, hi = LLONG_MIN, bulk_lo = LLONG_MAX, bulk_hi = LLONG_MIN;
        while (m1 < last && !strcmp(s[m1].metric, s[m0].metric)) {
            if (s[m1].n) {
                lo = s[m1].min < lo ? s[m1].min : lo;
                hi = s[m1].max > hi ? s[m1].max : hi;
                bulk_lo = s[m1].p1 < bulk_lo ? s[m1].p1 : bulk_lo;
                bulk_hi = s[m1].p90 > bulk_hi ? s[m1].p90 : bulk_hi;
            }
            m1++;
        }
        int any = lo != LLONG_MAX;
        /* Box panel: when the tail (p99, max) would squash the boxes into a
         * line, the axis shows the bulk (p1..p90 of every variant) and the
         * values off the scale are printed at its edge instead. */
        double range = any ? (double)bulk_hi - (double)bulk_lo : 1;
        if (range <= 0)
            range = bulk_hi > 0 ? (double)bulk_hi * 0.1 + 1 : 1;
        double ymin = (double)bulk_lo - 0.3 * range, ymax = (double)bulk_hi + 0.8 * range;
        /* Variants of different magnitudes (a table export next to a
         * whole space's): a log axis, so that every box shows. */
        int logy = any && lo > 0 && (double)bulk_hi > 30.0 * (double)bulk_lo;
        int focus = !logy && any && ((double)hi > (double)bulk_hi + 3 * range ||
                                     (double)lo < (double)bulk_lo - 3 * range);
        char label[160];
        snprintf(label, sizeof label, "%s (%s%s)", s[m0].metric, s[m0].unit, logy ? ", log scale" : "");

        fprintf(f, "unset logscale\nunset label\nunset key\nset grid ytics\n"
                   "set xrange [0.4:%d.6]\n", m1 - m0);
        double pad = any ? ((double)hi - (double)lo) * 0.05 : 0;
        if (any && hi == lo)
            pad = lo ? fabs((double)lo) * 0.1 : 1; /* constant samples (icount): a visible range */
        if (logy)
            fprintf(f, "set logscale y\nset yrange [%.1f:%.1f]\n", (double)lo / 1.5, (double)hi * 1.5);
        else if (focus)
            fprintf(f, "set yrange [%.1f:%.1f]\n", ymin, ymax);
        else if (any)
            fprintf(f, "set yrange [%.3f:%.3f]\n", (double)lo - pad, (double)hi + pad);
        else
            fprintf(f, "set yrange [*:*]\n");
        fprintf(f, "set boxwidth 0.5\nset style fill solid 0.3 border\nset xtics (");
        for (int i = m0; i < m1; i++) {
            if (i > m0)
                fputs(", ", f);
            gp_str(f, s[i].variant);
            fprintf(f, " %d", i - m0 + 1);
        }
        fprintf(f, ")\nset xlabel 'variant'\nset ylabel ");
        gp_str(f, label);
        fprintf(f, "\nset title ");
        snprintf(title, sizeof title, "%s by variant: box p25-p75, bar median, whiskers p1-p99, x min/max%s",
                 s[m0].metric, focus ? "\n(the axis shows the bulk; values beyond it are printed at its edge)" : "");
        gp_qstr(f, title);
        fprintf(f, "\n");
        for (int i = m0; focus && i < m1; i++) {
            char txt[96] = "";
            if (!s[i].n)
                continue;
            if ((double)s[i].p99 > ymax)
                snprintf(txt, sizeof txt, "p99 %lld\n", s[i].p99);
            if ((double)s[i].max > ymax)
                snprintf(txt + strlen(txt), sizeof txt - strlen(txt), "max %lld", s[i].max);
            if (txt[0]) {
                fprintf(f, "set label ");
                gp_qstr(f, txt);
                fprintf(f, " at first %d.04, graph 0.95 left front textcolor rgb '#cc3311'\n", i - m0 + 1);
            }
            txt[0] = 0;
            if ((double)s[i].p1 < ymin)
                snprintf(txt, sizeof txt, "p1 %lld\n", s[i].p1);
            if ((double)s[i].min < ymin)
                snprintf(txt + strlen(txt), sizeof txt - strlen(txt), "min %lld", s[i].min);
            if (txt[0]) {
                fprintf(f, "set label ");
                gp_qstr(f, txt);
                fprintf(f, " at first %d.04, graph 0.08 left front textcolor rgb '#cc3311'\n", i - m0 + 1);
            }
        }
        for (int i = m0; i < m1; i++) /* the median, as a number */
            if (s[i].n && (!focus || ((double)s[i].p50 >= ymin && (double)s[i].p50 <= ymax)))
                fprintf(f, "set label 'p50 %lld' at first %d.3, first %lld left front\n", s[i].p50,
                        i - m0 + 1, s[i].p50);
        fprintf(f, "$box << EOD\n");
        for (int i = m0; i < m1; i++)
            if (s[i].n)
                fprintf(f, "%d %lld %lld %lld %lld %lld %lld %lld\n", i - m0 + 1, s[i].p25, s[i].p1,
                        s[i].p99, s[i].p75, s[i].p50, s[i].min, s[i].max);
        fprintf(f, "EOD\n");
        if (any)
            fprintf(f, "plot $box using 1:2:3:4:5 with candlesticks whiskerbars 0.5 lc rgb '#1f77b4' lw 1.5, \\\n"
                       "     $box using 1:6:6:6:6 with candlesticks lc rgb '#000000' lw 3, \\\n"
                       "     $box using 1:7 with points pt 2 ps 1.2 lc rgb '#cc3311', \\\n"
                       "     $box using 1:8 with points pt 2 ps 1.2 lc rgb '#cc3311'\n");
        else
            fprintf(f, "plot NaN notitle\n");
        fprintf(f, "unset label\n");

        /* CDF panel */
        int idx[64], k = 0;
        for (int i = m0; i < m1 && k < 64; i++)
            idx[k++] = i;
        snprintf(title, sizeof title, "%s: cumulative distribution", s[m0].metric);
        gp_cdf_panel(f, s, idx, k, title, 0);
        m0 = m1;
    }
    fprintf(f, "unset multiplot\nset output\nreset\n\n");
}

/* Timeline data: one block per event type present ("index" in gnuplot),
 * one point per (CPU, event type, time bin) holding any events. */
struct timeline {
    int ntypes;
    int type_id[64];
    char type_name[64][32];
    double scale;     /* ticks per axis unit */
    const char *unit; /* "s", "ms", "µs" */
    double xmax;      /* right end of the time axis */
    long long events;
};

static int write_timeline_data(sqlite3 *db, long long id, const struct context *c, const char *dir,
                               struct timeline *tl, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    long long lo = 0, hi = 0, boot = 0, tsc_hz = 0;
    const char *v;
    memset(tl, 0, sizeof *tl);
    if ((v = context_get(c, "boot_tsc")))
        boot = atoll(v);
    if ((v = context_get(c, "tsc_hz")))
        tsc_hz = atoll(v);
    if (tsc_hz <= 0)
        return errmsg(err, errlen, "run %lld has no tsc_hz", id);

    if (sqlite3_prepare_v2(db, "SELECT count(*), min(e.tsc - c.tsc_offset), max(e.tsc - c.tsc_offset) "
                               "FROM events e JOIN cpus c ON c.run_id = e.run_id AND c.cpu = e.cpu "
                               "WHERE e.run_id = ?", -1, &st, NULL) != SQLITE_OK)
        return sql_fail(db, err, errlen, "read events");
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) == SQLITE_ROW) {
        tl->events = sqlite3_column_int64(st, 0);
        lo = sqlite3_column_int64(st, 1);
        hi = sqlite3_column_int64(st, 2);
    }
    sqlite3_finalize(st);
    if (tl->events == 0)
        return 0;
    long long origin = boot && boot <= lo ? boot : lo;
    long long span = hi - origin + 1;
    long long binw = (span + TIMELINE_BINS - 1) / TIMELINE_BINS;
    double secs = (double)span / (double)tsc_hz;
    tl->unit = secs >= 10 ? "s" : secs >= 0.01 ? "ms" : "µs";
    tl->scale = (double)tsc_hz / (secs >= 10 ? 1.0 : secs >= 0.01 ? 1e3 : 1e6);
    tl->xmax = (double)span / tl->scale * 1.02; /* keep the last points off the border */

    /* event types present, in id order */
    if (sqlite3_prepare_v2(db, "SELECT DISTINCT e.event_id, coalesce(t.name, 'event_' || e.event_id) "
                               "FROM events e LEFT JOIN event_types t ON t.id = e.event_id "
                               "WHERE e.run_id = ? ORDER BY e.event_id", -1, &st, NULL) != SQLITE_OK)
        return sql_fail(db, err, errlen, "read event types");
    sqlite3_bind_int64(st, 1, id);
    while (sqlite3_step(st) == SQLITE_ROW && tl->ntypes < 64) {
        tl->type_id[tl->ntypes] = sqlite3_column_int(st, 0);
        snprintf(tl->type_name[tl->ntypes], sizeof tl->type_name[0], "%s", sqlite3_column_text(st, 1));
        tl->ntypes++;
    }
    sqlite3_finalize(st);

    FILE *f = open_out(dir, "data/timeline.dat", err, errlen);
    if (!f)
        return -1;
    fprintf(f, "# x: time since boot (%s), y: CPU (offset per event type), events in the bin\n", tl->unit);
    /* one pass over the run's events, grouped by type, CPU and time bin */
    if (sqlite3_prepare_v2(db, "SELECT e.event_id, e.cpu, (e.tsc - c.tsc_offset - ?2) / ?3 AS b, count(*) "
                               "FROM events e JOIN cpus c ON c.run_id = e.run_id AND c.cpu = e.cpu "
                               "WHERE e.run_id = ?1 GROUP BY e.event_id, e.cpu, b "
                               "ORDER BY e.event_id, e.cpu, b",
                           -1, &st, NULL) != SQLITE_OK) {
        fclose(f);
        return sql_fail(db, err, errlen, "read events");
    }
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, origin);
    sqlite3_bind_int64(st, 3, binw);
    int k = -1;
    while (sqlite3_step(st) == SQLITE_ROW) {
        int type = sqlite3_column_int(st, 0);
        while (k < 0 || (k < tl->ntypes && tl->type_id[k] != type)) {
            k++; /* next block: types come in the same order as type_id[] */
            if (k < tl->ntypes)
                fprintf(f, "%s# %s\n", k ? "\n\n" : "", tl->type_name[k]);
        }
        if (k >= tl->ntypes)
            break;
        double dy = tl->ntypes > 1 ? (k - (tl->ntypes - 1) / 2.0) * (0.7 / tl->ntypes) : 0;
        int cpu = sqlite3_column_int(st, 1);
        long long b = sqlite3_column_int64(st, 2);
        fprintf(f, "%.6f %.4f %lld\n", ((double)b + 0.5) * (double)binw / tl->scale, cpu + dy,
                sqlite3_column_int64(st, 3));
    }
    sqlite3_finalize(st);
    return close_out(f, dir, "data/timeline.dat", err, errlen);
}

static void gp_timeline(FILE *f, const struct context *c, long long id, const struct timeline *tl,
                        const char *ext)
{
    const char *accel = context_get(c, "accel");
    const char *ncpus_s = context_get(c, "ncpus");
    const char *hz = context_get(c, "tsc_hz");
    int ncpus = ncpus_s ? atoi(ncpus_s) : 1;
    char title[256];
    gp_terminal(f, "timeline", ext, 1200, ncpus * 70 + 170 > 1600 ? 1600 : ncpus * 70 + 170);
    fprintf(f, "set title ");
    snprintf(title, sizeof title, "Trace events per CPU over time (run %lld, accel %s, %lld events)",
             id, accel ? accel : "unknown", tl->events);
    gp_str(f, title);
    fprintf(f, " font 'Sans,12'\nset xlabel ");
    snprintf(title, sizeof title,
             "time since boot (%s; BSP TSC at %.3f GHz; one point per CPU, event type and 1/%d of the axis)",
             tl->unit, hz ? atof(hz) / 1e9 : 0.0, TIMELINE_BINS);
    gp_str(f, title);
    fprintf(f, "\nset ylabel 'CPU'\nset yrange [%d.5:-0.5]\nset ytics (", ncpus - 1);
    for (int i = 0; i < ncpus; i++)
        fprintf(f, "%s'cpu %d' %d", i ? ", " : "", i, i);
    fprintf(f, ")\nset grid xtics\nset xrange [0:%g]\n", tl->xmax);
    fprintf(f, 
               "set key outside right top Left reverse title 'event'\nplot ");
    for (int k = 0; k < tl->ntypes; k++) {
        fprintf(f, "%s'data/timeline.dat' index %d using 1:2 with points pt 7 ps 0.5 lc rgb '%s' title ",
                k ? ", \\\n     " : "", k, GP_COLOUR(k));
        gp_str(f, tl->type_name[k]);
    }
    fprintf(f, "\nset output\nreset\n\n");
}

static void md_context(FILE *f, const struct context *c)
{
    fprintf(f, "| field | value |\n|---|---|\n");
    for (int i = 0; i < c->n; i++) {
        if (!strcmp(c->name[i], "id"))
            continue;
        fprintf(f, "| %s | ", c->name[i]);
        for (const char *p = c->value[i]; *p; p++) {
            if (*p == '|')
                fputs("\\|", f);
            else
                fputc(*p, f);
        }
        fprintf(f, " |\n");
    }
}

/* The series of s[first..last) in cycles (latencies): their indexes in
 * idx[0..64); returns how many, and sets *metrics to 1 when they span
 * more than one metric. */
static int latency_series(const struct series *s, int first, int last, int *idx, int *metrics)
{
    int k = 0;
    *metrics = 0;
    for (int i = first; i < last && k < 64; i++) {
        if (strcmp(s[i].unit, "cycles"))
            continue;
        if (k && strcmp(s[i].metric, s[idx[0]].metric))
            *metrics = 1;
        idx[k++] = i;
    }
    return k;
}

/* The latency CDF of one benchmark: a curve per variant. */
static void gp_cdf_chart(FILE *f, const struct context *c, long long id, const struct series *s,
                         const int *idx, int k, int metrics, const char *file, const char *ext)
{
    const char *accel = context_get(c, "accel");
    char title[256];
    gp_terminal(f, file, ext, 900, 560);
    snprintf(title, sizeof title, "%s: latency CDF by variant (run %lld, run mode %s)", s[idx[0]].benchmark,
             id, accel ? accel : "unknown");
    gp_cdf_panel(f, s, idx, k, title, metrics);
    fputs("set output\nreset\n\n", f);
}

/* Charts beyond the box/CDF one, for benchmark s[first..last) whose chart
 * is bench_<suffix>: latency CDF, allocator comparison, kernel memory. */
static void gp_extras(FILE *f, const struct context *c, long long id, const struct series *s, int n,
                      int first, int last, const char *suffix, const char *ext)
{
    const char *accel = context_get(c, "accel");
    char file[128];
    int idx[64], metrics, k = latency_series(s, first, last, idx, &metrics);
    struct alloc_cmp ac;
    if (k) {
        snprintf(file, sizeof file, "cdf_%s", suffix);
        gp_cdf_chart(f, c, id, s, idx, k, metrics, file, ext);
    }
    if (alloc_compare(s, n, s[first].benchmark, &ac)) {
        snprintf(file, sizeof file, "alloc_%s", suffix);
        alloc_gp_chart(f, &ac, file, ext, id, accel);
    }
    if (!strcmp(s[first].benchmark, KMEM_BENCH)) {
        snprintf(file, sizeof file, "kmem_%s", suffix);
        kmem_gp_chart(f, s, n, file, ext, id, accel);
    }
}

/* report.md's section of benchmark s[first..last): its charts and tables. */
static void md_benchmark(FILE *f, const struct context *c, const struct series *s, int n, int first,
                         int last, const char *chart)
{
    const char *suffix = chart + strlen("bench_"), *b = s[first].benchmark;
    int idx[64], metrics;
    struct alloc_cmp ac;
    fprintf(f, "### %s\n\n![%s](%s.png)\n\n([SVG](%s.svg)) Per metric: left, box "
               "p25-p75 with the median bar, whiskers p1-p99 and min/max marked (x); "
               "right, the cumulative distribution per variant.\n\n",
            b, b, chart, chart);
    if (latency_series(s, first, last, idx, &metrics))
        fprintf(f, "![%s latency CDF](cdf_%s.png)\n\n([SVG](cdf_%s.svg)) Latency CDF: the fraction "
                   "of samples at or below each latency, one curve per variant.\n\n",
                b, suffix, suffix);
    if (alloc_compare(s, n, b, &ac)) {
        fprintf(f, "![%s: pool vs kpager](alloc_%s.png)\n\n([SVG](alloc_%s.svg)) In-kernel pool vs "
                   "user-level kpager: per shape, one bar per allocator at the median, whiskers "
                   "p10-p90, a panel per metric.\n\n",
                b, suffix, suffix);
        alloc_md_table(f, &ac, context_get(c, "accel"));
        fputc('\n', f);
    }
    if (!strcmp(b, KMEM_BENCH)) {
        fprintf(f, "![kernel memory per task](kmem_%s.png)\n\n([SVG](kmem_%s.svg)) Kernel memory "
                   "per task, stacked by type (pages, left axis; kB, right axis; the label is the "
                   "task's total_kb); the grey band is the paper's 40-60 kB per typical task "
                   "(Figure 2, IA-32: two page-table levels where x86-64 has four).\n\n",
                suffix, suffix);
        kmem_md_table(f, s, n);
        fputc('\n', f);
    }
}

/* report.md's fault phase section, or why there is none. */
static void md_phases(FILE *f, const struct ph_result *ph)
{
    fputs("### Fault phases\n\n", f);
    if (!ph->ngroups) {
        fprintf(f, "No phase breakdown: %s.\n\n", ph->why);
        return;
    }
    fputs("![fault phases](phases.png)\n\n([SVG](phases.svg)) Where the cycles of a user page fault go, "
          "read off the trace: a bar per benchmark phase, a segment per phase of the fault (between two "
          "traced milestones: exception, pagefault, kfault, kpage_export/kpage_import, kfault_done, map, "
          "fault_done), mean cycles over the traced faults; the cycles kpage_import/kpage_export report "
          "are a segment of their own.  Every enabled trace point adds its own cost (trace_overhead) to "
          "the fault it sits in.\n\n", f);
    phases_md_table(f, ph);
    if (ph->unmarked)
        fprintf(f, "\n%lld faults outside marked benchmark phases (program loading, set-up) are left "
                   "out.\n", ph->unmarked);
    fputc('\n', f);
}

/* report.md's PMU section: counter deltas of each traced user page fault
 * (pmu_fault records, abi/trace_events.h: one before pagefault, one with
 * pmc0 bit 63 set after fault_done, per CPU and thread) beside its TSC
 * delta.  With pmu = none there are no counter columns anywhere: one line
 * says so. */
static int md_pmu(FILE *f, sqlite3 *db, long long id, const struct context *c, char *err,
                  size_t errlen)
{
    const char *pmu = context_get(c, "pmu");
    fputs("### Performance counters\n\n", f);
    if (!pmu || !strcmp(pmu, "none")) {
        fputs("pmu = none: the CPU of this run has no performance counters (QEMU TCG reports "
              "none); counter columns are left out of this report.\n\n", f);
        return 0;
    }
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT cpu, thread, tsc, a0, a1 FROM events WHERE run_id = ? AND "
                               "event_id = ? ORDER BY cpu, seq", -1, &st, NULL) != SQLITE_OK)
        return sql_fail(db, err, errlen, "read pmu_fault events");
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int(st, 2, KM_EV_PMU_FAULT);
    size_t n = 0, cap = 0;
    long long *d[3] = { NULL, NULL, NULL }; /* tsc, counter 0, counter 1 deltas */
    long long open_cpu = -1, open_thread = -1, at[3] = { 0, 0, 0 };
    int have = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        long long cpu = sqlite3_column_int64(st, 0), thread = sqlite3_column_int64(st, 1);
        unsigned long long a0 = (unsigned long long)sqlite3_column_int64(st, 3);
        long long v[3] = { sqlite3_column_int64(st, 2), (long long)(a0 & ~(1ull << 63)),
                           sqlite3_column_int64(st, 4) };
        if (!(a0 >> 63)) { /* a fault's entry */
            open_cpu = cpu, open_thread = thread, have = 1;
            memcpy(at, v, sizeof at);
            continue;
        }
        if (!have || cpu != open_cpu || thread != open_thread)
            continue; /* its entry was not traced (ring, mask): no delta */
        have = 0;
        if (n == cap) {
            cap = cap ? 2 * cap : 256;
            for (int k = 0; k < 3; k++) {
                long long *t = realloc(d[k], cap * sizeof *t);
                if (!t) {
                    sqlite3_finalize(st);
                    for (int j = 0; j < 3; j++)
                        free(d[j]);
                    return errmsg(err, errlen, "out of memory");
                }
                d[k] = t;
            }
        }
        for (int k = 0; k < 3; k++)
            d[k][n] = v[k] - at[k];
        n++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        for (int k = 0; k < 3; k++)
            free(d[k]);
        return sql_fail(db, err, errlen, "read pmu_fault events");
    }
    fprintf(f, "pmu = %s.\n\n", pmu);
    if (!n) {
        fprintf(f, "No pmu_fault records in this run (trace event %d is off by default: enable it "
              "with trace.mask or sys_trace_ctl to get counter deltas per fault).\n\n", KM_EV_PMU_FAULT);
    } else {
        static const char *const what[3] = { "TSC (cycles)", "counter 0", "counter 1" };
        fprintf(f, "Per user page fault, from just before `pagefault` to just after `fault_done` "
                   "(%zu faults; counter i is the i-th encoding of pmu=):\n\n", n);
        fputs("| delta | n | min | p50 | mean | p90 | max |\n|---|---|---|---|---|---|---|\n", f);
        for (int k = 0; k < 3; k++) {
            struct stats sx;
            if (stats_compute(d[k], n, &sx)) {
                for (int j = 0; j < 3; j++)
                    free(d[j]);
                return errmsg(err, errlen, "out of memory");
            }
            fprintf(f, "| %s | %zu | %lld | %lld | %.1f | %lld | %lld |\n", what[k], sx.n, sx.min,
                    sx.p50, sx.mean, sx.p90, sx.max);
        }
        fputc('\n', f);
    }
    for (int k = 0; k < 3; k++)
        free(d[k]);
    return 0;
}

/* report.md's regression section: run id against the baseline file, when
 * one is given and it is of the run's mode (the table of kmemlab regress,
 * threshold 1%). */
static int md_regress(FILE *f, sqlite3 *db, long long id, const char *path, char *err, size_t errlen)
{
    struct baseline base, run;
    struct rg_result r;
    char why[512];
    if (!path)
        return 0;
    if (baseline_read(path, &base, why, sizeof why)) {
        baseline_free(&base);
        return errmsg(err, errlen, "bad baseline: %s", why);
    }
    if (baseline_from_run(db, id, &run, err, errlen)) {
        baseline_free(&base);
        return -1;
    }
    int rc = 0;
    fputs("## Regression check\n\n", f);
    if (strcmp(base.accel, run.accel))
        fprintf(f, "Not compared with %s: it is a %s baseline and this is a %s run (figures of "
                   "different run modes are not comparable).\n\n",
                path, base.accel, run.accel);
    else if ((rc = regress_compare(&base, &run, 1.0, &r, err, errlen)) == 0) {
        regress_print(f, &base, path, &run, id, 1.0, &r);
        fputc('\n', f);
        regress_free(&r);
    }
    baseline_free(&base);
    baseline_free(&run);
    return rc;
}

int report_write(sqlite3 *db, long long id, const char *outdir, const char *baseline, char *err,
                 size_t errlen)
{
    struct context c;
    struct series *s = NULL;
    struct timeline tl;
    struct ph_result *ph = NULL;
    int n = 0, rc = -1;
    char datadir[PATH_MAX];
    char (*chart)[96] = NULL;
    FILE *gp = NULL, *md = NULL;

    if (context_load(db, id, &c, err, errlen))
        return -1;
    if (results_load(db, id, &s, &n, err, errlen))
        goto out;
    snprintf(datadir, sizeof datadir, "%s/data", outdir);
    char datadir_slash[PATH_MAX + 1];
    snprintf(datadir_slash, sizeof datadir_slash, "%s/", datadir);
    if (make_dirs_to(datadir_slash, err, errlen))
        goto out;
    for (int i = 0; i < n; i++)
        if (write_series_data(db, id, &s[i], outdir, err, errlen))
            goto out;
    if (write_timeline_data(db, id, &c, outdir, &tl, err, errlen))
        goto out;
    if (!(ph = malloc(sizeof *ph))) {
        errmsg(err, errlen, "out of memory");
        goto out;
    }
    if (phases_load(db, id, s, n, context_get(&c, "programs"), ph, err, errlen))
        goto out;

    /* chart file names, one per benchmark, made unique */
    chart = calloc((size_t)n + 1, sizeof *chart);
    if (!chart) {
        errmsg(err, errlen, "out of memory");
        goto out;
    }
    for (int i = 0; i < n; i++) {
        if (i && !strcmp(s[i].benchmark, s[i - 1].benchmark)) {
            strcpy(chart[i], chart[i - 1]);
            continue;
        }
        char safe[64];
        safe_name(s[i].benchmark, safe, sizeof safe);
        snprintf(chart[i], sizeof chart[i], "bench_%s", safe);
        for (int j = 0, k = 2; j < i; j++)
            if (!strcmp(chart[j], chart[i])) {
                snprintf(chart[i], sizeof chart[i], "bench_%s_%d", safe, k++);
                j = -1;
            }
    }

    if (!(gp = open_out(outdir, "report.gp", err, errlen)))
        goto out;
    fprintf(gp, "# Charts of kmemlab run %lld, written by `kmemlab report %lld`.\n"
                "# Run from this directory: gnuplot report.gp\nset encoding utf8\n\n", id, id);
    for (int t = 0; t < 2; t++) {
        const char *ext = t ? "svg" : "png";
        for (int i = 0, j; i < n; i = j) {
            for (j = i; j < n && !strcmp(s[j].benchmark, s[i].benchmark); j++)
                ;
            gp_benchmark(gp, &c, id, s, i, j, chart[i], ext);
            gp_extras(gp, &c, id, s, n, i, j, chart[i] + strlen("bench_"), ext);
        }
        if (ph->ngroups)
            phases_gp_chart(gp, ph, "phases", ext, id, context_get(&c, "accel"));
        if (tl.events)
            gp_timeline(gp, &c, id, &tl, ext);
    }
    if (close_out(gp, outdir, "report.gp", err, errlen)) {
        gp = NULL;
        goto out;
    }
    gp = NULL;
    if (run_gnuplot(outdir, "report.gp", err, errlen))
        goto out;

    if (!(md = open_out(outdir, "report.md", err, errlen)))
        goto out;
    const char *accel = context_get(&c, "accel");
    fprintf(md, "# kmemlab run %lld\n\n", id);
    fprintf(md, "Generated by `kmemlab report %lld` from the results database alone; "
                "`gnuplot report.gp` in this directory redraws the charts.\n\n", id);
    run_summary(md, &c, 1);
    fprintf(md, "\n## Results\n\n");
    if (n) {
        print_results_table(md, s, n, 1);
        fprintf(md, "\n");
    } else {
        fprintf(md, "This run recorded no benchmark samples.\n\n");
    }
    fprintf(md, "- Units: `cycles` are TSC ticks. Under QEMU icount (accel=icount) the TSC "
                "advances with executed guest instructions, so TSC ticks = guest instructions: "
                "figures are exact and repeatable, not time on a real CPU. "
                "This run's accel: **%s**.\n", accel ? accel : "unknown");
    fprintf(md, "- Samples are raw per-iteration measurements with the empty-operation overhead "
                "(column `overhead`) already subtracted.\n");
    fprintf(md, "- Percentiles use the nearest-rank method (always an actual sample; p50 of an "
                "even count is the lower middle sample); stddev is the sample standard deviation "
                "(n-1); mean and stddev are rounded to one decimal.\n\n");
    fprintf(md, "## Charts\n\n");
    for (int i = 0, j; i < n; i = j) {
        for (j = i; j < n && !strcmp(s[j].benchmark, s[i].benchmark); j++)
            ;
        md_benchmark(md, &c, s, n, i, j, chart[i]);
    }
    md_phases(md, ph);
    if (md_pmu(md, db, id, &c, err, errlen))
        goto out;
    if (tl.events)
        fprintf(md, "### Timeline\n\n![timeline](timeline.png)\n\n([SVG](timeline.svg)) "
                    "Every trace event on BSP time (each CPU's TSC minus its boot-measured "
                    "offset), one row per CPU, colour by event type; events falling in the same "
                    "1/%d of the time axis share a point.\n",
                TIMELINE_BINS);
    else
        fprintf(md, "No trace events in this run: no timeline.\n");
    if (md_regress(md, db, id, baseline, err, errlen))
        goto out;
    fprintf(md, "## Run context\n\n");
    md_context(md, &c);
    if (close_out(md, outdir, "report.md", err, errlen)) {
        md = NULL;
        goto out;
    }
    md = NULL;
    rc = 0;
out:
    if (gp)
        fclose(gp);
    if (md)
        fclose(md);
    free(chart);
    free(ph);
    free(s);
    context_free(&c);
    return rc;
}
