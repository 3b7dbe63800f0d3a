/* syscall_check: every system call, with good and bad arguments, returns
 * what abi/syscall.h says; bad arguments never crash the kernel. */
#include <user/stdio.h>
#include <user/string.h>
#include <user/sys.h>
#include <user/tap.h>

#define KADDR 0xffff800000000000ul    /* first kernel-half address */
#define NONCANON 0x0000800000000000ul /* first non-canonical address */
#define UNMAPPED 0x0000100000000000ul /* 16 TiB: nothing of ours is there */
#define MARK_ID 0x5343                /* "SC": this program's markers */

static long sc(long nr, long a0, long a1, long a2) { return km_syscall3(nr, a0, a1, a2); }

/* A syscall must preserve every register but rax (result), rcx and r11.
 * Loads a pattern into all of them, calls sys_null and compares. */
static int regs_preserved(void)
{
    register long rdi __asm__("rdi") = 0x1111111111111111;
    register long rsi __asm__("rsi") = 0x2222222222222222;
    register long rdx __asm__("rdx") = 0x3333333333333333;
    register long r8 __asm__("r8") = 0x4444444444444444;
    register long r9 __asm__("r9") = 0x5555555555555555;
    register long r10 __asm__("r10") = 0x6666666666666666;
    register long rbx __asm__("rbx") = 0x7777777777777777;
    register long r12 __asm__("r12") = 0x8888888888888888;
    register long r13 __asm__("r13") = 0x9999999999999999;
    register long r14 __asm__("r14") = 0xaaaaaaaaaaaaaaaa;
    register long r15 __asm__("r15") = 0xbbbbbbbbbbbbbbbb;
    long rax = KM_SYS_NULL, rbp_after, rsp_before, rsp_after;
    __asm__ volatile("mov %%rsp, %[spb]\n\t"
                     "sub $128, %%rsp\n\t" /* step over the red zone */
                     "push %%rbp\n\t" /* rbp: saved by hand (may be the frame pointer) */
                     "mov $0xcccccccccccccccc, %%rbp\n\t"
                     "syscall\n\t"
                     "mov %%rbp, %%rcx\n\t" /* rcx is clobbered anyway: carries rbp out */
                     "pop %%rbp\n\t"
                     "add $128, %%rsp\n\t"
                     "mov %%rsp, %[spa]"
                     : "+a"(rax), "=c"(rbp_after), [spb] "=&m"(rsp_before), [spa] "=m"(rsp_after),
                       "+r"(rdi), "+r"(rsi), "+r"(rdx), "+r"(r8), "+r"(r9), "+r"(r10), "+r"(rbx),
                       "+r"(r12), "+r"(r13), "+r"(r14), "+r"(r15)
                     :
                     : "r11", "memory");
    int ok = rax == 0 && rbp_after == (long)0xcccccccccccccccc && rsp_before == rsp_after &&
             rdi == 0x1111111111111111 && rsi == 0x2222222222222222 &&
             rdx == 0x3333333333333333 && r8 == 0x4444444444444444 &&
             r9 == 0x5555555555555555 && r10 == 0x6666666666666666 &&
             rbx == 0x7777777777777777 && r12 == (long)0x8888888888888888 &&
             r13 == (long)0x9999999999999999 && r14 == (long)0xaaaaaaaaaaaaaaaa &&
             r15 == (long)0xbbbbbbbbbbbbbbbb;
    if (!ok)
        tap_diag("after syscall: rax=%lx rbp=%lx rdi=%lx rsi=%lx rdx=%lx r8=%lx r9=%lx r10=%lx "
                 "rbx=%lx r12=%lx r13=%lx r14=%lx r15=%lx rsp %s",
                 rax, rbp_after, rdi, rsi, rdx, r8, r9, r10, rbx, r12, r13, r14, r15,
                 rsp_before == rsp_after ? "kept" : "CHANGED");
    return ok;
}

static void check_numbers(void)
{
    EXPECT(sys_null(), 0, "null returns 0");
    tap_ok(regs_preserved(), "syscall preserves all registers but rax, rcx, r11");
    EXPECT(sc(KM_SYS_COUNT, 0, 0, 0), -KM_ENOSYS, "number KM_SYS_COUNT (%d) -> -KM_ENOSYS", KM_SYS_COUNT);
    EXPECT(sc(255, 0, 0, 0), -KM_ENOSYS, "number 255 -> -KM_ENOSYS");
    EXPECT(sc(-1, 0, 0, 0), -KM_ENOSYS, "number -1 -> -KM_ENOSYS");
    EXPECT(sc(0x100000000l + KM_SYS_NULL, 0, 0, 0), -KM_ENOSYS,
           "number 2^32 + KM_SYS_NULL -> -KM_ENOSYS (all 64 bits of rax count)");
}

