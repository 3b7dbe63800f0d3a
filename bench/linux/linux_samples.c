/* The Linux baseline's samples file: parser and import (format in
 * linux_samples.h).  Everything is checked before the database is opened;
 * the write itself is db_import(), one transaction. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errmsg.h"
#include "crc32.h"
#include "db.h"
#include "dump_read.h"
#include "linux_samples.h"
#include "meta.h"

/* Upper bounds that keep a corrupt count from allocating the machine. */
#define MAX_SERIES 256
#define MAX_SERIES_SAMPLES 10000000ull
#define MAX_NCPUS 65536

enum key {
    K_started_utc, K_git_rev, K_host, K_kernel, K_cpu_vendor, K_cpu_model, K_cpuid_sig,
    K_hypervisor, K_invariant_tsc, K_ncpus, K_apic_ids, K_tsc_hz, K_pmu, K_params, K_result,
    K_duration_ms, K_N
};
static const char *const key_names[K_N] = {
    "started_utc", "git_rev", "host", "kernel", "cpu_vendor", "cpu_model", "cpuid_sig",
    "hypervisor", "invariant_tsc", "ncpus", "apic_ids", "tsc_hz", "pmu", "params", "result",
    "duration_ms",
};
static const unsigned char key_optional[K_N] = { [K_apic_ids] = 1, [K_duration_ms] = 1 };

/* The parser's state: the text, the current line, what has been read. */
struct parser {
    const char *name;
    const char *p, *end; /* next unread byte, end of text */
    const char *line;    /* current line (not NUL-terminated) */
    size_t len;          /* its length, without '\n' */
    long lineno;
    char *err;
    size_t errlen;
    char val[K_N][512];
    int have[K_N];
};

static int perr(struct parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int perr(struct parser *ps, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return errmsg(ps->err, ps->errlen, "%s:%ld: %s", ps->name, ps->lineno, msg);
}

/* Advances to the next line; 0, or -1 at the end of the text (no error
 * set) or on a line without its '\n' or with control bytes (error set). */
static int next_line(struct parser *ps, int *eof)
{
    *eof = 0;
    if (ps->p >= ps->end) {
        *eof = 1;
        return -1;
    }
    ps->lineno++;
    ps->line = ps->p;
    const char *nl = memchr(ps->p, '\n', (size_t)(ps->end - ps->p));
    if (!nl)
        return perr(ps, "the file ends inside a line (truncated?)");
    ps->len = (size_t)(nl - ps->p);
    ps->p = nl + 1;
    for (size_t i = 0; i < ps->len; i++) {
        unsigned char c = (unsigned char)ps->line[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return perr(ps, "control byte 0x%02x in column %zu", c, i + 1);
    }
    return 0;
}

static int line_is(const struct parser *ps, const char *s)
{
    size_t l = strlen(s);
    return ps->len >= l && !memcmp(ps->line, s, l);
}

/* Parses a whole decimal integer (optional '-'); 0 or -1. */
static int parse_ll(const char *s, size_t len, long long *v)
{
    char buf[32], *e;
    if (len == 0 || len >= sizeof buf)
        return -1;
    memcpy(buf, s, len);
    buf[len] = 0;
    if (!(buf[0] == '-' || (buf[0] >= '0' && buf[0] <= '9')))
        return -1;
    errno = 0;
    *v = strtoll(buf, &e, 10);
    return errno || *e || e == buf || (buf[0] == '-' && len == 1) ? -1 : 0;
}

static int parse_u64_hex(const char *s, unsigned long long *v)
{
    char *e;
    if (strncmp(s, "0x", 2) || !s[2])
        return -1;
    for (const char *q = s + 2; *q; q++)
        if (!strchr("0123456789abcdefABCDEF", *q))
            return -1;
    errno = 0;
    *v = strtoull(s + 2, &e, 16);
    return errno || *e ? -1 : 0;
}

static int header_line(struct parser *ps)
{
    const char *eq = memchr(ps->line, '=', ps->len);
    if (!eq)
        return perr(ps, "expected KEY=VALUE, a series line or the end line");
    size_t klen = (size_t)(eq - ps->line), vlen = ps->len - klen - 1;
    int k;
    for (k = 0; k < K_N; k++)
        if (strlen(key_names[k]) == klen && !memcmp(key_names[k], ps->line, klen))
            break;
    if (k == K_N)
        return perr(ps, "unknown key '%.*s'", (int)(klen > 40 ? 40 : klen), ps->line);
    if (ps->have[k])
        return perr(ps, "key %s given twice", key_names[k]);
    if (vlen >= sizeof ps->val[k])
        return perr(ps, "value of %s is too long (%zu bytes)", key_names[k], vlen);
    memcpy(ps->val[k], eq + 1, vlen);
    ps->val[k][vlen] = 0;
    ps->have[k] = 1;
    return 0;
}

static int name_ok(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == '.' || *s == '-'))
            return 0;
    return 1;
}

