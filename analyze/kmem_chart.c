/* Kernel memory per task by type (kmem_usage): see kmem_chart.h. */
#include <string.h>

#include "gp.h"
#include "kmem_chart.h"

/* The kernel page types, in stacking order (bottom first). */
static const struct {
    const char *metric, *name;
} types[] = {
    { "pt", "page tables (pt)" },   { "nt", "node tables (nt)" }, { "mn", "mapping nodes (mn)" },
    { "tcb", "TCBs (tcb)" },        { "utcb", "UTCBs (utcb)" },
};
#define NTYPES (int)(sizeof types / sizeof types[0])

/* The paper's typical task (Figure 2, IA-32): 40-60 kB of kernel memory. */
#define PAPER_KB_LO 40
#define PAPER_KB_HI 60

int kmem_present(const struct series *s, int n)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(s[i].benchmark, KMEM_BENCH))
            return 1;
    return 0;
}

static long long p50_of(const struct series *s, int n, const char *task, const char *metric, int *have)
{
    const struct series *x = series_find(s, n, KMEM_BENCH, task, metric);
    *have = x && x->n;
    return *have ? x->p50 : 0;
}

/* The index of the next kmem_usage series after i with a task (variant)
 * not seen before, or -1: each task once, in the results' order. */
static int next_task(const struct series *s, int n, int i)
{
    for (i++; i < n; i++) {
        if (strcmp(s[i].benchmark, KMEM_BENCH))
            continue;
        int seen = 0;
        for (int j = 0; j < i && !seen; j++)
            seen = !strcmp(s[j].benchmark, KMEM_BENCH) && !strcmp(s[j].variant, s[i].variant);
        if (!seen)
            return i;
    }
    return -1;
}

void kmem_gp_chart(FILE *f, const struct series *s, int n, const char *file, const char *ext,
                   long long run_id, const char *accel)
{
    char title[256];
    int ntasks = 0, have;
    long long top = 0;
    for (int i = next_task(s, n, -1); i >= 0; i = next_task(s, n, i))
        ntasks++;
    gp_terminal(f, file, ext, 760 + 60 * ntasks, 600);
    snprintf(title, sizeof title, "%s: kernel memory per task by type (run %lld, run mode %s)", KMEM_BENCH,
             run_id, accel ? accel : "unknown");
    fputs("set title ", f);
    gp_str(f, title);
    fputs(" font 'Sans,13'\n$kmem << EOD\n", f);
    for (int i = next_task(s, n, -1); i >= 0; i = next_task(s, n, i)) {
        long long sum = 0, kb;
        gp_qstr(f, s[i].variant);
        for (int t = 0; t < NTYPES; t++) {
            long long v = p50_of(s, n, s[i].variant, types[t].metric, &have);
            fprintf(f, " %lld", v);
            sum += v;
        }
        kb = p50_of(s, n, s[i].variant, "total_kb", &have);
        fprintf(f, " %lld %lld %d\n", sum, kb, have);
        top = sum > top ? sum : top;
        top = kb / 4 > top ? kb / 4 : top;
    }
    fputs("EOD\n", f);
    fprintf(f, "set style data histograms\nset style histogram rowstacked\nset boxwidth 0.7\n"
               "set style fill solid 0.8 border rgb '#333333'\nset key below maxrows 2\n"
               "set grid ytics\nset xrange [-0.6:%d.4]\nset xlabel 'task (variant)'\n"
               "set ylabel 'kernel memory (pages of 4 kB)'\nset y2label 'kernel memory (kB)'\n"
               "set yrange [0:%lld]\nset link y2 via y*4 inverse y/4\nset y2tics\nset ytics nomirror\n",
            ntasks - 1, (top > PAPER_KB_HI / 4 ? top : PAPER_KB_HI / 4) * 5 / 4 + 1);
    /* the paper's band (named in the key by an empty plot of its colour);
     * the kB label of each bar comes from total_kb */
    fprintf(f, "set object 1 rect from graph 0, first %g to graph 1, first %g fc rgb '#e0e0e0' "
               "fs solid 1.0 noborder behind\n",
            PAPER_KB_LO / 4.0, PAPER_KB_HI / 4.0);
    fprintf(f, "plot NaN with boxes fc rgb '#e0e0e0' title 'paper, typical task (IA-32): %d-%d kB', \\\n     ",
            PAPER_KB_LO, PAPER_KB_HI);
    for (int t = 0; t < NTYPES; t++) {
        fprintf(f, "%s$kmem using %d%s lc rgb '%s' title ", t ? ", \\\n     " : "", t + 2,
                t ? "" : ":xtic(1)", GP_COLOUR(t));
        gp_str(f, types[t].name);
    }
    fprintf(f, ", \\\n     $kmem using 0:%d:($%d > 0 ? sprintf('%%d kB', $%d) : '') with labels offset 0,0.8 "
               "font 'Sans,9' notitle\n",
            NTYPES + 2, NTYPES + 4, NTYPES + 3);
    fputs("set output\nreset\n\n", f);
}

void kmem_md_table(FILE *f, const struct series *s, int n)
{
    int have;
    fputs("| task |", f);
    for (int t = 0; t < NTYPES; t++)
        fprintf(f, " %s |", types[t].metric);
    fputs(" pages | total_kb |\n|---|", f);
    for (int t = 0; t < NTYPES + 2; t++)
        fputs("---:|", f);
    fputc('\n', f);
    for (int i = next_task(s, n, -1); i >= 0; i = next_task(s, n, i)) {
        long long sum = 0;
        fprintf(f, "| %s |", s[i].variant);
        for (int t = 0; t < NTYPES; t++) {
            long long v = p50_of(s, n, s[i].variant, types[t].metric, &have);
            sum += v;
            if (have)
                fprintf(f, " %lld |", v);
            else
                fputs(" - |", f);
        }
        long long kb = p50_of(s, n, s[i].variant, "total_kb", &have);
        fprintf(f, " %lld |", sum);
        if (have)
            fprintf(f, " %lld |\n", kb);
        else
            fputs(" - |\n", f);
    }
}
