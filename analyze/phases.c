/* Fault phase breakdown from the trace events: see phases.h. */
#include <stdlib.h>
#include <string.h>

#include <abi/trace.h>

#include "errmsg.h"
#include "gp.h"
#include "phases.h"
#include "stats.h"

/* Milestones, in the order they happen in a fault. */
enum kind { K_EXC, K_PF, K_KF, K_EXP, K_IMP, K_KD, K_MAP, K_FD, NK };
static const char *const kind_event[NK] = { "exception",    "pagefault",   "kfault", "kpage_export",
                                            "kpage_import", "kfault_done", "map",    "fault_done" };
/* Slots: a phase per (previous, next) milestone pair, plus the cycles
 * kpage_export and kpage_import report themselves. */
#define SLOT_EXPORT (NK * NK)
#define SLOT_IMPORT (NK * NK + 1)
#define NSLOTS (NK * NK + 2)

#define PF_VECTOR 14
#define MARK_BEGIN 1 /* user/include/user/bench.h */
#define MARK_END 2
#define MARK_VARIANT 3
#define MAX_NAMED 64 /* (program, phase) pairs a variant marker names */
#define MAX_CPUS 64
#define MAX_OPEN 4 /* open faults per CPU (a pager may fault while serving one) */

struct window {
    long long thread, start, last_t;
    int last_k, group;
    long long slot[NSLOTS];
};

struct cpu_state {
    int nopen;
    struct window open[MAX_OPEN];
    long long exc_thread, exc_t; /* the last #PF exception, exc_thread -1: none */
};

struct group_acc {
    long long prog, phase;
    long long faults;
    long long slot[NSLOTS];
    long long *total;
    size_t cap;
};

struct walker {
    int ev[NK + 2]; /* event ids: milestones, then marker, prog_start (-1 absent) */
    struct cpu_state cpu[MAX_CPUS];
    struct group_acc g[PH_MAX_GROUPS];
    int ng;
    long long prog, phase, unmarked;
    struct { long long prog, phase, hash; } named[MAX_NAMED];
    int nnamed;
};

static const char *pair_name(int a, int b)
{
    static const struct {
        int a, b;
        const char *name;
    } names[] = {
        { K_EXC, K_PF, "kernel entry" },
        { K_PF, K_KF, "fault IPC and pager, to the kernel fault" },
        { K_PF, K_MAP, "fault IPC, pager, transfer" },
        { K_PF, K_FD, "fault IPC, pager, reply" },
        { K_KF, K_KD, "kpager handling" },
        { K_KF, K_IMP, "kpager handling" },
        { K_KF, K_EXP, "kpager handling" },
        { K_IMP, K_KD, "kernel fault completes" },
        { K_EXP, K_KD, "kernel fault completes" },
        { K_KD, K_KF, "to the next kernel fault" },
        { K_KD, K_MAP, "map" },
        { K_MAP, K_FD, "switch back" },
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].a == a && names[i].b == b)
            return names[i].name;
    return NULL;
}

static void slot_name(int slot, char *out, size_t n)
{
    if (slot == SLOT_EXPORT || slot == SLOT_IMPORT) {
        snprintf(out, n, "%s (%s cycles)", slot == SLOT_EXPORT ? "export" : "import",
                 kind_event[slot == SLOT_EXPORT ? K_EXP : K_IMP]);
        return;
    }
    int a = slot / NK, b = slot % NK;
    const char *nm = pair_name(a, b);
    snprintf(out, n, "%s%s%s -> %s%s", nm ? nm : "", nm ? " (" : "", kind_event[a], kind_event[b],
             nm ? ")" : "");
}

/* Time order of a slot: pairs by (previous, next); import/export right
 * after the kpager handling they are carved out of. */
static double slot_rank(int slot)
{
    if (slot == SLOT_EXPORT)
        return K_KF * NK + K_EXP + 0.5;
    if (slot == SLOT_IMPORT)
        return K_KF * NK + K_IMP + 0.5;
    return slot;
}

