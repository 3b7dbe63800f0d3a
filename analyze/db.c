/* The results database: schema and one-transaction bulk import.
 *
 * Import speed: events are the bulk (millions of rows).  The events table
 * is WITHOUT ROWID with primary key (run_id, cpu, seq), and rows are
 * inserted in key order with 64-row INSERTs, so every insert appends to the
 * rightmost leaf of one b-tree: no second index to maintain, no random page
 * writes.  Indexes are created after the load (IF NOT EXISTS).  There is
 * deliberately no events index by event type: building it costs ~0.45 s
 * per million events (it would halve the import rate); queries by type
 * scan one run's rows in primary-key order instead.  The rollback journal stays on (a
 * crash mid-import leaves the old database), synchronous=NORMAL syncs only
 * at commit, and a large page cache keeps the growing b-tree in memory.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "errmsg.h"
#include "files.h"
#include "db.h"
#include "events.h"
#include "stats.h"

const char db_schema_sql[] =
    "CREATE TABLE IF NOT EXISTS runs (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  started_utc TEXT,      -- run start, ISO 8601 UTC (runner meta)\n"
    "  git_rev TEXT,          -- checkout revision (meta), else the kernel's revision\n"
    "  git_dirty INTEGER,     -- 1: uncommitted changes (meta)\n"
    "  system TEXT NOT NULL,  -- system measured: kmemlab (meta system=)\n"
    "  accel TEXT,            -- icount | tcg | kvm | bare (meta)\n"
    "  ncpus INTEGER NOT NULL,-- CPUs that came up (dump)\n"
    "  cpu_model TEXT,        -- QEMU -cpu model (name before any ',features'), else CPUID brand\n"
    "  tsc_hz INTEGER NOT NULL, -- TSC ticks per second (kernel calibration)\n"
    "  kmem_mode TEXT,        -- pool | kpager\n"
    "  cmdline TEXT,          -- kernel command line\n"
    "  pmu TEXT NOT NULL,     -- 'none' without a PMU; else the encodings programmed (pmu=) and the PMU, or 'available (...)'\n"
    "  host TEXT,             -- host machine (meta)\n"
    "  qemu_cpu TEXT, qemu_version TEXT, icount TEXT, rtc TEXT, seed TEXT,\n"
    "  smp INTEGER, mem TEXT, cmdline_extra TEXT, -- runner settings (meta)\n"
    "  cpu_vendor TEXT, cpu_brand TEXT, cpuid_sig INTEGER, -- CPUID (dump)\n"
    "  run_flags INTEGER,     -- KM_RUN_F_* bits\n"
    "  kernel_rev TEXT,       -- revision the kernel was built from\n"
    "  trace_mode TEXT,       -- stop | overwrite\n"
    "  trace_mask INTEGER,    -- enable mask at the end of the run\n"
    "  ring_records INTEGER,  -- per-CPU ring capacity in records\n"
    "  timer_hz INTEGER,      -- LAPIC timer interrupts per second\n"
    "  boot_tsc INTEGER,      -- BSP TSC at kernel entry (time origin of reports)\n"
    "  exit_status INTEGER,   -- 0 when every program exited 0\n"
    "  events INTEGER,        -- trace records imported\n"
    "  lost INTEGER,          -- trace records lost (all CPUs)\n"
    "  samples INTEGER,       -- benchmark samples imported\n"
    "  dump_bytes INTEGER,    -- size of the dump\n"
    "  dump_path TEXT,        -- where the dump was imported from\n"
    "  imported_utc TEXT,     -- when it was imported\n"
    "  accel_requested TEXT, accel_fallback TEXT, qemu_machine TEXT, -- runner (meta)\n"
    "  kernel_image TEXT,     -- meta kernel=: the image booted\n"
    "  kernel_sha256 TEXT, programs TEXT, programs_sha256 TEXT,\n"
    "  timeout_s INTEGER,     -- meta timeout=\n"
    "  qemu_exit INTEGER, result TEXT, duration_ms INTEGER -- how the run ended (meta)\n"
    ");\n"
    "CREATE TABLE IF NOT EXISTS event_types (\n"
    "  id INTEGER PRIMARY KEY, -- enum km_event_id (0..63)\n"
    "  name TEXT NOT NULL, a0 TEXT, a1 TEXT, doc TEXT\n"
    ");\n"
    "CREATE TABLE IF NOT EXISTS cpus (\n"
    "  run_id INTEGER NOT NULL REFERENCES runs(id),\n"
    "  cpu INTEGER NOT NULL, apic_id INTEGER,\n"
    "  tsc_offset INTEGER,    -- this CPU's TSC minus the BSP's: BSP time = tsc - tsc_offset\n"
    "  written INTEGER, lost INTEGER, first_seq INTEGER, count INTEGER,\n"
    "  PRIMARY KEY (run_id, cpu)\n"
    ") WITHOUT ROWID;\n"
    "CREATE TABLE IF NOT EXISTS events (\n"
    "  run_id INTEGER NOT NULL REFERENCES runs(id),\n"
    "  cpu INTEGER NOT NULL,\n"
    "  seq INTEGER NOT NULL,  -- per-CPU record number since boot\n"
    "  tsc INTEGER NOT NULL,  -- this CPU's TSC (subtract cpus.tsc_offset for BSP time)\n"
    "  event_id INTEGER NOT NULL REFERENCES event_types(id),\n"
    "  thread INTEGER, a0 INTEGER, a1 INTEGER,\n"
    "  PRIMARY KEY (run_id, cpu, seq)\n"
    ") WITHOUT ROWID;\n"
    "CREATE TABLE IF NOT EXISTS samples (\n"
    "  run_id INTEGER NOT NULL REFERENCES runs(id),\n"
    "  benchmark TEXT NOT NULL, variant TEXT NOT NULL, metric TEXT NOT NULL,\n"
    "  idx INTEGER NOT NULL,  -- iteration number within the series\n"
    "  value INTEGER NOT NULL,-- raw sample, overhead already subtracted\n"
    "  PRIMARY KEY (run_id, benchmark, variant, metric, idx)\n"
    ") WITHOUT ROWID;\n"
    "CREATE TABLE IF NOT EXISTS results (\n"
    "  run_id INTEGER NOT NULL REFERENCES runs(id),\n"
    "  benchmark TEXT NOT NULL, variant TEXT NOT NULL, metric TEXT NOT NULL,\n"
    "  unit TEXT,             -- cycles = TSC ticks (icount: guest instructions)\n"
    "  n INTEGER,             -- samples\n"
    "  min INTEGER, p50 INTEGER, mean REAL, p90 INTEGER, p99 INTEGER, max INTEGER,\n"
    "  stddev REAL,           -- sample stddev (n-1); NULL when n < 2\n"
    "  overhead INTEGER,      -- empty-operation cost subtracted from each sample\n"
    "  cpu INTEGER,           -- CPU the samples were taken on\n"
    "  PRIMARY KEY (run_id, benchmark, variant, metric)\n"
    ") WITHOUT ROWID;\n";
/* Percentiles: nearest rank (stats.h). */

