/* Trace record: the fixed-size unit of every per-CPU ring buffer and dump. */
#ifndef ABI_TRACE_H
#define ABI_TRACE_H

#include <abi/types.h>
#include <abi/trace_events.h>

/* struct km_trace_rec, 32 bytes, little endian.
 *
 * OFFSET SIZE FIELD   MEANING
 *      0    8 tsc     TSC when the event was written (this CPU's TSC;
 *                     subtract the CPU's tsc_offset for BSP time)
 *      8    2 event   enum km_event_id
 *     10    2 cpu     logical CPU number (0 = BSP)
 *     12    4 thread  current thread/program id, 0 = kernel/idle
 *     16    8 a0      first argument (see trace_events.h for names)
 *     24    8 a1      second argument
 *
 * 32 bytes keeps records cache-line aligned (two per 64-byte line) and
 * leaves 128 bits of payload, enough for an address plus a value.
 */
struct km_trace_rec {
    km_u64 tsc;
    km_u16 event;
    km_u16 cpu;
    km_u32 thread;
    km_u64 a0;
    km_u64 a1;
};
KM_STATIC_ASSERT(sizeof(struct km_trace_rec) == 32, "trace record is 32 bytes");
KM_STATIC_ASSERT(__builtin_offsetof(struct km_trace_rec, a0) == 16, "a0 at 16");

/* Ring buffer modes (kernel command line trace.mode=stop|overwrite). */
enum km_trace_mode {
    KM_TRACE_STOP = 0,      /* drop new records when full (count them lost) */
    KM_TRACE_OVERWRITE = 1, /* flight recorder: overwrite the oldest */
};

/* sys_trace_ctl operations */
/* The name hash a benchmark's variant marker carries (user/bench.h:
 * BENCH_MARK_VARIANT; the host finds the variant by it): FNV-1a, 32 bits. */
static inline km_u64 km_name_hash(const char *s)
{
    km_u32 h = 2166136261u;
    while (*s)
        h = (h ^ (km_u8)*s++) * 16777619u;
    return h;
}

enum km_trace_ctl_op {
    KM_TRACE_CTL_GET_MASK = 0, /* returns the mask (bits above 62 unreadable) */
    KM_TRACE_CTL_SET_MASK = 1, /* arg: new mask; returns the old one */
    KM_TRACE_CTL_ENABLE = 2,   /* arg: event id; returns 0 */
    KM_TRACE_CTL_DISABLE = 3,  /* arg: event id; returns 0 */
};

#endif
