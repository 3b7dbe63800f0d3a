/* CTF export of a stored run: see ctf_db.h. */
#include <stdlib.h>
#include <string.h>

#include "ctf_db.h"
#include "errmsg.h"
#include "events.h"
#include "run.h"

/* Copies a text column into the RUN field (fixed size, not necessarily
 * terminated, as the kernel writes it) and the terminated copy beside it. */
static void col_str(sqlite3_stmt *st, int i, char *run_field, size_t run_size, char *copy, size_t copy_size)
{
    const char *s = (const char *)sqlite3_column_text(st, i);
    if (!s)
        s = "";
    strncpy(run_field, s, run_size);
    snprintf(copy, copy_size, "%.*s", (int)run_size, s);
}

static int load_run(sqlite3 *db, long long id, struct dump *d, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT tsc_hz, coalesce(boot_tsc, 0), coalesce(trace_mode, 'stop'), "
                           "kmem_mode, kernel_rev, cpu_vendor, cpu_brand, cmdline, coalesce(cpuid_sig, 0), "
                           "coalesce(run_flags, 0), coalesce(trace_mask, 0), coalesce(ring_records, 0), "
                           "coalesce(timer_hz, 0), coalesce(exit_status, 0), coalesce(lost, 0) "
                           "FROM runs WHERE id = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return sql_fail(db, err, errlen, "read runs");
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        return rc == SQLITE_DONE ? errmsg(err, errlen, "no run %lld in the database", id)
                                 : sql_fail(db, err, errlen, "read runs");
    }
    struct km_dump_run *r = &d->run;
    r->tsc_hz = (km_u64)sqlite3_column_int64(st, 0);
    r->boot_tsc = (km_u64)sqlite3_column_int64(st, 1);
    r->trace_mode = strcmp((const char *)sqlite3_column_text(st, 2), "overwrite") ? KM_TRACE_STOP
                                                                                  : KM_TRACE_OVERWRITE;
    col_str(st, 3, r->kmem_mode, sizeof r->kmem_mode, d->kmem_mode, sizeof d->kmem_mode);
    col_str(st, 4, r->kernel_rev, sizeof r->kernel_rev, d->kernel_rev, sizeof d->kernel_rev);
    col_str(st, 5, r->cpu_vendor, sizeof r->cpu_vendor, d->cpu_vendor, sizeof d->cpu_vendor);
    col_str(st, 6, r->cpu_brand, sizeof r->cpu_brand, d->cpu_brand, sizeof d->cpu_brand);
    col_str(st, 7, r->cmdline, sizeof r->cmdline, d->cmdline, sizeof d->cmdline);
    r->cpuid_sig = (km_u32)sqlite3_column_int64(st, 8);
    r->flags = (km_u32)sqlite3_column_int64(st, 9);
    r->trace_mask = (km_u64)sqlite3_column_int64(st, 10);
    r->ring_records = (km_u32)sqlite3_column_int64(st, 11);
    r->timer_hz = (km_u32)sqlite3_column_int64(st, 12);
    r->exit_status = (km_i32)sqlite3_column_int64(st, 13);
    r->rec_size = sizeof(struct km_trace_rec);
    d->lost = (unsigned long long)sqlite3_column_int64(st, 14);
    sqlite3_finalize(st);
    return 0;
}

