/* CTF 1.8 writer: TSDL metadata and one packetised stream per CPU.
 *
 * Binary layout (little endian, byte aligned, no padding anywhere):
 *
 * packet header, 24 bytes          packet context, 44 bytes
 *   0  4 magic 0xC1FC1FC1            0  8 timestamp_begin (tsc clock)
 *   4 16 uuid                        8  8 timestamp_end
 *  20  4 stream_id (0)              16  8 content_size (bits)
 *                                   24  8 packet_size (bits) = content_size
 *                                   32  8 events_discarded (cumulative)
 *                                   40  4 cpu_id
 * event, 30 bytes
 *   0  2 id          (event header)
 *   2  8 timestamp   (tsc clock, BSP time)
 *  10  4 thread      (payload)
 *  14  8 a0
 *  22  8 a1
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "crc32.h"
#include "ctf_write.h"
#include "events.h"

#define PKT_HDR_SIZE 24
#define PKT_CTX_SIZE 44
#define EV_SIZE 30

#define U(x) ((unsigned long long)(x)) /* km_u64 is unsigned long on LP64 */

/* TSDL keywords (CTF 1.8 section 7.2.1 plus type names) that cannot be used
 * as field names as they are; such names get a leading underscore, which the
 * spec tells readers to strip when presenting the field. */
static const char *const tsdl_keywords[] = {
    "align", "callsite", "const", "char", "clock", "double", "enum", "env", "event",
    "floating_point", "float", "integer", "int", "long", "short", "signed", "stream",
    "string", "struct", "trace", "typealias", "typedef", "unsigned", "variant", "void",
    "_Bool", "_Complex", "_Imaginary",
};

static const char *field_prefix(const char *name)
{
    for (size_t i = 0; i < sizeof tsdl_keywords / sizeof tsdl_keywords[0]; i++)
        if (!strcmp(name, tsdl_keywords[i]))
            return "_";
    return "";
}

/* Writes s as a TSDL string literal body: quotes and backslashes escaped,
 * control and non-ASCII bytes dropped. */
static void put_escaped(FILE *f, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fputc('\\', f);
        if (c >= 0x20 && c < 0x7f)
            fputc(c, f);
    }
}

static void put_uuid(FILE *f, const unsigned char u[16])
{
    for (int i = 0; i < 16; i++)
        fprintf(f, "%02x%s", u[i], (i == 3 || i == 5 || i == 7 || i == 9) ? "-" : "");
}

void ctf_trace_uuid(const struct dump *d, unsigned char uuid[16])
{
    km_u32 h[4];
    unsigned long long totals[3] = { d->events, d->lost, d->samples };
    km_u32 seed = crc32_update(0, &d->run, sizeof d->run);
    seed = crc32_update(seed, totals, sizeof totals);
    for (unsigned i = 0; i < d->ncpus; i++)
        seed = crc32_update(seed, &d->cpu[i].info, sizeof d->cpu[i].info);
    for (km_u32 i = 0; i < 4; i++) {
        km_u32 salt = i * 0x9e3779b9u;
        h[i] = crc32_update(seed, &salt, sizeof salt);
    }
    memcpy(uuid, h, 16);
    uuid[6] = (unsigned char)((uuid[6] & 0x0f) | 0x40); /* version 4 layout */
    uuid[8] = (unsigned char)((uuid[8] & 0x3f) | 0x80); /* RFC 4122 variant */
}

/* TSDL type of an event argument, from its KM_ARG_* kind. */
static const char *arg_type(int kind)
{
    return kind == KM_ARG_S ? "arg_s64" : kind == KM_ARG_X ? "arg_x64" : "uint64_t";
}

