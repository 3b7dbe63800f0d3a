/* kmemlab: the project's host CLI (import runs, list, show, compare, report, export).
 * Exit status: 0 success, 1 failure (bad input, database or gnuplot error;
 * the reason on stderr), 2 usage error. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "benchmd.h"
#include "compare.h"
#include "ctf_db.h"
#include "ctf_write.h"
#include "db.h"
#include "import.h"
#include "linux_samples.h"
#include "perfetto.h"
#include "pmu.h"
#include "regress.h"
#include "report.h"
#include "trend.h"

#ifndef KM_GIT_REV
#define KM_GIT_REV "unknown"
#endif

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *usage; /* first line: synopsis; then details */
};

static const struct command *current;

static const char main_usage[] =
    "usage: kmemlab COMMAND [ARGS]\n"
    "\n"
    "The kmemlab host tool: keeps every run in an SQLite database and reports on it.\n"
    "\n"
    "commands:\n"
    "  import DUMP [--meta FILE] [--db PATH]   verify a trace dump or serial log, store it as a new run\n"
    "  list [--db PATH]                        one line per stored run\n"
    "  show ID [--brief] [--db PATH]           a run's context and results table\n"
    "  report ID [--out DIR] [--baseline FILE|none] [--db PATH]\n"
    "                                          report.md and gnuplot charts (PNG, SVG)\n"
    "  trend [--benchmark B] [--accel MODE] [--system S] [--out DIR] [--db PATH]\n"
    "                                          p50 of every metric across runs, charts per metric\n"
    "  benchmarks-md [--run ID] [--linux ID] [--update FILE] [--db PATH]\n"
    "                                          BENCHMARKS.md's tables from the database\n"
    "  import-linux FILE [--meta FILE] [--db PATH]\n"
    "                                          store a Linux baseline (build/host/fault_linux) as a run\n"
    "  pmu-encode EVENT[,EVENT...]             raw PMU encodings of perf-style event names (libpfm4)\n"
    "  baseline ID [--db PATH]                 a run's p50 figures as a regression baseline file (stdout)\n"
    "  regress ID --baseline FILE|--baseline-run BID [--threshold PCT] [--db PATH] [--markdown OUT]\n"
    "                                          compare a run with a baseline; exit 1 on a regression\n"
    "  export-perfetto ID OUT.json [--db PATH] a run as Chrome/Perfetto trace JSON (ui.perfetto.dev)\n"
    "  export-ctf ID OUTDIR [--db PATH]        a run as a CTF 1.8 trace (babeltrace2, Trace Compass)\n"
    "  compare A B [--force] [--markdown OUT] [--db PATH]\n"
    "                                          deltas between two runs per benchmark/variant/metric\n"
    "\n"
    "The database is PATH, else $DB, else results/runs.db.\n"
    "kmemlab COMMAND --help describes a command; kmemlab --version prints the revision.\n"
    "exit status: 0 ok, 1 failure (reason on stderr), 2 usage error\n";

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "kmemlab: %s%s", current ? current->name : "", current ? ": " : "");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n(kmemlab %s%s--help for usage)\n", current ? current->name : "",
            current ? " " : "");
    return 2;
}

/* Minimal option scanner: --opt VALUE pairs from a fixed list and up to
 * npos positional arguments, all of them required when need_pos. */
struct opt {
    const char *name;
    const char **value;
};

static int parse_args_n(int argc, char **argv, struct opt *opts, const char **positional, int npos,
                        int need_pos, const char *names)
{
    int have = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] == '-' && a[1]) {
            struct opt *o = opts;
            for (; o && o->name; o++)
                if (!strcmp(a, o->name))
                    break;
            if (!o || !o->name)
                return usage_error("unknown option %s", a);
            if (i + 1 >= argc)
                return usage_error("%s needs a value", a);
            *o->value = argv[++i];
        } else if (have < npos) {
            positional[have++] = a;
        } else {
            return usage_error("unexpected argument '%s'", a);
        }
    }
    if (need_pos && have < npos)
        return usage_error("missing argument%s", names);
    return 0;
}

/* The common case: one positional argument (or none when positional is NULL). */
static int parse_args(int argc, char **argv, struct opt *opts, const char **positional, int need_pos)
{
    return parse_args_n(argc, argv, opts, positional, positional ? 1 : 0, need_pos, "");
}

/* Removes the value-less flag name from argv; 1 if it was there. */
static int take_flag(int *argc, char **argv, const char *name)
{
    int found = 0;
    for (int i = 0; i < *argc; i++)
        if (!strcmp(argv[i], name)) {
            found = 1;
            memmove(&argv[i], &argv[i + 1], (size_t)(*argc - i) * sizeof *argv);
            (*argc)--;
            i--;
        }
    return found;
}