const char db_index_sql[] =

    "CREATE INDEX IF NOT EXISTS runs_by_start ON runs(started_utc);\n";

const char *db_default_path(void)
{
    const char *p = getenv("DB");
    return p && *p ? p : "results/runs.db";
}

/* Everything one import needs while it runs. */
struct importer {
    sqlite3 *db;
    char *err;
    size_t errlen;
};

static int sql_fail(struct importer *im, const char *what)
{
    return errmsg(im->err, im->errlen, "%s: %s", what, sqlite3_errmsg(im->db));
}

static int exec(struct importer *im, const char *sql, const char *what)
{
    char *msg = NULL;
    if (sqlite3_exec(im->db, sql, NULL, NULL, &msg) == SQLITE_OK)
        return 0;
    errmsg(im->err, im->errlen, "%s: %s", what, msg ? msg : sqlite3_errmsg(im->db));
    sqlite3_free(msg);
    return -1;
}

static int prepare(struct importer *im, const char *sql, sqlite3_stmt **st)
{
    if (sqlite3_prepare_v2(im->db, sql, -1, st, NULL) == SQLITE_OK)
        return 0;
    return sql_fail(im, "prepare");
}

/* Binds a string, or NULL for a NULL or empty one. */
static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s && *s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

/* Binds a meta integer (already checked by meta_parse), or NULL. */
static void bind_int_or_null(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_int64(st, i, strtoll(s, NULL, 10));
    else
        sqlite3_bind_null(st, i);
}