static char big[KM_PUTS_MAX + 1];

static void check_puts(void)
{
    static const char msg[] = "# sys_puts: hello from syscall_check\n";
    long r = sys_puts(msg, sizeof msg - 1);
    tap_ok(r >= 0, "puts of a short line succeeds (%ld)", r);
    r = sys_puts(msg, 0);
    tap_ok(r >= 0, "puts of 0 bytes succeeds (%ld)", r);

    /* The longest accepted string, as one TAP comment line. */
    memset(big, ' ', KM_PUTS_MAX);
    big[0] = '#';
    big[1] = ' ';
    big[KM_PUTS_MAX - 1] = '\n';
    r = sys_puts(big, KM_PUTS_MAX);
    tap_ok(r >= 0, "puts of KM_PUTS_MAX bytes succeeds (%ld)", r);

    EXPECT(sys_puts(big, KM_PUTS_MAX + 1), -KM_EINVAL, "puts len KM_PUTS_MAX + 1 -> -KM_EINVAL");
    EXPECT(sys_puts(big, (unsigned long)-1), -KM_EINVAL, "puts len 2^64 - 1 -> -KM_EINVAL");
    EXPECT(sys_puts(0, 1), -KM_EFAULT, "puts NULL -> -KM_EFAULT");
    EXPECT(sys_puts((const char *)KADDR, 1), -KM_EFAULT, "puts kernel address -> -KM_EFAULT");
    EXPECT(sys_puts((const char *)0xffffffff80000000ul, 16), -KM_EFAULT,
           "puts kernel image address -> -KM_EFAULT");
    EXPECT(sys_puts((const char *)NONCANON, 1), -KM_EFAULT, "puts non-canonical -> -KM_EFAULT");
    EXPECT(sys_puts((const char *)(NONCANON - 16), 32), -KM_EFAULT,
           "puts crossing the top of the user half -> -KM_EFAULT");
    EXPECT(sys_puts((const char *)0xfffffffffffff800ul, 4096), -KM_EFAULT,
           "puts wrapping past 2^64 -> -KM_EFAULT");
    EXPECT(sys_puts((const char *)UNMAPPED, 1), -KM_EFAULT, "puts unmapped user page -> -KM_EFAULT");
}

static int test_mask_bit(int id)
{
    long m = sys_trace_ctl(KM_TRACE_CTL_GET_MASK, 0);
    return m >= 0 && (m >> id & 1);
}