static int parse_id(const char *s, long long *id)
{
    char *end;
    errno = 0;
    *id = strtoll(s, &end, 10);
    if (errno || end == s || *end || *id < 1)
        return usage_error("'%s' is not a run id", s);
    return 0;
}

static int cmd_import(int argc, char **argv)
{
    const char *dump_path = NULL, *meta_path = NULL, *db_path = NULL;
    struct opt opts[] = { { "--meta", &meta_path }, { "--db", &db_path }, { NULL, NULL } };
    char err[1024];
    long long id;

    if (parse_args(argc, argv, opts, &dump_path, 1))
        return 2;
    if (import_run(dump_path, meta_path, db_path ? db_path : db_default_path(), &id, err, sizeof err)) {
        fprintf(stderr, "kmemlab: import: %s\n", err);
        return 1;
    }
    printf("%lld\n", id);
    return 0;
}

static int open_db(const char *path, sqlite3 **db)
{
    char err[512];
    if (db_open_ro(path ? path : db_default_path(), db, err, sizeof err) == 0)
        return 0;
    fprintf(stderr, "kmemlab: %s: %s\n", current->name, err);
    return -1;
}

static int cmd_list(int argc, char **argv)
{
    const char *db_path = NULL;
    struct opt opts[] = { { "--db", &db_path }, { NULL, NULL } };
    sqlite3 *db;
    char err[512];
    if (parse_args(argc, argv, opts, NULL, 0))
        return 2;
    if (open_db(db_path, &db))
        return 1;
    int n = report_list(db, stdout, err, sizeof err);
    sqlite3_close(db);
    if (n < 0) {
        fprintf(stderr, "kmemlab: list: %s\n", err);
        return 1;
    }
    if (n == 0)
        fprintf(stderr, "kmemlab: list: no runs yet\n");
    return 0;
}

static int cmd_show(int argc, char **argv)
{
    const char *db_path = NULL, *id_s = NULL;
    struct opt opts[] = { { "--db", &db_path }, { NULL, NULL } };
    long long id;
    sqlite3 *db;
    char err[512];
    /* --brief: the one-line context and the results table only. */
    int brief = take_flag(&argc, argv, "--brief");
    if (parse_args(argc, argv, opts, &id_s, 1) || parse_id(id_s, &id))
        return 2;
    if (open_db(db_path, &db))
        return 1;
    int rc = report_show(db, id, brief, stdout, err, sizeof err);
    sqlite3_close(db);
    if (rc) {
        fprintf(stderr, "kmemlab: show: %s\n", err);
        return 1;
    }
    return 0;
}

#define DEFAULT_BASELINE "results/baseline/icount.txt"

static int cmd_report(int argc, char **argv)
{
    const char *db_path = NULL, *id_s = NULL, *out = NULL, *baseline = NULL;
    struct opt opts[] = { { "--db", &db_path }, { "--out", &out }, { "--baseline", &baseline },
                          { NULL, NULL } };
    char dir[PATH_MAX];
    long long id;
    sqlite3 *db;
    char err[512];
    if (parse_args(argc, argv, opts, &id_s, 1) || parse_id(id_s, &id))
        return 2;
    if (!out) {
        snprintf(dir, sizeof dir, "results/%lld", id);
        out = dir;
    }
    if (!baseline) /* the committed one, when run from the checkout */
        baseline = access(DEFAULT_BASELINE, R_OK) == 0 ? DEFAULT_BASELINE : "none";
    if (!strcmp(baseline, "none"))
        baseline = NULL;
    if (open_db(db_path, &db))
        return 1;
    int rc = report_write(db, id, out, baseline, err, sizeof err);
    sqlite3_close(db);
    if (rc) {
        fprintf(stderr, "kmemlab: report: %s\n", err);
        return 1;
    }
    printf("%s/report.md\n", out);
    return 0;
}

static int cmd_trend(int argc, char **argv)
{
    const char *db_path = NULL;
    struct trend_opts o = { .system = "kmemlab", .outdir = "results/trend" };
    struct opt opts[] = { { "--db", &db_path }, { "--benchmark", &o.benchmark }, { "--accel", &o.accel },
                          { "--system", &o.system }, { "--out", &o.outdir }, { NULL, NULL } };
    sqlite3 *db;
    char err[512];
    if (parse_args(argc, argv, opts, NULL, 0))
        return 2;
    if (open_db(db_path, &db))
        return 1;
    int n = trend_write(db, &o, err, sizeof err);
    sqlite3_close(db);
    if (n < 0) {
        fprintf(stderr, "kmemlab: trend: %s\n", err);
        return 1;
    }
    printf("%s/trend.md\n", o.outdir);
    return 0;
}