int ctf_write_metadata(const struct dump *d, const unsigned char uuid[16], FILE *f)
{
    fprintf(f, "/* CTF 1.8 */\n\n");
    fprintf(f, "/* kmemlab trace: %u CPUs, %llu events, written by kmtrace from a verified dump. */\n\n",
            d->ncpus, d->events);
    fprintf(f,
            "typealias integer { size = 8; align = 8; signed = false; } := uint8_t;\n"
            "typealias integer { size = 16; align = 8; signed = false; } := uint16_t;\n"
            "typealias integer { size = 32; align = 8; signed = false; } := uint32_t;\n"
            "typealias integer { size = 64; align = 8; signed = false; } := uint64_t;\n\n");
    fprintf(f, "trace {\n    major = 1;\n    minor = 8;\n    uuid = \"");
    put_uuid(f, uuid);
    fprintf(f, "\";\n    byte_order = le;\n"
               "    packet.header := struct {\n"
               "        uint32_t magic;\n"
               "        uint8_t uuid[16];\n"
               "        uint32_t stream_id;\n"
               "    };\n};\n\n");

    fprintf(f, "env {\n    domain = \"kmemlab\";\n    tracer_name = \"kmemlab\";\n");
    fprintf(f, "    tsc_hz = %llu;\n    ncpus = %u;\n    boot_tsc = %llu;\n",
            (unsigned long long)d->run.tsc_hz, d->ncpus, (unsigned long long)d->run.boot_tsc);
    fprintf(f, "    trace_mode = \"%s\";\n",
            d->run.trace_mode == KM_TRACE_OVERWRITE ? "overwrite" : "stop");
    static const struct { const char *key; size_t off; } strs[] = {
        { "kmem_mode", offsetof(struct dump, kmem_mode) },
        { "kernel_rev", offsetof(struct dump, kernel_rev) },
        { "cpu_vendor", offsetof(struct dump, cpu_vendor) },
        { "cpu_brand", offsetof(struct dump, cpu_brand) },
        { "cmdline", offsetof(struct dump, cmdline) },
    };
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        fprintf(f, "    %s = \"", strs[i].key);
        put_escaped(f, (const char *)d + strs[i].off);
        fprintf(f, "\";\n");
    }
    fprintf(f, "};\n\n");

    fprintf(f, "clock {\n    name = \"tsc\";\n    uuid = \"");
    put_uuid(f, uuid);
    fprintf(f, "\";\n"
               "    description = \"BSP TSC ticks: each CPU's TSC minus its boot-measured tsc_offset\";\n"
               "    freq = %llu;\n    precision = 1;\n    offset_s = 0;\n    offset = 0;\n"
               "    absolute = false;\n};\n\n",
            (unsigned long long)d->run.tsc_hz);
    fprintf(f, "typealias integer { size = 64; align = 8; signed = false; map = clock.tsc.value; } := tsc_t;\n");
    fprintf(f, "typealias integer { size = 64; align = 8; signed = true; } := arg_s64;\n");
    fprintf(f, "typealias integer { size = 64; align = 8; signed = false; base = 16; } := arg_x64;\n\n");

    fprintf(f, "stream {\n    id = 0;\n"
               "    packet.context := struct {\n"
               "        tsc_t timestamp_begin;\n"
               "        tsc_t timestamp_end;\n"
               "        uint64_t content_size;\n"
               "        uint64_t packet_size;\n"
               "        uint64_t events_discarded;\n"
               "        uint32_t cpu_id;\n"
               "    };\n"
               "    event.header := struct {\n"
               "        uint16_t id;\n"
               "        tsc_t timestamp;\n"
               "    };\n};\n\n");

    for (unsigned i = 0; i < km_nevents; i++) {
        const struct km_event_info *e = &km_events[i];
        fprintf(f, "event {\n    name = \"%s\";\n    id = %u;\n    stream_id = 0;\n", e->name, e->id);
        fprintf(f, "    fields := struct {\n        uint32_t thread;\n");
        fprintf(f, "        %s %s%s;\n", arg_type(e->a0_type), field_prefix(e->a0), e->a0);
        fprintf(f, "        %s %s%s;\n", arg_type(e->a1_type), field_prefix(e->a1), e->a1);
        fprintf(f, "    };\n};\n\n");
    }
    return ferror(f) ? -1 : 0;
}

/* Little-endian stores into a byte buffer. */
static unsigned char *put16(unsigned char *p, unsigned v) { memcpy(p, &(km_u16){ (km_u16)v }, 2); return p + 2; }
static unsigned char *put32(unsigned char *p, km_u32 v) { memcpy(p, &v, 4); return p + 4; }
static unsigned char *put64(unsigned char *p, km_u64 v) { memcpy(p, &v, 8); return p + 8; }

