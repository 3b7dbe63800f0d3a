/* Performance counters (contract in arch/pmu.h).  Intel SDM vol. 3, ch. 20
 * "Architectural performance monitoring": CPUID.0xA:EAX gives the version
 * (bits 7..0), the general counters per logical CPU (15..8) and their width
 * (23..16); counter i is IA32_PERFEVTSEL<i> (0x186 + i) and IA32_PMC<i>
 * (0xC1 + i); from version 2 on, IA32_PERF_GLOBAL_CTRL (0x38F) must enable
 * them as well. */
#include <arch/cpu.h>
#include <arch/current.h>
#include <arch/pmu.h>
#include <kernel/config.h>
#include <kernel/options.h>
#include <kernel/printk.h>
#include <kernel/trace.h>

#define MSR_PERFEVTSEL0 0x186
#define MSR_PMC0 0xc1
#define MSR_PERF_GLOBAL_CTRL 0x38f

#define EVTSEL_INT (1ull << 20) /* interrupt on overflow */
#define EVTSEL_ANY (1ull << 21) /* AnyThread: reserved before version 3 */
#define EVTSEL_EN (1ull << 22)

bool pmu_active;

_Static_assert(CMDLINE_LIST_MAX <= sizeof ((struct km_dump_run *)0)->pmu_evtsel / sizeof(u64),
               "every pmu= encoding fits the RUN record");

static struct {
    u32 version, counters, width; /* the BSP's CPUID.0xA */
    u32 programmed;               /* counters programmed on the BSP */
} bsp;

/* Per CPU: counters this CPU programmed (0: rdpmc is not safe here, or
 * there is nothing to read).  Checked on every sample, so a CPU whose
 * CPUID differs from the BSP's never executes an rdpmc it cannot. */
static u8 cpu_programmed[MAX_CPUS];

static void leaf_0xa(u32 *version, u32 *counters, u32 *width)
{
    u32 a, b, c, d;
    *version = *counters = *width = 0;
    cpuid(0, 0, &a, &b, &c, &d);
    if (a < 0xa) /* the leaf does not exist: no architectural PMU */
        return;
    cpuid(0xa, 0, &a, &b, &c, &d);
    *version = a & 0xff;
    *counters = (a >> 8) & 0xff;
    *width = (a >> 16) & 0xff;
}

/* Writes the pmu= encodings into counters 0..n-1 and starts them. */
static void program(u32 version, u32 n)
{
    if (version >= 2) /* stop everything while the selectors change */
        wrmsr(MSR_PERF_GLOBAL_CTRL, 0);
    for (u32 i = 0; i < n; i++) {
        /* No overflow interrupt: the kernel has no PMI handler, and with
         * counters of 40+ bits a run never wraps one.  AnyThread would
         * #GP where it is reserved.  USR/OS stay as libpfm4 encoded them. */
        u64 sel = opt.pmu.v[i] & ~EVTSEL_INT;
        if (version < 3)
            sel &= ~EVTSEL_ANY;
        wrmsr(MSR_PERFEVTSEL0 + i, 0);
        wrmsr(MSR_PMC0 + i, 0);
        wrmsr(MSR_PERFEVTSEL0 + i, sel | EVTSEL_EN);
    }
    if (version >= 2)
        wrmsr(MSR_PERF_GLOBAL_CTRL, (1ull << n) - 1);
}

void pmu_init_cpu(u32 cpu)
{
    u32 version, counters, width, n = opt.pmu.n;
    leaf_0xa(&version, &counters, &width);
    bool can = n && version >= 1 && counters >= n;
    if (can)
        program(version, n);
    cpu_programmed[cpu] = can ? (u8)n : 0;
    if (cpu != 0) {
        if (bsp.programmed && !can)
            printk("pmu: cpu %u has no %u counters (version %u, %u counters): not sampled here\n",
                   cpu, n, version, counters);
        return;
    }
    bsp.version = version;
    bsp.counters = counters;
    bsp.width = width;
    bsp.programmed = can ? n : 0;
    if (version == 0)
        printk("pmu: none (CPUID leaf 0xA reports no architectural PMU)%s\n",
               n ? "; pmu= given: nothing programmed" : "");
    else if (n && !can)
        printk("pmu: version %u, %u counters of %u bits: too few for the %u of pmu=, "
               "nothing programmed\n",
               version, counters, width, n);
    else
        printk("pmu: version %u, %u counters of %u bits; %u programmed%s\n", version, counters,
               width, bsp.programmed, n ? " (pmu=)" : "");
    /* Set before the APs start and long before any user fault. */
    pmu_active = bsp.programmed != 0;
}

void pmu_describe(struct km_dump_run *run)
{
    run->pmu_version = (u8)bsp.version;
    run->pmu_counters = (u8)bsp.counters;
    run->pmu_width = (u8)bsp.width;
    run->pmu_requested = (u8)opt.pmu.n;
    run->pmu_programmed = (u8)bsp.programmed;
    for (u32 i = 0; i < opt.pmu.n && i < 4; i++)
        run->pmu_evtsel[i] = opt.pmu.v[i];
}

static inline u64 rdpmc(u32 i)
{
    u32 lo, hi;
    __asm__ volatile("rdpmc" : "=a"(lo), "=d"(hi) : "c"(i));
    return ((u64)hi << 32) | lo;
}

void pmu_fault_sample(u32 done)
{
#if CONFIG_TRACE
    if (!(trace_mask & (1ull << KM_EV_PMU_FAULT)))
        return; /* off (the default): not even the rdpmc */
    u32 n = cpu_programmed[cpu_id()];
    if (!n)
        return;
    u64 c0 = rdpmc(0), c1 = n > 1 ? rdpmc(1) : 0;
    trace(PMU_FAULT, c0 | (u64)(done != 0) << 63, c1);
#else
    (void)done;
#endif
}
