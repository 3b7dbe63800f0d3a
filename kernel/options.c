/* Boot options table and defaults. */
#include <abi/trace.h>
#include <arch/machine.h>
#include <kernel/cmdline.h>
#include <kernel/config.h>
#include <kernel/options.h>
#include <kernel/printk.h>

/* Default mask: everything but the per-operation events (system calls,
 * IPC, faults, maps, switches) and the benchmark probe, which would
 * perturb the figures they sit on; benchmarks enable what they trace. */
#define DEFAULT_MASK                                                              \
    (KM_TRACE_ALL_MASK &                                                          \
     ~((1ull << KM_EV_SYSCALL_ENTER) | (1ull << KM_EV_SYSCALL_EXIT) | (1ull << KM_EV_PROBE) | \
       (1ull << KM_EV_IPC_SEND) | (1ull << KM_EV_IPC_RECV) | (1ull << KM_EV_PAGEFAULT) |     \
       (1ull << KM_EV_MAP) | (1ull << KM_EV_FAULT_DONE) | (1ull << KM_EV_SWITCH) |          \
       (1ull << KM_EV_PMU_FAULT)))

struct boot_options opt = {
    .trace_mode = KM_TRACE_STOP,
    .trace_mask = DEFAULT_MASK,
    .trace_records = 65536,
    .timer_hz = 100,
    .dump = DUMP_DEBUGCON,
    .maxcpus = MAX_CPUS,
    .bench_samples = 1u << 20,
    .kmem = 0,
};

static const char *const modes[] = {"stop", "overwrite", NULL};
static const char *const dumps[] = {"debugcon", "com2", "com1", "none", NULL};
static const char *const kmems[] = {"pool", "kpager", NULL};
static const char *const kfaults[] = {"none", "pf", "ud", "de", "gp", NULL};

static const struct cmdline_opt table[] = {
    {"trace.mode", OPT_ENUM, &opt.trace_mode, modes, 0, 0, false, "stop or overwrite"},
    {"trace.mask", OPT_U64, &opt.trace_mask, NULL, 0, KM_TRACE_ALL_MASK, false,
     "event bit mask (bits of defined events only)"},
    {"trace.records", OPT_U64, &opt.trace_records, NULL, 64, 1u << 24, true,
     "ring records per CPU, a power of two, 64..16777216"},
    {"timer_hz", OPT_U32, &opt.timer_hz, NULL, 0, 10000, false, "0..10000, 0 = off"},
    {"dump", OPT_ENUM, &opt.dump, dumps, 0, 0, false, "debugcon, com2, com1 or none"},
    {"maxcpus", OPT_U32, &opt.maxcpus, NULL, 1, MAX_CPUS, false, "1..64"},
    {"bench.samples", OPT_U64, &opt.bench_samples, NULL, 1024, 1u << 24, false,
     "raw sample capacity, 1024..16777216"},
    {"kmem", OPT_ENUM, &opt.kmem, kmems, 0, 0, false,
     "pool (the kernel's own) or kpager (threads with a kpager get pages from it)"},
    {"kmem.pool", OPT_U64, &opt.kmem_pool, NULL, 1, 1u << 20, false,
     "MiB of memory the kernel's pool may hand out (default: all that is free)"},
    {"sigma0", OPT_FLAG, &opt.sigma0, NULL, 0, 0, false, "module 1 is sigma0"},
    {"sigma0.mib", OPT_U64, &opt.sigma0_mib, NULL, 1, 1u << 20, false,
     "MiB of memory for sigma0 (default: half of what is free)"},
    {"roottask", OPT_FLAG, &opt.roottask, NULL, 0, 0, false,
     "the module after sigma0 (or the first) starts the others"},
    {"debug.fault_work", OPT_U32, &opt.fault_work, NULL, 0, 1000000, false,
     "extra work on each user page fault, 0..1000000 iterations (regression tests)"},
    {"pmu", OPT_U64_LIST, &opt.pmu, NULL, 1, 0xffffffffull, false,
     "1 to 4 raw PERFEVTSEL encodings, comma-separated, each 0x1..0xffffffff "
     "(kmemlab pmu-encode)"},
    {"debug.kfault", OPT_ENUM, &opt.kfault, kfaults, 0, 0, false, "none, pf, ud, de or gp"},
    {"debug.resume_in_c", OPT_FLAG, &opt.resume_in_c, NULL, 0, 0, false,
     "resume blocked threads through their C frames, never from the syscall frame (tests)"},
};

static void report(const char *msg) { printk("cmdline: %s\n", msg); }

int options_parse(const char *line)
{
    int errors = cmdline_parse(line, table, ARRAY_SIZE(table), report);
    if (opt.trace_mask & ~KM_TRACE_ALL_MASK) {
        report("trace.mask names events that do not exist");
        errors++;
    }
    opt.kmem_pool <<= 8; /* MiB to pages */
    if (errors) {
        printk("cmdline: known options:");
        for (usize i = 0; i < ARRAY_SIZE(table); i++)
            printk(" %s", table[i].name);
        printk("\n");
    }
    return errors;
}