static int err_out(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int err_out(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* Writes one packet of n records (n may be 0) with the given time bounds. */
static int write_packet(FILE *f, unsigned char *buf, const unsigned char uuid[16], unsigned cpu,
                        const struct km_trace_rec *r, unsigned n, km_u64 offset_ticks,
                        km_u64 ts_begin, km_u64 ts_end, km_u64 discarded)
{
    unsigned long long bytes = PKT_HDR_SIZE + PKT_CTX_SIZE + (unsigned long long)n * EV_SIZE;
    unsigned char *p = buf;
    p = put32(p, CTF_MAGIC);
    memcpy(p, uuid, 16);
    p += 16;
    p = put32(p, 0);
    p = put64(p, ts_begin);
    p = put64(p, ts_end);
    p = put64(p, bytes * 8);
    p = put64(p, bytes * 8);
    p = put64(p, discarded);
    p = put32(p, cpu);
    for (unsigned i = 0; i < n; i++) {
        p = put16(p, r[i].event);
        p = put64(p, r[i].tsc - offset_ticks);
        p = put32(p, r[i].thread);
        p = put64(p, r[i].a0);
        p = put64(p, r[i].a1);
    }
    return fwrite(buf, 1, bytes, f) == bytes ? 0 : -1;
}

/* Checks that cpu's BSP-time timestamps are usable: none before the
 * offset, none going backwards. */
static int check_times(const struct dump_cpu_trace *t, unsigned cpu, char *err, size_t errlen)
{
    km_u64 off = (km_u64)t->info.tsc_offset, prev = 0;
    for (unsigned long long i = 0; i < t->info.count; i++) {
        km_u64 ts = t->recs[i].tsc - off;
        if (t->info.tsc_offset > 0 && t->recs[i].tsc < off)
            return err_out(err, errlen,
                           "cpu %u seq %llu: TSC %llu is below the CPU's tsc_offset %lld", cpu,
                           U(t->info.first_seq + i), U(t->recs[i].tsc), (long long)t->info.tsc_offset);
        if (t->info.tsc_offset < 0 && ts < t->recs[i].tsc)
            return err_out(err, errlen, "cpu %u seq %llu: TSC %llu - tsc_offset %lld overflows",
                           cpu, U(t->info.first_seq + i), U(t->recs[i].tsc), (long long)t->info.tsc_offset);
        if (ts < prev)
            return err_out(err, errlen,
                           "cpu %u seq %llu: time goes backwards (%llu after %llu); CTF needs it to advance",
                           cpu, U(t->info.first_seq + i), U(ts), U(prev));
        prev = ts;
    }
    return 0;
}

static int write_stream(const struct dump *d, unsigned cpu, const char *path,
                        const unsigned char uuid[16], unsigned char *buf, char *err, size_t errlen)
{
    const struct dump_cpu_trace *t = &d->cpu[cpu];
    km_u64 off = (km_u64)t->info.tsc_offset;
    unsigned long long n = t->info.count;
    km_u64 lost_before = t->info.first_seq;           /* overwrite mode: the oldest */
    km_u64 lost_after = t->info.lost - lost_before;    /* stop mode: the newest */
    FILE *f = fopen(path, "wb");
    int rc = 0;

    if (!f)
        return err_out(err, errlen, "%s: %s", path, strerror(errno));
    if (n == 0) {
        /* No records: one empty packet at boot time carries the loss. */
        km_u64 boot = d->run.boot_tsc;
        rc = write_packet(f, buf, uuid, cpu, NULL, 0, 0, boot, boot, t->info.lost);
    }
    if (n && lost_before) {
        /* Overwrite mode lost the oldest records, written between boot and
         * the first record kept: an empty packet at boot time with no loss,
         * so the first real packet's count reads as "lost since boot". */
        km_u64 first = t->recs[0].tsc - off;
        km_u64 boot = d->run.boot_tsc < first ? d->run.boot_tsc : first;
        rc = write_packet(f, buf, uuid, cpu, NULL, 0, 0, boot, boot, 0);
    }
    for (unsigned long long i = 0; i < n && !rc; i += CTF_PACKET_EVENTS) {
        unsigned k = n - i < CTF_PACKET_EVENTS ? (unsigned)(n - i) : CTF_PACKET_EVENTS;
        const struct km_trace_rec *r = t->recs + i;
        rc = write_packet(f, buf, uuid, cpu, r, k, off, r[0].tsc - off, r[k - 1].tsc - off,
                          lost_before);
    }
    if (!rc && n && lost_after) {
        km_u64 last = t->recs[n - 1].tsc - off;
        rc = write_packet(f, buf, uuid, cpu, NULL, 0, 0, last, last, t->info.lost);
    }
    if (fclose(f) != 0 || rc)
        return err_out(err, errlen, "%s: write failed: %s", path, strerror(errno));
    return 0;
}

int ctf_write(const struct dump *d, const char *dir, char *err, size_t errlen)
{
    unsigned char uuid[16];
    char path[4096];
    unsigned char *buf;
    FILE *f;

    for (unsigned c = 0; c < d->ncpus; c++)
        if (check_times(&d->cpu[c], c, err, errlen))
            return -1;
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return err_out(err, errlen, "cannot create %s: %s", dir, strerror(errno));
    ctf_trace_uuid(d, uuid);

    if ((size_t)snprintf(path, sizeof path, "%s/metadata", dir) >= sizeof path)
        return err_out(err, errlen, "%s: path too long", dir);
    f = fopen(path, "w");
    if (!f)
        return err_out(err, errlen, "%s: %s", path, strerror(errno));
    int rc = ctf_write_metadata(d, uuid, f);
    if (fclose(f) != 0 || rc)
        return err_out(err, errlen, "%s: write failed: %s", path, strerror(errno));

    buf = malloc(PKT_HDR_SIZE + PKT_CTX_SIZE + CTF_PACKET_EVENTS * EV_SIZE);
    if (!buf)
        return err_out(err, errlen, "out of memory");
    for (unsigned c = 0; c < d->ncpus && !rc; c++) {
        snprintf(path, sizeof path, "%s/stream_%u", dir, c);
        rc = write_stream(d, c, path, uuid, buf, err, errlen);
    }
    free(buf);
    return rc;
}