static int cmd_benchmarks_md(int argc, char **argv)
{
    const char *db_path = NULL, *run_s = NULL, *linux_s = NULL, *update = NULL;
    struct opt opts[] = { { "--db", &db_path }, { "--run", &run_s }, { "--linux", &linux_s },
                          { "--update", &update }, { NULL, NULL } };
    struct benchmd_opts o = { 0, 0 };
    sqlite3 *db;
    char err[512];
    if (parse_args(argc, argv, opts, NULL, 0) || (run_s && parse_id(run_s, &o.run)) ||
        (linux_s && parse_id(linux_s, &o.linux_run)))
        return 2;
    if (open_db(db_path, &db))
        return 1;
    int rc = update ? benchmd_update(db, &o, update, err, sizeof err) : benchmd_write(db, &o, stdout, err, sizeof err);
    sqlite3_close(db);
    if (rc) {
        fprintf(stderr, "kmemlab: benchmarks-md: %s\n", err);
        return 1;
    }
    if (update)
        printf("%s\n", update);
    return 0;
}

/* ---- the Linux baseline and PMU event names (bench/linux/, analyze/pmu.c) ---- */

static int cmd_import_linux(int argc, char **argv)
{
    const char *path = NULL, *db_path = NULL, *meta_path = NULL;
    struct opt opts[] = { { "--meta", &meta_path }, { "--db", &db_path }, { NULL, NULL } };
    char err[1024];
    long long id;

    if (parse_args(argc, argv, opts, &path, 1))
        return 2;
    if (linux_samples_import(path, meta_path, db_path ? db_path : db_default_path(), &id, err,
                             sizeof err)) {
        fprintf(stderr, "kmemlab: import-linux: %s\n", err);
        return 1;
    }
    printf("%lld\n", id);
    return 0;
}

static int cmd_pmu_encode(int argc, char **argv)
{
    struct pmu_event ev[PMU_MAX_EVENTS];
    char list[1024] = "", err[512];
    size_t len = 0;

    if (argc == 0)
        return usage_error("%s", "no events given");
    /* EVENT[,EVENT...], also as several arguments */
    for (int i = 0; i < argc; i++) {
        if (argv[i][0] == '-' && argv[i][1])
            return usage_error("unknown option %s", argv[i]);
        int w = snprintf(list + len, sizeof list - len, "%s%s", i ? "," : "", argv[i]);
        if (w < 0 || (size_t)w >= sizeof list - len)
            return usage_error("%s", "event list too long");
        len += (size_t)w;
    }
    int n = pmu_encode_list(list, ev, PMU_MAX_EVENTS, err, sizeof err);
    if (n < 0) {
        fprintf(stderr, "kmemlab: pmu-encode: %s\n", err);
        return 1;
    }
    for (int i = 0; i < n; i++)
        printf("%-32s 0x%llx %s\n", ev[i].name, ev[i].raw, ev[i].pmu);
    return 0;
}

/* ---- regression baselines (analyze/regress.c) ---- */

static int cmd_baseline(int argc, char **argv)
{
    const char *db_path = NULL, *id_s = NULL;
    struct opt opts[] = { { "--db", &db_path }, { NULL, NULL } };
    struct baseline b;
    long long id;
    sqlite3 *db;
    char err[512];
    if (parse_args(argc, argv, opts, &id_s, 1) || parse_id(id_s, &id))
        return 2;
    if (open_db(db_path, &db))
        return 1;
    int rc = baseline_from_run(db, id, &b, err, sizeof err);
    sqlite3_close(db);
    if (rc) {
        fprintf(stderr, "kmemlab: baseline: %s\n", err);
        return 1;
    }
    if (b.n == 0) {
        fprintf(stderr, "kmemlab: baseline: run %lld has no results to make a baseline of\n", id);
        baseline_free(&b);
        return 1;
    }
    rc = baseline_write(stdout, &b);
    baseline_free(&b);
    if (rc) {
        fprintf(stderr, "kmemlab: baseline: cannot write the baseline to stdout\n");
        return 1;
    }
    return 0;
}

/* Parses a percentage option (0..1000); 0, or a usage error (2). */
static int parse_pct(const char *opt, const char *s, double *pct)
{
    char *end;
    errno = 0;
    *pct = strtod(s, &end);
    if (errno || end == s || *end || !(*pct >= 0) || *pct > 1000) {
        char what[128];
        snprintf(what, sizeof what, "%s '%%s' is not a percentage (0..1000)", opt);
        return usage_error(what, s);
    }
    return 0;
}

/* Writes regress's text to stdout and, when md_path is set, into that file;
 * returns 0 or 2 (an output error: the verdict cannot be trusted). */
static int regress_output(const char *md_path, const struct baseline *base, const char *label,
                          const struct baseline *run, long long id, double pct,
                          const struct rg_result *r)
{
    int status = 0;
    regress_print(stdout, base, label, run, id, pct, r);
    if (fflush(stdout) || ferror(stdout))
        status = 2;
    if (!md_path)
        return status;
    FILE *f = fopen(md_path, "w");
    if (!f) {
        fprintf(stderr, "kmemlab: regress: cannot write %s: %s\n", md_path, strerror(errno));
        return 2;
    }
    regress_print(f, base, label, run, id, pct, r);
    if (fclose(f)) {
        fprintf(stderr, "kmemlab: regress: cannot write %s\n", md_path);
        return 2;
    }
    return status;
}

