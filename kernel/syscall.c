/* System calls.  Each handler checks every argument before its first side
 * effect and returns -KM_E* on bad input; none can panic on user input. */
#include <abi/syscall.h>
#include <arch/cpu.h>
#include <arch/current.h>
#include <arch/mmu.h>
#include <arch/syscall.h>
#include <kernel/bench_store.h>
#include <kernel/printk.h>
#include <kernel/prog.h>
#include <kernel/string.h>
#include <kernel/sysinfo.h>
#include <kernel/trace.h>

/* Copies between user and kernel after checking the whole user range is
 * mapped for the calling program (it runs alone on this CPU: nothing can
 * unmap it meanwhile). */
static bool copy_from_user(void *dst, u64 uva, u64 len)
{
    struct prog *p = prog_current();
    if (!p || !aspace_user_ok(&p->as, uva, len, false))
        return false;
    memcpy(dst, (const void *)uva, len);
    return true;
}

static bool copy_to_user(u64 uva, const void *src, u64 len)
{
    struct prog *p = prog_current();
    if (!p || !aspace_user_ok(&p->as, uva, len, true))
        return false;
    memcpy((void *)uva, src, len);
    return true;
}

static i64 sys_null(const u64 *a)
{
    (void)a;
    return 0;
}

static i64 sys_exit(const u64 *a) { user_exit_to_runner((i32)a[0]); }

static i64 sys_puts(const u64 *a)
{
    char buf[KM_PUTS_MAX];
    if (a[1] > KM_PUTS_MAX)
        return -KM_EINVAL;
    if (!copy_from_user(buf, a[0], a[1]))
        return -KM_EFAULT;
    console_write(buf, a[1]);
    return (i64)a[1];
}

static i64 sys_trace_marker(const u64 *a)
{
    trace(MARKER, a[0], a[1]);
    return 0;
}

static bool event_known(u64 id) { return id < 64 && (KM_TRACE_ALL_MASK >> id & 1); }

static i64 sys_trace_ctl(const u64 *a)
{
    u64 old = __atomic_load_n(&trace_mask, __ATOMIC_RELAXED);
    switch (a[0]) {
    case KM_TRACE_CTL_GET_MASK:
        return (i64)old;
    case KM_TRACE_CTL_SET_MASK:
        if (a[1] & ~KM_TRACE_ALL_MASK)
            return -KM_EINVAL;
        __atomic_store_n(&trace_mask, a[1], __ATOMIC_RELAXED);
        return (i64)old;
    case KM_TRACE_CTL_ENABLE:
    case KM_TRACE_CTL_DISABLE:
        if (!event_known(a[1]))
            return -KM_EINVAL;
        if (a[0] == KM_TRACE_CTL_ENABLE)
            __atomic_fetch_or(&trace_mask, 1ull << a[1], __ATOMIC_RELAXED);
        else
            __atomic_fetch_and(&trace_mask, ~(1ull << a[1]), __ATOMIC_RELAXED);
        return 0;
    default:
        return -KM_EINVAL;
    }
}

/* Ticks spent in exactly one trace point (with_probe = 1) or in nothing
 * (0): the difference is the trace point's cost, mask check included. */
static i64 sys_trace_probe(const u64 *a)
{
    static u64 seq;
    if (a[0] > 1)
        return -KM_EINVAL;
    u64 t0, t1;
    if (a[0]) {
        t0 = rdtsc();
        trace(PROBE, seq, 0);
        t1 = rdtsc();
        seq++;
    } else {
        t0 = rdtsc();
        t1 = rdtsc();
    }
    return (i64)(t1 - t0);
}

static i64 sys_bench_submit(const u64 *a)
{
    struct km_bench_desc d;
    u64 n = a[2];
    if (n == 0 || n > KM_BENCH_MAX_SAMPLES)
        return -KM_EINVAL;
    if (!copy_from_user(&d, a[0], sizeof d))
        return -KM_EFAULT;
    if (!bench_desc_valid(&d))
        return -KM_EINVAL;
    struct prog *p = prog_current();
    if (!aspace_user_ok(&p->as, a[1], n * sizeof(i64), false))
        return -KM_EFAULT;
    i64 *dst = bench_store_reserve(n);
    if (!dst)
        return -KM_ENOMEM;
    memcpy(dst, (const void *)a[1], n * sizeof(i64));
    bench_store_commit(&d, dst, n, cpu_id());
    return (i64)n;
}

static i64 sys_sysinfo(const u64 *a)
{
    struct km_sysinfo si;
    sysinfo_fill(&si);
    struct prog *p = prog_current();
    si.cpu = cpu_id();
    si.prog = p ? p->index : 0;
    return copy_to_user(a[0], &si, sizeof si) ? 0 : -KM_EFAULT;
}

typedef i64 (*syscall_fn)(const u64 *args);
static const syscall_fn handlers[KM_SYS_COUNT] = {
    [KM_SYS_NULL] = sys_null,
    [KM_SYS_EXIT] = sys_exit,
    [KM_SYS_PUTS] = sys_puts,
    [KM_SYS_TRACE_MARKER] = sys_trace_marker,
    [KM_SYS_TRACE_CTL] = sys_trace_ctl,
    [KM_SYS_TRACE_PROBE] = sys_trace_probe,
    [KM_SYS_BENCH_SUBMIT] = sys_bench_submit,
    [KM_SYS_SYSINFO] = sys_sysinfo,
};

i64 syscall_dispatch(struct syscall_frame *f)
{
    u64 nr = f->nr;
    trace(SYSCALL_ENTER, nr, f->arg[0]);
    i64 r = nr < KM_SYS_COUNT && handlers[nr] ? handlers[nr](f->arg) : -KM_ENOSYS;
    trace(SYSCALL_EXIT, nr, r);
    return r;
}
