/* Chrome trace-event JSON export of a run: see perfetto.h. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errmsg.h"
#include "perfetto.h"

#define NTYPES 64

static int sql_fail(sqlite3 *db, char *err, size_t errlen, const char *what)
{
    return errmsg(err, errlen, "cannot %s: %s", what, sqlite3_errmsg(db));
}

/* Writes s as a JSON string (with the quotes). */
static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

/* A 64-bit trace value: a JSON integer when it is exact in a double as a
 * signed value, else a "0x..." string of the unsigned value. */
static void json_val(FILE *f, int64_t v)
{
    const int64_t lim = (int64_t)1 << 53;
    if (v > -lim && v < lim)
        fprintf(f, "%" PRId64, v);
    else
        fprintf(f, "\"0x%" PRIx64 "\"", (uint64_t)v);
}

/* ---- a small open-addressing hash keyed by two integers ---- */

struct slot {
    int used;
    int64_t k1, k2;
    /* per-thread state (threads table) or an open phase (phases table) */
    int fault_open, sys_open;
    double fault_ts, sys_ts;
    int fault_pid, sys_pid;
    int64_t fault_addr, fault_ip, sys_nr, sys_arg0;
};

struct table {
    struct slot *s;
    size_t cap, n;
};

static uint64_t mix(int64_t a, int64_t b)
{
    uint64_t h = (uint64_t)a * 0x9e3779b97f4a7c15ull ^ ((uint64_t)b + 0x632be59bd9b4e019ull);
    h ^= h >> 31;
    h *= 0xbf58476d1ce4e5b9ull;
    return h ^ (h >> 29);
}

/* The slot for (k1, k2), created (zeroed) if missing; *isnew says which.
 * NULL when out of memory. */
static struct slot *table_get(struct table *t, int64_t k1, int64_t k2, int *isnew)
{
    if ((t->n + 1) * 2 > t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 64;
        struct slot *ns = calloc(ncap, sizeof *ns);
        if (!ns)
            return NULL;
        for (size_t i = 0; i < t->cap; i++) {
            if (!t->s[i].used)
                continue;
            size_t j = mix(t->s[i].k1, t->s[i].k2) & (ncap - 1);
            while (ns[j].used)
                j = (j + 1) & (ncap - 1);
            ns[j] = t->s[i];
        }
        free(t->s);
        t->s = ns;
        t->cap = ncap;
    }
    size_t j = mix(k1, k2) & (t->cap - 1);
    while (t->s[j].used) {
        if (t->s[j].k1 == k1 && t->s[j].k2 == k2) {
            if (isnew)
                *isnew = 0;
            return &t->s[j];
        }
        j = (j + 1) & (t->cap - 1);
    }
    t->s[j].used = 1;
    t->s[j].k1 = k1;
    t->s[j].k2 = k2;
    t->n++;
    if (isnew)
        *isnew = 1;
    return &t->s[j];
}

/* ---- the export ---- */

struct etype {
    char *name, *a0, *a1;
};

int perfetto_check_run(sqlite3 *db, long long id, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM runs WHERE id = ?", -1, &st, NULL) != SQLITE_OK)
        return sql_fail(db, err, errlen, "read runs");
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW)
        return 0;
    if (rc == SQLITE_DONE)
        return errmsg(err, errlen, "no run %lld in the database", id);
    return sql_fail(db, err, errlen, "read runs");
}

static void slice(FILE *f, const char *name, double ts, double end, int pid, int64_t tid)
{
    fputs(",\n{\"ph\":\"X\",\"name\":", f);
    json_str(f, name);
    fprintf(f, ",\"ts\":%.3f,\"dur\":%.3f,\"pid\":%d,\"tid\":%" PRId64 ",\"args\":{", ts,
            end > ts ? end - ts : 0.0, pid, tid);
}