static void check_trace(void)
{
    long r = sys_trace_marker(MARK_ID, 1);
    tap_ok(r >= 0, "trace_marker succeeds (%ld)", r);
    r = sys_trace_marker(~0ul, ~0ul);
    tap_ok(r >= 0, "trace_marker with all-ones id and value succeeds (%ld)", r);

    long mask = sys_trace_ctl(KM_TRACE_CTL_GET_MASK, 0);
    tap_ok(mask >= 0, "trace_ctl GET_MASK succeeds (0x%lx)", mask);
    if (mask < 0)
        return;
    unsigned long want = (unsigned long)mask ^ (1ul << KM_EV_PROBE);
    EXPECT(sys_trace_ctl(KM_TRACE_CTL_SET_MASK, want), mask, "trace_ctl SET_MASK returns the old mask");
    EXPECT(sys_trace_ctl(KM_TRACE_CTL_GET_MASK, 0), (long)want, "trace_ctl GET_MASK returns the new mask");
    EXPECT(sys_trace_ctl(KM_TRACE_CTL_ENABLE, KM_EV_PROBE), 0, "trace_ctl ENABLE PROBE returns 0");
    tap_ok(test_mask_bit(KM_EV_PROBE), "ENABLE sets the PROBE bit");
    EXPECT(sys_trace_ctl(KM_TRACE_CTL_DISABLE, KM_EV_PROBE), 0, "trace_ctl DISABLE PROBE returns 0");
    tap_ok(!test_mask_bit(KM_EV_PROBE), "DISABLE clears the PROBE bit");

    EXPECT(sys_trace_ctl(4, 0), -KM_EINVAL, "trace_ctl op 4 -> -KM_EINVAL");
    EXPECT(sys_trace_ctl(-1, 0), -KM_EINVAL, "trace_ctl op -1 -> -KM_EINVAL");
    EXPECT(sys_trace_ctl(0x100000000l, 0), -KM_EINVAL, "trace_ctl op 2^32 -> -KM_EINVAL");
    EXPECT(sys_trace_ctl(KM_TRACE_CTL_ENABLE, KM_EV_LIMIT), -KM_EINVAL, "trace_ctl ENABLE event 64 -> -KM_EINVAL");
    EXPECT(sys_trace_ctl(KM_TRACE_CTL_DISABLE, KM_EV_LIMIT), -KM_EINVAL, "trace_ctl DISABLE event 64 -> -KM_EINVAL");
    EXPECT(sys_trace_ctl(KM_TRACE_CTL_ENABLE, ~0ul), -KM_EINVAL, "trace_ctl ENABLE event 2^64 - 1 -> -KM_EINVAL");
    EXPECT(sys_trace_ctl(KM_TRACE_CTL_ENABLE, 1ul << 32 | KM_EV_PROBE), -KM_EINVAL,
           "trace_ctl ENABLE event 2^32 + PROBE -> -KM_EINVAL");

    /* The first id that names no event. */
    int unused = 0;
#define KM_EV_MAX(id, NAME, name, a0, t0, a1, t1, doc) unused = (id) >= unused ? (id) + 1 : unused;
    KM_TRACE_EVENTS(KM_EV_MAX)
#undef KM_EV_MAX
    r = sys_trace_ctl(KM_TRACE_CTL_ENABLE, (unsigned long)unused);
    /* ABI: only events of trace_events.h can be enabled. */
    tap_ok(r == -KM_EINVAL, "trace_ctl ENABLE undefined event %d -> -KM_EINVAL (got %ld)", unused, r);

    sys_trace_ctl(KM_TRACE_CTL_SET_MASK, (unsigned long)mask);
    EXPECT(sys_trace_ctl(KM_TRACE_CTL_GET_MASK, 0), mask, "mask restored");

    r = sys_trace_probe(0);
    tap_ok(r >= 0, "trace_probe(0) returns ticks (%ld)", r);
    r = sys_trace_probe(1);
    tap_ok(r >= 0, "trace_probe(1) returns ticks (%ld)", r);
    r = sys_trace_probe(2);
    /* ABI: with_probe is 0 or 1. */
    tap_ok(r == -KM_EINVAL, "trace_probe(2) -> -KM_EINVAL (got %ld)", r);
}

static km_i64 many[KM_BENCH_MAX_SAMPLES + 1]; /* valid memory for the too-long series */

static void desc_init(struct km_bench_desc *d)
{
    memset(d, 0, sizeof *d);
    strlcpy(d->benchmark, "syscall_check", sizeof d->benchmark);
    strlcpy(d->variant, "abi", sizeof d->variant);
    strlcpy(d->metric, "selftest", sizeof d->metric);
    strlcpy(d->unit, "count", sizeof d->unit);
}

static void check_bench_submit(void)
{
    static const km_i64 samples[4] = { 1, 2, 3, 4 };
    struct km_bench_desc d, bad;

    desc_init(&d);
    long r = sys_bench_submit(&d, samples, 4);
    tap_ok(r >= 0, "bench_submit of 4 samples succeeds (%ld)", r);
    EXPECT(sys_bench_submit(0, samples, 4), -KM_EFAULT, "bench_submit desc NULL -> -KM_EFAULT");
    EXPECT(sys_bench_submit((const struct km_bench_desc *)KADDR, samples, 4), -KM_EFAULT,
           "bench_submit desc in kernel -> -KM_EFAULT");
    EXPECT(sys_bench_submit(&d, 0, 4), -KM_EFAULT, "bench_submit samples NULL -> -KM_EFAULT");
    EXPECT(sys_bench_submit(&d, (const km_i64 *)KADDR, 4), -KM_EFAULT,
           "bench_submit samples in kernel -> -KM_EFAULT");
    EXPECT(sys_bench_submit(&d, (const km_i64 *)(NONCANON - 16), 4), -KM_EFAULT,
           "bench_submit samples crossing the top of the user half -> -KM_EFAULT");
    EXPECT(sys_bench_submit(&d, (const km_i64 *)UNMAPPED, 4), -KM_EFAULT,
           "bench_submit samples unmapped -> -KM_EFAULT");
    EXPECT(sys_bench_submit(&d, many, KM_BENCH_MAX_SAMPLES + 1), -KM_EINVAL,
           "bench_submit n = KM_BENCH_MAX_SAMPLES + 1 -> -KM_EINVAL");
    EXPECT(sys_bench_submit(&d, many, 1ul << 61), -KM_EINVAL,
           "bench_submit n = 2^61 (n * 8 overflows) -> -KM_EINVAL");

    bad = d;
    memset(bad.benchmark, 'b', sizeof bad.benchmark);
    EXPECT(sys_bench_submit(&bad, samples, 4), -KM_EINVAL, "bench_submit unterminated benchmark -> -KM_EINVAL");
    bad = d;
    memset(bad.variant, 'v', sizeof bad.variant);
    EXPECT(sys_bench_submit(&bad, samples, 4), -KM_EINVAL, "bench_submit unterminated variant -> -KM_EINVAL");
    bad = d;
    memset(bad.metric, 'm', sizeof bad.metric);
    EXPECT(sys_bench_submit(&bad, samples, 4), -KM_EINVAL, "bench_submit unterminated metric -> -KM_EINVAL");
    bad = d;
    memset(bad.unit, 'u', sizeof bad.unit);
    EXPECT(sys_bench_submit(&bad, samples, 4), -KM_EINVAL, "bench_submit unterminated unit -> -KM_EINVAL");
    bad = d;
    bad.benchmark[0] = 0;
    EXPECT(sys_bench_submit(&bad, samples, 4), -KM_EINVAL, "bench_submit empty benchmark -> -KM_EINVAL");
    bad = d;
    bad.unit[0] = 0;
    EXPECT(sys_bench_submit(&bad, samples, 4), -KM_EINVAL, "bench_submit empty unit -> -KM_EINVAL");
}

