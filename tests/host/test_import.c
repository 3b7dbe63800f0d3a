/* Import into SQLite: row counts and values of a good import; a bad dump or
 * meta file leaves the database file byte-for-byte unchanged. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "db.h"
#include "events.h"
#include "import.h"
#include "stats.h"
#include "testutil.h"

struct fixture {
    char *dir;
    char db[4096], good[4096], meta[4096];
    struct synth_opts o;
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    struct membuf b;
    fx->dir = make_tempdir();
    if (!fx->dir)
        return -1;
    snprintf(fx->db, sizeof fx->db, "%s/sub/runs.db", fx->dir); /* directory made on demand */
    snprintf(fx->good, sizeof fx->good, "%s/good.dump", fx->dir);
    snprintf(fx->meta, sizeof fx->meta, "%s/run.meta", fx->dir);
    synth_defaults(&fx->o);
    fx->o.ncpus = 3;
    fx->o.events = 4000;
    fx->o.samples = 700;
    fx->o.lost = 5;
    synth_mem(&b, &fx->o);
    write_file(fx->good, b.p, b.len);
    membuf_free(&b);
    const char *meta = "started_utc=2025-01-02T03:04:05Z\ngit_rev=abc123\ngit_dirty=0\n"
                       "accel=icount\nqemu_cpu=Skylake-Client\nsmp=3\nhost=ci\n";
    write_file(fx->meta, meta, strlen(meta));
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    remove_tree(fx->dir);
    free(fx->dir);
    free(fx);
    return 0;
}

