/* Writes the end-of-run dump (format in abi/dump.h). */
#include <arch/machine.h>
#include <kernel/bench_store.h>
#include <kernel/dump.h>
#include <kernel/options.h>
#include <kernel/printk.h>
#include <kernel/string.h>
#include <kernel/trace.h>
#include <lib/crc32.h>

static u64 dump_cpu_events(struct dump_writer *w, u32 cpu)
{
    const struct trace_ring *r = &trace_rings[cpu];
    u64 count, seq, lost, written;
    trace_ring_counts(r, &count, &seq, &lost, &written);
    for (u64 left = count; left;) {
        /* A frame never wraps around the ring's end. */
        u64 slot = seq & r->mask;
        u64 n = MIN(MIN(left, (u64)KM_DUMP_EVENTS_PER_FRAME), r->mask + 1 - slot);
        struct km_dump_events h = {cpu, (u32)n, seq};
        dump_write_frame(w, KM_FRAME_EVENTS, &h, sizeof h, &r->recs[slot],
                         (u32)(n * sizeof(struct km_trace_rec)));
        seq += n;
        left -= n;
    }
    return count;
}

static u64 dump_samples(struct dump_writer *w)
{
    u64 total = 0;
    for (u32 i = 0; i < bench_series_count(); i++) {
        const struct bench_series *s = bench_series_get(i);
        for (u64 off = 0; off < s->n;) {
            u64 n = MIN(s->n - off, (u64)KM_DUMP_SAMPLES_PER_FRAME);
            struct km_dump_samples h;
            memset(&h, 0, sizeof h);
            memcpy(h.benchmark, s->desc.benchmark, sizeof h.benchmark);
            memcpy(h.variant, s->desc.variant, sizeof h.variant);
            memcpy(h.metric, s->desc.metric, sizeof h.metric);
            memcpy(h.unit, s->desc.unit, sizeof h.unit);
            h.overhead = s->desc.overhead;
            h.cpu = s->cpu;
            h.count = (u32)n;
            h.first_index = off;
            h.total = s->n;
            dump_write_frame(w, KM_FRAME_SAMPLES, &h, sizeof h, s->samples + off,
                             (u32)(n * sizeof(i64)));
            off += n;
        }
        total += s->n;
    }
    return total;
}

/* ---- dump=com1: the dump as base64 lines (format in abi/dump.h) ----
 * A serial capture on bare metal goes through terminal programs and shares
 * the port with the console, so raw bytes would not survive it; text lines
 * with a marker do, and the line offsets and the END line's CRC let the
 * reader say exactly what was lost. */

struct text_sink {
    dump_sink_fn out; /* the byte channel underneath */
    void *ctx;
    u8 buf[KM_DUMP_TEXT_LINE];
    u32 have;   /* bytes in buf */
    u64 offset; /* dump offset of buf[0] */
    u32 crc;    /* CRC-32 of every byte so far */
};

static void text_puts(struct text_sink *t, const char *s, usize len) { t->out(t->ctx, s, len); }

static usize base64(char *dst, const u8 *src, u32 n)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    usize k = 0;
    for (u32 i = 0; i < n; i += 3) {
        u32 v = (u32)src[i] << 16 | (i + 1 < n ? (u32)src[i + 1] << 8 : 0) |
                (i + 2 < n ? src[i + 2] : 0);
        dst[k++] = abc[v >> 18 & 63];
        dst[k++] = abc[v >> 12 & 63];
        dst[k++] = i + 1 < n ? abc[v >> 6 & 63] : '=';
        dst[k++] = i + 2 < n ? abc[v & 63] : '=';
    }
    return k;
}

static void text_flush(struct text_sink *t)
{
    char line[24 + KM_DUMP_TEXT_LINE / 3 * 4];
    if (!t->have)
        return;
    usize n = (usize)ksnprintf(line, sizeof line, KM_DUMP_TEXT_DATA "%08lx ", t->offset);
    n += base64(line + n, t->buf, t->have);
    line[n++] = '\n';
    text_puts(t, line, n);
    t->offset += t->have;
    t->have = 0;
}

static void text_put(void *ctx, const void *buf, unsigned long len)
{
    struct text_sink *t = ctx;
    const u8 *p = buf;
    t->crc = crc32_update(t->crc, buf, len);
    while (len) {
        u32 n = (u32)MIN((unsigned long)(KM_DUMP_TEXT_LINE - t->have), len);
        memcpy(t->buf + t->have, p, n);
        t->have += n;
        p += n;
        len -= n;
        if (t->have == KM_DUMP_TEXT_LINE)
            text_flush(t);
    }
}

static u32 dump_frames(struct dump_writer *w, struct km_dump_run *run,
                       const struct dump_cpu_info *cpus, u32 ncpus)
{
    struct km_dump_end end;
    memset(&end, 0, sizeof end);
    run->ncpus = ncpus;
    run->rec_size = sizeof(struct km_trace_rec);
    dump_write_frame(w, KM_FRAME_RUN, run, sizeof *run, NULL, 0);
    for (u32 c = 0; c < ncpus; c++) {
        struct km_dump_cpu dc;
        u64 count, first, lost, written;
        trace_ring_counts(&trace_rings[c], &count, &first, &lost, &written);
        dc.cpu = c;
        dc.apic_id = cpus[c].apic_id;
        dc.tsc_offset = cpus[c].tsc_offset;
        dc.written = written;
        dc.lost = lost;
        dc.first_seq = first;
        dc.count = count;
        end.lost += lost;
        dump_write_frame(w, KM_FRAME_CPU, &dc, sizeof dc, NULL, 0);
    }
    for (u32 c = 0; c < ncpus; c++)
        end.events += dump_cpu_events(w, c);
    end.samples = dump_samples(w);
    end.frames = w->seq;
    end.ncpus = ncpus;
    dump_write_frame(w, KM_FRAME_END, &end, sizeof end, NULL, 0);
    return w->seq;
}

u32 dump_run(struct dump_writer *w, struct km_dump_run *run, const struct dump_cpu_info *cpus,
             u32 ncpus)
{
    if (opt.dump != DUMP_COM1)
        return dump_frames(w, run, cpus, ncpus);
    struct text_sink t;
    char line[80];
    memset(&t, 0, sizeof t);
    t.out = w->sink;
    t.ctx = w->ctx;
    w->sink = text_put;
    w->ctx = &t;
    /* The leading newline ends whatever partial line the console left. */
    text_puts(&t, "\n" KM_DUMP_TEXT_BEGIN "\n", sizeof KM_DUMP_TEXT_BEGIN + 1);
    u32 frames = dump_frames(w, run, cpus, ncpus);
    text_flush(&t);
    usize n = (usize)ksnprintf(line, sizeof line, KM_DUMP_TEXT_END "bytes=%lu crc32=%08x\n",
                               t.offset, t.crc);
    text_puts(&t, line, n);
    w->sink = t.out;
    w->ctx = t.ctx;
    return frames;
}