/* The cpus rows; CPU numbers must be 0..n-1 as the dump has them. */
static int load_cpus(sqlite3 *db, long long id, struct dump *d, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    int rc;
    if (sqlite3_prepare_v2(db,
                           "SELECT cpu, coalesce(apic_id, 0), coalesce(tsc_offset, 0), coalesce(written, 0), "
                           "coalesce(lost, 0), coalesce(first_seq, 0) FROM cpus WHERE run_id = ? ORDER BY cpu",
                           -1, &st, NULL) != SQLITE_OK)
        return sql_fail(db, err, errlen, "read cpus");
    sqlite3_bind_int64(st, 1, id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        long long cpu = sqlite3_column_int64(st, 0);
        if (cpu != d->ncpus || d->ncpus >= KM_DUMP_MAX_CPUS) {
            sqlite3_finalize(st);
            return errmsg(err, errlen, "run %lld: cpus rows are not CPUs 0..%d (found cpu %lld)", id,
                          KM_DUMP_MAX_CPUS - 1, cpu);
        }
        struct km_dump_cpu *c = &d->cpu[d->ncpus++].info;
        c->cpu = (km_u32)cpu;
        c->apic_id = (km_u32)sqlite3_column_int64(st, 1);
        c->tsc_offset = sqlite3_column_int64(st, 2);
        c->written = (km_u64)sqlite3_column_int64(st, 3);
        c->lost = (km_u64)sqlite3_column_int64(st, 4);
        c->first_seq = (km_u64)sqlite3_column_int64(st, 5);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return sql_fail(db, err, errlen, "read cpus");
    if (d->ncpus == 0)
        return errmsg(err, errlen, "run %lld has no trace (no cpus rows; a Linux baseline has none)", id);
    d->run.ncpus = d->ncpus;
    return 0;
}

/* Appends one record to its CPU's array (doubling it as needed). */
static int add_rec(struct dump_cpu_trace *t, const struct km_trace_rec *rec, unsigned long long *cap)
{
    if (t->info.count == *cap) {
        unsigned long long n = *cap ? 2 * *cap : 4096;
        struct km_trace_rec *p = realloc(t->recs, n * sizeof *p);
        if (!p)
            return -1;
        t->recs = p;
        *cap = n;
    }
    t->recs[t->info.count++] = *rec;
    return 0;
}

/* One events row as a trace record; -1 with err for an unusable row. */
static int row_rec(sqlite3_stmt *st, long long id, const struct dump *d, struct km_trace_rec *rec,
                   char *err, size_t errlen)
{
    long long cpu = sqlite3_column_int64(st, 0), ev = sqlite3_column_int64(st, 2);
    if (cpu < 0 || cpu >= d->ncpus)
        return errmsg(err, errlen, "run %lld: an event on cpu %lld, which has no cpus row", id, cpu);
    if (ev < 0 || !km_event_lookup((unsigned)ev))
        return errmsg(err, errlen,
                      "run %lld: event type %lld is not in this build's event list (a newer "
                      "kernel's?): the CTF metadata cannot describe it",
                      id, ev);
    memset(rec, 0, sizeof *rec);
    rec->cpu = (km_u16)cpu;
    rec->tsc = (km_u64)sqlite3_column_int64(st, 1);
    rec->event = (km_u16)ev;
    rec->thread = (km_u32)sqlite3_column_int64(st, 3);
    rec->a0 = (km_u64)sqlite3_column_int64(st, 4);
    rec->a1 = (km_u64)sqlite3_column_int64(st, 5);
    return 0;
}

static int load_events(sqlite3 *db, long long id, struct dump *d, char *err, size_t errlen)
{
    unsigned long long cap[KM_DUMP_MAX_CPUS] = { 0 };
    struct km_trace_rec rec;
    sqlite3_stmt *st;
    int rc;
    if (sqlite3_prepare_v2(db,
                           "SELECT cpu, tsc, event_id, coalesce(thread, 0), coalesce(a0, 0), coalesce(a1, 0) "
                           "FROM events WHERE run_id = ? ORDER BY cpu, seq",
                           -1, &st, NULL) != SQLITE_OK)
        return sql_fail(db, err, errlen, "read events");
    sqlite3_bind_int64(st, 1, id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (row_rec(st, id, d, &rec, err, errlen)) {
            sqlite3_finalize(st);
            return -1;
        }
        if (add_rec(&d->cpu[rec.cpu], &rec, &cap[rec.cpu])) {
            sqlite3_finalize(st);
            return errmsg(err, errlen, "out of memory");
        }
        d->events++;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : sql_fail(db, err, errlen, "read events");
}

int ctf_db_load(sqlite3 *db, long long id, struct dump *d, char *err, size_t errlen)
{
    memset(d, 0, sizeof *d);
    if (load_run(db, id, d, err, errlen) || load_cpus(db, id, d, err, errlen) ||
        load_events(db, id, d, err, errlen)) {
        dump_free(d);
        return -1;
    }
    return 0;
}
