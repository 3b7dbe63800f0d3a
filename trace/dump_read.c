/* Dump reader: every check before any belief.
 *
 * One pass over the bytes.  Per frame, in this order: enough bytes for a
 * header (else truncated), magic, header CRC, version, length limit, enough
 * bytes for the payload (else truncated), payload CRC, seq; only then is the
 * type looked at and the payload interpreted.  So a flipped bit in a header
 * is reported as "bad magic" (bytes 0..3) or "header CRC" (bytes 4..23), a
 * flipped bit in a payload as "payload CRC", whatever field it hit.
 *
 * Records are copied into one array per CPU sized from the CPU frame
 * (bounded by the bytes left in the dump), so decoding allocates once per
 * CPU and once per sample series, never per record.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crc32.h"
#include "dump_read.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the dump is little endian and is read with memcpy: port the reader"
#endif

#define HDR_SIZE ((unsigned long long)sizeof(struct km_frame_hdr))
#define REC_SIZE ((unsigned long long)sizeof(struct km_trace_rec))

/* km_u64 is unsigned long on LP64; messages print everything as %llu. */
#define U(x) ((unsigned long long)(x))

const char *dump_err_name(enum dump_err code)
{
    switch (code) {
    case DUMP_OK: return "ok";
    case DUMP_E_EMPTY: return "empty dump";
    case DUMP_E_BAD_MAGIC: return "bad magic";
    case DUMP_E_HEADER_CRC: return "header CRC mismatch";
    case DUMP_E_VERSION: return "unsupported version";
    case DUMP_E_TOO_LONG: return "payload too long";
    case DUMP_E_TRUNCATED: return "truncated dump";
    case DUMP_E_PAYLOAD_CRC: return "payload CRC mismatch";
    case DUMP_E_SEQ: return "frame sequence error";
    case DUMP_E_ORDER: return "frame out of order";
    case DUMP_E_SIZE: return "wrong payload size";
    case DUMP_E_BAD_FIELD: return "field out of range";
    case DUMP_E_COUNTS: return "counts disagree";
    case DUMP_E_NO_END: return "truncated dump (no END frame)";
    case DUMP_E_AFTER_END: return "data after END frame";
    case DUMP_E_NOMEM: return "out of memory";
    case DUMP_E_IO: return "cannot read dump";
    case DUMP_E_LOG: return "bad dump in serial log";
    }
    return "unknown error";
}

static const char *frame_type_name(unsigned type)
{
    switch (type) {
    case KM_FRAME_RUN: return "RUN";
    case KM_FRAME_CPU: return "CPU";
    case KM_FRAME_EVENTS: return "EVENTS";
    case KM_FRAME_SAMPLES: return "SAMPLES";
    case KM_FRAME_END: return "END";
    }
    return "unknown type";
}

/* Decoder state: where we are and what the order rules still allow. */
enum phase {
    PH_RUN,     /* expecting RUN */
    PH_CPU,     /* expecting CPU frame number next_cpu */
    PH_EVENTS,  /* EVENTS, SAMPLES or END */
    PH_SAMPLES, /* SAMPLES or END (an EVENTS frame after SAMPLES is an error) */
    PH_DONE,    /* END seen: nothing may follow */
};

struct decoder {
    const unsigned char *buf;
    unsigned long long len;
    struct dump *d;
    struct dump_error *err;
    enum phase phase;
    unsigned next_cpu;
    unsigned long long got[KM_DUMP_MAX_CPUS]; /* records received per CPU */
    struct dump_series *cur;                  /* series still missing chunks */
    unsigned long long cur_have;              /* samples of cur received */
    unsigned long long cur_cap;               /* samples cur's array holds */
    unsigned long long cap[KM_DUMP_MAX_CPUS]; /* records each array holds */
    unsigned long long remaining;             /* bytes after the current frame */
    size_t series_cap;
    unsigned long long total_samples;
    /* the frame being decoded */
    long frame;
    unsigned long long off;
    unsigned type;
};