static long long count(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    long long n = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

static char *text(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    static char buf[256];
    buf[0] = 0;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        snprintf(buf, sizeof buf, "%s", sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return buf;
}

static void test_good_import(void **state)
{
    struct fixture *fx = *state;
    char err[1024];
    long long id;
    sqlite3 *db;

    assert_int_equal(import_run(fx->good, fx->meta, fx->db, &id, err, sizeof err), 0);
    assert_int_equal(id, 1);
    assert_int_equal(db_open_ro(fx->db, &db, err, sizeof err), 0);
    assert_int_equal(count(db, "SELECT count(*) FROM runs"), 1);
    assert_int_equal(count(db, "SELECT count(*) FROM events WHERE run_id = 1"), fx->o.events);
    assert_int_equal(count(db, "SELECT count(*) FROM cpus WHERE run_id = 1"), fx->o.ncpus);
    assert_int_equal(count(db, "SELECT count(*) FROM samples WHERE run_id = 1"),
                     fx->o.samples * SYNTH_NSERIES);
    assert_int_equal(count(db, "SELECT count(*) FROM results WHERE run_id = 1"), SYNTH_NSERIES);
    assert_int_equal(count(db, "SELECT count(*) FROM event_types"), km_nevents);
    assert_int_equal(count(db, "SELECT sum(lost) FROM cpus"), fx->o.lost * fx->o.ncpus);
    assert_int_equal(count(db, "SELECT events FROM runs WHERE id = 1"), fx->o.events);
    assert_int_equal(count(db, "SELECT ncpus FROM runs WHERE id = 1"), fx->o.ncpus);
    assert_int_equal(count(db, "SELECT tsc_hz FROM runs WHERE id = 1"), 2000000000);
    assert_string_equal(text(db, "SELECT accel FROM runs"), "icount");
    assert_string_equal(text(db, "SELECT cpu_model FROM runs"), "Skylake-Client"); /* -cpu wins */
    assert_string_equal(text(db, "SELECT cpu_brand FROM runs"), "kmemlab synthetic CPU @ 2.00GHz");
    assert_string_equal(text(db, "SELECT git_rev FROM runs"), "abc123");
    assert_string_equal(text(db, "SELECT system FROM runs"), "kmemlab");
    assert_string_equal(text(db, "SELECT pmu FROM runs"), "none");
    assert_string_equal(text(db, "SELECT kmem_mode FROM runs"), "pool");
    assert_string_equal(text(db, "SELECT started_utc FROM runs"), "2025-01-02T03:04:05Z");
    assert_string_equal(text(db, "SELECT name FROM event_types WHERE id = 2"), "timer");
    /* event rows: per-CPU seq numbers contiguous from first_seq */
    assert_int_equal(count(db, "SELECT count(*) FROM events e JOIN cpus c USING (run_id, cpu) "
                               "WHERE e.seq < c.first_seq OR e.seq >= c.first_seq + c.count"), 0);
    assert_int_equal(count(db, "SELECT count(DISTINCT cpu || ':' || seq) FROM events"), fx->o.events);
    /* indexes exist after the load */
    assert_int_equal(count(db, "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND "
                               "name = 'runs_by_start'"), 1);
    assert_int_equal(count(db, "PRAGMA user_version"), KM_DB_SCHEMA_VERSION);
    sqlite3_close(db);
}

/* runs.pmu from the RUN record: what the kernel found and programmed. */
static void test_pmu_value(void **state)
{
    (void)state;
    struct km_dump_run r;
    char out[128];
    memset(&r, 0, sizeof r);
    db_pmu_value(&r, "pmu=0x53003c", out, sizeof out); /* QEMU TCG: version 0 */
    assert_string_equal(out, "none");
    r.pmu_version = 2;
    r.pmu_counters = 8;
    r.pmu_width = 48;
    db_pmu_value(&r, "", out, sizeof out);
    assert_string_equal(out, "available (v2, 8 x 48-bit counters)");
    r.pmu_requested = r.pmu_programmed = 2;
    r.pmu_evtsel[0] = 0x53003c;
    r.pmu_evtsel[1] = 0x5300c0;
    db_pmu_value(&r, "pmu=0x53003c,0x5300c0", out, sizeof out);
    assert_string_equal(out, "0x53003c,0x5300c0 (v2, 8 x 48-bit counters)");
    r.pmu_counters = 1;
    r.pmu_programmed = 0;
    db_pmu_value(&r, "pmu=0x53003c,0x5300c0", out, sizeof out);
    assert_string_equal(out, "not programmed: pmu= names 2 events, v2, 1 x 48-bit counters");
    memset(&r, 0, sizeof r); /* an older kernel: only the CPUID flag */
    r.flags = KM_RUN_F_PMU;
    db_pmu_value(&r, "timer_hz=0 pmu=0x53003c", out, sizeof out);
    assert_string_equal(out, "0x53003c");
}

/* The results table holds what stats_compute says about the raw samples. */
static void test_results_match_samples(void **state)
{
    struct fixture *fx = *state;
    char err[1024];
    sqlite3 *db;
    sqlite3_stmt *st, *rs;
    assert_int_equal(db_open_ro(fx->db, &db, err, sizeof err), 0);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT benchmark, variant, metric, n, min, p50, mean, "
                                            "p90, p99, max, stddev FROM results WHERE run_id = 1",
                                        -1, &rs, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT value FROM samples WHERE run_id = 1 AND "
                                            "benchmark = ? AND variant = ? AND metric = ? ORDER BY idx",
                                        -1, &st, NULL), SQLITE_OK);
    int rows = 0;
    while (sqlite3_step(rs) == SQLITE_ROW) {
        long long v[1000];
        size_t n = 0;
        struct stats s;
        for (int i = 0; i < 3; i++)
            sqlite3_bind_text(st, i + 1, (const char *)sqlite3_column_text(rs, i), -1, SQLITE_TRANSIENT);
        while (sqlite3_step(st) == SQLITE_ROW && n < 1000)
            v[n++] = sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
        assert_int_equal(n, fx->o.samples);
        assert_int_equal(stats_compute(v, n, &s), 0);
        assert_int_equal(sqlite3_column_int64(rs, 3), s.n);
        assert_int_equal(sqlite3_column_int64(rs, 4), s.min);
        assert_int_equal(sqlite3_column_int64(rs, 5), s.p50);
        assert_true(fabs(sqlite3_column_double(rs, 6) - s.mean) < 1e-9);
        assert_int_equal(sqlite3_column_int64(rs, 7), s.p90);
        assert_int_equal(sqlite3_column_int64(rs, 8), s.p99);
        assert_int_equal(sqlite3_column_int64(rs, 9), s.max);
        assert_true(fabs(sqlite3_column_double(rs, 10) - s.stddev) < 1e-9);
        rows++;
    }
    assert_int_equal(rows, SYNTH_NSERIES);
    sqlite3_finalize(st);
    sqlite3_finalize(rs);
    sqlite3_close(db);
}

static void test_second_import(void **state)
{
    struct fixture *fx = *state;
    char err[1024];
    long long id;
    sqlite3 *db;
    assert_int_equal(import_run(fx->good, NULL, fx->db, &id, err, sizeof err), 0);
    assert_int_equal(id, 2);
    assert_int_equal(db_open_ro(fx->db, &db, err, sizeof err), 0);
    assert_int_equal(count(db, "SELECT count(*) FROM events"), 2 * fx->o.events);
    assert_int_equal(count(db, "SELECT count(*) FROM events WHERE run_id = 2"), fx->o.events);
    /* without meta: defaults, the kernel's revision, the CPUID brand */
    assert_string_equal(text(db, "SELECT coalesce(accel, 'NULL') FROM runs WHERE id = 2"), "NULL");
    assert_string_equal(text(db, "SELECT git_rev FROM runs WHERE id = 2"), "synthetic");
    assert_string_equal(text(db, "SELECT cpu_model FROM runs WHERE id = 2"),
                        "kmemlab synthetic CPU @ 2.00GHz");
    assert_string_equal(text(db, "SELECT system FROM runs WHERE id = 2"), "kmemlab");
    sqlite3_close(db);
}

