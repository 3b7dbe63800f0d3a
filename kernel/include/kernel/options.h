/* Boot options: the kernel command line's vocabulary and its defaults. */
#ifndef KERNEL_OPTIONS_H
#define KERNEL_OPTIONS_H

#include <kernel/cmdline.h>
#include <kernel/types.h>

struct boot_options {
    u32 trace_mode;     /* trace.mode=stop|overwrite */
    u64 trace_mask;     /* trace.mask=<number>: enabled events */
    u64 trace_records;  /* trace.records=<power of two>: ring size per CPU */
    u32 timer_hz;       /* timer_hz=<0..10000>: LAPIC timer, 0 = off */
    u32 dump;           /* dump=debugcon|com2|com1|none */
    u32 maxcpus;        /* maxcpus=<1..64> */
    u64 bench_samples;  /* bench.samples=<n>: room for raw samples */
    u32 kmem;           /* KMEM_MODE_POOL or KMEM_MODE_KPAGER */
    u64 kmem_pool;      /* kmem.pool=<MiB>, kept in pages: pool size (0: all free memory) */
    u32 sigma0;         /* sigma0: boot module 1 is sigma0, a server that
                           owns the memory it is given */
    u64 sigma0_mib;     /* sigma0.mib=<n>: memory for sigma0 (0: half) */
    u32 roottask;       /* roottask: the next module is the root task, which
                           starts the others (abi/l4.h) */
    u32 fault_work;     /* debug.fault_work=<n>: n extra loop iterations on
                           every user page fault (tests of make regress) */
    u32 kfault;         /* debug.kfault=none|pf|ud|de|gp: fault in the
                           kernel after boot, to test the panic path */
    u32 resume_in_c;    /* debug.resume_in_c: a thread blocked in its IPC
                           system call is always resumed through its C
                           frames (tests of those paths: ipc.c) */
    struct cmdline_u64_list pmu; /* pmu=<raw>[,<raw>...]: IA32_PERFEVTSELx
                           values (libpfm4 encodings, kmemlab pmu-encode) for
                           general counters 0.., when the CPU has them */
};

enum { KMEM_MODE_POOL = 0, KMEM_MODE_KPAGER = 1 };

extern struct boot_options opt;

/* Parses line into opt (defaults first); prints each problem on the
 * console and returns their number. */
int options_parse(const char *line);

#endif
