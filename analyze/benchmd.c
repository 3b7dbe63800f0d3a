/* BENCHMARKS.md's generated tables: see benchmd.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "benchmd.h"
#include "errmsg.h"
#include "run.h"

#define MARK_BEGIN "<!-- BEGIN kmemlab benchmarks-md "
#define MARK_END "<!-- END kmemlab benchmarks-md "

/* The paper: Haeberlen & Elphinstone, User-Level Management of Kernel
 * Memory (2003); ../shared/paper/figures.md. */
#define PAPER_SRC "Haeberlen & Elphinstone 2003"

/* One loaded run: its context and results. */
struct loaded {
    long long id;          /* 0: no such run */
    struct context c;
    struct series *s;
    int n;
};

static void loaded_free(struct loaded *l)
{
    if (l->id)
        context_free(&l->c);
    free(l->s);
    memset(l, 0, sizeof *l);
}

/* The newest run matching where (an SQL condition on runs), or 0. */
static int newest(sqlite3 *db, const char *where, long long *id, char *err, size_t errlen)
{
    char sql[256];
    sqlite3_stmt *st;
    snprintf(sql, sizeof sql, "SELECT max(id) FROM runs WHERE %s", where);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return sql_fail(db, err, errlen, "read runs");
    *id = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return 0;
}

static int load(sqlite3 *db, long long want, const char *where, struct loaded *l, char *err, size_t errlen)
{
    memset(l, 0, sizeof *l);
    if (!want && newest(db, where, &want, err, errlen))
        return -1;
    if (!want)
        return 0; /* nothing measured yet */
    if (context_load(db, want, &l->c, err, errlen))
        return -1;
    l->id = want;
    return results_load(db, want, &l->s, &l->n, err, errlen);
}

