/* Time stamp counter reads for measurements.
 *
 * lfence; rdtsc; lfence: the first lfence waits until every earlier
 * instruction has completed locally, the second keeps later instructions
 * from starting before rdtsc has read the counter.  rdtscp would do the
 * first half, but QEMU CPU models may lack it, so we use lfence + rdtsc on
 * both sides.  The pair tsc_begin()/tsc_end() with nothing between is the
 * "empty measurement" that user/lib/bench.c subtracts.
 *
 * Under QEMU icount the counter advances per guest instruction: a delta is
 * a path length, exact and reproducible.
 */
#ifndef USER_TSC_H
#define USER_TSC_H

#include <abi/types.h>

static inline km_u64 tsc_read(void)
{
    km_u32 lo, hi;
    __asm__ volatile("lfence\n\t" /* earlier instructions are done */
                     "rdtsc\n\t"  /* edx:eax = TSC */
                     "lfence"     /* later instructions wait for the read */
                     : "=a"(lo), "=d"(hi)
                     :
                     : "memory");
    return (km_u64)hi << 32 | lo;
}

/* Start and end of a measured region; the same instruction sequence, so
 * the empty measurement is symmetric. */
static inline km_u64 tsc_begin(void) { return tsc_read(); }
static inline km_u64 tsc_end(void) { return tsc_read(); }

#endif
