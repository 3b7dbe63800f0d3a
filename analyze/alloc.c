/* Allocator comparison (pool vs kpager): see alloc.h. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "gp.h"

const char *const alloc_names[ALLOC_N] = { "pool", "kpager", "kpager_batched" };

const char alloc_icount_caveat[] =
    "icount counts guest instructions: kernel crossings look cheaper and cache misses are invisible";

int alloc_parse(const char *variant, enum alloc_kind *a, char *shape, size_t n)
{
    int best = -1;
    size_t best_len = 0;
    for (int k = 0; k < ALLOC_N; k++) {
        size_t l = strlen(alloc_names[k]);
        if (!strncmp(variant, alloc_names[k], l) && variant[l] == '_' && variant[l + 1] && l > best_len) {
            best = k;
            best_len = l;
        }
    }
    if (best < 0 || strlen(variant + best_len + 1) >= n)
        return -1;
    *a = (enum alloc_kind)best;
    strcpy(shape, variant + best_len + 1);
    return 0;
}

/* Bytes a shape name like 4k, 2m, 1g stands for (for ordering only); 0
 * for other names, which sort after these, by name. */
static double shape_bytes(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || !end[0] || end[1])
        return 0;
    switch (tolower((unsigned char)end[0])) {
    case 'k': return v * 1024;
    case 'm': return v * 1024 * 1024;
    case 'g': return v * 1024 * 1024 * 1024;
    case 't': return v * 1024 * 1024 * 1024 * 1024;
    }
    return 0;
}

static int shape_cmp(const void *pa, const void *pb)
{
    const struct alloc_row *a = pa, *b = pb;
    double x = shape_bytes(a->shape), y = shape_bytes(b->shape);
    if (x && y && x != y)
        return x < y ? -1 : 1;
    if (!x != !y)
        return x ? -1 : 1;
    return strcmp(a->shape, b->shape);
}

static struct alloc_row *row_of(struct alloc_cmp *c, const char *shape)
{
    for (int i = 0; i < c->nshapes; i++)
        if (!strcmp(c->row[i].shape, shape))
            return &c->row[i];
    if (c->nshapes == ALLOC_MAX_SHAPES)
        return NULL;
    struct alloc_row *r = &c->row[c->nshapes++];
    memset(r, 0, sizeof *r);
    snprintf(r->shape, sizeof r->shape, "%s", shape);
    return r;
}

static void add_metric(struct alloc_cmp *c, const struct series *x)
{
    for (int i = 0; i < c->nmetrics; i++)
        if (!strcmp(c->metric[i], x->metric))
            return;
    if (c->nmetrics < ALLOC_MAX_METRICS)
        snprintf(c->metric[c->nmetrics++], sizeof c->metric[0], "%s", x->metric);
    /* the time metric: `fault`, else the first in cycles */
    if (!strcmp(x->unit, "cycles") && (!c->time_metric[0] || !strcmp(x->metric, "fault")))
        snprintf(c->time_metric, sizeof c->time_metric, "%s", x->metric);
}

int alloc_compare(const struct series *s, int n, const char *bench, struct alloc_cmp *c)
{
    enum alloc_kind a;
    char shape[32];
    int any = 0;
    memset(c, 0, sizeof *c);
    snprintf(c->bench, sizeof c->bench, "%s", bench);
    for (int i = 0; i < n; i++) {
        if (strcmp(s[i].benchmark, bench))
            continue;
        if (alloc_parse(s[i].variant, &a, shape, sizeof shape))
            return 0;
        any = 1;
        add_metric(c, &s[i]);
    }
    if (!any)
        return 0;
    for (int i = 0; i < n; i++) {
        if (strcmp(s[i].benchmark, bench) || alloc_parse(s[i].variant, &a, shape, sizeof shape))
            continue;
        struct alloc_row *r = row_of(c, shape);
        for (int m = 0; r && m < c->nmetrics; m++)
            if (!strcmp(s[i].metric, c->metric[m]))
                r->by[m][a] = &s[i];
        if (r && !strcmp(s[i].metric, c->time_metric))
            r->time[a] = &s[i];
        else if (r && !strcmp(s[i].metric, "kfaults"))
            r->kfaults[a] = &s[i];
    }
    qsort(c->row, (size_t)c->nshapes, sizeof c->row[0], shape_cmp);
    return 1;
}

int alloc_ratio(const struct alloc_row *r, enum alloc_kind a, double *ratio)
{
    const struct series *x = r->time[a], *p = r->time[ALLOC_POOL];
    if (!x || !p || !x->n || !p->n || p->p50 <= 0)
        return -1;
    *ratio = (double)x->p50 / (double)p->p50;
    return 0;
}

int alloc_fault_cost(const struct alloc_row *r, enum alloc_kind a, double *cost)
{
    const struct series *x = r->time[a], *p = r->time[ALLOC_POOL];
    const struct series *kx = r->kfaults[a], *kp = r->kfaults[ALLOC_POOL];
    if (!x || !p || !kx || !kp || !x->n || !p->n || !kx->n || !kp->n || kx->p50 <= kp->p50)
        return -1;
    *cost = (double)(x->p50 - p->p50) / (double)(kx->p50 - kp->p50);
    return 0;
}

/* "p50" of a series, or "not measured". */
static void cell_p50(FILE *f, const struct series *x)
{
    if (x && x->n)
        fprintf(f, " %lld |", x->p50);
    else
        fputs(" not measured |", f);
}