/* The baseline of regress: the file bl_path, or the stored run bl_run
 * (label names it for the output).  0, or 2 with the reason on stderr. */
static int regress_baseline(sqlite3 *db, const char *bl_path, long long bl_run, struct baseline *base,
                            char *label, size_t size)
{
    char err[512];
    if (bl_path) {
        snprintf(label, size, "%s", bl_path);
        if (baseline_read(bl_path, base, err, sizeof err) == 0)
            return 0;
        fprintf(stderr, "kmemlab: regress: bad baseline: %s\n", err);
        return 2;
    }
    snprintf(label, size, "run %lld", bl_run);
    if (baseline_from_run(db, bl_run, base, err, sizeof err) == 0)
        return 0;
    fprintf(stderr, "kmemlab: regress: baseline run: %s\n", err);
    return 2;
}

/* Exit status: 0 no regression, 1 regression (or missing metric), 2 the
 * comparison cannot be made (usage, unreadable/corrupt baseline, different
 * run mode, unknown run, database error). */
static int cmd_regress(int argc, char **argv)
{
    const char *db_path = NULL, *id_s = NULL, *bl_path = NULL, *bl_run_s = NULL, *thr_s = NULL,
               *md_path = NULL;
    struct opt opts[] = { { "--db", &db_path }, { "--baseline", &bl_path }, { "--baseline-run", &bl_run_s },
                          { "--threshold", &thr_s }, { "--markdown", &md_path }, { NULL, NULL } };
    struct baseline base = { 0 }, run = { 0 };
    struct rg_result r = { 0 };
    char err[512], label[PATH_MAX];
    long long id, bl_run = 0;
    double pct = 0;
    sqlite3 *db;
    if (parse_args(argc, argv, opts, &id_s, 1) || parse_id(id_s, &id) ||
        (bl_run_s && parse_id(bl_run_s, &bl_run)) || (thr_s && parse_pct("--threshold", thr_s, &pct)))
        return 2;
    if (!bl_path == !bl_run_s)
        return usage_error("%s", "give one of --baseline FILE and --baseline-run ID");
    if (open_db(db_path, &db))
        return 2;
    int status = regress_baseline(db, bl_path, bl_run, &base, label, sizeof label);
    if (!status && baseline_from_run(db, id, &run, err, sizeof err)) {
        fprintf(stderr, "kmemlab: regress: %s\n", err);
        status = 2;
    }
    if (!status && strcmp(base.accel, run.accel)) {
        fprintf(stderr,
                "kmemlab: regress: refusing to compare: run %lld is a %s run, the baseline %s is from a "
                "%s run (figures of different run modes are not comparable; use a baseline of the "
                "same mode)\n",
                id, run.accel, label, base.accel);
        status = 2;
    }
    /* Samples vary between runs outside icount: test them when we have them. */
    int stat = !status && bl_run && strcmp(run.accel, "icount");
    if (!thr_s)
        pct = stat ? RG_STAT_MIN_PCT : 1.0;
    if (!status && (regress_compare(&base, &run, pct, &r, err, sizeof err) ||
                    (stat && regress_apply_stat(db, bl_run, id, pct, &r, err, sizeof err)))) {
        fprintf(stderr, "kmemlab: regress: %s\n", err);
        status = 2;
    }
    sqlite3_close(db);
    if (!status)
        status = regress_output(md_path, &base, label, &run, id, pct, &r);
    if (!status && r.failed)
        status = 1;
    regress_free(&r);
    baseline_free(&base);
    baseline_free(&run);
    return status;
}

/* ---- Chrome/Perfetto trace export (analyze/perfetto.c) ---- */

static int cmd_export_perfetto(int argc, char **argv)
{
    const char *db_path = NULL, *pos[2] = { NULL, NULL };
    long long id;
    sqlite3 *db;
    char err[512];
    struct opt opts[] = { { "--db", &db_path }, { NULL, NULL } };
    if (parse_args_n(argc, argv, opts, pos, 2, 1, " (ID OUT.json)") || parse_id(pos[0], &id))
        return 2;
    if (open_db(db_path, &db))
        return 1;
    if (perfetto_check_run(db, id, err, sizeof err)) {
        sqlite3_close(db);
        fprintf(stderr, "kmemlab: export-perfetto: %s\n", err);
        return 1;
    }
    int to_stdout = !strcmp(pos[1], "-");
    FILE *f = to_stdout ? stdout : fopen(pos[1], "w");
    if (!f) {
        fprintf(stderr, "kmemlab: export-perfetto: cannot write %s: %s\n", pos[1], strerror(errno));
        sqlite3_close(db);
        return 1;
    }
    struct perfetto_stats st;
    int rc = perfetto_write(db, id, f, &st, err, sizeof err);
    sqlite3_close(db);
    if (!to_stdout && fclose(f) && !rc) {
        snprintf(err, sizeof err, "cannot write %s: %s", pos[1], strerror(errno));
        rc = -1;
    }
    if (rc) {
        fprintf(stderr, "kmemlab: export-perfetto: %s\n", err);
        if (!to_stdout)
            remove(pos[1]);
        return 1;
    }
    fprintf(stderr, "kmemlab: export-perfetto: run %lld: %lld events, %lld page fault slices, "
                    "%lld syscall slices, %lld phase slices\n",
            id, st.events, st.faults, st.syscalls, st.phases);
    return 0;
}

