/* Benchmark sample store (see kernel/bench_store.h). */
#include <arch/layout.h>
#include <kernel/config.h>
#include <kernel/bench_store.h>
#include <kernel/frame.h>
#include <kernel/string.h>

static struct bench_series series[BENCH_MAX_SERIES];
static u32 nseries;
static i64 *pool;
static u64 pool_cap, pool_used;

bool bench_store_init(u64 max_samples)
{
    u64 pages = ALIGN_UP(max_samples * sizeof(i64), PAGE_SIZE) / PAGE_SIZE;
    u64 p = pages ? frame_alloc_contig(pages) : 0;
    if (!p)
        return false;
    pool = phys_to_virt(p);
    pool_cap = max_samples;
    return true;
}

static bool name_ok(const char *s, usize field)
{
    usize n = strnlen(s, field);
    if (n == 0 || n == field)
        return false;
    for (usize i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-'))
            return false;
    }
    return true;
}

bool bench_desc_valid(const struct km_bench_desc *d)
{
    return name_ok(d->benchmark, sizeof d->benchmark) && name_ok(d->variant, sizeof d->variant) &&
           name_ok(d->metric, sizeof d->metric) && name_ok(d->unit, sizeof d->unit);
}

i64 *bench_store_reserve(u64 n)
{
    if (nseries == BENCH_MAX_SERIES || n > pool_cap - pool_used)
        return NULL;
    return pool + pool_used;
}

void bench_store_commit(const struct km_bench_desc *d, i64 *samples, u64 n, u32 cpu)
{
    struct bench_series *s = &series[nseries++];
    s->desc = *d;
    s->cpu = cpu;
    s->n = n;
    s->samples = samples;
    pool_used += n;
}

u32 bench_series_count(void) { return nseries; }
const struct bench_series *bench_series_get(u32 i) { return i < nseries ? &series[i] : NULL; }