/* runs.pmu, from the RUN record's PMU fields (abi/dump.h):
 *   none                                  CPUID showed no PMU (QEMU TCG)
 *   0x53003c,0x5300c0 (v2, 8 x 48-bit counters)   what the kernel programmed
 *   available (v2, 8 x 48-bit counters)   a PMU, no pmu= given
 *   not programmed: pmu= names 4 events, v2 has 2 counters
 * Dumps of kernels before those fields: 'none' unless KM_RUN_F_PMU, then
 * the pmu= of the command line, or 'available'. */
void db_pmu_value(const struct km_dump_run *r, const char *cmdline, char *out, size_t n)
{
    if (r->pmu_version) {
        char what[64];
        snprintf(what, sizeof what, "v%u, %u x %u-bit counters", r->pmu_version, r->pmu_counters,
                 r->pmu_width);
        if (r->pmu_programmed) {
            size_t len = 0;
            for (unsigned i = 0; i < r->pmu_programmed && i < 4 && len < n; i++)
                len += (size_t)snprintf(out + len, n - len, "%s0x%llx", i ? "," : "",
                                        (unsigned long long)r->pmu_evtsel[i]);
            if (len < n)
                snprintf(out + len, n - len, " (%s)", what);
        } else if (r->pmu_requested) {
            snprintf(out, n, "not programmed: pmu= names %u events, %s", r->pmu_requested, what);
        } else {
            snprintf(out, n, "available (%s)", what);
        }
        return;
    }
    if (!(r->flags & KM_RUN_F_PMU)) {
        snprintf(out, n, "none");
        return;
    }
    const char *p = cmdline;
    while ((p = strstr(p, "pmu=")) != NULL) {
        if (p == cmdline || p[-1] == ' ') {
            size_t len = strcspn(p + 4, " ");
            snprintf(out, n, "%.*s", (int)len, p + 4);
            if (len)
                return;
        }
        p += 4;
    }
    snprintf(out, n, "available");
}

/* Trims the blanks CPUID brand strings are padded with. */
static void trimmed(const char *s, char *out, size_t n)
{
    while (*s == ' ')
        s++;
    snprintf(out, n, "%s", s);
    for (size_t l = strlen(out); l && out[l - 1] == ' '; l--)
        out[l - 1] = 0;
}