/* ---- two runs side by side (analyze/compare.c) ---- */

/* Writes compare's table to stdout and, with md_path, into that file;
 * 0 or 1 (an output error). */
static int compare_output(const char *md_path, const struct comparison *c)
{
    compare_print(stdout, c);
    if (fflush(stdout) || ferror(stdout))
        return 1;
    if (!md_path)
        return 0;
    FILE *f = fopen(md_path, "w");
    if (!f) {
        fprintf(stderr, "kmemlab: compare: cannot write %s: %s\n", md_path, strerror(errno));
        return 1;
    }
    compare_print(f, c);
    if (fclose(f)) {
        fprintf(stderr, "kmemlab: compare: cannot write %s\n", md_path);
        return 1;
    }
    return 0;
}

static int cmd_compare(int argc, char **argv)
{
    const char *db_path = NULL, *md_path = NULL, *pos[2] = { NULL, NULL };
    struct opt opts[] = { { "--db", &db_path }, { "--markdown", &md_path }, { NULL, NULL } };
    struct comparison c;
    long long a, b;
    sqlite3 *db;
    char err[512];
    int force = take_flag(&argc, argv, "--force");
    if (parse_args_n(argc, argv, opts, pos, 2, 1, " (A B: two run ids)") || parse_id(pos[0], &a) ||
        parse_id(pos[1], &b))
        return 2;
    if (open_db(db_path, &db))
        return 1;
    int rc = compare_load(db, a, b, force, &c, err, sizeof err);
    sqlite3_close(db);
    if (rc) {
        fprintf(stderr, "kmemlab: compare: %s\n", err);
        return 1;
    }
    rc = compare_output(md_path, &c);
    compare_free(&c);
    return rc;
}

/* ---- CTF export of a stored run (analyze/ctf_db.c, trace/ctf_write.c) ---- */

static int cmd_export_ctf(int argc, char **argv)
{
    const char *db_path = NULL, *pos[2] = { NULL, NULL };
    struct opt opts[] = { { "--db", &db_path }, { NULL, NULL } };
    struct dump d;
    long long id;
    sqlite3 *db;
    char err[512];
    if (parse_args_n(argc, argv, opts, pos, 2, 1, " (ID OUTDIR)") || parse_id(pos[0], &id))
        return 2;
    if (open_db(db_path, &db))
        return 1;
    int rc = ctf_db_load(db, id, &d, err, sizeof err);
    sqlite3_close(db);
    if (!rc)
        rc = ctf_write(&d, pos[1], err, sizeof err);
    if (rc) {
        fprintf(stderr, "kmemlab: export-ctf: %s\n", err);
        dump_free(&d);
        return 1;
    }
    fprintf(stderr, "kmemlab: export-ctf: run %lld: %llu events on %u CPUs, %llu lost, in %s\n", id,
            d.events, d.ncpus, d.lost, pos[1]);
    dump_free(&d);
    return 0;
}

