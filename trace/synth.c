/* Synthetic dump generator.
 *
 * Each CPU runs a small generator: a BSP-time clock advancing by random
 * steps, a CPU TSC = BSP time + tsc_offset, and a plausible mix of events
 * (timer ticks, syscall enter/exit pairs, markers, probes, program
 * start/exit, the odd exception and IPI).  Sequence number 0 of CPU 0 is
 * BOOT, sequence 0 of every CPU is CPU_ONLINE (after BOOT on CPU 0), the
 * last dumped record of each CPU is TRACE_STOP.  Randomness is splitmix64
 * seeded from the options, so output depends on nothing else.
 */
#include <string.h>

#include <abi/trace.h>
#include "synth.h"

#define SYNTH_TSC_HZ 2000000000ull  /* 2 GHz */
#define SYNTH_BOOT_TSC 1000000ull   /* BSP TSC at "kernel entry" */

static unsigned long long splitmix64(unsigned long long *s)
{
    unsigned long long z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [0, n). */
static unsigned long long below(unsigned long long *s, unsigned long long n)
{
    return splitmix64(s) % n;
}

struct cpu_gen {
    unsigned cpu;
    long long tsc_offset;
    unsigned long long rng;
    unsigned long long bsp_time; /* BSP-time clock of the last record */
    unsigned long long seq;      /* next sequence number to emit */
    unsigned long long end_seq;  /* first_seq + count */
    unsigned long long written;
    unsigned long long lost;
    unsigned in_syscall;         /* 0, or syscall nr + 1 awaiting its exit */
    unsigned long long tick;
};

void synth_defaults(struct synth_opts *o)
{
    memset(o, 0, sizeof *o);
    o->ncpus = 2;
    o->events = 10000;
    o->samples = 1000;
    o->seed = 1;
}

static void gen_record(struct cpu_gen *g, unsigned ncpus, struct km_trace_rec *r)
{
    unsigned long long seq = g->seq++;
    g->bsp_time += 50 + below(&g->rng, 4000);
    memset(r, 0, sizeof *r);
    r->tsc = g->bsp_time + (unsigned long long)g->tsc_offset;
    r->cpu = (km_u16)g->cpu;
    r->thread = (km_u32)((seq / 997) % 5);
    if (seq == 0 && g->cpu == 0) {
        r->event = KM_EV_BOOT;
        r->a0 = ncpus;
        r->a1 = SYNTH_TSC_HZ;
        r->thread = 0;
        return;
    }
    if (seq == (g->cpu == 0 ? 1u : 0u)) {
        r->event = KM_EV_CPU_ONLINE;
        r->a0 = g->cpu;                           /* apic id */
        r->a1 = (unsigned long long)g->tsc_offset;
        r->thread = 0;
        return;
    }
    if (seq + 1 == g->end_seq) {
        r->event = KM_EV_TRACE_STOP;
        r->a0 = g->written;
        r->a1 = g->lost;
        return;
    }
    if (g->in_syscall) {
        r->event = KM_EV_SYSCALL_EXIT;
        r->a0 = g->in_syscall - 1;
        r->a1 = 0;
        g->in_syscall = 0;
        return;
    }
    unsigned long long pick = below(&g->rng, 1000);
    if (pick < 300) {
        r->event = KM_EV_SYSCALL_ENTER;
        r->a0 = below(&g->rng, 8);
        r->a1 = below(&g->rng, 1u << 20);
        g->in_syscall = (unsigned)r->a0 + 1;
    } else if (pick < 500) {
        r->event = KM_EV_TIMER;
        r->a0 = ++g->tick;
        r->a1 = 0x400000 + below(&g->rng, 0x10000);
    } else if (pick < 750) {
        r->event = KM_EV_PROBE;
        r->a0 = seq;
        r->a1 = below(&g->rng, 100);
    } else if (pick < 900) {
        r->event = KM_EV_MARKER;
        r->a0 = below(&g->rng, 4);
        r->a1 = seq;
    } else if (pick < 950) {
        r->event = KM_EV_PROG_START + (km_u16)below(&g->rng, 2); /* start or exit */
        r->a0 = r->thread;
        r->a1 = r->event == KM_EV_PROG_START ? 0x400000 : 0;
    } else if (pick < 980) {
        r->event = KM_EV_IPI;
        r->a0 = 0xf0;
        r->a1 = below(&g->rng, ncpus);
    } else {
        r->event = KM_EV_EXCEPTION;
        r->a0 = 14; /* #PF */
        r->a1 = below(&g->rng, 8);
    }
}

static const struct {
    const char *benchmark, *variant, *metric, *unit;
    long long overhead, base, spread;
} series[SYNTH_NSERIES] = {
    { "null_syscall", "enabled", "roundtrip", "cycles", 42, 380, 60 },
    { "null_syscall", "masked", "roundtrip", "cycles", 42, 300, 40 },
    { "trace_overhead", "default", "probe", "cycles", 28, 70, 12 },
};

/* A right-skewed sample: base + the sum of a few uniform steps, and about
 * 1% interrupted iterations ten times slower. */
static long long gen_sample(unsigned long long *rng, long long base, long long spread)
{
    long long v = base;
    for (int k = 0; k < 3; k++)
        v += (long long)below(rng, (unsigned long long)spread);
    if (below(rng, 100) == 0)
        v += base * 9;
    return v;
}

static void put_str(char *dst, size_t n, const char *src)
{
    /* NUL-padded; a string may fill the field (the format allows it) */
    memset(dst, 0, n);
    memcpy(dst, src, strnlen(src, n));
}

int synth_write(const struct synth_opts *o, dump_sink_fn sink, void *ctx)
{
    struct cpu_gen gens[KM_DUMP_MAX_CPUS];             /* ~5 KiB */
    struct km_trace_rec recs[KM_DUMP_EVENTS_PER_FRAME]; /* 32 KiB */
    long long chunk[KM_DUMP_SAMPLES_PER_FRAME];         /* 32 KiB */
    struct dump_writer w;
    struct km_dump_run run;
    unsigned long long rng = o->seed ^ 0x6b6d656d6c6162ull; /* "kmemlab" */
    unsigned long long max_count = 0, total_lost = 0, total_samples = 0;

    if (o->ncpus < 1 || o->ncpus > KM_DUMP_MAX_CPUS || o->events < 2ull * o->ncpus)
        return -1;
    dump_writer_init(&w, sink, ctx);

    for (unsigned c = 0; c < o->ncpus; c++) {
        struct cpu_gen *g = &gens[c];
        unsigned long long count = o->events / o->ncpus + (c < o->events % o->ncpus);
        memset(g, 0, sizeof *g);
        g->cpu = c;
        g->rng = rng + c * 0x1234567ull;
        g->tsc_offset = c == 0 ? 0 : (long long)below(&rng, 20001) - 10000;
        g->bsp_time = SYNTH_BOOT_TSC + c * 100000ull;
        g->lost = o->lost;
        g->written = count + o->lost;
        g->seq = o->overwrite ? o->lost : 0;
        g->end_seq = g->seq + count;
        if (count > max_count)
            max_count = count;
        total_lost += o->lost;
    }

    memset(&run, 0, sizeof run);
    run.tsc_hz = SYNTH_TSC_HZ;
    run.ncpus = o->ncpus;
    run.rec_size = sizeof(struct km_trace_rec);
    run.trace_mask = ~0ull;
    run.trace_mode = o->overwrite ? KM_TRACE_OVERWRITE : KM_TRACE_STOP;
    run.ring_records = 1;
    while (run.ring_records < max_count && run.ring_records < (1u << 31))
        run.ring_records <<= 1;
    run.boot_tsc = SYNTH_BOOT_TSC;
    run.cpuid_sig = 0x000806ec;
    run.flags = KM_RUN_F_TRACE_COMPILED | KM_RUN_F_INVARIANT_TSC;
    put_str(run.cpu_vendor, sizeof run.cpu_vendor, "GenuineIntel");
    put_str(run.cpu_brand, sizeof run.cpu_brand, "kmemlab synthetic CPU @ 2.00GHz");
    put_str(run.kmem_mode, sizeof run.kmem_mode, "pool");
    put_str(run.kernel_rev, sizeof run.kernel_rev, "synthetic");
    put_str(run.cmdline, sizeof run.cmdline, "synth trace.mode=stop");
    if (o->overwrite)
        put_str(run.cmdline, sizeof run.cmdline, "synth trace.mode=overwrite");
    run.timer_hz = 100;
    run.exit_status = 0;
    dump_write_frame(&w, KM_FRAME_RUN, &run, sizeof run, NULL, 0);

    for (unsigned c = 0; c < o->ncpus; c++) {
        struct km_dump_cpu cf = {
            .cpu = c,
            .apic_id = c,
            .tsc_offset = gens[c].tsc_offset,
            .written = gens[c].written,
            .lost = gens[c].lost,
            .first_seq = gens[c].seq,
            .count = gens[c].end_seq - gens[c].seq,
        };
        dump_write_frame(&w, KM_FRAME_CPU, &cf, sizeof cf, NULL, 0);
    }

    /* EVENTS, round-robin over the CPUs until all are drained. */
    for (int more = 1; more;) {
        more = 0;
        for (unsigned c = 0; c < o->ncpus; c++) {
            struct cpu_gen *g = &gens[c];
            unsigned long long left = g->end_seq - g->seq;
            if (!left)
                continue;
            struct km_dump_events eh = {
                .cpu = c,
                .count = left < KM_DUMP_EVENTS_PER_FRAME ? (km_u32)left : KM_DUMP_EVENTS_PER_FRAME,
                .first_seq = g->seq,
            };
            for (unsigned k = 0; k < eh.count; k++)
                gen_record(g, o->ncpus, &recs[k]);
            dump_write_frame(&w, KM_FRAME_EVENTS, &eh, sizeof eh, recs,
                             eh.count * (km_u32)sizeof recs[0]);
            more |= g->seq != g->end_seq;
        }
    }

    for (unsigned s = 0; o->samples && s < SYNTH_NSERIES; s++) {
        struct km_dump_samples sh;
        unsigned long long srng = o->seed * 31 + s;
        memset(&sh, 0, sizeof sh);
        put_str(sh.benchmark, sizeof sh.benchmark, series[s].benchmark);
        put_str(sh.variant, sizeof sh.variant, series[s].variant);
        put_str(sh.metric, sizeof sh.metric, series[s].metric);
        put_str(sh.unit, sizeof sh.unit, series[s].unit);
        sh.overhead = series[s].overhead;
        sh.cpu = s % o->ncpus;
        sh.total = o->samples;
        for (unsigned long long i = 0; i < o->samples; i += sh.count) {
            unsigned long long left = o->samples - i;
            sh.count = left < KM_DUMP_SAMPLES_PER_FRAME ? (km_u32)left : KM_DUMP_SAMPLES_PER_FRAME;
            sh.first_index = i;
            for (unsigned k = 0; k < sh.count; k++)
                chunk[k] = gen_sample(&srng, series[s].base, series[s].spread);
            dump_write_frame(&w, KM_FRAME_SAMPLES, &sh, sizeof sh, chunk,
                             sh.count * (km_u32)sizeof chunk[0]);
        }
        total_samples += o->samples;
    }

    struct km_dump_end end = {
        .frames = w.seq,
        .ncpus = o->ncpus,
        .events = o->events,
        .lost = total_lost,
        .samples = total_samples,
    };
    dump_write_frame(&w, KM_FRAME_END, &end, sizeof end, NULL, 0);
    return 0;
}