int perfetto_write(sqlite3 *db, long long id, FILE *f, struct perfetto_stats *out, char *err,
                   size_t errlen)
{
    struct etype types[NTYPES];
    struct table threads = { 0 }, tracks = { 0 }, phases = { 0 };
    struct perfetto_stats stats = { 0 };
    sqlite3_stmt *st = NULL;
    int ret = -1;
    int64_t boot = 0, tsc_hz = 0, min_t = 0;
    int have_boot = 0;
    int ev_pf = -1, ev_fd = -1, ev_se = -1, ev_sx = -1, ev_mk = -1;
    char name[64];

    memset(types, 0, sizeof types);
    if (perfetto_check_run(db, id, err, errlen))
        return -1;

    /* run context */
    if (sqlite3_prepare_v2(db, "SELECT tsc_hz, boot_tsc, coalesce(system, ''), coalesce(accel, ''), "
                               "coalesce(git_rev, ''), coalesce(kmem_mode, ''), coalesce(cmdline, ''), "
                               "coalesce(started_utc, ''), ncpus FROM runs WHERE id = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return sql_fail(db, err, errlen, "read runs");
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sql_fail(db, err, errlen, "read runs");
        goto out;
    }
    tsc_hz = sqlite3_column_int64(st, 0);
    have_boot = sqlite3_column_type(st, 1) != SQLITE_NULL;
    boot = sqlite3_column_int64(st, 1);
    if (tsc_hz <= 0) {
        errmsg(err, errlen, "run %lld has no tsc_hz", id);
        goto out;
    }
    fputs("{\"displayTimeUnit\":\"ns\",\"otherData\":{\"run\":", f);
    fprintf(f, "%lld", id);
    static const char *const keys[] = { "system", "accel", "git_rev", "kmem_mode", "cmdline", "started_utc" };
    for (int i = 0; i < 6; i++) {
        fprintf(f, ",\"%s\":", keys[i]);
        json_str(f, (const char *)sqlite3_column_text(st, 2 + i));
    }
    fprintf(f, ",\"ncpus\":%d,\"tsc_hz\":%" PRId64 "},\n\"traceEvents\":[\n", sqlite3_column_int(st, 8),
            tsc_hz);
    sqlite3_finalize(st);
    st = NULL;

    /* event types, by id; the ids of the events that make slices, by name */
    if (sqlite3_prepare_v2(db, "SELECT id, name, coalesce(a0, 'a0'), coalesce(a1, 'a1') FROM event_types",
                           -1, &st, NULL) != SQLITE_OK) {
        sql_fail(db, err, errlen, "read event_types");
        goto out;
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
        int t = sqlite3_column_int(st, 0);
        const char *n = (const char *)sqlite3_column_text(st, 1);
        if (t < 0 || t >= NTYPES || !n)
            continue;
        free(types[t].name);
        free(types[t].a0);
        free(types[t].a1);
        types[t].name = strdup(n);
        types[t].a0 = strdup((const char *)sqlite3_column_text(st, 2));
        types[t].a1 = strdup((const char *)sqlite3_column_text(st, 3));
        if (!types[t].name || !types[t].a0 || !types[t].a1) {
            errmsg(err, errlen, "out of memory");
            goto out;
        }
        int *slot = !strcmp(n, "pagefault")       ? &ev_pf
                    : !strcmp(n, "fault_done")    ? &ev_fd
                    : !strcmp(n, "syscall_enter") ? &ev_se
                    : !strcmp(n, "syscall_exit")  ? &ev_sx
                    : !strcmp(n, "marker")        ? &ev_mk
                                                  : NULL;
        if (slot)
            *slot = t;
    }
    sqlite3_finalize(st);
    st = NULL;

    /* the time origin: boot_tsc, else the first event */
    if (!have_boot) {
        if (sqlite3_prepare_v2(db, "SELECT min(e.tsc - coalesce(c.tsc_offset, 0)) FROM events e "
                                   "LEFT JOIN cpus c ON c.run_id = e.run_id AND c.cpu = e.cpu "
                                   "WHERE e.run_id = ?",
                               -1, &st, NULL) != SQLITE_OK) {
            sql_fail(db, err, errlen, "read events");
            goto out;
        }
        sqlite3_bind_int64(st, 1, id);
        if (sqlite3_step(st) == SQLITE_ROW)
            min_t = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        st = NULL;
        boot = min_t;
    }
    double scale = (double)tsc_hz / 1e6;

    /* one process per CPU (also CPUs with no events) */
    int first = 1;
    if (sqlite3_prepare_v2(db, "SELECT cpu FROM cpus WHERE run_id = ?1 UNION "
                               "SELECT DISTINCT cpu FROM events WHERE run_id = ?1 ORDER BY 1",
                           -1, &st, NULL) != SQLITE_OK) {
        sql_fail(db, err, errlen, "read cpus");
        goto out;
    }
    sqlite3_bind_int64(st, 1, id);
    while (sqlite3_step(st) == SQLITE_ROW) {
        int cpu = sqlite3_column_int(st, 0);
        fprintf(f,
                "%s{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":%d,\"tid\":0,\"args\":{\"name\":\"cpu %d\"}},\n"
                "{\"ph\":\"M\",\"name\":\"process_sort_index\",\"pid\":%d,\"tid\":0,\"args\":{\"sort_index\":%d}}",
                first ? "" : ",\n", cpu, cpu, cpu, cpu);
        first = 0;
    }
    sqlite3_finalize(st);
    st = NULL;

    /* every event, in BSP-time order */
    if (sqlite3_prepare_v2(db, "SELECT e.cpu, e.tsc - coalesce(c.tsc_offset, 0) AS t, e.event_id, "
                               "coalesce(e.thread, 0), coalesce(e.a0, 0), coalesce(e.a1, 0) "
                               "FROM events e LEFT JOIN cpus c ON c.run_id = e.run_id AND c.cpu = e.cpu "
                               "WHERE e.run_id = ? ORDER BY t, e.cpu, e.seq",
                           -1, &st, NULL) != SQLITE_OK) {
        sql_fail(db, err, errlen, "read events");
        goto out;
    }
    sqlite3_bind_int64(st, 1, id);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int cpu = sqlite3_column_int(st, 0);
        int64_t t = (int64_t)((uint64_t)sqlite3_column_int64(st, 1) - (uint64_t)boot);
        int ev = sqlite3_column_int(st, 2);
        int64_t tid = sqlite3_column_int64(st, 3);
        int64_t a0 = sqlite3_column_int64(st, 4), a1 = sqlite3_column_int64(st, 5);
        double ts = (double)t / scale;
        const struct etype *ty = ev >= 0 && ev < NTYPES && types[ev].name ? &types[ev] : NULL;
        int isnew;

        if (!table_get(&tracks, cpu, tid, &isnew)) {
            errmsg(err, errlen, "out of memory");
            goto out;
        }
        if (isnew) {
            fprintf(f, "%s{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":%d,\"tid\":%" PRId64 ",\"args\":{\"name\":",
                    first ? "" : ",\n", cpu, tid);
            if (tid == 0)
                snprintf(name, sizeof name, "kernel/idle");
            else
                snprintf(name, sizeof name, "thread %" PRId64, tid);
            json_str(f, name);
            fprintf(f, "}},\n{\"ph\":\"M\",\"name\":\"thread_sort_index\",\"pid\":%d,\"tid\":%" PRId64
                       ",\"args\":{\"sort_index\":%" PRId64 "}}",
                    cpu, tid, tid);
            first = 0;
        }

        /* the instant */
        fprintf(f, "%s{\"ph\":\"i\",\"s\":\"t\",\"name\":", first ? "" : ",\n");
        first = 0;
        if (ty) {
            json_str(f, ty->name);
        } else {
            snprintf(name, sizeof name, "event_%d", ev);
            json_str(f, name);
        }
        fprintf(f, ",\"ts\":%.3f,\"pid\":%d,\"tid\":%" PRId64 ",\"args\":{", ts, cpu, tid);
        json_str(f, ty ? ty->a0 : "a0");
        fputc(':', f);
        json_val(f, a0);
        fputc(',', f);
        json_str(f, ty ? ty->a1 : "a1");
        fputc(':', f);
        json_val(f, a1);
        fputs("}}", f);
        stats.events++;

        /* slices */
        if (ev == ev_pf || ev == ev_fd || ev == ev_se || ev == ev_sx) {
            struct slot *s = table_get(&threads, tid, 0, NULL);
            if (!s) {
                errmsg(err, errlen, "out of memory");
                goto out;
            }
            if (ev == ev_pf) {
                s->fault_open = 1;
                s->fault_ts = ts;
                s->fault_pid = cpu;
                s->fault_addr = a0;
                s->fault_ip = a1;
            } else if (ev == ev_fd && s->fault_open) {
                s->fault_open = 0;
                slice(f, "page fault", s->fault_ts, ts, s->fault_pid, tid);
                fputs("\"addr\":", f);
                json_val(f, s->fault_addr);
                fputs(",\"ip\":", f);
                json_val(f, s->fault_ip);
                fputs(",\"result\":", f);
                json_val(f, a1);
                fputs("}}", f);
                stats.faults++;
            } else if (ev == ev_se) {
                s->sys_open = 1;
                s->sys_ts = ts;
                s->sys_pid = cpu;
                s->sys_nr = a0;
                s->sys_arg0 = a1;
            } else if (ev == ev_sx && s->sys_open && s->sys_nr == a0) {
                s->sys_open = 0;
                snprintf(name, sizeof name, "syscall %" PRId64, a0);
                slice(f, name, s->sys_ts, ts, s->sys_pid, tid);
                fputs("\"nr\":", f);
                json_val(f, a0);
                fputs(",\"arg0\":", f);
                json_val(f, s->sys_arg0);
                fputs(",\"ret\":", f);
                json_val(f, a1);
                fputs("}}", f);
                stats.syscalls++;
            }
        } else if (ev == ev_mk && (a0 == 1 || a0 == 2)) {
            struct slot *s = table_get(&phases, a1, 0, NULL);
            if (!s) {
                errmsg(err, errlen, "out of memory");
                goto out;
            }
            if (a0 == 1) {
                s->fault_open = 1;
                s->fault_ts = ts;
                s->fault_pid = cpu;
                s->fault_addr = tid;
            } else if (s->fault_open) {
                /* a nestable async pair, so that it may overlap the thread's slices */
                s->fault_open = 0;
                stats.phases++;
                snprintf(name, sizeof name, "phase %" PRId64, a1);
                for (int e = 0; e < 2; e++) {
                    fprintf(f, ",\n{\"ph\":\"%c\",\"cat\":\"phase\",\"id\":%lld,\"name\":", e ? 'e' : 'b',
                            stats.phases);
                    json_str(f, name);
                    fprintf(f, ",\"ts\":%.3f,\"pid\":%d,\"tid\":%" PRId64 ",\"args\":{\"phase\":", e ? ts : s->fault_ts,
                            s->fault_pid, s->fault_addr);
                    json_val(f, a1);
                    fputs("}}", f);
                }
            }
        }
    }
    if (rc != SQLITE_DONE) {
        sql_fail(db, err, errlen, "read events");
        goto out;
    }
    fputs("\n]}\n", f);
    if (fflush(f) || ferror(f)) {
        errmsg(err, errlen, "write error");
        goto out;
    }
    if (out)
        *out = stats;
    ret = 0;
out:
    sqlite3_finalize(st);
    for (int i = 0; i < NTYPES; i++) {
        free(types[i].name);
        free(types[i].a0);
        free(types[i].a1);
    }
    free(threads.s);
    free(tracks.s);
    free(phases.s);
    return ret;
}
