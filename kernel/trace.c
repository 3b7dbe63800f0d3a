/* Per-CPU trace ring buffers (contract in kernel/trace.h). */
#include <arch/cpu.h>
#include <arch/current.h>
#include <kernel/string.h>
#include <kernel/trace.h>

struct trace_ring trace_rings[MAX_CPUS];
u64 trace_mask;

void trace_ring_init(struct trace_ring *r, u32 cpu, struct km_trace_rec *mem, u64 cap,
                     u32 mode)
{
    r->recs = mem;
    r->mask = cap - 1;
    r->head = 0;
    r->dropped = 0;
    r->mode = mode;
    r->cpu = cpu;
    r->tag = r->cpu_tag = (u64)cpu << 16;
    r->limit = mode == KM_TRACE_STOP ? cap : ~0ull;
}

void trace_ring_attach(struct trace_ring *r) { cpu_set_trace_ring(r); }

/* The hot path: trace_ring_put (kernel/trace.h), about 20 instructions. */
void trace_write(u64 ev, u64 a0, u64 a1) { trace_ring_put(ev, a0, a1, false); }

/* trace_write with a1 the TSC ticks since t0 (rdtsc_raw earlier). */
void trace_write_since(u64 ev, u64 a0, u64 t0) { trace_ring_put(ev, a0, t0, true); }

void trace_write_irqsave(u64 ev, u64 a0, u64 a1)
{
    u64 flags = irq_save();
    trace_ring_put(ev, a0, a1, false);
    irq_restore(flags);
}

void trace_stop_local(void)
{
    struct trace_ring *r = cpu_trace_ring();
    if (!r)
        return;
    u64 cap = r->mask + 1;
    u64 written = r->head + r->dropped + 1; /* counting the stop record */
    u64 lost = r->dropped;
    if (r->mode == KM_TRACE_OVERWRITE && r->head + 1 > cap)
        lost += r->head + 1 - cap;
    trace(TRACE_STOP, written, lost);
    __atomic_store_n(&r->limit, 0, __ATOMIC_RELEASE);
}

u64 trace_ring_snapshot(const struct trace_ring *r, struct km_trace_rec *out, u64 max,
                        u64 *first_seq)
{
    u64 cap = r->mask + 1;
    u64 h1 = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
    u64 start = h1 > cap ? h1 - cap : 0;
    if (h1 - start > max)
        start = h1 - max;
    for (u64 i = start; i < h1; i++)
        out[i - start] = r->recs[i & r->mask];
    /* The copies above happen before this load: anything the owner wrote
     * after h2's publication is not in a slot we keep. */
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    u64 h2 = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
    /* A live owner may be writing record h2 into the slot of h2 - cap; a
     * stopped ring (limit 0) has no writer, so every slot is whole. */
    u64 busy = __atomic_load_n(&r->limit, __ATOMIC_ACQUIRE) ? 1 : 0;
    u64 valid = h2 + busy > cap ? h2 + busy - cap : 0;
    u64 skip = valid > start ? valid - start : 0;
    if (skip >= h1 - start) {
        *first_seq = h1;
        return 0;
    }
    if (skip)
        memmove(out, out + skip, (h1 - start - skip) * sizeof *out);
    *first_seq = start + skip;
    return h1 - start - skip;
}

void trace_ring_counts(const struct trace_ring *r, u64 *count, u64 *first_seq, u64 *lost,
                       u64 *written)
{
    u64 cap = r->mask + 1;
    u64 h = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
    *count = h < cap ? h : cap;
    *first_seq = h - *count;
    *lost = r->dropped + *first_seq;
    *written = h + r->dropped;
}