static struct group_acc *group_of(struct walker *w, int *index)
{
    for (int i = 0; i < w->ng; i++)
        if (w->g[i].prog == w->prog && w->g[i].phase == w->phase) {
            *index = i;
            return &w->g[i];
        }
    if (w->ng == PH_MAX_GROUPS)
        return NULL;
    struct group_acc *g = &w->g[w->ng];
    memset(g, 0, sizeof *g);
    g->prog = w->prog;
    g->phase = w->phase;
    *index = w->ng++;
    return g;
}

static void open_fault(struct walker *w, struct cpu_state *c, long long thread, long long t)
{
    int gi;
    if (w->phase <= 0) {
        w->unmarked++;
        c->exc_thread = -1;
        return;
    }
    if (!group_of(w, &gi))
        return;
    if (c->nopen == MAX_OPEN) { /* the oldest was never closed: drop it */
        memmove(&c->open[0], &c->open[1], (MAX_OPEN - 1) * sizeof c->open[0]);
        c->nopen--;
    }
    struct window *win = &c->open[c->nopen++];
    memset(win, 0, sizeof *win);
    win->thread = thread;
    win->group = gi;
    win->start = win->last_t = t;
    win->last_k = K_PF;
    if (c->exc_thread == thread && c->exc_t <= t) {
        win->start = c->exc_t;
        win->slot[K_EXC * NK + K_PF] = t - c->exc_t;
    }
    c->exc_thread = -1;
}

static void milestone(struct cpu_state *c, int k, long long t, long long a1)
{
    if (!c->nopen)
        return;
    struct window *win = &c->open[c->nopen - 1];
    long long d = t - win->last_t;
    if (k == K_IMP || k == K_EXP) {
        long long own = a1 < 0 ? 0 : a1 > d ? d : a1;
        win->slot[k == K_IMP ? SLOT_IMPORT : SLOT_EXPORT] += own;
        d -= own;
    }
    win->slot[win->last_k * NK + k] += d;
    win->last_k = k;
    win->last_t = t;
}

static int close_fault(struct walker *w, struct cpu_state *c, long long thread, long long t)
{
    int i = c->nopen - 1;
    while (i >= 0 && c->open[i].thread != thread)
        i--;
    if (i < 0)
        return 0;
    struct window *win = &c->open[i];
    struct group_acc *g = &w->g[win->group];
    win->slot[win->last_k * NK + K_FD] += t - win->last_t;
    if (g->faults == (long long)g->cap) {
        size_t cap = g->cap ? 2 * g->cap : 1024;
        long long *v = realloc(g->total, cap * sizeof *v);
        if (!v)
            return -1;
        g->total = v;
        g->cap = cap;
    }
    g->total[g->faults++] = t - win->start;
    for (int s = 0; s < NSLOTS; s++)
        g->slot[s] += win->slot[s];
    c->nopen = i; /* faults opened after it on this CPU ended unseen */
    return 0;
}

static int step(struct walker *w, int cpu, long long t, int ev, long long thread, long long a0, long long a1)
{
    struct cpu_state *c = &w->cpu[cpu];
    if (ev == w->ev[NK]) { /* marker */
        if (a0 == MARK_BEGIN)
            w->phase = a1;
        else if (a0 == MARK_END && a1 == w->phase)
            w->phase = 0;
        else if (a0 == MARK_VARIANT && w->phase && w->nnamed < MAX_NAMED)
            w->named[w->nnamed++] = (typeof(w->named[0])){w->prog, w->phase, a1};
    } else if (ev == w->ev[NK + 1]) { /* prog_start: programs run one after another */
        w->prog = a0;
        w->phase = 0;
    } else if (ev == w->ev[K_EXC]) {
        if (a0 == PF_VECTOR) {
            c->exc_thread = thread;
            c->exc_t = t;
        }
    } else if (ev == w->ev[K_PF]) {
        open_fault(w, c, thread, t);
    } else if (ev == w->ev[K_FD]) {
        return close_fault(w, c, thread, t);
    } else {
        for (int k = K_KF; k < K_FD; k++)
            if (ev == w->ev[k])
                milestone(c, k, t, a1);
    }
    return 0;
}

