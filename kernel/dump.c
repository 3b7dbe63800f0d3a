/* Writes the end-of-run dump (format in abi/dump.h). */
#include <kernel/bench_store.h>
#include <kernel/dump.h>
#include <kernel/string.h>
#include <kernel/trace.h>

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

u32 dump_run(struct dump_writer *w, struct km_dump_run *run, const struct dump_cpu_info *cpus,
             u32 ncpus)
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