static int fail_at(struct dump_error *err, enum dump_err code, long frame,
                   unsigned long long off, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int fail_at(struct dump_error *err, enum dump_err code, long frame,
                   unsigned long long off, const char *fmt, ...)
{
    char detail[240];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    err->code = code;
    err->frame = frame;
    err->offset = off;
    if (frame >= 0)
        snprintf(err->msg, sizeof err->msg, "%s: frame %ld at byte %llu: %s",
                 dump_err_name(code), frame, off, detail);
    else
        snprintf(err->msg, sizeof err->msg, "%s: at byte %llu: %s",
                 dump_err_name(code), off, detail);
    return -1;
}

/* Fails the frame being decoded (its number and offset are in dc). */
#define FAIL(dc, code, ...) fail_at((dc)->err, code, (dc)->frame, (dc)->off, __VA_ARGS__)

/* Copies a NUL-padded field of n bytes into dst (n+1 bytes), terminated. */
static void copy_str(char *dst, const char *src, size_t n)
{
    size_t i = 0;
    while (i < n && src[i])
        i++;
    memcpy(dst, src, i);
    dst[i] = 0;
}

/* A series name must be non-empty printable ASCII (it becomes a file name
 * fragment and a chart label). */
static int name_ok(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (*s < 0x21 || *s > 0x7e)
            return 0;
    return 1;
}

static int decode_run(struct decoder *dc, const unsigned char *p, unsigned len)
{
    struct dump *d = dc->d;
    if (len != sizeof(struct km_dump_run))
        return FAIL(dc, DUMP_E_SIZE, "RUN payload is %u bytes, expected %zu", len,
                    sizeof(struct km_dump_run));
    memcpy(&d->run, p, sizeof d->run);
    if (d->run.rec_size != sizeof(struct km_trace_rec))
        return FAIL(dc, DUMP_E_BAD_FIELD, "RUN.rec_size is %u, expected %zu",
                    d->run.rec_size, sizeof(struct km_trace_rec));
    if (d->run.ncpus < 1 || d->run.ncpus > KM_DUMP_MAX_CPUS)
        return FAIL(dc, DUMP_E_BAD_FIELD, "RUN.ncpus is %u, expected 1..%d",
                    d->run.ncpus, KM_DUMP_MAX_CPUS);
    if (d->run.tsc_hz == 0)
        return FAIL(dc, DUMP_E_BAD_FIELD, "RUN.tsc_hz is 0");
    if (d->run.trace_mode != KM_TRACE_STOP && d->run.trace_mode != KM_TRACE_OVERWRITE)
        return FAIL(dc, DUMP_E_BAD_FIELD, "RUN.trace_mode is %u, expected 0 or 1",
                    d->run.trace_mode);
    d->ncpus = d->run.ncpus;
    copy_str(d->cpu_vendor, d->run.cpu_vendor, sizeof d->run.cpu_vendor);
    copy_str(d->cpu_brand, d->run.cpu_brand, sizeof d->run.cpu_brand);
    copy_str(d->kmem_mode, d->run.kmem_mode, sizeof d->run.kmem_mode);
    copy_str(d->kernel_rev, d->run.kernel_rev, sizeof d->run.kernel_rev);
    copy_str(d->cmdline, d->run.cmdline, sizeof d->run.cmdline);
    dc->phase = PH_CPU;
    dc->next_cpu = 0;
    return 0;
}

static int decode_cpu(struct decoder *dc, const unsigned char *p, unsigned len)
{
    struct km_dump_cpu c;
    unsigned i = dc->next_cpu;
    if (len != sizeof c)
        return FAIL(dc, DUMP_E_SIZE, "CPU payload is %u bytes, expected %zu", len, sizeof c);
    memcpy(&c, p, sizeof c);
    if (c.cpu != i)
        return FAIL(dc, DUMP_E_BAD_FIELD, "CPU frame %u says cpu %u", i, c.cpu);
    if (c.count > c.written || c.written - c.count != c.lost)
        return FAIL(dc, DUMP_E_COUNTS,
                    "CPU %u: count %llu + lost %llu != written %llu", i, U(c.count),
                    U(c.lost), U(c.written));
    if (c.first_seq > c.lost)
        return FAIL(dc, DUMP_E_COUNTS,
                    "CPU %u: first_seq %llu + count %llu is past written %llu", i,
                    U(c.first_seq), U(c.count), U(c.written));
    struct dump_cpu_trace *t = &dc->d->cpu[i];
    t->info = c;
    /* The records still to come must fit in the bytes after this frame, so
     * that bounds the array even when count is corrupt (the frame is CRC
     * checked, but a lying writer should cost memory, not crash us).  A
     * truncated dump is then reported where the bytes run out. */
    unsigned long long fits = dc->remaining / REC_SIZE;
    dc->cap[i] = c.count < fits ? c.count : fits;
    if (dc->cap[i]) {
        t->recs = malloc(dc->cap[i] * REC_SIZE);
        if (!t->recs)
            return FAIL(dc, DUMP_E_NOMEM, "no memory for %llu records of CPU %u", dc->cap[i], i);
    }
    if (++dc->next_cpu == dc->d->ncpus)
        dc->phase = PH_EVENTS;
    return 0;
}

static int decode_events(struct decoder *dc, const unsigned char *p, unsigned len)
{
    struct km_dump_events e;
    if (len < sizeof e)
        return FAIL(dc, DUMP_E_SIZE, "EVENTS payload is %u bytes, shorter than its header", len);
    memcpy(&e, p, sizeof e);
    if (e.cpu >= dc->d->ncpus)
        return FAIL(dc, DUMP_E_BAD_FIELD, "EVENTS for cpu %u, but ncpus is %u", e.cpu,
                    dc->d->ncpus);
    if (e.count < 1 || e.count > KM_DUMP_EVENTS_PER_FRAME)
        return FAIL(dc, DUMP_E_BAD_FIELD, "EVENTS count is %u, expected 1..%d", e.count,
                    KM_DUMP_EVENTS_PER_FRAME);
    if (len != sizeof e + e.count * REC_SIZE)
        return FAIL(dc, DUMP_E_SIZE, "EVENTS payload is %u bytes, %u records need %llu",
                    len, e.count, sizeof e + e.count * REC_SIZE);
    struct dump_cpu_trace *t = &dc->d->cpu[e.cpu];
    unsigned long long have = dc->got[e.cpu];
    if (e.first_seq != t->info.first_seq + have)
        return FAIL(dc, DUMP_E_COUNTS, "EVENTS for cpu %u start at seq %llu, expected %llu",
                    e.cpu, U(e.first_seq), U(t->info.first_seq + have));
    if (e.count > t->info.count - have)
        return FAIL(dc, DUMP_E_COUNTS, "cpu %u: more records than its CPU frame's count %llu",
                    e.cpu, U(t->info.count));
    if (e.count > dc->cap[e.cpu] - have) /* cannot happen: see decode_cpu */
        return FAIL(dc, DUMP_E_BAD_FIELD, "cpu %u: records beyond the dump's size", e.cpu);
    struct km_trace_rec *r = t->recs + have;
    memcpy(r, p + sizeof e, e.count * REC_SIZE);
    for (unsigned k = 0; k < e.count; k++) {
        if (r[k].cpu != e.cpu)
            return FAIL(dc, DUMP_E_BAD_FIELD, "record %u (seq %llu) has cpu %u in a cpu %u frame",
                        k, U(e.first_seq + k), r[k].cpu, e.cpu);
        if (r[k].event >= KM_EV_LIMIT)
            return FAIL(dc, DUMP_E_BAD_FIELD, "record %u (seq %llu) has event id %u, max %d",
                        k, U(e.first_seq + k), r[k].event, KM_EV_LIMIT - 1);
    }
    dc->got[e.cpu] = have + e.count;
    return 0;
}

static int same_series(const struct dump_series *s, const struct km_dump_samples *h,
                       const char *b, const char *v, const char *m, const char *u)
{
    return !strcmp(s->benchmark, b) && !strcmp(s->variant, v) && !strcmp(s->metric, m) &&
           !strcmp(s->unit, u) && s->overhead == h->overhead && s->cpu == h->cpu &&
           s->n == h->total;
}

static int decode_samples(struct decoder *dc, const unsigned char *p, unsigned len)
{
    struct km_dump_samples h;
    char b[33], v[25], m[25], u[17];
    if (len < sizeof h)
        return FAIL(dc, DUMP_E_SIZE, "SAMPLES payload is %u bytes, shorter than its header", len);
    memcpy(&h, p, sizeof h);
    if (h.count > KM_DUMP_SAMPLES_PER_FRAME)
        return FAIL(dc, DUMP_E_BAD_FIELD, "SAMPLES count is %u, max %d", h.count,
                    KM_DUMP_SAMPLES_PER_FRAME);
    if (len != sizeof h + 8ull * h.count)
        return FAIL(dc, DUMP_E_SIZE, "SAMPLES payload is %u bytes, %u samples need %llu",
                    len, h.count, sizeof h + 8ull * h.count);
    copy_str(b, h.benchmark, sizeof h.benchmark);
    copy_str(v, h.variant, sizeof h.variant);
    copy_str(m, h.metric, sizeof h.metric);
    copy_str(u, h.unit, sizeof h.unit);
    if (!name_ok(b) || !name_ok(v) || !name_ok(m) || !name_ok(u))
        return FAIL(dc, DUMP_E_BAD_FIELD,
                    "SAMPLES names must be non-empty printable words (\"%s\"/\"%s\"/\"%s\" unit \"%s\")",
                    b, v, m, u);
    if (h.cpu >= dc->d->ncpus)
        return FAIL(dc, DUMP_E_BAD_FIELD, "SAMPLES series %s/%s/%s on cpu %u, but ncpus is %u",
                    b, v, m, h.cpu, dc->d->ncpus);
    struct dump_series *s = dc->cur;
    unsigned long long have;
    if (s) {
        /* A continuation chunk: everything but count must repeat. */
        if (!same_series(s, &h, b, v, m, u))
            return FAIL(dc, DUMP_E_COUNTS,
                        "series %s/%s/%s has %llu of %llu samples, but the next SAMPLES frame is %s/%s/%s (or changes unit, overhead, cpu or total)",
                        s->benchmark, s->variant, s->metric, dc->cur_have, s->n, b, v, m);
        have = dc->cur_have;
    } else {
        struct dump *d = dc->d;
        for (size_t i = 0; i < d->nseries; i++)
            if (!strcmp(d->series[i].benchmark, b) && !strcmp(d->series[i].variant, v) &&
                !strcmp(d->series[i].metric, m))
                return FAIL(dc, DUMP_E_BAD_FIELD, "series %s/%s/%s appears twice", b, v, m);
        if (d->nseries == dc->series_cap) {
            size_t cap = dc->series_cap ? 2 * dc->series_cap : 16;
            struct dump_series *n = realloc(d->series, cap * sizeof *n);
            if (!n)
                return FAIL(dc, DUMP_E_NOMEM, "no memory for series");
            d->series = n;
            dc->series_cap = cap;
        }
        s = &d->series[d->nseries++];
        memset(s, 0, sizeof *s);
        strcpy(s->benchmark, b);
        strcpy(s->variant, v);
        strcpy(s->metric, m);
        strcpy(s->unit, u);
        s->overhead = h.overhead;
        s->cpu = h.cpu;
        s->n = h.total;
        /* bounded like the record arrays: samples must fit in the rest */
        unsigned long long fits = (len - sizeof h) / 8 + dc->remaining / 8;
        dc->cur_cap = h.total < fits ? h.total : fits;
        if (dc->cur_cap) {
            s->samples = malloc(dc->cur_cap * 8);
            if (!s->samples)
                return FAIL(dc, DUMP_E_NOMEM, "no memory for %llu samples", dc->cur_cap);
        }
        have = 0;
    }
    if (h.first_index != have)
        return FAIL(dc, DUMP_E_COUNTS, "series %s/%s/%s chunk starts at index %llu, expected %llu",
                    b, v, m, U(h.first_index), have);
    if (h.count > h.total - have)
        return FAIL(dc, DUMP_E_COUNTS, "series %s/%s/%s: chunk of %u at %llu overruns total %llu",
                    b, v, m, h.count, have, U(h.total));
    if (h.count == 0 && h.total != 0)
        return FAIL(dc, DUMP_E_BAD_FIELD, "series %s/%s/%s: empty chunk", b, v, m);
    if (h.count > dc->cur_cap - have) /* cannot happen: see above */
        return FAIL(dc, DUMP_E_BAD_FIELD, "series %s/%s/%s: samples beyond the dump's size", b, v, m);
    memcpy(s->samples + have, p + sizeof h, 8ull * h.count);
    have += h.count;
    dc->total_samples += h.count;
    dc->cur = have == s->n ? NULL : s;
    dc->cur_have = have;
    return 0;
}

static int decode_end(struct decoder *dc, const unsigned char *p, unsigned len)
{
    struct km_dump_end e;
    struct dump *d = dc->d;
    unsigned long long events = 0, lost = 0;
    if (len != sizeof e)
        return FAIL(dc, DUMP_E_SIZE, "END payload is %u bytes, expected %zu", len, sizeof e);
    memcpy(&e, p, sizeof e);
    if (dc->cur)
        return FAIL(dc, DUMP_E_COUNTS, "series %s/%s/%s has only %llu of %llu samples",
                    dc->cur->benchmark, dc->cur->variant, dc->cur->metric, dc->cur_have,
                    dc->cur->n);
    for (unsigned i = 0; i < d->ncpus; i++) {
        const struct km_dump_cpu *c = &d->cpu[i].info;
        if (dc->got[i] != c->count)
            return FAIL(dc, DUMP_E_COUNTS, "cpu %u: EVENTS frames hold %llu records, CPU frame says %llu",
                        i, dc->got[i], U(c->count));
        events += c->count;
        if (__builtin_add_overflow(lost, c->lost, &lost))
            return FAIL(dc, DUMP_E_COUNTS, "lost counts overflow 64 bits");
    }
    if (e.frames != (km_u32)dc->frame)
        return FAIL(dc, DUMP_E_COUNTS, "END.frames is %u, %ld frames came before", e.frames,
                    dc->frame);
    if (e.ncpus != d->ncpus)
        return FAIL(dc, DUMP_E_COUNTS, "END.ncpus is %u, RUN.ncpus is %u", e.ncpus, d->ncpus);
    if (e.events != events)
        return FAIL(dc, DUMP_E_COUNTS, "END.events is %llu, EVENTS frames hold %llu", U(e.events),
                    events);
    if (e.lost != lost)
        return FAIL(dc, DUMP_E_COUNTS, "END.lost is %llu, CPU frames say %llu", U(e.lost), lost);
    if (e.samples != dc->total_samples)
        return FAIL(dc, DUMP_E_COUNTS, "END.samples is %llu, SAMPLES frames hold %llu",
                    U(e.samples), dc->total_samples);
    d->events = events;
    d->lost = lost;
    d->samples = dc->total_samples;
    dc->phase = PH_DONE;
    return 0;
}

/* Checks that a frame of this type may come now; the order is
 * RUN, CPU x ncpus, EVENTS*, SAMPLES*, END. */
static int check_order(struct decoder *dc)
{
    static const char *const want[] = {
        [PH_RUN] = "RUN",
        [PH_CPU] = "CPU",
        [PH_EVENTS] = "EVENTS, SAMPLES or END",
        [PH_SAMPLES] = "SAMPLES or END",
        [PH_DONE] = "nothing",
    };
    int ok;
    switch (dc->type) {
    case KM_FRAME_RUN: ok = dc->phase == PH_RUN; break;
    case KM_FRAME_CPU: ok = dc->phase == PH_CPU; break;
    case KM_FRAME_EVENTS: ok = dc->phase == PH_EVENTS; break;
    case KM_FRAME_SAMPLES: ok = dc->phase == PH_EVENTS || dc->phase == PH_SAMPLES; break;
    case KM_FRAME_END: ok = dc->phase == PH_EVENTS || dc->phase == PH_SAMPLES; break;
    default:
        return FAIL(dc, DUMP_E_ORDER, "unknown frame type %u", dc->type);
    }
    if (!ok) {
        if (dc->phase == PH_CPU)
            return FAIL(dc, DUMP_E_ORDER, "%s frame where CPU frame %u of %u was expected",
                        frame_type_name(dc->type), dc->next_cpu, dc->d->ncpus);
        return FAIL(dc, DUMP_E_ORDER, "%s frame where %s was expected",
                    frame_type_name(dc->type), want[dc->phase]);
    }
    return 0;
}

static int decode_frames(struct decoder *dc)
{
    const unsigned char *buf = dc->buf;
    unsigned long long off = 0, len = dc->len;
    long frame = 0;

    if (len == 0)
        return fail_at(dc->err, DUMP_E_EMPTY, -1, 0, "the dump has no bytes");
    for (;; frame++) {
        struct km_frame_hdr h;
        dc->frame = frame;
        dc->off = off;
        if (off == len) {
            if (dc->phase == PH_DONE)
                return 0;
            return FAIL(dc, DUMP_E_NO_END, "the dump ends after %ld frames without an END frame",
                        frame);
        }
        if (dc->phase == PH_DONE)
            return FAIL(dc, DUMP_E_AFTER_END, "%llu bytes follow the END frame", len - off);
        if (len - off < HDR_SIZE) {
            /* a short tail that does not even start like a frame is not a
             * truncated frame: call it what it is */
            km_u32 magic = KM_DUMP_MAGIC;
            size_t have = len - off < 4 ? (size_t)(len - off) : 4;
            if (memcmp(buf + off, &magic, have) != 0)
                return FAIL(dc, DUMP_E_BAD_MAGIC, "%llu bytes that do not start with \"KMTF\"",
                            len - off);
            return FAIL(dc, DUMP_E_TRUNCATED, "only %llu of %llu header bytes present",
                        len - off, HDR_SIZE);
        }
        memcpy(&h, buf + off, sizeof h);
        if (h.magic != KM_DUMP_MAGIC)
            return FAIL(dc, DUMP_E_BAD_MAGIC, "magic is 0x%08x, expected 0x%08x (\"KMTF\")",
                        h.magic, KM_DUMP_MAGIC);
        km_u32 hcrc = crc32_update(0, buf + off, __builtin_offsetof(struct km_frame_hdr, header_crc));
        if (hcrc != h.header_crc)
            return FAIL(dc, DUMP_E_HEADER_CRC, "header CRC is 0x%08x, computed 0x%08x",
                        h.header_crc, hcrc);
        if (h.version != KM_DUMP_VERSION)
            return FAIL(dc, DUMP_E_VERSION, "version %u, this reader knows %d", h.version,
                        KM_DUMP_VERSION);
        if (h.len > KM_DUMP_MAX_PAYLOAD)
            return FAIL(dc, DUMP_E_TOO_LONG, "payload length %u exceeds %u", h.len,
                        KM_DUMP_MAX_PAYLOAD);
        if (h.len > len - off - HDR_SIZE)
            return FAIL(dc, DUMP_E_TRUNCATED, "%s payload of %u bytes, only %llu present",
                        frame_type_name(h.type), h.len, len - off - HDR_SIZE);
        const unsigned char *p = buf + off + HDR_SIZE;
        km_u32 pcrc = crc32_update(0, p, h.len);
        if (pcrc != h.payload_crc)
            return FAIL(dc, DUMP_E_PAYLOAD_CRC, "%s payload CRC is 0x%08x, computed 0x%08x",
                        frame_type_name(h.type), h.payload_crc, pcrc);
        if (h.seq != (km_u32)frame)
            return FAIL(dc, DUMP_E_SEQ, "seq is %u, expected %ld", h.seq, frame);
        dc->type = h.type;
        dc->remaining = len - off - HDR_SIZE - h.len;
        if (check_order(dc))
            return -1;
        int rc;
        switch (h.type) {
        case KM_FRAME_RUN: rc = decode_run(dc, p, h.len); break;
        case KM_FRAME_CPU: rc = decode_cpu(dc, p, h.len); break;
        case KM_FRAME_EVENTS: rc = decode_events(dc, p, h.len); break;
        case KM_FRAME_SAMPLES:
            rc = decode_samples(dc, p, h.len);
            dc->phase = PH_SAMPLES;
            break;
        default: rc = decode_end(dc, p, h.len); break;
        }
        if (rc)
            return rc;
        off += HDR_SIZE + h.len;
    }
}

int dump_decode(const void *buf, size_t len, struct dump *d, struct dump_error *err)
{
    struct decoder dc;
    memset(d, 0, sizeof *d);
    memset(err, 0, sizeof *err);
    memset(&dc, 0, sizeof dc);
    dc.buf = buf;
    dc.len = len;
    dc.d = d;
    dc.err = err;
    dc.phase = PH_RUN;
    if (decode_frames(&dc)) {
        dump_free(d);
        return -1;
    }
    d->frames = (unsigned)dc.frame;
    d->bytes = len;
    return 0;
}

/* ---- dumps in a serial log (dump=com1; format at the end of abi/dump.h) ---- */

/* First occurrence of the NUL-terminated pat in [p, e), or NULL. */
static const char *find_in(const char *p, const char *e, const char *pat)
{
    size_t n = strlen(pat);
    for (; (size_t)(e - p) >= n; p++)
        if (*p == *pat && !memcmp(p, pat, n))
            return p;
    return NULL;
}

static int b64_digit(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Decodes n base64 characters into out; returns the bytes, or -1 when the
 * text is not whole groups of four valid characters ('=' only at the end). */
static long b64_decode(const char *s, size_t n, unsigned char *out)
{
    long k = 0;
    if (n % 4)
        return -1;
    for (size_t i = 0; i < n; i += 4) {
        int v[4], pad = 0;
        for (int j = 0; j < 4; j++) {
            v[j] = s[i + j] == '=' ? (pad++, 0) : b64_digit(s[i + j]);
            if (v[j] < 0 || (pad && s[i + j] != '='))
                return -1;
        }
        if (pad > 2 || (pad && i + 4 != n))
            return -1;
        unsigned w = (unsigned)v[0] << 18 | (unsigned)v[1] << 12 | (unsigned)v[2] << 6 | (unsigned)v[3];
        out[k++] = (unsigned char)(w >> 16);
        if (pad < 2)
            out[k++] = (unsigned char)(w >> 8);
        if (pad < 1)
            out[k++] = (unsigned char)w;
    }
    return k;
}

/* Reading state: the dump being collected and where it came from. */
struct log_reader {
    unsigned char *out; /* decoded bytes (capacity: enough for the whole log) */
    size_t have;
    unsigned long line;  /* current log line, from 1 */
    unsigned long long line_off; /* its byte offset in the log */
    unsigned long begin, end;    /* lines of the dump's BEGIN and END, 0 if not seen */
    unsigned dumps;              /* complete dumps seen */
    km_u32 crc_said, crc_got;    /* the END line's CRC-32 and the bytes' */
    struct dump_error *err;
};

static int log_fail(struct log_reader *r, enum dump_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int log_fail(struct log_reader *r, enum dump_err code, const char *fmt, ...)
{
    char detail[240];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    r->err->code = code;
    r->err->frame = -1;
    r->err->offset = r->line_off;
    snprintf(r->err->msg, sizeof r->err->msg, "%s: log line %lu: %s", dump_err_name(code), r->line,
             detail);
    return -1;
}

/* "KMD <8 hex> <base64>": checks the offset and appends the bytes. */
static int log_data_line(struct log_reader *r, const char *p, const char *e)
{
    char hex[9];
    if (e - p < 10 || p[8] != ' ')
        return log_fail(r, DUMP_E_LOG, "dump line without an 8-digit offset");
    memcpy(hex, p, 8);
    hex[8] = 0;
    char *end;
    unsigned long long off = strtoull(hex, &end, 16);
    if (*end)
        return log_fail(r, DUMP_E_LOG, "dump line offset '%s' is not hex", hex);
    if (off != r->have)
        return log_fail(r, DUMP_E_LOG,
                        "dump line for byte %llu, expected byte %llu (a line was %s)", off,
                        U(r->have), off > r->have ? "lost" : "repeated");
    p += 9;
    if ((size_t)(e - p) > (KM_DUMP_TEXT_LINE + 2) / 3 * 4)
        return log_fail(r, DUMP_E_LOG, "dump line of %ld characters, at most %d", (long)(e - p),
                        (KM_DUMP_TEXT_LINE + 2) / 3 * 4);
    long n = b64_decode(p, (size_t)(e - p), r->out + r->have);
    if (n < 0)
        return log_fail(r, DUMP_E_LOG, "dump line is not valid base64 (a corrupted character?)");
    r->have += (size_t)n;
    return 0;
}

/* "KMDUMP-END bytes=N crc32=X": the dump is complete if N and X agree. */
static int log_end_line(struct log_reader *r, const char *p, const char *e)
{
    char text[80];
    unsigned long long bytes;
    unsigned crc;
    int used = 0;
    snprintf(text, sizeof text, "%.*s", (int)(e - p < 79 ? e - p : 79), p);
    if (sscanf(text, "bytes=%llu crc32=%8x%n", &bytes, &crc, &used) != 2 || text[used])
        return log_fail(r, DUMP_E_LOG, "end line '%s' is not 'bytes=N crc32=X'", text);
    if (bytes != r->have)
        return log_fail(r, DUMP_E_LOG, "the end line says %llu bytes, the dump lines hold %llu "
                        "(lines lost at the end?)", bytes, U(r->have));
    /* A mismatch is reported after the frames are checked: they can name
     * the frame the damage is in. */
    r->crc_said = crc;
    r->crc_got = crc32_update(0, r->out, r->have);
    r->end = r->line;
    r->dumps++;
    return 0;
}

/* One log line [p, e) without its line end. */
static int log_line(struct log_reader *r, const char *p, const char *e)
{
    const char *m;
    int inside = r->begin && !r->end;
    if ((m = find_in(p, e, "KMDUMP-BEGIN"))) {
        if (inside)
            return log_fail(r, DUMP_E_LOG, "a second KMDUMP-BEGIN inside the dump begun at line %lu "
                            "(the machine restarted mid-dump?)", r->begin);
        if (r->dumps)
            return log_fail(r, DUMP_E_LOG, "a second dump (the first ended at line %lu): cut the "
                            "log to the run to import", r->end);
        if ((size_t)(e - m) != strlen(KM_DUMP_TEXT_BEGIN) || memcmp(m, KM_DUMP_TEXT_BEGIN, (size_t)(e - m)))
            return log_fail(r, DUMP_E_VERSION, "'%.*s', this reader knows '" KM_DUMP_TEXT_BEGIN "'",
                            (int)(e - m), m);
        r->begin = r->line;
        return 0;
    }
    if ((m = find_in(p, e, KM_DUMP_TEXT_END))) {
        if (!inside)
            return log_fail(r, DUMP_E_LOG, "KMDUMP-END without KMDUMP-BEGIN before it");
        return log_end_line(r, m + strlen(KM_DUMP_TEXT_END), e);
    }
    if ((m = find_in(p, e, KM_DUMP_TEXT_DATA))) {
        if (inside)
            return log_data_line(r, m + strlen(KM_DUMP_TEXT_DATA), e);
        if (!r->begin)
            return log_fail(r, DUMP_E_LOG, "a dump line before any KMDUMP-BEGIN (the start of "
                            "the dump is missing from the log)");
        return log_fail(r, DUMP_E_LOG, "a dump line after KMDUMP-END (line %lu)", r->end);
    }
    return 0; /* console text */
}

int dump_is_log(const void *buf, size_t len)
{
    const char *p = buf;
    km_u32 magic = KM_DUMP_MAGIC;
    if (len >= 4 && !memcmp(p, &magic, 4))
        return 0;
    return find_in(p, p + len, "KMDUMP-") || find_in(p, p + len, KM_DUMP_TEXT_DATA);
}

/* The first bytes are printable ASCII, line ends or the escape sequences
 * of a terminal (a boot loader's menu on a serial console): a text file. */
static int looks_like_text(const unsigned char *p, size_t len)
{
    for (size_t i = 0; i < len && i < 256; i++)
        if ((p[i] < ' ' || p[i] > '~') && (!p[i] || !strchr("\n\r\t\b\033", p[i])))
            return 0;
    return len > 0;
}

int dump_decode_log(const void *buf, size_t len, struct dump *d, struct dump_error *err)
{
    const char *p = buf, *e = p + len;
    struct log_reader r;
    memset(d, 0, sizeof *d);
    memset(err, 0, sizeof *err);
    memset(&r, 0, sizeof r);
    r.err = err;
    if (!len)
        return fail_at(err, DUMP_E_EMPTY, -1, 0, "zero bytes");
    r.out = malloc(len / 4 * 3 + 3);
    if (!r.out)
        return fail_at(err, DUMP_E_NOMEM, -1, 0, "no memory for the dump of a %zu-byte log", len);
    int rc = 0;
    while (p < e && !rc) {
        const char *nl = memchr(p, '\n', (size_t)(e - p));
        const char *le = nl ? nl : e;
        r.line++;
        r.line_off = (unsigned long long)(p - (const char *)buf);
        if (!nl && r.begin && !r.end)
            break; /* a cut-off last line inside the dump: truncated, below */
        while (le > p && (le[-1] == '\r' || le[-1] == ' '))
            le--;
        rc = log_line(&r, p, le);
        p = nl ? nl + 1 : e;
    }
    if (!rc && r.begin && !r.end)
        rc = log_fail(&r, DUMP_E_TRUNCATED, "the log ends inside the dump begun at line %lu: no "
                      "KMDUMP-END after %llu bytes", r.begin, U(r.have));
    else if (!rc && !r.dumps)
        rc = fail_at(err, DUMP_E_LOG, -1, 0, "no KMDUMP-BEGIN line: the log holds no dump "
                     "(was the kernel run with dump=com1, and did it get that far?)");
    if (rc) {
        free(r.out);
        return -1;
    }
    rc = dump_decode(r.out, r.have, d, err);
    free(r.out);
    if (rc) {
        char inner[sizeof err->msg];
        snprintf(inner, sizeof inner, "%s", err->msg);
        snprintf(err->msg, sizeof err->msg, "dump of log lines %lu-%lu%s: %.200s (byte offsets in "
                 "the decoded dump)", r.begin, r.end, r.crc_got != r.crc_said ? " (CRC-32 wrong)" : "",
                 inner);
        return -1;
    }
    if (r.crc_got != r.crc_said) {
        dump_free(d);
        r.line = r.end;
        return log_fail(&r, DUMP_E_LOG, "dump CRC-32 is 0x%08x, the end line says 0x%08x",
                        r.crc_got, r.crc_said);
    }
    d->log_begin = r.begin;
    d->log_end = r.end;
    return 0;
}

int dump_read_file(const char *path, struct dump *d, struct dump_error *err)
{
    struct stat st;
    unsigned char *buf = NULL;
    size_t have = 0;
    int fd, rc;

    memset(d, 0, sizeof *d);
    memset(err, 0, sizeof *err);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) < 0) {
        fail_at(err, DUMP_E_IO, -1, 0, "%s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return fail_at(err, DUMP_E_IO, -1, 0, "%s: not a regular file", path);
    }
    if (st.st_size > 0) {
        buf = malloc((size_t)st.st_size);
        if (!buf) {
            close(fd);
            return fail_at(err, DUMP_E_NOMEM, -1, 0, "%s: no memory for %lld bytes", path,
                           (long long)st.st_size);
        }
    }
    while (have < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + have, (size_t)st.st_size - have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            fail_at(err, DUMP_E_IO, -1, have, "%s: %s", path,
                    n < 0 ? strerror(errno) : "file shrank while reading");
            free(buf);
            close(fd);
            return -1;
        }
        have += (size_t)n;
    }
    close(fd);
    if (dump_is_log(buf, have)) {
        rc = dump_decode_log(buf, have, d, err);
    } else {
        rc = dump_decode(buf, have, d, err);
        if (rc && err->code == DUMP_E_BAD_MAGIC && err->frame == 0 && looks_like_text(buf, have))
            snprintf(err->msg + strlen(err->msg), sizeof err->msg - strlen(err->msg),
                     "; this is text without dump lines (a serial log needs a kernel run "
                     "with dump=com1)");
    }
    free(buf);
    return rc;
}

void dump_free(struct dump *d)
{
    for (unsigned i = 0; i < KM_DUMP_MAX_CPUS; i++) {
        free(d->cpu[i].recs);
        d->cpu[i].recs = NULL;
    }
    for (size_t i = 0; i < d->nseries; i++)
        free(d->series[i].samples);
    free(d->series);
    memset(d, 0, sizeof *d);
}
