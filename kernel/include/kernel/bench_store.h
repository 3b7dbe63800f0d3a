/* Raw benchmark samples handed in by sys_bench_submit, kept for the dump.
 * Only the boot CPU runs programs, so the store takes no lock; callers run
 * with interrupts off (syscall path). */
#ifndef KERNEL_BENCH_STORE_H
#define KERNEL_BENCH_STORE_H

#include <abi/syscall.h>
#include <kernel/types.h>

#define BENCH_MAX_SERIES 256

struct bench_series {
    struct km_bench_desc desc;
    u32 cpu;
    u64 n;
    i64 *samples;
};

/* Reserves room for max_samples samples; false when memory is short. */
bool bench_store_init(u64 max_samples);
/* true when every name in d is non-empty, NUL-terminated within its field
 * and made of [A-Za-z0-9_.-]. */
bool bench_desc_valid(const struct km_bench_desc *d);
/* Room for n samples of a new series: returns where to copy them, or NULL. */
i64 *bench_store_reserve(u64 n);
/* Commits the series whose samples were just copied to bench_store_reserve's
 * pointer. */
void bench_store_commit(const struct km_bench_desc *d, i64 *samples, u64 n, u32 cpu);

u32 bench_series_count(void);
const struct bench_series *bench_series_get(u32 i);

#endif