void alloc_md_table(FILE *f, const struct alloc_cmp *c, const char *accel)
{
    int icount = accel && !strcmp(accel, "icount");
    const char *tm = c->time_metric[0] ? c->time_metric : "(no metric in cycles)";
    fprintf(f, "| shape | %s p50: pool | kpager | kpager_batched | kfaults p50: pool | kpager | "
               "kpager_batched | kpager / pool | kpager_batched / pool | cycles per extra kernel "
               "page fault: kpager | kpager_batched |\n",
            tm);
    fputs("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n", f);
    for (int i = 0; i < c->nshapes; i++) {
        const struct alloc_row *r = &c->row[i];
        double v;
        fprintf(f, "| %s |", r->shape);
        for (int a = 0; a < ALLOC_N; a++)
            cell_p50(f, r->time[a]);
        for (int a = 0; a < ALLOC_N; a++)
            cell_p50(f, r->kfaults[a]);
        for (int a = ALLOC_KPAGER; a < ALLOC_N; a++) {
            if (alloc_ratio(r, (enum alloc_kind)a, &v) == 0)
                fprintf(f, " %.3f |", v);
            else
                fputs(" - |", f);
        }
        for (int a = ALLOC_KPAGER; a < ALLOC_N; a++) {
            if (alloc_fault_cost(r, (enum alloc_kind)a, &v) == 0)
                fprintf(f, " %.0f |", v);
            else
                fputs(" - |", f);
        }
        fputc('\n', f);
    }
    fprintf(f, "\nRatios are p50(allocator) / p50(pool) of `%s`; the cost per extra kernel page fault is "
               "(p50 %s(allocator) - p50 %s(pool)) / (p50 kfaults(allocator) - p50 kfaults(pool)), "
               "'-' where a figure is missing or there is no extra kernel page fault.",
            tm, tm, tm);
    if (icount)
        fprintf(f, " Run mode icount: %s.", alloc_icount_caveat);
    fputs("\n", f);
}

/* One panel: the bars of metric m, grouped by shape. */
static void gp_panel(FILE *f, const struct alloc_cmp *c, int m)
{
    const char *metric = c->metric[m], *unit = "";
    double top = 0;
    char label[160];
    for (int i = 0; i < c->nshapes; i++)
        for (int a = 0; a < ALLOC_N; a++)
            if (c->row[i].by[m][a]) {
                unit = c->row[i].by[m][a]->unit;
                if ((double)c->row[i].by[m][a]->p90 > top)
                    top = (double)c->row[i].by[m][a]->p90;
            }
    fprintf(f, "unset label\nset key top left box opaque\nset grid ytics\nset boxwidth 0.8\n"
               "set style fill solid 0.75 border rgb '#333333'\nset yrange [0:%g]\n"
               "set xrange [0:%d]\nset xtics (",
            top > 0 ? top * 1.18 : 1, c->nshapes * (ALLOC_N + 1));
    for (int i = 0; i < c->nshapes; i++) {
        fprintf(f, "%s", i ? ", " : "");
        gp_str(f, c->row[i].shape);
        fprintf(f, " %d", i * (ALLOC_N + 1) + 2);
    }
    snprintf(label, sizeof label, "%s (%s)", metric, unit);
    fprintf(f, ")\nset xlabel 'shape (variant <allocator>_<shape>)'\nset ylabel ");
    gp_str(f, label);
    snprintf(label, sizeof label, "%s: median (bar, value), whiskers p10-p90", metric);
    fprintf(f, "\nset title ");
    gp_str(f, label);
    fputs("\n", f);
    /* a datablock per allocator: x, p50, p10, p90 */
    for (int a = 0; a < ALLOC_N; a++) {
        fprintf(f, "$%s << EOD\n", alloc_names[a]);
        for (int i = 0; i < c->nshapes; i++) {
            const struct series *x = c->row[i].by[m][a];
            if (x && x->n)
                fprintf(f, "%d %lld %lld %lld\n", i * (ALLOC_N + 1) + a + 1, x->p50,
                        x->sampled ? x->p10 : x->p50, x->p90);
        }
        fputs("EOD\n", f);
    }
    fputs("plot ", f);
    for (int a = 0; a < ALLOC_N; a++)
        fprintf(f, "%s$%s using 1:2 with boxes lc rgb '%s' title '%s', \\\n"
                   "     $%s using 1:2:3:4 with yerrorbars ps 0 lw 1.5 lc rgb '#000000' notitle, \\\n"
                   "     $%s using 1:4:(sprintf('%%d', $2)) with labels offset 0,0.7 font 'Sans,9' notitle",
                a ? ", \\\n     " : "", alloc_names[a], GP_COLOUR(a), alloc_names[a], alloc_names[a],
                alloc_names[a]);
    fputs("\n", f);
}

void alloc_gp_chart(FILE *f, const struct alloc_cmp *c, const char *file, const char *ext,
                    long long run_id, const char *accel)
{
    char title[256];
    gp_terminal(f, file, ext, 620 * (c->nmetrics ? c->nmetrics : 1), 520);
    snprintf(title, sizeof title, "%s: in-kernel pool vs user-level kpager (run %lld, run mode %s)",
             c->bench, run_id, accel ? accel : "unknown");
    fprintf(f, "set multiplot layout 1,%d title ", c->nmetrics ? c->nmetrics : 1);
    gp_str(f, title);
    fputs(" font 'Sans,13'\n", f);
    for (int m = 0; m < c->nmetrics; m++)
        gp_panel(f, c, m);
    fputs("unset multiplot\nset output\nreset\n\n", f);
}
