/* kmemlab compare: see compare.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"
#include "errmsg.h"

void compare_free(struct comparison *c)
{
    regress_free(&c->r);
    baseline_free(&c->a);
    baseline_free(&c->b);
}

static int is_icount(const struct baseline *run)
{
    return !strcmp(run->accel, "icount");
}

int compare_load(sqlite3 *db, long long a, long long b, int force, struct comparison *c, char *err,
                 size_t errlen)
{
    memset(c, 0, sizeof *c);
    c->id_a = a;
    c->id_b = b;
    if (baseline_from_run(db, a, &c->a, err, errlen))
        return -1;
    if (baseline_from_run(db, b, &c->b, err, errlen)) {
        compare_free(c);
        return -1;
    }
    if (strcmp(c->a.accel, c->b.accel) && !force) {
        errmsg(err, errlen,
               "refusing to compare: run %lld is a %s run, run %lld a %s run (figures of different "
               "run modes are not comparable: icount counts guest instructions, other modes real "
               "TSC cycles); --force compares them anyway",
               a, c->a.accel, b, c->b.accel);
        compare_free(c);
        return -1;
    }
    /* icount: exact figures, any difference counts (threshold 0);
     * otherwise regress's statistical rule. */
    c->statistical = !is_icount(&c->a) && !is_icount(&c->b);
    double pct = c->statistical ? RG_STAT_MIN_PCT : 0.0;
    if (regress_compare(&c->a, &c->b, pct, &c->r, err, errlen) ||
        (c->statistical && regress_apply_stat(db, a, b, pct, &c->r, err, errlen))) {
        compare_free(c);
        return -1;
    }
    return 0;
}

/* The verdict column of one row. */
static void print_verdict(FILE *f, const struct comparison *c, const struct rg_row *row)
{
    const char *untested = c->statistical && isnan(row->p) ? " (p50 only: no samples)" : "";
    switch (row->v) {
    case RG_MISSING: fprintf(f, "only in run %lld", c->id_a); return;
    case RG_NEW: fprintf(f, "only in run %lld", c->id_b); return;
    case RG_UNIT: fprintf(f, "unit changed (%s -> %s)", row->base->unit, row->run->unit); return;
    case RG_REGRESSION: fprintf(f, "higher%s", untested); return;
    case RG_IMPROVED: fprintf(f, "lower%s", untested); return;
    case RG_OK: break;
    }
    if (!c->statistical)
        fputs("same", f);
    else if (*untested)
        fprintf(f, "within %g%%%s", RG_STAT_MIN_PCT, untested);
    else if (row->p < RG_ALPHA)
        fprintf(f, "significant, within %g%%", RG_STAT_MIN_PCT);
    else
        fputs("no significant difference", f);
}

static void print_p50(FILE *f, const struct bl_entry *e)
{
    if (e)
        fprintf(f, " %lld |", e->p50);
    else
        fputs(" - |", f);
}

static void print_row(FILE *f, const struct comparison *c, const struct rg_row *row)
{
    const struct bl_entry *e = row->base ? row->base : row->run;
    fprintf(f, "| %s/%s/%s | %s |", e->bench, e->variant, e->metric, e->unit);
    print_p50(f, row->base);
    print_p50(f, row->run);
    if (row->base && row->run) {
        fprintf(f, " %+lld |", row->run->p50 - row->base->p50);
        if (!isnan(row->delta_pct))
            fprintf(f, " %+.2f |", row->delta_pct);
        else
            fputs(row->run->p50 == row->base->p50 ? " +0.00 |" : " n/a (A is 0) |", f);
    } else {
        fputs(" - | - |", f);
    }
    if (c->statistical) {
        if (isnan(row->p))
            fputs(" - |", f);
        else
            fprintf(f, row->p < 0.001 ? " %.1e |" : " %.3f |", row->p);
    }
    fputc(' ', f);
    print_verdict(f, c, row);
    fputs(" |\n", f);
}

static void print_run(FILE *f, const char *label, long long id, const struct baseline *run)
{
    fprintf(f, "%s: run %lld, %s %s, %s CPUs, git %s, %s.\n", label, id, run->system[0] ? run->system : "?",
            run->accel, run->smp[0] ? run->smp : "?", run->git_rev[0] ? run->git_rev : "?",
            run->date[0] ? run->date : "date unknown");
}

void compare_print(FILE *f, const struct comparison *c)
{
    const struct rg_result *r = &c->r;
    fprintf(f, "### Compare: run %lld (A) vs run %lld (B)\n\n", c->id_a, c->id_b);
    print_run(f, "A", c->id_a, &c->a);
    print_run(f, "B", c->id_b, &c->b);
    if (c->statistical)
        fprintf(f, "Verdicts: one-sided Mann-Whitney U test of the sample sets (p < %g) and a p50 "
                   "change of more than %g%%.\n\n",
                RG_ALPHA, RG_STAT_MIN_PCT);
    else if (strcmp(c->a.accel, c->b.accel))
        fprintf(f, "Different run modes (compared with --force): the deltas mix units of measure.\n\n");
    else
        fprintf(f, "Verdicts: %s figures are exact, so any p50 difference is real.\n\n", c->a.accel);
    fputs(c->statistical ? "| metric | unit | p50 A | p50 B | delta | delta % | p (U test) | verdict |\n"
                           "|---|---|---:|---:|---:|---:|---:|---|\n"
                         : "| metric | unit | p50 A | p50 B | delta | delta % | verdict |\n"
                           "|---|---|---:|---:|---:|---:|---|\n",
          f);
    for (int i = 0; i < r->nrows; i++)
        print_row(f, c, &r->rows[i]);
    char same[64];
    if (c->statistical)
        snprintf(same, sizeof same, "without a significant change over %g%%", RG_STAT_MIN_PCT);
    else
        snprintf(same, sizeof same, "same");
    fprintf(f, "\ncompare: run %lld vs run %lld: %d metrics; %d higher, %d lower, %d %s; "
               "%d only in run %lld, %d only in run %lld, %d unit change%s\n",
            c->id_a, c->id_b, r->nrows, r->count[RG_REGRESSION], r->count[RG_IMPROVED], r->count[RG_OK], same,
            r->count[RG_MISSING], c->id_a, r->count[RG_NEW], c->id_b, r->count[RG_UNIT],
            r->count[RG_UNIT] == 1 ? "" : "s");
}
