/* Per-CPU trace buffers.
 *
 * Concurrency contract:
 *  - Each ring is written only by its own CPU, with interrupts off, so a
 *    writer is never interrupted or raced by another writer.  No lock.
 *  - Interrupts off is the caller's part: trace points run with them off,
 *    and trace_write does not touch the flag.  The kernel runs with them
 *    off throughout: it is entered through interrupt gates and SYSCALL
 *    (SFMASK clears IF), boots with them off, and turns them on only in
 *    klock_wait's "sti; nop; pause; nop; cli" and the idle loop's
 *    "sti; hlt", where no trace point is (an interrupt taken there writes
 *    its records between others', never inside one).  tests/sh/irq_off.sh
 *    asserts it on the kernel binary: every sti is one of those two, or
 *    irq_restore's (which restores a state saved before).  A caller that
 *    may run with interrupts on uses trace_irqsave() instead.
 *  - `head` counts records stored since boot; record n lives in slot
 *    n & mask.  The writer fills the slot, then publishes head = n + 1
 *    with a release store.  A reader on any CPU loads head with acquire,
 *    copies, then reloads head: every record whose slot the writer may have
 *    touched meanwhile (index < head_after + 1 - cap) is discarded, so a
 *    reader is never fed a torn record.
 *  - Lost records are counted: `dropped` (stop mode, ring full) and, in
 *    overwrite mode, records overwritten before they were read.
 */
#ifndef KERNEL_TRACE_H
#define KERNEL_TRACE_H

#include <abi/trace.h>
#include <arch/current.h>
#include <kernel/config.h>
#include <kernel/types.h>

struct trace_ring {
    struct km_trace_rec *recs; /* cap records; set at init, then constant */
    u64 mask;                  /* cap - 1 (cap is a power of two) */
    u64 head;                  /* owner writes (release); anyone reads (acquire) */
    u64 limit;                 /* owner: head values at or past this are not
                                  stored: cap (stop mode), ~0 (overwrite),
                                  0 (stopped) */
    u64 tag;                   /* owner: cpu << 16 | thread << 32, the
                                  record's second word without the event */
    u64 dropped;               /* owner writes; read after trace_stop */
    u32 mode;                  /* enum km_trace_mode; constant after init */
    u32 cpu;
    u64 cpu_tag;               /* cpu << 16, set at init: tag without the thread */
} __attribute__((aligned(64)));
_Static_assert(sizeof(struct trace_ring) == 64, "a trace ring's header fills one cache line");

extern struct trace_ring trace_rings[MAX_CPUS];
/* Runtime enable mask: bit n enables event n.  Written by sys_trace_ctl
 * (single word store), read by every trace point. */
extern u64 trace_mask;

/* Gives CPU `cpu` a ring of `cap` records (power of two) at `mem`. */
void trace_ring_init(struct trace_ring *r, u32 cpu, struct km_trace_rec *mem, u64 cap,
                     u32 mode);
/* On the owning CPU: make trace points on this CPU write to r. */
void trace_ring_attach(struct trace_ring *r);
/* On the owning CPU: the thread id stamped on later records.  Inline:
 * every context switch calls it. */
static inline void trace_set_thread(u32 thread)
{
    struct trace_ring *r = cpu_trace_ring();
    cpu_set_thread(thread);
    if (r) /* tag = cpu_tag | thread << 32: its upper half (little endian) */
        __builtin_memcpy((char *)&r->tag + 4, &thread, 4);
}
_Static_assert(((u64)MAX_CPUS << 16) <= 1ull << 32, "trace_set_thread: cpu_tag (cpu << 16) is below bit 32");

/* Writes one record (event ev, a0, a1) to this CPU's ring: the body of
 * every trace point, in line (about 18 instructions: a call, its argument
 * moves and return would add about 5).  No
 * interrupt flag touched (the contract above), so no trace point on this
 * CPU can take the same slot between reading head and publishing
 * head + 1; no other CPU ever writes this ring.  The record's words are
 * stored before the TSC read, which clobbers rdx (a1's register).  With
 * since, a1 is a TSC value read earlier and the record holds the ticks
 * from it to the record's own TSC read (one read fewer for a measured
 * span). */
