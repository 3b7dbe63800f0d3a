/* Regression check against a plain-text baseline (format in regress.h). */
#include "regress.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "errmsg.h"
#include "run.h"
#include "stats.h"

void baseline_free(struct baseline *b)
{
    free(b->e);
    memset(b, 0, sizeof *b);
}

static int bl_add(struct baseline *b, const struct bl_entry *e)
{
    if (b->n == b->cap) {
        int cap = b->cap ? b->cap * 2 : 32;
        struct bl_entry *ne = realloc(b->e, (size_t)cap * sizeof *ne);
        if (!ne)
            return -1;
        b->e = ne;
        b->cap = cap;
    }
    b->e[b->n++] = *e;
    return 0;
}

static const struct bl_entry *bl_find(const struct baseline *b, const struct bl_entry *k)
{
    for (int i = 0; i < b->n; i++)
        if (!strcmp(b->e[i].bench, k->bench) && !strcmp(b->e[i].variant, k->variant) &&
            !strcmp(b->e[i].metric, k->metric))
            return &b->e[i];
    return NULL;
}

static int parse_count(const char *s, long long *v)
{
    char *end;
    if (!isdigit((unsigned char)s[0]))
        return -1;
    errno = 0;
    *v = strtoll(s, &end, 10);
    return (errno || *end) ? -1 : 0;
}

/* Header fields: "# KEY: VALUE". */
static char *header_field(struct baseline *b, const char *key, size_t *size)
{
    static const char *keys[] = { "accel", "git_rev", "date", "run", "system", "smp", "cmdline" };
    char *fields[] = { b->accel, b->git_rev, b->date, b->run, b->system, b->smp, b->cmdline };
    size_t sizes[] = { sizeof b->accel, sizeof b->git_rev, sizeof b->date, sizeof b->run,
                       sizeof b->system, sizeof b->smp, sizeof b->cmdline };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (!strcmp(key, keys[i])) {
            *size = sizes[i];
            return fields[i];
        }
    return NULL;
}

#define PFAIL(...)                                                                                 \
    do {                                                                                           \
        char m_[256];                                                                              \
        snprintf(m_, sizeof m_, __VA_ARGS__);                                                      \
        baseline_free(b);                                                                          \
        free(copy);                                                                                \
        return errmsg(err, errlen, "%s:%d: %s", name, lineno, m_);                                 \
    } while (0)

int baseline_parse(const char *text, const char *name, struct baseline *b, char *err, size_t errlen)
{
    memset(b, 0, sizeof *b);
    char *copy = strdup(text);
    int lineno = 0;
    if (!copy)
        return errmsg(err, errlen, "%s: out of memory", name);
    char *save = NULL, *p = copy;
    char *line;
    int have_magic = 0;
    /* strsep keeps empty lines, so line numbers stay right */
    while ((line = strsep(&p, "\n")) != NULL) {
        lineno++;
        size_t len = strlen(line);
        if (len && line[len - 1] == '\r')
            line[--len] = '\0';
        if (lineno == 1) {
            if (strcmp(line, BL_MAGIC))
                PFAIL("not a kmemlab baseline file (the first line must be '%s')", BL_MAGIC);
            have_magic = 1;
            continue;
        }
        for (size_t i = 0; i < len; i++)
            if (!isprint((unsigned char)line[i]) && line[i] != '\t')
                PFAIL("unprintable byte 0x%02x", (unsigned char)line[i]);
        if (line[0] == '#') {
            char key[32];
            int klen = 0;
            const char *q = line + 1;
            while (*q == ' ')
                q++;
            while ((isalnum((unsigned char)q[klen]) || q[klen] == '_') && klen < (int)sizeof key - 1)
                klen++;
            if (klen == 0 || q[klen] != ':')
                continue; /* a plain comment */
            memcpy(key, q, (size_t)klen);
            key[klen] = '\0';
            size_t size;
            char *field = header_field(b, key, &size);
            if (!field)
                continue; /* "Something: text" in the documentation */
            if (field[0])
                PFAIL("header field '%s' given twice", key);
            q += klen + 1;
            while (*q == ' ')
                q++;
            size_t vlen = strlen(q);
            while (vlen && q[vlen - 1] == ' ')
                vlen--;
            if (vlen == 0)
                PFAIL("header field '%s' is empty", key);
            if (vlen >= size)
                PFAIL("header field '%s' is too long", key);
            memcpy(field, q, vlen);
            field[vlen] = '\0';
            continue;
        }
        char *tok[7];
        int nt = 0;
        char *t, *lp = line;
        save = NULL;
        while (nt < 7 && (t = strtok_r(lp, " \t", &save)) != NULL) {
            tok[nt++] = t;
            lp = NULL;
        }
        if (nt == 0)
            continue;
        if (nt < 5 || nt > 6)
            PFAIL("expected 'benchmark variant metric unit p50 [n]', got %d field%s", nt,
                  nt == 1 ? "" : "s");
        struct bl_entry e = { .n = -1 };
        char *dst[] = { e.bench, e.variant, e.metric, e.unit };
        for (int i = 0; i < 4; i++) {
            if (strlen(tok[i]) >= BL_NAME)
                PFAIL("name '%.20s...' is too long (at most %d characters)", tok[i], BL_NAME - 1);
            strcpy(dst[i], tok[i]);
        }
        if (parse_count(tok[4], &e.p50))
            PFAIL("p50 '%s' is not a non-negative integer", tok[4]);
        if (nt == 6 && (parse_count(tok[5], &e.n) || e.n < 1))
            PFAIL("n '%s' is not a positive integer", tok[5]);
        if (bl_find(b, &e))
            PFAIL("%s/%s/%s appears twice", e.bench, e.variant, e.metric);
        if (bl_add(b, &e))
            PFAIL("out of memory");
    }
    if (!have_magic)
        PFAIL("empty file, not a kmemlab baseline");
    if (!b->accel[0])
        PFAIL("no '# accel: MODE' header line: the run mode of the baseline is unknown");
    if (b->n == 0)
        PFAIL("no metrics in the baseline");
    free(copy);
    return 0;
}