/* "series benchmark=B variant=V metric=M unit=U overhead=O cpu=C n=N" */
static int series_line(struct parser *ps, struct dump_series *s)
{
    static const char *const fields[] = { "benchmark", "variant", "metric", "unit",
                                          "overhead", "cpu", "n" };
    char buf[512], *save = NULL;
    int seen[7] = { 0 };
    if (ps->len >= sizeof buf)
        return perr(ps, "series line too long");
    memcpy(buf, ps->line, ps->len);
    buf[ps->len] = 0;
    memset(s, 0, sizeof *s);
    char *tok = strtok_r(buf + strlen("series"), " ", &save);
    for (; tok; tok = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(tok, '=');
        int f;
        if (!eq)
            return perr(ps, "series: '%s' is not FIELD=VALUE", tok);
        *eq = 0;
        const char *v = eq + 1;
        for (f = 0; f < 7; f++)
            if (!strcmp(tok, fields[f]))
                break;
        if (f == 7)
            return perr(ps, "series: unknown field '%s'", tok);
        if (seen[f]++)
            return perr(ps, "series: field %s given twice", tok);
        long long x;
        switch (f) {
        case 0: case 1: case 2: case 3: {
            char *dst = f == 0 ? s->benchmark : f == 1 ? s->variant : f == 2 ? s->metric : s->unit;
            size_t cap = f == 0 ? sizeof s->benchmark : f == 1 ? sizeof s->variant
                         : f == 2 ? sizeof s->metric : sizeof s->unit;
            if (!name_ok(v))
                return perr(ps, "series: %s '%s' is empty or has characters outside [A-Za-z0-9_.-]",
                            fields[f], v);
            if (strlen(v) >= cap)
                return perr(ps, "series: %s '%s' is longer than %zu bytes", fields[f], v, cap - 1);
            strcpy(dst, v);
            break;
        }
        case 4:
            if (parse_ll(v, strlen(v), &x))
                return perr(ps, "series: overhead '%s' is not an integer", v);
            s->overhead = x;
            break;
        case 5:
            if (parse_ll(v, strlen(v), &x) || x < 0 || x >= MAX_NCPUS)
                return perr(ps, "series: cpu '%s' is not a CPU number", v);
            s->cpu = (unsigned)x;
            break;
        case 6:
            if (parse_ll(v, strlen(v), &x) || x < 1 || (unsigned long long)x > MAX_SERIES_SAMPLES)
                return perr(ps, "series: n '%s' is not a sample count (1..%llu)", v, MAX_SERIES_SAMPLES);
            s->n = (unsigned long long)x;
            break;
        }
    }
    for (int f = 0; f < 7; f++)
        if (!seen[f])
            return perr(ps, "series: field %s missing", fields[f]);
    return 0;
}

/* "end series=S samples=T crc32=XXXXXXXX" */
static int end_line(struct parser *ps, size_t nseries, unsigned long long nsamples, unsigned crc)
{
    char want[96];
    snprintf(want, sizeof want, "end series=%zu samples=%llu crc32=", nseries, nsamples);
    size_t wl = strlen(want);
    if (ps->len < wl || memcmp(ps->line, want, wl)) {
        if (!line_is(ps, "end series=") || !memchr(ps->line, ' ', ps->len))
            return perr(ps, "malformed end line (want 'end series=S samples=T crc32=X')");
        return perr(ps, "end line totals '%.*s' do not match the file (%zu series, %llu samples): "
                    "truncated or edited?", (int)(ps->len > 80 ? 80 : ps->len), ps->line, nseries,
                    nsamples);
    }
    const char *hex = ps->line + wl;
    size_t hl = ps->len - wl;
    char hbuf[9];
    if (hl != 8)
        return perr(ps, "end: crc32 must be 8 hex digits");
    memcpy(hbuf, hex, 8);
    hbuf[8] = 0;
    char *e;
    unsigned long got = strtoul(hbuf, &e, 16);
    if (*e || strspn(hbuf, "0123456789abcdef") != 8)
        return perr(ps, "end: crc32 '%s' is not 8 lower-case hex digits", hbuf);
    if (got != crc)
        return perr(ps, "CRC mismatch: the file says %08lx, its contents give %08x (corrupt or edited)",
                    got, crc);
    return 0;
}