static inline __attribute__((always_inline)) void trace_ring_put(u64 ev, u64 a0, u64 a1, bool since)
{
    struct trace_ring *r = cpu_trace_ring();
    u64 h = r->head;
    if (__builtin_expect(h < r->limit, 1)) {
        struct km_trace_rec *rec = &r->recs[h & r->mask];
        u64 word = r->tag | ev; /* event, cpu, thread: one 8-byte store */
        __builtin_memcpy(&rec->event, &word, sizeof word);
        rec->a0 = a0;
        if (since) {
            u64 now = rdtsc_raw();
            rec->tsc = now;
            rec->a1 = now - a1;
        } else {
            rec->a1 = a1;
            tsc_store(&rec->tsc);
        }
        /* Publish: the record's stores happen before head moves. */
        __atomic_store_n(&r->head, h + 1, __ATOMIC_RELEASE);
    } else if (r->limit) {
        r->dropped++; /* stop mode, ring full */
    }
}

/* trace_ring_put out of line: one record to this CPU's ring, interrupts
 * off (the contract above). */
void trace_write(u64 ev, u64 a0, u64 a1);
/* trace_write whose a1 is the TSC ticks since t0 (a rdtsc_raw earlier): the
 * record's own TSC read closes the span. */
void trace_write_since(u64 ev, u64 a0, u64 t0);
/* trace_write for a caller that may run with interrupts on: they are off
 * during the write, then as before.  Call through trace_irqsave(). */
void trace_write_irqsave(u64 ev, u64 a0, u64 a1);

/* Stops this CPU's ring (owner only): later writes are ignored.  Records a
 * final TRACE_STOP event first. */
void trace_stop_local(void);

/* Reader, any CPU: copies up to max of the newest records into out, in
 * order; *first_seq gets the sequence number of out[0].  Returns the count.
 * Safe against a concurrently writing owner (see the contract above); while
 * the ring is live, a full ring yields cap - 1 records (the oldest slot is
 * the one the owner may be overwriting), a stopped one all cap. */
u64 trace_ring_snapshot(const struct trace_ring *r, struct km_trace_rec *out, u64 max,
                        u64 *first_seq);

/* Counts for the dump, valid once the ring is stopped: records available
 * (count), first available sequence number, and lost records. */
void trace_ring_counts(const struct trace_ring *r, u64 *count, u64 *first_seq, u64 *lost,
                       u64 *written);

#if CONFIG_TRACE
#define trace(EV, a0, a1)                                                     \
    do {                                                                      \
        if (__builtin_expect(trace_mask & (1ull << KM_EV_##EV), 0))           \
            trace_ring_put(KM_EV_##EV, (u64)(a0), (u64)(a1), false);          \
    } while (0)
/* trace() from where interrupts may be on (see the contract above). */
#define trace_irqsave(EV, a0, a1)                                             \
    do {                                                                      \
        if (__builtin_expect(trace_mask & (1ull << KM_EV_##EV), 0))           \
            trace_write_irqsave(KM_EV_##EV, (u64)(a0), (u64)(a1));            \
    } while (0)
/* Whether EV is traced now (a span's start read only then). */
#define trace_on(EV) __builtin_expect((trace_mask & (1ull << KM_EV_##EV)) != 0, 0)
/* trace(EV, a0, ticks since t0): t0 from rdtsc_raw, when trace_on(EV). */
#define trace_since(EV, a0, t0)                                               \
    do {                                                                      \
        if (trace_on(EV))                                                     \
            trace_write_since(KM_EV_##EV, (u64)(a0), (u64)(t0));              \
    } while (0)
#else
#define trace_on(EV) 0
#define trace_since(EV, a0, t0)                                               \
    do {                                                                      \
        (void)sizeof(a0);                                                     \
        (void)sizeof(t0);                                                     \
    } while (0)
#define trace(EV, a0, a1)                                                     \
    do {                                                                      \
        (void)sizeof(a0);                                                     \
        (void)sizeof(a1);                                                     \
    } while (0)
#define trace_irqsave(EV, a0, a1) trace(EV, a0, a1)
#endif

#endif