int baseline_read(const char *path, struct baseline *b, char *err, size_t errlen)
{
    memset(b, 0, sizeof *b);
    FILE *f = fopen(path, "rb");
    if (!f)
        return errmsg(err, errlen, "cannot open baseline %s: %s", path, strerror(errno));
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (!buf) {
            fclose(f);
            return errmsg(err, errlen, "%s: out of memory", path);
        }
        len += fread(buf + len, 1, cap - len - 1, f);
        if (len < cap - 1)
            break;
        if (cap > (1u << 24)) {
            free(buf);
            fclose(f);
            return errmsg(err, errlen, "%s: too large for a baseline file (over 16 MiB)", path);
        }
        cap *= 2;
        buf = realloc(buf, cap);
    }
    int rerr = ferror(f);
    fclose(f);
    if (rerr) {
        free(buf);
        return errmsg(err, errlen, "cannot read baseline %s", path);
    }
    buf[len] = '\0';
    if (strlen(buf) != len) {
        free(buf);
        return errmsg(err, errlen, "%s: contains a NUL byte, not a kmemlab baseline file", path);
    }
    int rc = baseline_parse(buf, path, b, err, errlen);
    free(buf);
    return rc;
}

static void col_text(sqlite3_stmt *st, int i, char *dst, size_t size)
{
    const unsigned char *s = sqlite3_column_text(st, i);
    snprintf(dst, size, "%s", s ? (const char *)s : "");
}