/* Read-only user memory (the rodata segment), big enough for a sysinfo. */
static const union {
    struct km_sysinfo si;
    char pad[4096];
} readonly __attribute__((aligned(4096)));

static void check_sysinfo(void)
{
    struct km_sysinfo si;

    memset(&si, 0xa5, sizeof si);
    long r = sys_sysinfo(&si);
    if (!EXPECT(r, 0, "sysinfo succeeds"))
        return;
    tap_diag("ncpus=%u cpu=%u prog=%u nprogs=%u tsc_hz=%lu trace_mask=0x%lx trace_compiled=%u",
             si.ncpus, si.cpu, si.prog, si.nprogs, si.tsc_hz, si.trace_mask, si.trace_compiled);
    tap_ok(si.ncpus >= 1 && si.ncpus <= 64, "sysinfo ncpus in 1..64");
    tap_ok(si.cpu < si.ncpus, "sysinfo cpu < ncpus");
    tap_ok(si.prog >= 1 && si.prog <= si.nprogs, "sysinfo prog in 1..nprogs (0 is the kernel)");
    tap_ok(si.tsc_hz >= 1000000, "sysinfo tsc_hz >= 1 MHz");
    tap_ok(si.trace_mask == (km_u64)sys_trace_ctl(KM_TRACE_CTL_GET_MASK, 0),
           "sysinfo trace_mask equals trace_ctl GET_MASK");
    tap_ok(si.reserved == 0, "sysinfo reserved is 0");

    EXPECT(sys_sysinfo(0), -KM_EFAULT, "sysinfo NULL -> -KM_EFAULT");
    EXPECT(sys_sysinfo((struct km_sysinfo *)KADDR), -KM_EFAULT, "sysinfo kernel address -> -KM_EFAULT");
    EXPECT(sys_sysinfo((struct km_sysinfo *)(NONCANON - 8)), -KM_EFAULT,
           "sysinfo crossing the top of the user half -> -KM_EFAULT");
    EXPECT(sys_sysinfo((struct km_sysinfo *)UNMAPPED), -KM_EFAULT, "sysinfo unmapped -> -KM_EFAULT");
    r = sys_sysinfo((struct km_sysinfo *)&readonly.si);
    /* ABI: the kernel writes only where the caller may write. */
    tap_ok(r == -KM_EFAULT, "sysinfo into read-only user memory -> -KM_EFAULT (got %ld)", r);
}

/* The loader must zero .bss (ELF p_memsz beyond p_filesz). */
static volatile unsigned char bss_probe[8192];

static void check_loader(void)
{
    int zero = 1;
    for (unsigned i = 0; i < sizeof bss_probe; i++)
        zero &= bss_probe[i] == 0;
    tap_ok(zero, "bss is zeroed by the loader");
}

int main(void)
{
    sys_trace_marker(MARK_ID, 0);
    check_loader();
    check_numbers();
    check_puts();
    check_trace();
    check_bench_submit();
    check_sysinfo();
    sys_trace_marker(MARK_ID, 2);
    return tap_done("syscall_check");
}