static void free_series(struct dump_series *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(s[i].samples);
    free(s);
}

/* Checks the header values and fills the run part of d and m. */
static int build_run(struct parser *ps, struct dump *d, struct meta *m)
{
    long long x;
    unsigned long long u;
    const char *v[K_N];
    for (int k = 0; k < K_N; k++)
        v[k] = ps->val[k];
    for (int k = 0; k < K_N; k++)
        if (!ps->have[k] && !key_optional[k])
            return errmsg(ps->err, ps->errlen, "%s: key %s missing", ps->name, key_names[k]);
#define BAD(k, what) errmsg(ps->err, ps->errlen, "%s: %s '%s' %s", ps->name, key_names[k], v[k], what)
    if (parse_ll(v[K_tsc_hz], strlen(v[K_tsc_hz]), &x) || x < 1000000)
        return BAD(K_tsc_hz, "is not a TSC rate in Hz");
    d->run.tsc_hz = (unsigned long long)x;
    if (parse_ll(v[K_ncpus], strlen(v[K_ncpus]), &x) || x < 1 || x > MAX_NCPUS)
        return BAD(K_ncpus, "is not a CPU count");
    long long ncpus = x;
    d->ncpus = (unsigned)(ncpus > KM_DUMP_MAX_CPUS ? KM_DUMP_MAX_CPUS : ncpus);
    d->run.ncpus = d->ncpus;
    if (ncpus > KM_DUMP_MAX_CPUS)
        fprintf(stderr, "kmemlab: import-linux: warning: %lld CPUs; the runs table keeps %d\n", ncpus,
                KM_DUMP_MAX_CPUS);
    for (unsigned c = 0; c < d->ncpus; c++)
        d->cpu[c].info.cpu = c;
    if (ps->have[K_apic_ids]) {
        const char *p = v[K_apic_ids];
        long long c = 0;
        for (;;) {
            size_t l = strcspn(p, ",");
            if (parse_ll(p, l, &x) || x < 0 || x > UINT_MAX)
                return BAD(K_apic_ids, "is not a list of APIC ids");
            if (c < (long long)d->ncpus)
                d->cpu[c].info.apic_id = (unsigned)x;
            c++;
            if (!p[l])
                break;
            p += l + 1;
        }
        if (c != ncpus)
            return BAD(K_apic_ids, "does not name one APIC id per CPU");
    }
    if (parse_u64_hex(v[K_cpuid_sig], &u) || u > UINT_MAX)
        return BAD(K_cpuid_sig, "is not a 32-bit hex value (0x...)");
    d->run.cpuid_sig = (unsigned)u;
    for (int k = K_hypervisor; k <= K_invariant_tsc; k++)
        if (strcmp(v[k], "0") && strcmp(v[k], "1"))
            return BAD(k, "is not 0 or 1");
    if (!strcmp(v[K_hypervisor], "1"))
        d->run.flags |= KM_RUN_F_HYPERVISOR;
    if (!strcmp(v[K_invariant_tsc], "1"))
        d->run.flags |= KM_RUN_F_INVARIANT_TSC;
    if (ps->have[K_duration_ms] && (parse_ll(v[K_duration_ms], strlen(v[K_duration_ms]), &x) || x < 0))
        return BAD(K_duration_ms, "is not a duration in ms");
    /* pmu: 'none' or event names; db_import reads it from the command
     * line's pmu= when the PMU flag is set. */
    if (!v[K_pmu][0] || strspn(v[K_pmu], "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                         "0123456789_-:.,=") != strlen(v[K_pmu]))
        return BAD(K_pmu, "is not 'none' or a list of event names");
    int have_pmu = strcmp(v[K_pmu], "none") != 0;
    if (have_pmu)
        d->run.flags |= KM_RUN_F_PMU;
    struct {
        int k;
        char *dst;
        size_t cap;
    } strs[] = {
        { K_cpu_vendor, d->cpu_vendor, sizeof d->run.cpu_vendor + 1 },
        { K_cpu_model, d->cpu_brand, sizeof d->run.cpu_brand + 1 },
        { K_kernel, d->kernel_rev, sizeof d->run.kernel_rev + 1 },
    };
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        if (!v[strs[i].k][0])
            return BAD(strs[i].k, "is empty");
        if (strlen(v[strs[i].k]) >= strs[i].cap)
            return BAD(strs[i].k, "is too long");
        strcpy(strs[i].dst, v[strs[i].k]);
    }
    int cl = have_pmu ? snprintf(d->cmdline, sizeof d->cmdline, "%s pmu=%s", v[K_params], v[K_pmu])
                      : snprintf(d->cmdline, sizeof d->cmdline, "%s", v[K_params]);
    if (cl < 0 || (size_t)cl >= sizeof d->run.cmdline + 1)
        return BAD(K_params, "with the pmu events is longer than 256 bytes");
    const char *dirty = strstr(v[K_git_rev], "-dirty");
    m->value[META_started_utc] = strdup(v[K_started_utc]);
    m->value[META_git_rev] = strdup(v[K_git_rev]);
    m->value[META_git_dirty] = strdup(dirty && !dirty[6] ? "1" : "0");
    m->value[META_system] = strdup("linux");
    m->value[META_accel] = strdup("host");
    m->value[META_host] = strdup(v[K_host]);
    m->value[META_programs] = strdup("fault_linux");
    m->value[META_result] = strdup(v[K_result]);
    if (ps->have[K_duration_ms])
        m->value[META_duration_ms] = strdup(v[K_duration_ms]);
    for (int k = 0; k < META_NKEYS; k++)
        if (k == META_started_utc || k == META_git_rev || k == META_system || k == META_accel ||
            k == META_host || k == META_programs || k == META_result || k == META_git_dirty)
            if (!m->value[k])
                return errmsg(ps->err, ps->errlen, "out of memory");
#undef BAD
    return 0;
}

int linux_samples_parse(const char *text, size_t len, const char *name, struct dump *d,
                        struct meta *m, char *err, size_t errlen)
{
    struct parser *ps = calloc(1, sizeof *ps);
    struct dump_series *series = NULL;
    size_t nseries = 0;
    unsigned long long nsamples = 0;
    int eof, rc = -1;

    memset(d, 0, sizeof *d);
    memset(m, 0, sizeof *m);
    if (!ps)
        return errmsg(err, errlen, "out of memory");
    ps->name = name;
    ps->p = text;
    ps->end = text + len;
    ps->err = err;
    ps->errlen = errlen;

    if (len == 0) {
        errmsg(err, errlen, "%s: empty file", name);
        goto out;
    }
    if (next_line(ps, &eof))
        goto out;
    if (ps->len != strlen(LINUX_SAMPLES_MAGIC) || !line_is(ps, LINUX_SAMPLES_MAGIC)) {
        perr(ps, "not a Linux samples file (want '%s' on the first line)", LINUX_SAMPLES_MAGIC);
        goto out;
    }
    /* header */
    for (;;) {
        if (next_line(ps, &eof)) {
            if (eof)
                errmsg(err, errlen, "%s: no end line (truncated?)", name);
            goto out;
        }
        if (line_is(ps, "series ") || line_is(ps, "end "))
            break;
        if (header_line(ps))
            goto out;
    }
    /* series */
    while (line_is(ps, "series ")) {
        if (nseries >= MAX_SERIES) {
            perr(ps, "more than %d series", MAX_SERIES);
            goto out;
        }
        struct dump_series *grown = realloc(series, (nseries + 1) * sizeof *series);
        if (!grown) {
            errmsg(err, errlen, "out of memory");
            goto out;
        }
        series = grown;
        struct dump_series *s = &series[nseries];
        if (series_line(ps, s))
            goto out;
        for (size_t i = 0; i < nseries; i++)
            if (!strcmp(series[i].benchmark, s->benchmark) && !strcmp(series[i].variant, s->variant) &&
                !strcmp(series[i].metric, s->metric)) {
                perr(ps, "series %s/%s/%s given twice", s->benchmark, s->variant, s->metric);
                goto out;
            }
        /* A count larger than the remaining text cannot be right: check
         * before allocating (each sample line is at least 2 bytes). */
        if (s->n > (unsigned long long)(ps->end - ps->p) / 2) {
            perr(ps, "series says n=%llu, but the file is too short for that many samples (truncated?)",
                 s->n);
            goto out;
        }
        s->samples = malloc(s->n * sizeof *s->samples);
        if (!s->samples) {
            errmsg(err, errlen, "out of memory");
            goto out;
        }
        nseries++;
        for (unsigned long long i = 0; i < s->n; i++) {
            if (next_line(ps, &eof)) {
                if (eof)
                    errmsg(err, errlen, "%s: series %s/%s/%s ends after %llu of %llu samples (truncated?)",
                         name, s->benchmark, s->variant, s->metric, i, s->n);
                goto out;
            }
            long long x;
            if (parse_ll(ps->line, ps->len, &x)) {
                perr(ps, "sample %llu of %s/%s/%s: '%.*s' is not an integer", i, s->benchmark,
                     s->variant, s->metric, (int)(ps->len > 40 ? 40 : ps->len), ps->line);
                goto out;
            }
            s->samples[i] = x;
        }
        nsamples += s->n;
        if (next_line(ps, &eof)) {
            if (eof)
                errmsg(err, errlen, "%s: no end line (truncated?)", name);
            goto out;
        }
    }
    if (!line_is(ps, "end ")) {
        perr(ps, "expected a series line or the end line");
        goto out;
    }
    if (nseries == 0) {
        perr(ps, "no series in the file");
        goto out;
    }
    unsigned crc = crc32_update(0, text, (unsigned long)(ps->line - text));
    if (end_line(ps, nseries, nsamples, crc))
        goto out;
    if (ps->p != ps->end) {
        ps->lineno++;
        perr(ps, "%zu bytes after the end line", (size_t)(ps->end - ps->p));
        goto out;
    }
    if (build_run(ps, d, m))
        goto out;
    d->series = series;
    d->nseries = nseries;
    d->samples = nsamples;
    d->bytes = len;
    series = NULL;
    nseries = 0;
    rc = 0;
out:
    if (rc) {
        meta_free(m);
        memset(d, 0, sizeof *d);
    }
    free_series(series, nseries);
    free(ps);
    return rc;
}

/* Lays the facts of meta_path over m (see linux_samples_import). */
static int merge_meta(const char *meta_path, struct meta *m, char *err, size_t errlen)
{
    struct meta extra;
    char msg[512];
    if (meta_read(meta_path, &extra, msg, sizeof msg))
        return errmsg(err, errlen, "%s", msg);
    if (extra.value[META_system] && strcmp(extra.value[META_system], "linux")) {
        errmsg(err, errlen, "%s: system=%s, but a Linux samples file is system=linux", meta_path,
               extra.value[META_system]);
        meta_free(&extra);
        return -1;
    }
    for (int k = 0; k < META_NKEYS; k++)
        if (extra.value[k]) {
            free(m->value[k]);
            m->value[k] = extra.value[k];
            extra.value[k] = NULL;
        }
    meta_free(&extra);
    return 0;
}

int linux_samples_import(const char *path, const char *meta_path, const char *db_path,
                         long long *id, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL, msg[512], abs[PATH_MAX];
    size_t len = 0, cap = 0;
    struct dump d;
    struct meta m;

    *id = -1;
    if (!f)
        return errmsg(err, errlen, "%s: %s (nothing imported; %s unchanged)", path, strerror(errno), db_path);
    for (;;) {
        if (len + 65536 > cap) {
            char *g = realloc(buf, cap = cap ? cap * 2 : 1 << 20);
            if (!g) {
                free(buf);
                fclose(f);
                return errmsg(err, errlen, "%s: out of memory", path);
            }
            buf = g;
        }
        size_t r = fread(buf + len, 1, cap - len, f);
        len += r;
        if (r == 0)
            break;
    }
    int rerr = ferror(f);
    fclose(f);
    if (rerr) {
        free(buf);
        return errmsg(err, errlen, "%s: read error (nothing imported; %s unchanged)", path, db_path);
    }
    int rc = linux_samples_parse(buf, len, path, &d, &m, msg, sizeof msg);
    free(buf);
    if (rc)
        return errmsg(err, errlen, "%s (nothing imported; %s unchanged)", msg, db_path);
    if (meta_path && merge_meta(meta_path, &m, msg, sizeof msg)) {
        dump_free(&d);
        meta_free(&m);
        return errmsg(err, errlen, "%s (nothing imported; %s unchanged)", msg, db_path);
    }
    *id = db_import(db_path, &d, &m, realpath(path, abs) ? abs : path, 0, msg, sizeof msg);
    dump_free(&d);
    meta_free(&m);
    if (*id < 0)
        return errmsg(err, errlen, "%s: %s (nothing imported)", db_path, msg);
    return 0;
}
