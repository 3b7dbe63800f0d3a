/* The results database: schema and bulk import of a verified dump.
 *
 * One SQLite file (default results/runs.db) holds every run.  Table and
 * column names are an interface (scripts, reports and people query them):
 *
 *   runs(id, started_utc, git_rev, git_dirty, system, accel, ncpus,
 *        cpu_model, tsc_hz, kmem_mode, cmdline, pmu, host, ...)   one per run
 *   event_types(id, name, a0, a1, doc)        the trace event list (X-macro)
 *   events(run_id, cpu, seq, tsc, event_id, thread, a0, a1)   trace records
 *   cpus(run_id, cpu, apic_id, tsc_offset, written, lost, first_seq, count)
 *   samples(run_id, benchmark, variant, metric, idx, value)   raw samples
 *   results(run_id, benchmark, variant, metric, unit, n, min, p50, mean,
 *           p90, p99, max, stddev, overhead, cpu)     computed at import
 *
 * The full schema with a comment per column is db_schema_sql (db.c).
 * 64-bit unsigned values (tsc, a0, a1, trace_mask) are stored as SQLite
 * integers, i.e. their two's-complement signed reinterpretation: a kernel
 * address 0xffffffff80000000 reads back as -2147483648; cast in C
 * ((uint64_t)sqlite3_column_int64) or add 18446744073709551616 in SQL.
 */
#ifndef KM_ANALYZE_DB_H
#define KM_ANALYZE_DB_H

#include <stddef.h>
#include <sqlite3.h>

#include "dump_read.h"
#include "meta.h"

/* Schema version stored in PRAGMA user_version. */
#define KM_DB_SCHEMA_VERSION 1

/* The CREATE statements (all IF NOT EXISTS), without indexes. */
extern const char db_schema_sql[];

/* The CREATE INDEX statements, run after a bulk load. */
extern const char db_index_sql[];

/* The database path to use when none is given: $DB if set and non-empty,
 * else "results/runs.db". */
const char *db_default_path(void);

/* The runs.pmu text for a RUN record (cmdline: its kernel command line,
 * read for dumps older than the record's PMU fields): 'none', the
 * encodings programmed with the PMU's version and counters, 'available
 * (...)' or 'not programmed: ...' (see db.c). */
void db_pmu_value(const struct km_dump_run *r, const char *cmdline, char *out, size_t n);

/* Imports d (already verified by dump_decode) and its metadata m (may be
 * NULL) into the database at path, creating the file, its directory and the
 * schema if missing.  dump_path is recorded in runs.dump_path.  Everything
 * happens in one transaction: on failure nothing is left behind.  With
 * progress set, reports progress on stderr.  Returns the new run id (> 0),
 * or -1 with a one-line reason in err. */
long long db_import(const char *path, const struct dump *d, const struct meta *m,
                    const char *dump_path, int progress, char *err, size_t errlen);

/* Opens an existing database read-only and checks its schema version.
 * Returns 0, or -1 with the reason in err ("no database at PATH" when the
 * file does not exist). */
int db_open_ro(const char *path, sqlite3 **db, char *err, size_t errlen);

#endif