/* A bad input is rejected before the database is opened for writing. */
static void expect_untouched(struct fixture *fx, const void *dump, size_t len, const char *meta,
                             const char *words)
{
    char path[4096], err[1024];
    long long id = 0;
    snprintf(path, sizeof path, "%s/bad.dump", fx->dir);
    write_file(path, dump, len);
    unsigned long long before = file_hash(fx->db);
    assert_true(before != 0);
    assert_int_equal(import_run(path, meta, fx->db, &id, err, sizeof err), -1);
    assert_int_equal(id, -1);
    if (!strstr(err, words))
        fail_msg("error \"%s\" lacks \"%s\"", err, words);
    assert_non_null(strstr(err, "unchanged"));
    assert_int_equal(file_hash(fx->db), before);
}

static void test_bad_dumps_leave_db_unchanged(void **state)
{
    struct fixture *fx = *state;
    size_t n;
    unsigned char *good = read_whole(fx->good, &n);
    struct frame_pos pos[256];
    size_t nf = frames_of(good, n, pos, 256);

    expect_untouched(fx, good, n / 2, NULL, "truncated dump: frame");
    expect_untouched(fx, good, pos[nf - 1].off, NULL, "truncated dump (no END frame)");
    expect_untouched(fx, good, 0, NULL, "empty dump");
    good[pos[4].off + 100] ^= 4; /* inside the first EVENTS frame */
    expect_untouched(fx, good, n, NULL, "payload CRC mismatch: frame 4 at byte");
    good[pos[4].off + 100] ^= 4;
    good[pos[1].off + 9] ^= 1;
    expect_untouched(fx, good, n, NULL, "header CRC mismatch: frame 1 at byte 536");
    good[pos[1].off + 9] ^= 1;
    good[0] = 'X';
    expect_untouched(fx, good, n, NULL, "bad magic: frame 0 at byte 0");
    good[0] = 'K';
    unsigned char *longer = malloc(n + 3);
    memcpy(longer, good, n);
    memcpy(longer + n, "abc", 3);
    expect_untouched(fx, longer, n + 3, NULL, "data after END frame");
    free(longer);

    /* a good dump with a bad meta file is rejected too */
    char meta[4096];
    snprintf(meta, sizeof meta, "%s/bad.meta", fx->dir);
    write_file(meta, "accel=icount\nflavour=vanilla\n", 29);
    expect_untouched(fx, good, n, meta, "bad.meta:2: unknown key");
    expect_untouched(fx, good, n, "/nonexistent/run.meta", "/nonexistent/run.meta");
    free(good);

    /* and with no database yet, none is created */
    char fresh[4096], err[1024];
    long long id;
    snprintf(fresh, sizeof fresh, "%s/fresh/runs.db", fx->dir);
    assert_int_equal(import_run("/nonexistent.dump", NULL, fresh, &id, err, sizeof err), -1);
    assert_int_equal(access(fresh, F_OK), -1);
}

static void test_schema_columns(void **state)
{
    struct fixture *fx = *state;
    char err[1024], sql[256];
    sqlite3 *db;
    static const char *const cols[][2] = {
        { "runs", "id" }, { "runs", "started_utc" }, { "runs", "git_rev" }, { "runs", "git_dirty" },
        { "runs", "system" }, { "runs", "accel" }, { "runs", "ncpus" }, { "runs", "cpu_model" },
        { "runs", "tsc_hz" }, { "runs", "kmem_mode" }, { "runs", "cmdline" }, { "runs", "pmu" },
        { "runs", "host" }, { "event_types", "name" }, { "events", "run_id" }, { "events", "cpu" },
        { "events", "seq" }, { "events", "tsc" }, { "events", "event_id" }, { "events", "thread" },
        { "events", "a0" }, { "events", "a1" }, { "cpus", "apic_id" }, { "cpus", "tsc_offset" },
        { "cpus", "written" }, { "cpus", "lost" }, { "samples", "benchmark" },
        { "samples", "variant" }, { "samples", "metric" }, { "samples", "idx" },
        { "samples", "value" }, { "results", "unit" }, { "results", "n" }, { "results", "min" },
        { "results", "p50" }, { "results", "mean" }, { "results", "p90" }, { "results", "p99" },
        { "results", "max" }, { "results", "stddev" }, { "results", "overhead" },
    };
    assert_int_equal(db_open_ro(fx->db, &db, err, sizeof err), 0);
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++) {
        snprintf(sql, sizeof sql, "SELECT count(*) FROM pragma_table_info('%s') WHERE name = '%s'",
                 cols[i][0], cols[i][1]);
        if (count(db, sql) != 1)
            fail_msg("no column %s.%s", cols[i][0], cols[i][1]);
    }
    sqlite3_close(db);
    assert_int_equal(db_open_ro("/nonexistent/runs.db", &db, err, sizeof err), -1);
    assert_non_null(strstr(err, "no database at /nonexistent/runs.db"));
}

int main(void)
{
    /* in order: later tests use the database the first one made */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pmu_value),
        cmocka_unit_test(test_good_import),
        cmocka_unit_test(test_results_match_samples),
        cmocka_unit_test(test_second_import),
        cmocka_unit_test(test_bad_dumps_leave_db_unchanged),
        cmocka_unit_test(test_schema_columns),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