/* n with thousands separators. */
static const char *num(char *buf, size_t size, long long n)
{
    char raw[32];
    int len = snprintf(raw, sizeof raw, "%lld", n < 0 ? -n : n), o = 0;
    if (n < 0 && size > 1)
        buf[o++] = '-';
    for (int i = 0; i < len && (size_t)o + 2 < size; i++) {
        if (i && (len - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = raw[i];
    }
    buf[o] = 0;
    return buf;
}

/* The p50 of benchmark/variant/metric in l, formatted, or "not measured". */
static const char *p50(const struct loaded *l, const char *b, const char *v, const char *m, char *buf, size_t n)
{
    const struct series *x = l->id ? series_find(l->s, l->n, b, v, m) : NULL;
    if (!x || !x->n)
        return "not measured";
    return num(buf, n, x->p50);
}

static void block_ours(FILE *f, const struct loaded *k)
{
    char a[32], b[32], c[32], d[32], e[32];
    if (!k->id) {
        fputs("No kmemlab icount run in the database: not measured (`make bench` makes one).\n", f);
        return;
    }
    fprintf(f, "Run %lld: ", k->id);
    run_summary(f, &k->c, 1);
    fprintf(f, "Reproduce: `make bench` (then `build/host/kmemlab show ID`; this table: "
               "`build/host/kmemlab benchmarks-md --run %lld`).\n\n",
            k->id);
    fputs("| benchmark | variant | metric | unit | n | min | p50 | p99 | max |\n"
          "|---|---|---|---|---:|---:|---:|---:|---:|\n", f);
    for (int i = 0; i < k->n; i++) {
        const struct series *x = &k->s[i];
        fprintf(f, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", x->benchmark, x->variant, x->metric,
                x->unit, num(a, sizeof a, x->n), x->n ? num(b, sizeof b, x->min) : "-",
                x->n ? num(c, sizeof c, x->p50) : "-", x->n ? num(d, sizeof d, x->p99) : "-",
                x->n ? num(e, sizeof e, x->max) : "-");
    }
}

/* Total kernel memory per task of kmem_usage: "MIN-MAX kB over N tasks". */
static const char *kmem_range(const struct loaded *k, char *buf, size_t size)
{
    long long lo = -1, hi = -1;
    int tasks = 0;
    for (int i = 0; k->id && i < k->n; i++) {
        const struct series *x = &k->s[i];
        if (strcmp(x->benchmark, "kmem_usage") || strcmp(x->metric, "total_kb") || !x->n)
            continue;
        lo = lo < 0 || x->p50 < lo ? x->p50 : lo;
        hi = x->p50 > hi ? x->p50 : hi;
        tasks++;
    }
    if (!tasks)
        return "not measured";
    snprintf(buf, size, "%lld-%lld kB (%d tasks)", lo, hi, tasks);
    return buf;
}

/* The pinned overhead per task of kmem_usage (its first task), if
 * measured: metric "pinned" (pinned pages and bytes together, in bytes),
 * shown in frames too; older runs: the first pinned* metric. */
static const char *pinned(const struct loaded *k, char *buf, size_t size)
{
    const struct series *any = NULL;
    for (int i = 0; k->id && i < k->n; i++) {
        const struct series *x = &k->s[i];
        if (strcmp(x->benchmark, "kmem_usage") || strncmp(x->metric, "pinned", 6) || !x->n)
            continue;
        if (!strcmp(x->metric, "pinned") && !strcmp(x->unit, "bytes")) {
            snprintf(buf, size, "%lld bytes = %lld.%02lld frames (%s)", x->p50, x->p50 / 4096,
                     x->p50 % 4096 * 100 / 4096, x->variant);
            return buf;
        }
        if (!any)
            any = x;
    }
    if (!any)
        return "not measured";
    snprintf(buf, size, "%lld %s (%s)", any->p50, any->unit, any->variant);
    return buf;
}

static void paper_row(FILE *f, const char *what, const char *paper, const char *ours, const char *how)
{
    fprintf(f, "| %s | %s | %s | %s |\n", what, paper, ours, how);
}

static void block_paper(FILE *f, const struct loaded *k)
{
    struct alloc_cmp ac;
    char buf[4][200], what[96];
    int have = k->id && alloc_compare(k->s, k->n, "fault_complex", &ac);
    fprintf(f, "Ours: run %s (icount: guest instructions); the paper: a dual Pentium II/400, performance "
               "counters, cycles (%s, Figures 2 and 3; `../shared/paper/figures.md`).  The paper's complex "
               "fault (a new page table and node table on IA-32) is our `2m` shape; `1g` needs one kernel "
               "page more.\n\n",
            k->id ? num(buf[0], sizeof buf[0], k->id) : "none", PAPER_SRC);
    fputs("| figure | paper | ours | how ours is computed |\n|---|---:|---:|---|\n", f);
    for (int i = 0; i < (have ? ac.nshapes : 1); i++) {
        const char *shape = have ? ac.row[i].shape : "2m";
        char v[64];
        double x;
        int paper = !strcmp(shape, "2m");
        snprintf(v, sizeof v, "pool_%s", shape);
        snprintf(what, sizeof what, "complex fault, in-kernel pool (%s)", shape);
        paper_row(f, what, paper ? "18,091" : "-", p50(k, "fault_complex", v, "fault", buf[1], sizeof buf[1]),
                  "p50 of fault_complex/pool_SHAPE/fault");
        snprintf(v, sizeof v, "kpager_%s", shape);
        snprintf(what, sizeof what, "complex fault, user-level kpager (%s)", shape);
        paper_row(f, what, paper ? "21,454" : "-", p50(k, "fault_complex", v, "fault", buf[1], sizeof buf[1]),
                  "p50 of fault_complex/kpager_SHAPE/fault");
        snprintf(what, sizeof what, "kpager / pool (%s)", shape);
        if (have && alloc_ratio(&ac.row[i], ALLOC_KPAGER, &x) == 0)
            snprintf(buf[2], sizeof buf[2], "%.2f", x);
        else
            snprintf(buf[2], sizeof buf[2], "not measured");
        paper_row(f, what, paper ? "1.19" : "-", buf[2], "ratio of the p50s");
        snprintf(what, sizeof what, "kpager_batched / pool (%s)", shape);
        if (have && alloc_ratio(&ac.row[i], ALLOC_BATCHED, &x) == 0)
            snprintf(buf[2], sizeof buf[2], "%.2f", x);
        else
            snprintf(buf[2], sizeof buf[2], "not measured");
        paper_row(f, what, "-", buf[2], "ratio of the p50s (our batched kernel faults)");
        snprintf(what, sizeof what, "cycles per kernel page fault, kpager (%s)", shape);
        if (have && alloc_fault_cost(&ac.row[i], ALLOC_KPAGER, &x) == 0)
            num(buf[2], sizeof buf[2], (long long)(x + 0.5));
        else
            snprintf(buf[2], sizeof buf[2], "not measured");
        paper_row(f, what, paper ? "about 1,700" : "-", buf[2],
                  "(p50 fault kpager - pool) / (p50 kfaults kpager - pool)");
    }
    paper_row(f, "kernel memory per typical task", "40-60 kB", kmem_range(k, buf[3], sizeof buf[3]),
              "total_kb of each kmem_usage task");
    paper_row(f, "pinned overhead of the scheme per task", "1.5 frames", pinned(k, buf[3], sizeof buf[3]),
              "kmem_usage metric pinned: pages no kpager can take back and pinned bytes");
    fprintf(f, "\nRatios of icount runs: %s.\n", alloc_icount_caveat);
}

static void block_linux(FILE *f, const struct loaded *l)
{
    char a[32], b[32], c[32], d[32];
    if (!l->id) {
        fputs("No system=linux run in the database: not measured (`scripts/linux_baseline.sh`).\n", f);
        return;
    }
    const char *cpu = context_get(&l->c, "cpu_model"), *kr = context_get(&l->c, "kernel_rev");
    const char *when = context_get(&l->c, "started_utc"), *pmu = context_get(&l->c, "pmu");
    fprintf(f, "Run %lld (`scripts/linux_baseline.sh`, stored with system = linux): %s, Linux %s, "
               "started %s, pmu %s; real TSC cycles on the host, not comparable with icount figures.\n\n",
            l->id, cpu ? cpu : "?", kr ? kr : "?", when ? when : "?", pmu ? pmu : "?");
    fputs("| benchmark | variant | p50 cycles | p90 | p99 | page faults per sample |\n"
          "|---|---|---:|---:|---:|---:|\n", f);
    for (int i = 0; i < l->n; i++) {
        const struct series *x = &l->s[i];
        if (strcmp(x->unit, "cycles") || !x->n)
            continue;
        fprintf(f, "| %s | %s | %s | %s | %s | %s |\n", x->benchmark, x->variant, num(a, sizeof a, x->p50),
                num(b, sizeof b, x->p90), num(c, sizeof c, x->p99),
                p50(l, x->benchmark, x->variant, "page_faults", d, sizeof d));
    }
}

static void block_sel4(FILE *f, const struct loaded *k)
{
    char a[32], b[32];
    fprintf(f, "seL4: sel4bench on Skylake, x86-64, 2026, skim window off (the seL4 Foundation's published "
               "figures, as quoted in issue 5): real cycles.  Ours: run %s, icount (guest instructions): "
               "not the same ruler, and ours carry the operations named in the last column.\n\n",
            k->id ? num(a, sizeof a, k->id) : "none");
    fputs("| operation | seL4 (cycles) | ours | ours measures |\n|---|---:|---:|---|\n", f);
    fputs("| IPC call | 720 | not measured separately | - |\n", f);
    fputs("| IPC reply-recv | 583 | not measured separately | - |\n", f);
    fprintf(f, "| IPC round trip (call + reply-recv) | 1,303 (720 + 583) | %s | ipc_roundtrip/inter_as: call "
               "to another task and its reply-and-wait, same CPU |\n",
            p50(k, "ipc_roundtrip", "inter_as", "roundtrip", b, sizeof b));
    fprintf(f, "| fault round trip | 1,592 | %s | fault_simple/default: the fault IPC to the pager, its "
               "reply with a one-page map item, the retried write |\n",
            p50(k, "fault_simple", "default", "fault", b, sizeof b));
}

typedef void (*block_fn)(FILE *f, const struct loaded *l);
static const struct {
    const char *name;
    int of_linux;
    block_fn fn;
} blocks[] = {
    { "ours", 0, block_ours },
    { "paper", 0, block_paper },
    { "linux", 1, block_linux },
    { "sel4", 0, block_sel4 },
};
#define NBLOCKS (int)(sizeof blocks / sizeof blocks[0])

/* Each block's text, markers included, in out[] (malloc'ed). */
static int generate(sqlite3 *db, const struct benchmd_opts *o, char *out[NBLOCKS], char *err, size_t errlen)
{
    struct loaded k, l;
    int rc = -1;
    memset(out, 0, NBLOCKS * sizeof *out);
    if (load(db, o->run, "system = 'kmemlab' AND accel = 'icount'", &k, err, errlen))
        return -1;
    if (load(db, o->linux_run, "system = 'linux'", &l, err, errlen)) {
        loaded_free(&k);
        return -1;
    }
    for (int i = 0; i < NBLOCKS; i++) {
        size_t size;
        FILE *f = open_memstream(&out[i], &size);
        if (!f) {
            errmsg(err, errlen, "out of memory");
            goto out;
        }
        fprintf(f, "%s%s -->\n", MARK_BEGIN, blocks[i].name);
        blocks[i].fn(f, blocks[i].of_linux ? &l : &k);
        fprintf(f, "%s%s -->\n", MARK_END, blocks[i].name);
        if (fclose(f)) {
            errmsg(err, errlen, "out of memory");
            goto out;
        }
    }
    rc = 0;
out:
    loaded_free(&k);
    loaded_free(&l);
    return rc;
}

static void free_blocks(char *out[NBLOCKS])
{
    for (int i = 0; i < NBLOCKS; i++)
        free(out[i]);
}

int benchmd_write(sqlite3 *db, const struct benchmd_opts *o, FILE *f, char *err, size_t errlen)
{
    char *out[NBLOCKS];
    if (generate(db, o, out, err, errlen)) {
        free_blocks(out);
        return -1;
    }
    for (int i = 0; i < NBLOCKS; i++)
        fprintf(f, "%s%s", i ? "\n" : "", out[i]);
    free_blocks(out);
    return ferror(f) ? errmsg(err, errlen, "write error") : 0;
}

static char *read_text(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    char *buf = NULL;
    size_t size = 0;
    if (!f) {
        errmsg(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    FILE *m = open_memstream(&buf, &size);
    int c;
    while (m && (c = fgetc(f)) != EOF)
        fputc(c, m);
    fclose(f);
    if (!m || fclose(m)) {
        free(buf);
        errmsg(err, errlen, "out of memory");
        return NULL;
    }
    return buf;
}

/* text with block i (BEGIN line through END line) replaced by repl; NULL
 * with the reason when the markers are missing. */
static char *splice(char *text, const char *name, const char *repl, const char *path, char *err, size_t errlen)
{
    char b[128], e[128];
    snprintf(b, sizeof b, "%s%s -->\n", MARK_BEGIN, name);
    snprintf(e, sizeof e, "%s%s -->\n", MARK_END, name);
    char *s = strstr(text, b), *t = s ? strstr(s, e) : NULL;
    if (!s || !t) {
        errmsg(err, errlen, "%s has no block '%s' (the lines '%s%s -->' ... '%s%s -->' where its table goes)",
               path, name, MARK_BEGIN, name, MARK_END, name);
        return NULL;
    }
    t += strlen(e);
    size_t head = (size_t)(s - text), rl = strlen(repl), tail = strlen(t);
    char *r = malloc(head + rl + tail + 1);
    if (!r) {
        errmsg(err, errlen, "out of memory");
        return NULL;
    }
    memcpy(r, text, head);
    memcpy(r + head, repl, rl);
    memcpy(r + head + rl, t, tail + 1);
    return r;
}

int benchmd_update(sqlite3 *db, const struct benchmd_opts *o, const char *path, char *err, size_t errlen)
{
    char *out[NBLOCKS], tmp[4096];
    char *text = read_text(path, err, errlen);
    int rc = -1;
    if (!text)
        return -1;
    if (generate(db, o, out, err, errlen))
        goto out;
    for (int i = 0; i < NBLOCKS; i++) {
        char *next = splice(text, blocks[i].name, out[i], path, err, errlen);
        if (!next)
            goto out;
        free(text);
        text = next;
    }
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        errmsg(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        goto out;
    }
    fputs(text, f);
    if (fclose(f) || rename(tmp, path)) {
        errmsg(err, errlen, "cannot write %s: %s", path, strerror(errno));
        remove(tmp);
        goto out;
    }
    rc = 0;
out:
    free_blocks(out);
    free(text);
    return rc;
}