static const struct command commands[] = {
    { "import", cmd_import,
      "usage: kmemlab import DUMP [--meta FILE] [--db PATH]\n"
      "\n"
      "Verifies the trace dump DUMP completely, then stores it as a new run in one\n"
      "transaction: run context, CPUs, every trace event, raw benchmark samples and\n"
      "their statistics (results table).  A corrupt or truncated dump is rejected\n"
      "with the problem and its byte offset, and the database is not touched.\n"
      "Prints the new run id on stdout.\n"
      "\n"
      "DUMP may also be a captured serial log of a run with kernel option dump=com1\n"
      "(make iso, bare metal): console text with the dump as KMD lines in it.  The\n"
      "log must hold one complete dump; a lost or corrupt line, a cut-off log or a\n"
      "wrong CRC is rejected naming the log line.  Without --meta such a run is\n"
      "stored with accel=bare when its CPU reported no hypervisor.\n"
      "\n"
      "  --meta FILE  key=value run facts written by the QEMU runner; keys:\n"
      "               started_utc git_rev git_dirty system accel (icount|tcg|kvm|bare)\n"
      "               qemu_cpu qemu_version icount rtc seed smp mem host cmdline_extra\n"
      "               accel_requested accel_fallback qemu_machine kernel kernel_sha256\n"
      "               programs programs_sha256 timeout qemu_exit exit_status result\n"
      "               duration_ms (any other key is an error)\n"
      "  --db PATH    database (default $DB, else results/runs.db; created if missing)\n" },
    { "list", cmd_list,
      "usage: kmemlab list [--db PATH]\n"
      "\n"
      "One line per stored run: id, start time, system, accel, kmem mode, CPUs,\n"
      "CPU model, events, lost events, git revision.\n" },
    { "show", cmd_show,
      "usage: kmemlab show ID [--brief] [--db PATH]\n"
      "\n"
      "Run ID's full context and its results table (n, min, p50, mean, p90, p99,\n"
      "max, stddev per benchmark/variant/metric; nearest-rank percentiles).\n"
      "--brief: one line of context (system, CPUs, run mode, CPU model, git) and\n"
      "the results table.\n" },
    { "report", cmd_report,
      "usage: kmemlab report ID [--out DIR] [--baseline FILE|none] [--db PATH]\n"
      "\n"
      "Writes DIR (default results/ID/) from the database alone: report.md (a\n"
      "summary line, results table, notes, charts and tables, the regression\n"
      "check, the full run context), report.gp + data/ to redraw the charts, and\n"
      "the charts in PNG and SVG (titles name the run and its run mode):\n"
      "  bench_NAME   per benchmark: box chart and CDF per metric, by variant\n"
      "  cdf_NAME     per benchmark with latencies (unit cycles): CDF by variant\n"
      "  alloc_NAME   benchmarks whose variants are all <alloc>_<shape> (alloc:\n"
      "               pool, kpager, kpager_batched; e.g. fault_complex): median\n"
      "               with p10-p90 whiskers grouped by shape, a bar per allocator;\n"
      "               report.md adds ratios to pool and the cost per extra kernel\n"
      "               page fault (metrics fault and kfaults)\n"
      "  kmem_kmem_usage  kernel memory per task stacked by type (kmem_usage)\n"
      "  phases       fault phases from the trace events, per benchmark phase\n"
      "               (needs the per-fault events: trace.mask=...; without them\n"
      "               report.md says so)\n"
      "  timeline     trace events per CPU over time\n"
      "\n"
      "  --baseline FILE  add `kmemlab regress`'s table against FILE (threshold 1%)\n"
      "               to report.md; default results/baseline/icount.txt when it\n"
      "               exists; 'none': no regression section.  A baseline of\n"
      "               another run mode is not compared (report.md says so).\n"
      "\n"
      "Trends across runs: kmemlab trend.  Needs gnuplot; fails if gnuplot fails.\n"
      "Prints the path of report.md.\n" },
    { "trend", cmd_trend,
      "usage: kmemlab trend [--benchmark B] [--accel MODE] [--system S] [--out DIR] [--db PATH]\n"
      "\n"
      "Trend charts across runs, from the database alone: for every benchmark and\n"
      "metric (or only benchmark B), the p50 of each variant, run after run (x:\n"
      "run id with its git revision, y: p50 in the metric's unit).  Writes DIR\n"
      "(default results/trend/): trend.md (a chart and a run x variant table per\n"
      "benchmark and metric), trend_BENCHMARK_METRIC.png/.svg, trend.gp.\n"
      "Only runs of one system (default kmemlab) and one run mode are compared:\n"
      "MODE (icount, kvm, ...), default the run mode of the newest run.\n"
      "Prints the path of trend.md.  No matching results: exit 1, nothing written.\n" },
    { "benchmarks-md", cmd_benchmarks_md,
      "usage: kmemlab benchmarks-md [--run ID] [--linux ID] [--update FILE] [--db PATH]\n"
      "\n"
      "Generates BENCHMARKS.md's tables from the database: Markdown blocks between\n"
      "'<!-- BEGIN kmemlab benchmarks-md NAME -->' and '<!-- END kmemlab\n"
      "benchmarks-md NAME -->' lines, NAME one of\n"
      "  ours    every figure of a kmemlab run (--run ID; default the newest icount run)\n"
      "  paper   ours beside Haeberlen & Elphinstone 2003 (complex fault 18,091 pool vs\n"
      "          21,454 kpager cycles, ratio 1.19, about 1,700 per kernel page fault,\n"
      "          40-60 kB per typical task, 1.5 frames pinned per task)\n"
      "  linux   the host baseline (--linux ID; default the newest system=linux run)\n"
      "  sel4    ours beside seL4's published x86-64 figures (sel4bench, Skylake, 2026)\n"
      "A figure the database lacks reads 'not measured'.  Without --update the\n"
      "blocks go to stdout; --update FILE replaces each block of FILE in place\n"
      "(all four must be there; the prose around them is kept).  A run id that is\n"
      "not in the database: exit 1.\n" },
    { "import-linux", cmd_import_linux,
      "usage: kmemlab import-linux FILE [--meta FILE] [--db PATH]\n"
      "\n"
      "Stores the samples file FILE written by build/host/fault_linux (the Linux\n"
      "baseline: first-write faults on this host; format in bench/linux/linux_samples.h)\n"
      "as a new run with system=linux, accel=host: the host's CPU model, kernel\n"
      "release (kernel_rev), git revision, pmu ('none' or the events counted), raw\n"
      "samples and their statistics.  The whole file is checked first (magic,\n"
      "keys, counts, CRC-32); a bad file is rejected with its line number and the\n"
      "database is not touched.  One transaction.  Prints the new run id.\n"
      "\n"
      "  --meta FILE  for a run inside a QEMU guest (scripts/linux_guest.sh): key=value\n"
      "               facts as for import --meta (accel=icount, qemu_cpu, qemu_machine,\n"
      "               icount, rtc, seed, smp, mem, host, ...) that replace or add to\n"
      "               what FILE implies; system, if given, must be linux\n"
      "  --db PATH    database (default $DB, else results/runs.db; created if missing)\n" },
    { "pmu-encode", cmd_pmu_encode,
      "usage: kmemlab pmu-encode EVENT[,EVENT...]\n"
      "\n"
      "Encodes perf-style event names (cycles, instructions, DTLB_LOAD_MISSES:WALK_COMPLETED,\n"
      "any libpfm4 name with :modifiers) for the core PMU libpfm4 detects here, or the\n"
      "one named by LIBPFM_FORCE_PMU (e.g. skl: the CPU model a QEMU run uses).\n"
      "Prints one line per event: name, raw PERFEVTSEL encoding (hex), PMU.\n"
      "Events count in user and kernel mode unless a modifier says otherwise (:u, :k).\n"
      "Every name is checked first: an unknown name, an empty list, a software event\n"
      "or an event needing more than one register prints nothing on stdout, names\n"
      "the event on stderr and exits 1.\n" },
    { "baseline", cmd_baseline,
      "usage: kmemlab baseline ID [--db PATH] > FILE\n"
      "\n"
      "Writes run ID's results as a regression baseline on stdout: one line per\n"
      "metric 'benchmark variant metric unit p50 n', after a header of comment\n"
      "lines naming the run mode, git revision, date and run it came from.\n"
      "File format (version 1):\n"
      "  line 1 exactly '# kmemlab baseline v1'; lines starting with '#' are\n"
      "  comments; '# KEY: VALUE' comments are header fields: accel (required),\n"
      "  git_rev, date, run, system, smp, cmdline; data lines are\n"
      "  'benchmark variant metric unit p50 [n]' (blank-separated words, p50 and n\n"
      "  non-negative integers), each metric at most once; blank lines ignored.\n"
      "The project's baseline is results/baseline/icount.txt (scripts/regress.sh --update).\n" },
    { "regress", cmd_regress,
      "usage: kmemlab regress ID --baseline FILE|--baseline-run BID [--threshold PCT] [--db PATH]\n"
      "                          [--markdown OUT]\n"
      "\n"
      "Compares run ID per benchmark/variant/metric with a baseline: the file FILE\n"
      "(format: kmemlab baseline --help; p50s only) or the stored run BID (its p50s\n"
      "and its samples).  A baseline metric missing from the run is a failure; a\n"
      "metric only in the run is a note; a changed unit is a failure; a changed\n"
      "sample count n is a note.  The run and the baseline must come from the same\n"
      "run mode (runs.accel vs the baseline's accel); otherwise nothing is compared\n"
      "(exit 2).\n"
      "\n"
      "icount runs, and any run against a FILE: a metric whose p50 is above\n"
      "baseline*(1+PCT/100) is a REGRESSION; below baseline*(1-PCT/100) it is\n"
      "'improved' (not a failure).  PCT defaults to 1 (icount figures are exact:\n"
      "one tick per guest instruction, the same on every run).\n"
      "\n"
      "Other run modes (kvm, bare, tcg) with --baseline-run BID: statistical mode.\n"
      "Their figures vary from run to run, so each metric's samples are compared\n"
      "with BID's by a one-sided Mann-Whitney U test (normal approximation, tie\n"
      "correction).  A REGRESSION is the run's samples significantly larger\n"
      "(p < 0.01) AND its p50 worse by more than PCT percent (default 2: a real but\n"
      "negligible shift does not fail); 'improved' the same the other way.  A\n"
      "metric without samples on either side falls back to the p50 rule (a note\n"
      "says so).  The table gains a p-value column.  Make a kvm or bare-metal\n"
      "baseline by keeping its run in the database and passing its id.  Against a\n"
      "FILE such runs are compared on p50 with the threshold, and a note says so.\n"
      "\n"
      "Prints a Markdown table (metric, baseline, run, delta %, [p,] verdict),\n"
      "notes, then one verdict line 'regress: PASS|FAIL: ...'; --markdown OUT\n"
      "writes the same text into OUT too.\n"
      "exit status: 0 no failure, 1 regression or missing metric, 2 no comparison\n"
      "possible (usage, unreadable or corrupt baseline, different run mode,\n"
      "unknown run, database error)\n" },
    { "export-perfetto", cmd_export_perfetto,
      "usage: kmemlab export-perfetto ID OUT.json [--db PATH]\n"
      "\n"
      "Writes run ID as a Chrome trace-event JSON file (open it in ui.perfetto.dev\n"
      "or chrome://tracing); OUT.json '-' writes to stdout.  From the database alone:\n"
      "  - one process per CPU ('cpu N'), one track per thread ('thread N', 0 is\n"
      "    'kernel/idle'; tid = the trace record's thread);\n"
      "  - every trace event as an instant named after event_types.name, its two\n"
      "    arguments in args under the event_types.a0/a1 names (integers, or\n"
      "    \"0x...\" strings when beyond 2^53);\n"
      "  - slices ('X'): 'page fault' from pagefault to the thread's fault_done,\n"
      "    'syscall NR' from syscall_enter to the thread's syscall_exit;\n"
      "  - 'phase N' slices from marker (1, N) to marker (2, N), as async b/e pairs\n"
      "    (category 'phase'); the markers themselves are instants too.\n"
      "Time: microseconds since boot, (tsc - cpus.tsc_offset - runs.boot_tsc) /\n"
      "(tsc_hz / 1e6).  Prints a summary on stderr.  An unknown run is an error\n"
      "(exit 1, no file written).\n"
      "\n"
      "  --db PATH    database (default $DB, else results/runs.db)\n" },
    { "compare", cmd_compare,
      "usage: kmemlab compare A B [--force] [--markdown OUT] [--db PATH]\n"
      "\n"
      "The deltas between runs A and B per benchmark/variant/metric, as a Markdown\n"
      "table: metric, unit, p50 A, p50 B, delta (B - A), delta % (of A), verdict;\n"
      "then one summary line 'compare: ...'.  Rows of A's metrics first, then B's\n"
      "own; a metric of one run only reads 'only in run N', a changed unit\n"
      "'unit changed'.\n"
      "Verdicts: icount runs are exact (one tick per guest instruction, the same on\n"
      "every run), so any difference reads 'higher' or 'lower', none 'same'.  When\n"
      "neither run is icount (kvm, bare, tcg) the table gains a p-value column and\n"
      "the verdict is regress's statistical rule: a one-sided Mann-Whitney U test\n"
      "of the two sample sets (normal approximation, tie correction) with p < 0.01\n"
      "and a p50 change of more than 2% reads 'higher' or 'lower'; a significant\n"
      "smaller change 'significant, within 2%'; else 'no significant difference'.\n"
      "\n"
      "Runs of different run modes (runs.accel) are refused (exit 1): their\n"
      "figures measure different things (guest instructions vs TSC cycles).\n"
      "  --force      compare them anyway (p50 deltas only)\n"
      "  --markdown OUT  write the same text into OUT too\n"
      "  --db PATH    database (default $DB, else results/runs.db)\n"
      "exit status: 0 compared, 1 unknown run, different run modes, database or\n"
      "write error (reason on stderr), 2 usage error\n" },
    { "export-ctf", cmd_export_ctf,
      "usage: kmemlab export-ctf ID OUTDIR [--db PATH]\n"
      "\n"
      "Writes run ID as a CTF 1.8 trace directory OUTDIR (metadata and one stream\n"
      "per CPU, as kmtrace ctf writes from a dump) from the database alone: the runs\n"
      "row, the cpus rows and every events row of the run.  Read it with\n"
      "babeltrace2 OUTDIR or open it in Trace Compass.  Time is BSP TSC ticks (tsc\n"
      "- cpus.tsc_offset) on one clock of tsc_hz; records lost in the run show as\n"
      "discarded events.  Prints a summary on stderr.\n"
      "An unknown run, a run without a trace (no cpus rows, e.g. a Linux baseline)\n"
      "or an event type this build does not know is an error (exit 1).\n"
      "\n"
      "  --db PATH    database (default $DB, else results/runs.db)\n" },
};

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage_error("%s", "no command given");
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        fputs(main_usage, stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("kmemlab %s\n", KM_GIT_REV);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(argv[1], commands[i].name))
            continue;
        current = &commands[i];
        for (int k = 2; k < argc; k++)
            if (!strcmp(argv[k], "--help") || !strcmp(argv[k], "-h")) {
                fputs(current->usage, stdout);
                return 0;
            }
        return current->run(argc - 2, argv + 2);
    }
    return usage_error("unknown command '%s'", argv[1]);
}