static long long insert_run(struct importer *im, const struct dump *d, const struct meta *m,
                            const char *dump_path)
{
    static const char sql[] =
        "INSERT INTO runs (started_utc, git_rev, git_dirty, system, accel, ncpus, cpu_model, "
        "tsc_hz, kmem_mode, cmdline, pmu, host, qemu_cpu, qemu_version, icount, rtc, seed, smp, "
        "mem, cmdline_extra, cpu_vendor, cpu_brand, cpuid_sig, run_flags, kernel_rev, trace_mode, "
        "trace_mask, ring_records, timer_hz, boot_tsc, exit_status, events, lost, samples, "
        "dump_bytes, dump_path, imported_utc, accel_requested, accel_fallback, qemu_machine, "
        "kernel_image, kernel_sha256, programs, programs_sha256, timeout_s, qemu_exit, result, "
        "duration_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
        "?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, "
        "?28, ?29, ?30, ?31, ?32, ?33, ?34, ?35, ?36, ?37, ?38, ?39, ?40, ?41, ?42, ?43, ?44, "
        "?45, ?46, ?47, ?48)";
    static const struct meta none;
    sqlite3_stmt *st;
    char brand[64], pmu[128], now[32];
    const char *const *v;
    time_t t = time(NULL);

    if (!m)
        m = &none;
    v = (const char *const *)m->value;
    if (prepare(im, sql, &st))
        return -1;
    trimmed(d->cpu_brand, brand, sizeof brand);
    db_pmu_value(&d->run, d->cmdline, pmu, sizeof pmu);
    strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));

    bind_text(st, 1, v[META_started_utc]);
    bind_text(st, 2, v[META_git_rev] ? v[META_git_rev] : d->kernel_rev);
    bind_int_or_null(st, 3, v[META_git_dirty]);
    bind_text(st, 4, v[META_system] ? v[META_system] : "kmemlab");
    bind_text(st, 5, v[META_accel]);
    sqlite3_bind_int(st, 6, (int)d->ncpus);
    /* cpu_model: the -cpu model name without its feature list */
    char model[64];
    snprintf(model, sizeof model, "%.*s", v[META_qemu_cpu] ? (int)strcspn(v[META_qemu_cpu], ",") : 0,
             v[META_qemu_cpu] ? v[META_qemu_cpu] : "");
    bind_text(st, 7, model[0] ? model : brand[0] ? brand : d->cpu_vendor);
    sqlite3_bind_int64(st, 8, (sqlite3_int64)d->run.tsc_hz);
    bind_text(st, 9, d->kmem_mode);
    bind_text(st, 10, d->cmdline);
    bind_text(st, 11, pmu);
    bind_text(st, 12, v[META_host]);
    bind_text(st, 13, v[META_qemu_cpu]);
    bind_text(st, 14, v[META_qemu_version]);
    bind_text(st, 15, v[META_icount]);
    bind_text(st, 16, v[META_rtc]);
    bind_text(st, 17, v[META_seed]);
    bind_int_or_null(st, 18, v[META_smp]);
    bind_text(st, 19, v[META_mem]);
    bind_text(st, 20, v[META_cmdline_extra]);
    bind_text(st, 21, d->cpu_vendor);
    bind_text(st, 22, brand);
    sqlite3_bind_int64(st, 23, d->run.cpuid_sig);
    sqlite3_bind_int64(st, 24, d->run.flags);
    bind_text(st, 25, d->kernel_rev);
    bind_text(st, 26, d->run.trace_mode == KM_TRACE_OVERWRITE ? "overwrite" : "stop");
    sqlite3_bind_int64(st, 27, (sqlite3_int64)d->run.trace_mask);
    sqlite3_bind_int64(st, 28, d->run.ring_records);
    sqlite3_bind_int64(st, 29, d->run.timer_hz);
    sqlite3_bind_int64(st, 30, (sqlite3_int64)d->run.boot_tsc);
    sqlite3_bind_int64(st, 31, d->run.exit_status);
    sqlite3_bind_int64(st, 32, (sqlite3_int64)d->events);
    sqlite3_bind_int64(st, 33, (sqlite3_int64)d->lost);
    sqlite3_bind_int64(st, 34, (sqlite3_int64)d->samples);
    sqlite3_bind_int64(st, 35, (sqlite3_int64)d->bytes);
    bind_text(st, 36, dump_path);
    bind_text(st, 37, now);
    bind_text(st, 38, v[META_accel_requested]);
    bind_text(st, 39, v[META_accel_fallback]);
    bind_text(st, 40, v[META_qemu_machine]);
    bind_text(st, 41, v[META_kernel]);
    bind_text(st, 42, v[META_kernel_sha256]);
    bind_text(st, 43, v[META_programs]);
    bind_text(st, 44, v[META_programs_sha256]);
    bind_int_or_null(st, 45, v[META_timeout]);
    bind_int_or_null(st, 46, v[META_qemu_exit]);
    bind_text(st, 47, v[META_result]);
    bind_int_or_null(st, 48, v[META_duration_ms]);
    if (sqlite3_step(st) != SQLITE_DONE) {
        sql_fail(im, "insert run");
        sqlite3_finalize(st);
        return -1;
    }
    sqlite3_finalize(st);
    return sqlite3_last_insert_rowid(im->db);
}