static int event_ids(sqlite3 *db, struct walker *w, char *err, size_t errlen)
{
    static const char *const extra[2] = { "marker", "prog_start" };
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT id FROM event_types WHERE name = ?", -1, &st, NULL) != SQLITE_OK)
        return sql_fail(db, err, errlen, "read event types");
    for (int k = 0; k < NK + 2; k++) {
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, k < NK ? kind_event[k] : extra[k - NK], -1, SQLITE_STATIC);
        w->ev[k] = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    }
    sqlite3_finalize(st);
    return 0;
}

/* Every relevant event of the run in BSP time order, through step(). */
static int walk(sqlite3 *db, long long id, struct walker *w, long long *pagefaults, char *err, size_t errlen)
{
    char sql[512], list[160] = "";
    size_t len = 0;
    sqlite3_stmt *st;
    for (int k = 0; k < NK + 2; k++)
        if (w->ev[k] >= 0)
            len += (size_t)snprintf(list + len, sizeof list - len, "%s%d", len ? "," : "", w->ev[k]);
    snprintf(sql, sizeof sql,
             "SELECT e.cpu, e.tsc - coalesce(c.tsc_offset, 0) AS t, e.event_id, e.thread, e.a0, e.a1 "
             "FROM events e LEFT JOIN cpus c ON c.run_id = e.run_id AND c.cpu = e.cpu "
             "WHERE e.run_id = ? AND e.event_id IN (%s) ORDER BY t, e.cpu, e.seq",
             list);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return sql_fail(db, err, errlen, "read events");
    sqlite3_bind_int64(st, 1, id);
    int rc;
    *pagefaults = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int cpu = sqlite3_column_int(st, 0), ev = sqlite3_column_int(st, 2);
        if (cpu < 0 || cpu >= MAX_CPUS)
            continue;
        *pagefaults += ev == w->ev[K_PF];
        if (step(w, cpu, sqlite3_column_int64(st, 1), ev, sqlite3_column_int64(st, 3),
                 sqlite3_column_int64(st, 4), sqlite3_column_int64(st, 5))) {
            sqlite3_finalize(st);
            return errmsg(err, errlen, "out of memory");
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : sql_fail(db, err, errlen, "read events");
}

/* The name of program number prog (1-based) in the runs.programs list,
 * without directory and .elf. */
static void program_name(const char *programs, long long prog, char *out, size_t n)
{
    const char *p = programs ? programs : "";
    snprintf(out, n, "program %lld", prog);
    for (long long i = 1; *p; i++) {
        size_t l = strcspn(p, " ");
        if (i == prog && l) {
            const char *b = p;
            for (const char *q = p; q < p + l; q++)
                if (*q == '/')
                    b = q + 1;
            size_t bl = (size_t)(p + l - b);
            if (bl > 4 && !strncmp(b + bl - 4, ".elf", 4))
                bl -= 4;
            snprintf(out, n, "%.*s", (int)bl, b);
            return;
        }
        p += l;
        while (*p == ' ')
            p++;
    }
}

/* A group that is the only marked phase of a benchmark with one latency
 * series is labelled with it, and gets its measured p50. */
static void name_group(struct ph_group *pg, const struct group_acc *g, const struct walker *w,
                       const struct series *s, int n, const char *programs)
{
    char prog[64];
    const struct series *only = NULL;
    int nlat = 0, nphases = 0;
    program_name(programs, g->prog, prog, sizeof prog);
    for (int i = 0; i < n; i++)
        if (!strcmp(s[i].benchmark, prog) && !strcmp(s[i].unit, "cycles") && s[i].n) {
            only = &s[i];
            nlat++;
        }
    for (int i = 0; i < w->ng; i++)
        nphases += w->g[i].prog == g->prog;
    pg->measured = -1;
    for (int k = 0; k < w->nnamed; k++) /* the phase named its variant */
        if (w->named[k].prog == g->prog && w->named[k].phase == g->phase)
            for (int i = 0; i < n; i++)
                if (!strcmp(s[i].benchmark, prog) && !strcmp(s[i].unit, "cycles") &&
                    (long long)km_name_hash(s[i].variant) == w->named[k].hash) {
                    snprintf(pg->label, sizeof pg->label, "%s", s[i].variant); /* short: an x label */
                    pg->measured = s[i].p50;
                    return;
                }
    if (nlat == 1 && nphases == 1) {
        snprintf(pg->label, sizeof pg->label, "%s/%s", only->benchmark, only->variant);
        pg->measured = only->p50;
    } else {
        snprintf(pg->label, sizeof pg->label, "%s phase %lld", prog, g->phase);
    }
}

static void summarise(struct walker *w, const struct series *s, int n, const char *programs,
                      struct ph_result *r)
{
    int used[NSLOTS] = { 0 }, order[NSLOTS], no = 0;
    for (int i = 0; i < w->ng; i++)
        for (int k = 0; k < NSLOTS; k++)
            used[k] |= w->g[i].faults && w->g[i].slot[k];
    for (int k = 0; k < NSLOTS; k++)
        if (used[k])
            order[no++] = k;
    for (int i = 1; i < no; i++) /* by time order (insertion sort: a handful) */
        for (int j = i; j > 0 && slot_rank(order[j]) < slot_rank(order[j - 1]); j--) {
            int t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    if (no > PH_MAX_KINDS)
        no = PH_MAX_KINDS;
    r->nkinds = no;
    for (int k = 0; k < no; k++)
        slot_name(order[k], r->kind[k], sizeof r->kind[k]);
    for (int i = 0; i < w->ng; i++) {
        struct group_acc *g = &w->g[i];
        if (!g->faults)
            continue;
        struct ph_group *pg = &r->g[r->ngroups++];
        name_group(pg, g, w, s, n, programs);
        pg->faults = g->faults;
        for (int k = 0; k < no; k++)
            pg->mean[k] = (double)g->slot[order[k]] / (double)g->faults;
        stats_sort(g->total, (size_t)g->faults);
        pg->median_total = stats_percentile(g->total, (size_t)g->faults, 50);
    }
}

int phases_load(sqlite3 *db, long long id, const struct series *s, int n, const char *programs,
                struct ph_result *r, char *err, size_t errlen)
{
    struct walker *w = calloc(1, sizeof *w);
    long long pagefaults = 0;
    int rc = -1;
    memset(r, 0, sizeof *r);
    if (!w)
        return errmsg(err, errlen, "out of memory");
    for (int c = 0; c < MAX_CPUS; c++)
        w->cpu[c].exc_thread = -1;
    if (event_ids(db, w, err, errlen))
        goto out;
    if (w->ev[K_PF] < 0 || w->ev[K_FD] < 0) {
        snprintf(r->why, sizeof r->why, "the database has no pagefault/fault_done event types");
        rc = 0;
        goto out;
    }
    if (walk(db, id, w, &pagefaults, err, errlen))
        goto out;
    summarise(w, s, n, programs, r);
    r->unmarked = w->unmarked;
    if (pagefaults == 0)
        snprintf(r->why, sizeof r->why,
                 "this run traced no pagefault events: the per-fault events (pagefault, fault_done, "
                 "ipc, map, kfault...) are off by default; a run with CMDLINE=trace.mask=0x... "
                 "enabling them (see kernel/abi/include/abi/trace_events.h) has them");
    else if (r->ngroups == 0)
        snprintf(r->why, sizeof r->why,
                 "none of this run's %lld pagefault events ended with a fault_done inside a marked "
                 "benchmark phase on the same CPU (fault_done not traced, or the trace ring filled)",
                 pagefaults);
    rc = 0;
out:
    for (int i = 0; i < w->ng; i++)
        free(w->g[i].total);
    free(w);
    return rc;
}

void phases_gp_chart(FILE *f, const struct ph_result *r, const char *file, const char *ext,
                     long long run_id, const char *accel)
{
    char title[256];
    int measured = 0;
    double top = 0;
    for (int i = 0; i < r->ngroups; i++) {
        double sum = 0;
        for (int k = 0; k < r->nkinds; k++)
            sum += r->g[i].mean[k];
        if (r->g[i].measured > sum)
            sum = (double)r->g[i].measured;
        measured |= r->g[i].measured >= 0;
        top = sum > top ? sum : top;
    }
    gp_terminal(f, file, ext, 1000 + 120 * r->ngroups, 600);
    snprintf(title, sizeof title, "Fault phases from the trace (run %lld, run mode %s)",
             run_id, accel ? accel : "unknown");
    fputs("set title ", f);
    gp_str(f, title);
    fputs(" font 'Sans,13'\n$phases << EOD\n", f);
    for (int i = 0; i < r->ngroups; i++) {
        const struct ph_group *g = &r->g[i];
        double sum = 0;
        gp_qstr(f, g->label);
        for (int k = 0; k < r->nkinds; k++) {
            fprintf(f, " %.1f", g->mean[k]);
            sum += g->mean[k];
        }
        /* untraced: the measured fault beyond the traced window */
        double rest = g->measured >= 0 && (double)g->measured > sum ? (double)g->measured - sum : 0;
        fprintf(f, " %.1f %.1f %lld\n", rest, sum + rest, g->faults);
    }
    fprintf(f, "EOD\nset style data histograms\nset style histogram rowstacked\nset boxwidth 0.6\n"
               "set style fill solid 0.8 border rgb '#333333'\nset key outside right top Left reverse\nset bmargin 4\n"
               "set grid ytics\nset xrange [-0.6:%d.4]\nset yrange [0:%g]\n"
               "set ylabel 'cycles per fault (mean of the traced faults)'\nplot ",
            r->ngroups - 1, top * 1.15 + 1);
    for (int k = 0; k < r->nkinds; k++) {
        fprintf(f, "%s$phases using %d", k ? ", \\\n     " : "", k + 2);
        if (!k) /* the x labels: group and its number of faults */
            fprintf(f, ":xtic(sprintf(\"%%s\\n%%d faults\", strcol(1), int(column(%d))))", r->nkinds + 4);
        fprintf(f, " lc rgb '%s' title ", GP_COLOUR(k));
        gp_str(f, r->kind[k]);
    }
    if (measured)
        fprintf(f, ", \\\n     $phases using %d lc rgb '#dddddd' title 'untraced: measured p50 minus the traced "
                   "window (exception entry, return to user)'",
                r->nkinds + 2);
    fprintf(f, ", \\\n     $phases using 0:%d:(sprintf('%%.0f', $%d)) with labels offset 0,0.8 font 'Sans,9' "
               "notitle\nset output\nreset\n\n",
            r->nkinds + 3, r->nkinds + 3);
}

void phases_md_table(FILE *f, const struct ph_result *r)
{
    fputs("| phase (mean cycles per fault) |", f);
    for (int i = 0; i < r->ngroups; i++)
        fprintf(f, " %s |", r->g[i].label);
    fputs("\n|---|", f);
    for (int i = 0; i < r->ngroups; i++)
        fputs("---:|", f);
    fputc('\n', f);
    for (int k = 0; k < r->nkinds; k++) {
        fprintf(f, "| %s |", r->kind[k]);
        for (int i = 0; i < r->ngroups; i++)
            fprintf(f, " %.1f |", r->g[i].mean[k]);
        fputc('\n', f);
    }
    fputs("| traced fault, median |", f);
    for (int i = 0; i < r->ngroups; i++)
        fprintf(f, " %lld |", r->g[i].median_total);
    fputs("\n| measured p50 (samples) |", f);
    for (int i = 0; i < r->ngroups; i++) {
        if (r->g[i].measured >= 0)
            fprintf(f, " %lld |", r->g[i].measured);
        else
            fputs(" - |", f);
    }
    fputs("\n| faults traced |", f);
    for (int i = 0; i < r->ngroups; i++)
        fprintf(f, " %lld |", r->g[i].faults);
    fputc('\n', f);
}