int baseline_from_run(sqlite3 *db, long long id, struct baseline *b, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    memset(b, 0, sizeof *b);
    if (sqlite3_prepare_v2(db,
                           "SELECT coalesce(accel, 'unknown'), git_rev, started_utc, system, ncpus, "
                           "cmdline FROM runs WHERE id = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return errmsg(err, errlen, "database: %s", sqlite3_errmsg(db));
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        return rc == SQLITE_DONE ? errmsg(err, errlen, "no run %lld in the database", id)
                                 : errmsg(err, errlen, "database: %s", sqlite3_errmsg(db));
    }
    col_text(st, 0, b->accel, sizeof b->accel);
    col_text(st, 1, b->git_rev, sizeof b->git_rev);
    col_text(st, 2, b->date, sizeof b->date);
    col_text(st, 3, b->system, sizeof b->system);
    col_text(st, 4, b->smp, sizeof b->smp);
    col_text(st, 5, b->cmdline, sizeof b->cmdline);
    snprintf(b->run, sizeof b->run, "%lld", id);
    sqlite3_finalize(st);

    if (sqlite3_prepare_v2(db,
                           "SELECT benchmark, variant, metric, coalesce(unit, '-'), p50, n FROM results "
                           "WHERE run_id = ? AND p50 IS NOT NULL ORDER BY benchmark, variant, metric",
                           -1, &st, NULL) != SQLITE_OK)
        return errmsg(err, errlen, "database: %s", sqlite3_errmsg(db));
    sqlite3_bind_int64(st, 1, id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct bl_entry e = { .n = sqlite3_column_int64(st, 5), .p50 = sqlite3_column_int64(st, 4) };
        col_text(st, 0, e.bench, sizeof e.bench);
        col_text(st, 1, e.variant, sizeof e.variant);
        col_text(st, 2, e.metric, sizeof e.metric);
        col_text(st, 3, e.unit, sizeof e.unit);
        if (bl_add(b, &e)) {
            sqlite3_finalize(st);
            baseline_free(b);
            return errmsg(err, errlen, "out of memory");
        }
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        baseline_free(b);
        return errmsg(err, errlen, "database: %s", sqlite3_errmsg(db));
    }
    return 0;
}

int baseline_write(FILE *f, const struct baseline *b)
{
    fprintf(f, "%s\n", BL_MAGIC);
    fputs("# The regression baseline of `kmemlab regress` (written by `kmemlab baseline RUN_ID`;\n"
          "# regenerate it on purpose, e.g. with scripts/regress.sh --update).\n"
          "# Format: this first line exactly; comment lines start with '#'; header\n"
          "# fields are comment lines '# KEY: VALUE' (accel required; git_rev, date, run,\n"
          "# system, smp, cmdline optional); then one line per metric:\n"
          "#   benchmark variant metric unit p50 [n]\n"
          "# p50 is the median of the run's samples (icount: guest instructions), n the\n"
          "# number of samples.\n",
          f);
    fprintf(f, "# accel: %s\n", b->accel[0] ? b->accel : "unknown");
    if (b->git_rev[0])
        fprintf(f, "# git_rev: %s\n", b->git_rev);
    if (b->date[0])
        fprintf(f, "# date: %s\n", b->date);
    if (b->run[0])
        fprintf(f, "# run: %s\n", b->run);
    if (b->system[0])
        fprintf(f, "# system: %s\n", b->system);
    if (b->smp[0])
        fprintf(f, "# smp: %s\n", b->smp);
    if (b->cmdline[0])
        fprintf(f, "# cmdline: %s\n", b->cmdline);
    for (int i = 0; i < b->n; i++) {
        const struct bl_entry *e = &b->e[i];
        fprintf(f, "%s %s %s %s %lld", e->bench, e->variant, e->metric, e->unit, e->p50);
        if (e->n > 0)
            fprintf(f, " %lld", e->n);
        fputc('\n', f);
    }
    return (fflush(f) || ferror(f)) ? -1 : 0;
}

const char *regress_verdict_name(enum rg_verdict v)
{
    switch (v) {
    case RG_OK: return "ok";
    case RG_IMPROVED: return "improved";
    case RG_REGRESSION: return "REGRESSION";
    case RG_MISSING: return "MISSING in run";
    case RG_NEW: return "new (not in baseline)";
    case RG_UNIT: return "UNIT changed";
    }
    return "?";
}

void regress_free(struct rg_result *r)
{
    free(r->rows);
    memset(r, 0, sizeof *r);
}

static void recount(struct rg_result *r)
{
    memset(r->count, 0, sizeof r->count);
    for (int i = 0; i < r->nrows; i++)
        r->count[r->rows[i].v]++;
    r->failed = r->count[RG_REGRESSION] + r->count[RG_MISSING] + r->count[RG_UNIT];
}

int regress_compare(const struct baseline *base, const struct baseline *run, double pct,
                    struct rg_result *r, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    if (!(pct >= 0))
        return errmsg(err, errlen, "threshold must be a percentage >= 0");
    r->rows = calloc((size_t)base->n + (size_t)run->n + 1, sizeof *r->rows);
    if (!r->rows)
        return errmsg(err, errlen, "out of memory");
    double t = pct / 100.0;
    for (int i = 0; i < base->n; i++) {
        struct rg_row *row = &r->rows[r->nrows++];
        row->base = &base->e[i];
        row->run = bl_find(run, row->base);
        row->delta_pct = NAN;
        row->p = NAN;
        if (!row->run) {
            row->v = RG_MISSING;
            continue;
        }
        double b = (double)row->base->p50, x = (double)row->run->p50;
        if (b > 0)
            row->delta_pct = (x - b) / b * 100.0;
        if (strcmp(row->base->unit, row->run->unit))
            row->v = RG_UNIT;
        else if (x > b * (1.0 + t))
            row->v = RG_REGRESSION;
        else if (x < b * (1.0 - t))
            row->v = RG_IMPROVED;
        else
            row->v = RG_OK;
    }
    for (int i = 0; i < run->n; i++)
        if (!bl_find(base, &run->e[i])) {
            struct rg_row *row = &r->rows[r->nrows++];
            row->run = &run->e[i];
            row->delta_pct = NAN;
            row->p = NAN;
            row->v = RG_NEW;
        }
    recount(r);
    return 0;
}

int regress_stat_verdict(const long long *base, size_t nbase, long long base_p50,
                         const long long *run, size_t nrun, long long run_p50, double min_pct,
                         enum rg_verdict *v, double *p)
{
    struct mw_result mw;
    if (stats_mann_whitney(run, nrun, base, nbase, &mw))
        return -1;
    double b = (double)base_p50, x = (double)run_p50, t = min_pct / 100.0;
    *v = RG_OK;
    *p = x < b ? mw.p_less : mw.p_greater;
    if (mw.p_greater < RG_ALPHA && x > b * (1.0 + t))
        *v = RG_REGRESSION;
    else if (mw.p_less < RG_ALPHA && x < b * (1.0 - t))
        *v = RG_IMPROVED;
    return 0;
}

/* One row of statistical mode: both sample sets from the database. */
static int stat_row(sqlite3 *db, long long base_id, long long run_id, double min_pct,
                    struct rg_row *row, int *untested, char *err, size_t errlen)
{
    const struct bl_entry *e = row->base;
    long long *bv, *rv;
    size_t nb, nr;
    if (samples_load(db, base_id, e->bench, e->variant, e->metric, &bv, &nb, err, errlen))
        return -1;
    if (samples_load(db, run_id, e->bench, e->variant, e->metric, &rv, &nr, err, errlen)) {
        free(bv);
        return -1;
    }
    int rc = 0;
    if (nb == 0 || nr == 0)
        (*untested)++; /* results without samples: the p50 verdict stands */
    else if (regress_stat_verdict(bv, nb, row->base->p50, rv, nr, row->run->p50, min_pct, &row->v,
                                  &row->p))
        rc = errmsg(err, errlen, "out of memory");
    free(bv);
    free(rv);
    return rc;
}

int regress_apply_stat(sqlite3 *db, long long base_id, long long run_id, double min_pct,
                       struct rg_result *r, char *err, size_t errlen)
{
    r->statistical = 1;
    r->untested = 0;
    for (int i = 0; i < r->nrows; i++) {
        struct rg_row *row = &r->rows[i];
        if (!row->base || !row->run || row->v == RG_UNIT)
            continue;
        if (stat_row(db, base_id, run_id, min_pct, row, &r->untested, err, errlen))
            return -1;
    }
    recount(r);
    return 0;
}

/* A p-value as the table shows it: small ones in exponent form. */
static void print_p(FILE *f, double p)
{
    if (isnan(p))
        fputs("-", f);
    else if (p < 0.001)
        fprintf(f, "%.1e", p);
    else
        fprintf(f, "%.3f", p);
}

static const char *name_of(const struct rg_row *row, char *buf, size_t size)
{
    const struct bl_entry *e = row->base ? row->base : row->run;
    snprintf(buf, size, "%s/%s/%s", e->bench, e->variant, e->metric);
    return buf;
}

void regress_print(FILE *f, const struct baseline *base, const char *base_path,
                   const struct baseline *run, long long run_id, double pct,
                   const struct rg_result *r)
{
    char name[3 * BL_NAME + 3];
    fprintf(f, "### Regression check: run %lld vs baseline %s\n\n", run_id, base_path);
    char rule[160];
    if (r->statistical)
        snprintf(rule, sizeof rule,
                 "Mann-Whitney U test of the sample sets (one-sided p < %g) and p50 worse by more than %g%%",
                 RG_ALPHA, pct);
    else
        snprintf(rule, sizeof rule, "%g%% on p50", pct);
    fprintf(f, "Baseline: %s run%s%s, git %s, %s.  Run: %s, git %s, %s.  Threshold: %s.\n\n",
            base->accel, base->run[0] ? " " : "", base->run, base->git_rev[0] ? base->git_rev : "?",
            base->date[0] ? base->date : "date unknown", run->accel,
            run->git_rev[0] ? run->git_rev : "?", run->date[0] ? run->date : "date unknown", rule);
    if (r->statistical) {
        fputs("| metric | baseline | run | delta % | p (U test) | verdict |\n", f);
        fputs("|---|---:|---:|---:|---:|---|\n", f);
    } else {
        fputs("| metric | baseline | run | delta % | verdict |\n", f);
        fputs("|---|---:|---:|---:|---|\n", f);
    }
    for (int i = 0; i < r->nrows; i++) {
        const struct rg_row *row = &r->rows[i];
        fprintf(f, "| %s | ", name_of(row, name, sizeof name));
        if (row->base)
            fprintf(f, "%lld %s", row->base->p50, row->base->unit);
        else
            fputs("-", f);
        fputs(" | ", f);
        if (row->run)
            fprintf(f, "%lld %s", row->run->p50, row->run->unit);
        else
            fputs("-", f);
        fputs(" | ", f);
        if (row->base && row->run && isnan(row->delta_pct))
            fputs(row->run->p50 == row->base->p50 ? "+0.00" : "n/a (baseline 0)", f);
        else if (isnan(row->delta_pct))
            fputs("-", f);
        else
            fprintf(f, "%+.2f", row->delta_pct);
        if (r->statistical) {
            fputs(" | ", f);
            print_p(f, row->p);
        }
        fprintf(f, " | %s |\n", regress_verdict_name(row->v));
    }
    fputc('\n', f);

    /* Notes: changed sample counts, new metrics, non-icount mode. */
    int notes = 0;
    for (int i = 0; i < r->nrows; i++) {
        const struct rg_row *row = &r->rows[i];
        if (row->base && row->run && row->base->n > 0 && row->run->n > 0 && row->base->n != row->run->n) {
            fprintf(f, "- note: %s: n %lld in the baseline, %lld in the run\n",
                    name_of(row, name, sizeof name), row->base->n, row->run->n);
            notes++;
        }
        if (row->v == RG_NEW) {
            fprintf(f, "- note: %s is new (not in the baseline; not a failure; update the baseline to track it)\n",
                    name_of(row, name, sizeof name));
            notes++;
        }
    }
    if (r->statistical && r->untested) {
        fprintf(f, "- note: %d metric%s without samples in one of the runs: judged on p50 with the %g%% "
                   "threshold instead of the U test\n",
                r->untested, r->untested == 1 ? "" : "s", pct);
        notes++;
    } else if (!r->statistical && strcmp(run->accel, "icount")) {
        fprintf(f, "- note: a %s run compared on p50 with the %g%% threshold, as icount runs are; "
                   "its figures vary from run to run: give --baseline-run ID (a stored run of the "
                   "same mode) for a Mann-Whitney U test of the sample sets\n",
                run->accel, pct);
        notes++;
    }
    if (notes)
        fputc('\n', f);

    char worst[3 * BL_NAME + 40] = "";
    double wd = -INFINITY;
    for (int i = 0; i < r->nrows; i++) {
        const struct rg_row *row = &r->rows[i];
        if (row->v != RG_REGRESSION)
            continue;
        double d = isnan(row->delta_pct) ? INFINITY : row->delta_pct;
        if (d > wd) {
            wd = d;
            if (isinf(d))
                snprintf(worst, sizeof worst, "; worst %s (baseline 0)", name_of(row, name, sizeof name));
            else
                snprintf(worst, sizeof worst, "; worst %s %+.2f%%", name_of(row, name, sizeof name), d);
        }
    }
    fprintf(f, "regress: %s: %d regression%s, %d missing, %d unit change%s; %d ok, %d improved, %d new "
               "(run %lld vs baseline %s, %s %g%%)%s\n",
            r->failed ? "FAIL" : "PASS", r->count[RG_REGRESSION], r->count[RG_REGRESSION] == 1 ? "" : "s",
            r->count[RG_MISSING], r->count[RG_UNIT], r->count[RG_UNIT] == 1 ? "" : "s", r->count[RG_OK],
            r->count[RG_IMPROVED], r->count[RG_NEW], run_id, base_path,
            r->statistical ? "U test p < 0.01 and p50 over" : "threshold", pct, worst);
}