static int insert_event_types(struct importer *im)
{
    sqlite3_stmt *st;
    if (prepare(im, "INSERT OR REPLACE INTO event_types (id, name, a0, a1, doc) VALUES (?,?,?,?,?)", &st))
        return -1;
    for (unsigned i = 0; i < km_nevents; i++) {
        const struct km_event_info *e = &km_events[i];
        sqlite3_bind_int(st, 1, (int)e->id);
        sqlite3_bind_text(st, 2, e->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, e->a0, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, e->a1, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, e->doc, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE) {
            sql_fail(im, "insert event type");
            sqlite3_finalize(st);
            return -1;
        }
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    return 0;
}

static int insert_cpus(struct importer *im, long long run, const struct dump *d)
{
    sqlite3_stmt *st;
    if (prepare(im, "INSERT INTO cpus (run_id, cpu, apic_id, tsc_offset, written, lost, first_seq, count) "
                    "VALUES (?,?,?,?,?,?,?,?)", &st))
        return -1;
    for (unsigned c = 0; c < d->ncpus; c++) {
        const struct km_dump_cpu *i = &d->cpu[c].info;
        sqlite3_bind_int64(st, 1, run);
        sqlite3_bind_int(st, 2, (int)c);
        sqlite3_bind_int64(st, 3, i->apic_id);
        sqlite3_bind_int64(st, 4, i->tsc_offset);
        sqlite3_bind_int64(st, 5, (sqlite3_int64)i->written);
        sqlite3_bind_int64(st, 6, (sqlite3_int64)i->lost);
        sqlite3_bind_int64(st, 7, (sqlite3_int64)i->first_seq);
        sqlite3_bind_int64(st, 8, (sqlite3_int64)i->count);
        if (sqlite3_step(st) != SQLITE_DONE) {
            sql_fail(im, "insert cpu");
            sqlite3_finalize(st);
            return -1;
        }
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    return 0;
}

/* Rows per multi-row INSERT: one sqlite3_step per 64 events instead of one
 * per event (measured: 0.84 s -> 0.42 s for 1M events). */
#define EVENT_BATCH 64

static int prepare_event_insert(struct importer *im, int rows, sqlite3_stmt **st)
{
    char sql[128 + EVENT_BATCH * 20];
    int len = snprintf(sql, sizeof sql,
                       "INSERT INTO events (run_id, cpu, seq, tsc, event_id, thread, a0, a1) VALUES ");
    for (int i = 0; i < rows; i++)
        len += snprintf(sql + len, sizeof sql - (size_t)len, "%s(?,?,?,?,?,?,?,?)", i ? "," : "");
    return prepare(im, sql, st);
}

static int insert_events(struct importer *im, long long run, const struct dump *d, int progress)
{
    sqlite3_stmt *batch, *one;
    unsigned long long done = 0, next_report = d->events / 4;
    if (prepare_event_insert(im, EVENT_BATCH, &batch))
        return -1;
    if (prepare_event_insert(im, 1, &one)) {
        sqlite3_finalize(batch);
        return -1;
    }
    /* sqlite3_reset keeps bindings: run and cpu are bound once per CPU. */
    for (unsigned c = 0; c < d->ncpus; c++) {
        const struct dump_cpu_trace *t = &d->cpu[c];
        for (int k = 0; k < EVENT_BATCH; k++) {
            sqlite3_bind_int64(batch, 8 * k + 1, run);
            sqlite3_bind_int(batch, 8 * k + 2, (int)c);
        }
        sqlite3_bind_int64(one, 1, run);
        sqlite3_bind_int(one, 2, (int)c);
        for (unsigned long long i = 0; i < t->info.count;) {
            int rows = t->info.count - i >= EVENT_BATCH ? EVENT_BATCH : 1;
            sqlite3_stmt *st = rows == EVENT_BATCH ? batch : one;
            for (int k = 0; k < rows; k++, i++) {
                const struct km_trace_rec *r = &t->recs[i];
                int p = 8 * k;
                sqlite3_bind_int64(st, p + 3, (sqlite3_int64)(t->info.first_seq + i));
                sqlite3_bind_int64(st, p + 4, (sqlite3_int64)r->tsc);
                sqlite3_bind_int(st, p + 5, r->event);
                sqlite3_bind_int64(st, p + 6, r->thread);
                sqlite3_bind_int64(st, p + 7, (sqlite3_int64)r->a0);
                sqlite3_bind_int64(st, p + 8, (sqlite3_int64)r->a1);
            }
            if (sqlite3_step(st) != SQLITE_DONE) {
                sql_fail(im, "insert event");
                sqlite3_finalize(batch);
                sqlite3_finalize(one);
                return -1;
            }
            sqlite3_reset(st);
            done += (unsigned long long)rows;
            if (progress && done >= next_report && done < d->events) {
                fprintf(stderr, "kmemlab: import: %llu of %llu events\n", done, d->events);
                next_report += d->events / 4;
            }
        }
    }
    sqlite3_finalize(batch);
    sqlite3_finalize(one);
    return 0;
}

static int insert_samples(struct importer *im, long long run, const struct dump *d)
{
    sqlite3_stmt *st, *rs;
    if (prepare(im, "INSERT INTO samples (run_id, benchmark, variant, metric, idx, value) "
                    "VALUES (?,?,?,?,?,?)", &st))
        return -1;
    if (prepare(im, "INSERT INTO results (run_id, benchmark, variant, metric, unit, n, min, p50, "
                    "mean, p90, p99, max, stddev, overhead, cpu) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", &rs)) {
        sqlite3_finalize(st);
        return -1;
    }
    int rc = 0;
    for (size_t k = 0; k < d->nseries && !rc; k++) {
        const struct dump_series *s = &d->series[k];
        struct stats x;
        sqlite3_bind_int64(st, 1, run);
        sqlite3_bind_text(st, 2, s->benchmark, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, s->variant, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, s->metric, -1, SQLITE_STATIC);
        for (unsigned long long i = 0; i < s->n && !rc; i++) {
            sqlite3_bind_int64(st, 5, (sqlite3_int64)i);
            sqlite3_bind_int64(st, 6, s->samples[i]);
            if (sqlite3_step(st) != SQLITE_DONE)
                rc = sql_fail(im, "insert sample");
            sqlite3_reset(st);
        }
        if (rc)
            break;
        if (stats_compute(s->samples, s->n, &x)) {
            rc = errmsg(im->err, im->errlen, "out of memory computing statistics");
            break;
        }
        sqlite3_bind_int64(rs, 1, run);
        sqlite3_bind_text(rs, 2, s->benchmark, -1, SQLITE_STATIC);
        sqlite3_bind_text(rs, 3, s->variant, -1, SQLITE_STATIC);
        sqlite3_bind_text(rs, 4, s->metric, -1, SQLITE_STATIC);
        sqlite3_bind_text(rs, 5, s->unit, -1, SQLITE_STATIC);
        sqlite3_bind_int64(rs, 6, (sqlite3_int64)x.n);
        if (x.n) {
            sqlite3_bind_int64(rs, 7, x.min);
            sqlite3_bind_int64(rs, 8, x.p50);
            sqlite3_bind_double(rs, 9, x.mean);
            sqlite3_bind_int64(rs, 10, x.p90);
            sqlite3_bind_int64(rs, 11, x.p99);
            sqlite3_bind_int64(rs, 12, x.max);
        } else {
            for (int i = 7; i <= 12; i++)
                sqlite3_bind_null(rs, i);
        }
        if (x.has_stddev)
            sqlite3_bind_double(rs, 13, x.stddev);
        else
            sqlite3_bind_null(rs, 13);
        sqlite3_bind_int64(rs, 14, s->overhead);
        sqlite3_bind_int64(rs, 15, s->cpu);
        if (sqlite3_step(rs) != SQLITE_DONE)
            rc = sql_fail(im, "insert result");
        sqlite3_reset(rs);
    }
    sqlite3_finalize(st);
    sqlite3_finalize(rs);
    return rc;
}

/* Columns added to schema version 1 after databases were first made: a
 * database that lacks them gets them (NULL for the old runs). */
static const char *const added_columns[][2] = {
    { "accel_requested", "TEXT" }, { "accel_fallback", "TEXT" }, { "qemu_machine", "TEXT" },
    { "kernel_image", "TEXT" },    { "kernel_sha256", "TEXT" },  { "programs", "TEXT" },
    { "programs_sha256", "TEXT" }, { "timeout_s", "INTEGER" },   { "qemu_exit", "INTEGER" },
    { "result", "TEXT" },          { "duration_ms", "INTEGER" },
};

static int add_missing_columns(struct importer *im)
{
    for (size_t i = 0; i < sizeof added_columns / sizeof added_columns[0]; i++) {
        sqlite3_stmt *st;
        char sql[160];
        int have = 0;
        if (prepare(im, "SELECT count(*) FROM pragma_table_info('runs') WHERE name = ?", &st))
            return -1;
        sqlite3_bind_text(st, 1, added_columns[i][0], -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW)
            have = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
        if (have)
            continue;
        snprintf(sql, sizeof sql, "ALTER TABLE runs ADD COLUMN %s %s", added_columns[i][0],
                 added_columns[i][1]);
        if (exec(im, sql, "upgrade schema"))
            return -1;
    }
    return 0;
}

/* Creates the schema, or checks that an existing one is ours. */
static int ensure_schema(struct importer *im)
{
    sqlite3_stmt *st;
    int version = 0;
    if (prepare(im, "PRAGMA user_version", &st))
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (version > KM_DB_SCHEMA_VERSION)
        return errmsg(im->err, im->errlen,
                    "database schema version %d is newer than this kmemlab's (%d)", version,
                    KM_DB_SCHEMA_VERSION);
    if (exec(im, db_schema_sql, "create schema") || add_missing_columns(im))
        return -1;
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", KM_DB_SCHEMA_VERSION);
    return exec(im, sql, "set schema version");
}

long long db_import(const char *path, const struct dump *d, const struct meta *m,
                    const char *dump_path, int progress, char *err, size_t errlen)
{
    struct importer im = { .err = err, .errlen = errlen };
    long long run = -1;

    if (make_dirs_to(path, err, errlen))
        return -1;
    if (sqlite3_open_v2(path, &im.db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        errmsg(err, errlen, "cannot open database %s: %s", path,
             im.db ? sqlite3_errmsg(im.db) : "out of memory");
        sqlite3_close(im.db);
        return -1;
    }
    sqlite3_busy_timeout(im.db, 10000);
    if (exec(&im, "PRAGMA synchronous = NORMAL; PRAGMA cache_size = -262144; "
                  "PRAGMA temp_store = MEMORY", "set pragmas") ||
        exec(&im, "BEGIN IMMEDIATE", "begin transaction"))
        goto out;
    if (ensure_schema(&im) || (run = insert_run(&im, d, m, dump_path)) < 0 ||
        insert_event_types(&im) || insert_cpus(&im, run, d) ||
        insert_events(&im, run, d, progress) || insert_samples(&im, run, d) ||
        exec(&im, db_index_sql, "create indexes") || exec(&im, "COMMIT", "commit")) {
        run = -1;
        sqlite3_exec(im.db, "ROLLBACK", NULL, NULL, NULL);
    }
out:
    if (sqlite3_close(im.db) != SQLITE_OK && run > 0) {
        errmsg(err, errlen, "closing database %s failed", path);
        run = -1;
    }
    return run;
}

int db_open_ro(const char *path, sqlite3 **db, char *err, size_t errlen)
{
    struct stat st;
    *db = NULL;
    if (stat(path, &st) != 0)
        return errmsg(err, errlen, "no database at %s (import a run first: kmemlab import DUMP)", path);
    if (sqlite3_open_v2(path, db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        errmsg(err, errlen, "cannot open database %s: %s", path, *db ? sqlite3_errmsg(*db) : "out of memory");
        sqlite3_close(*db);
        *db = NULL;
        return -1;
    }
    sqlite3_busy_timeout(*db, 10000);
    sqlite3_stmt *s;
    int version = -1;
    if (sqlite3_prepare_v2(*db, "PRAGMA user_version", -1, &s, NULL) == SQLITE_OK) {
        if (sqlite3_step(s) == SQLITE_ROW)
            version = sqlite3_column_int(s, 0);
        sqlite3_finalize(s);
    }
    if (version != KM_DB_SCHEMA_VERSION) {
        if (version < 0)
            errmsg(err, errlen, "%s: not an SQLite database: %s", path, sqlite3_errmsg(*db));
        else
            errmsg(err, errlen, "%s: schema version %d, this kmemlab reads version %d", path,
                 version, KM_DB_SCHEMA_VERSION);
        sqlite3_close(*db);
        *db = NULL;
        return -1;
    }
    return 0;
}
