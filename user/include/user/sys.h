/* System call stubs for ring-3 programs: one inline function per entry of
 * KM_SYSCALLS (abi/syscall.h); user/lib/syscall.c fails to compile when the
 * ABI gains a call that has no stub here.
 *
 * Convention (abi/syscall.h): `syscall` with rax = number, arguments in
 * rdi, rsi, rdx, r10, r8; result in rax; the CPU overwrites rcx (return
 * RIP) and r11 (RFLAGS), the kernel preserves everything else.  A result
 * >= 0 is success, a negative one is -KM_E*.
 */
#ifndef USER_SYS_H
#define USER_SYS_H

#include <abi/syscall.h>
#include <abi/trace.h>

/* Raw entry, 0 to 5 arguments.  "memory" because the kernel reads and
 * writes user buffers that the compiler cannot see through the operands. */
static inline long km_syscall5(long nr, long a0, long a1, long a2, long a3, long a4)
{
    register long r10 __asm__("r10") = a3; /* 4th argument (rcx is taken) */
    register long r8 __asm__("r8") = a4;   /* 5th argument */
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)                                   /* rax: result */
                     : "a"(nr), "D"(a0), "S"(a1), "d"(a2), "r"(r10), "r"(r8)
                     : "rcx", "r11", "memory");                    /* RIP, RFLAGS */
    return ret;
}

static inline long km_syscall4(long nr, long a0, long a1, long a2, long a3)
{
    register long r10 __asm__("r10") = a3; /* 4th argument (rcx is taken) */
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(nr), "D"(a0), "S"(a1), "d"(a2), "r"(r10)
                     : "rcx", "r11", "memory");
    return ret;
}

static inline long km_syscall3(long nr, long a0, long a1, long a2)
{
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(nr), "D"(a0), "S"(a1), "d"(a2)
                     : "rcx", "r11", "memory");
    return ret;
}

static inline long km_syscall2(long nr, long a0, long a1)
{
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a0), "S"(a1) : "rcx", "r11", "memory");
    return ret;
}

static inline long km_syscall1(long nr, long a0)
{
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a0) : "rcx", "r11", "memory");
    return ret;
}

static inline long km_syscall0(long nr)
{
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(nr) : "rcx", "r11", "memory");
    return ret;
}

/* Typed stubs.  Each is followed by a KM_USER_STUB_<NAME> line that
 * user/lib/syscall.c checks against KM_SYSCALLS. */

/* Does nothing; returns 0.  The benchmark for the bare kernel round trip. */
static inline long sys_null(void) { return km_syscall0(KM_SYS_NULL); }
#define KM_USER_STUB_NULL KM_SYS_NULL

/* Ends the calling program with `status` (0 = success).  Never returns;
 * if a broken kernel returns anyway, ud2 makes that a visible fault. */
static inline __attribute__((noreturn)) void sys_exit(int status)
{
    km_syscall1(KM_SYS_EXIT, status);
    __builtin_trap();
}
#define KM_USER_STUB_EXIT KM_SYS_EXIT

/* Writes len bytes of buf to the console.  -KM_EFAULT for a pointer that
 * is not user memory, -KM_EINVAL for len > KM_PUTS_MAX. */
static inline long sys_puts(const char *buf, unsigned long len)
{
    return km_syscall2(KM_SYS_PUTS, (long)buf, (long)len);
}
#define KM_USER_STUB_PUTS KM_SYS_PUTS

/* Writes a MARKER trace event (id, value). */
static inline long sys_trace_marker(unsigned long id, unsigned long value)
{
    return km_syscall2(KM_SYS_TRACE_MARKER, (long)id, (long)value);
}
#define KM_USER_STUB_TRACE_MARKER KM_SYS_TRACE_MARKER

/* Trace enable-mask control: op is enum km_trace_ctl_op. */
static inline long sys_trace_ctl(long op, unsigned long arg)
{
    return km_syscall2(KM_SYS_TRACE_CTL, op, (long)arg);
}
#define KM_USER_STUB_TRACE_CTL KM_SYS_TRACE_CTL

/* TSC ticks the kernel measured around exactly one PROBE trace point
 * (with_probe = 1) or around nothing (with_probe = 0). */
static inline long sys_trace_probe(long with_probe)
{
    return km_syscall1(KM_SYS_TRACE_PROBE, with_probe);
}
#define KM_USER_STUB_TRACE_PROBE KM_SYS_TRACE_PROBE

/* Records n raw samples (overhead already subtracted) under desc's names. */
static inline long sys_bench_submit(const struct km_bench_desc *desc, const km_i64 *samples,
                                    unsigned long n)
{
    return km_syscall3(KM_SYS_BENCH_SUBMIT, (long)desc, (long)samples, (long)n);
}
#define KM_USER_STUB_BENCH_SUBMIT KM_SYS_BENCH_SUBMIT

/* Fills *info; -KM_EFAULT if info is not writable user memory. */
static inline long sys_sysinfo(struct km_sysinfo *info)
{
    return km_syscall1(KM_SYS_SYSINFO, (long)info);
}
#define KM_USER_STUB_SYSINFO KM_SYS_SYSINFO

/* Name of a system call number ("null", "exit", ...) or NULL. */
const char *sys_name(long nr);

/* "-KM_EFAULT" etc. for a negative system call result, "ok" for >= 0. */
const char *sys_errname(long ret);

/* ---- the L4 base (semantics in <abi/l4.h>) ---------------------------- */
#include <abi/l4.h>

/* This thread's UTCB (its FS base points at it). */
static inline struct km_utcb *utcb(void)
{
    struct km_utcb *u;
    __asm__ volatile("movq %%fs:0, %0" : "=r"(u));
    return u;
}

/* Send and/or receive (see abi/l4.h): the message is tag + MR[0..u+t-1] of
 * the UTCB; a received one arrives in the UTCB (sender, tag, MRs). */
static inline long sys_ipc(km_tid to, km_tid from, unsigned long flags, km_u64 tag)
{
    return km_syscall4(KM_SYS_IPC, (long)to, (long)from, (long)flags, (long)tag);
}
#define KM_USER_STUB_IPC KM_SYS_IPC

/* A new inactive thread in task (0: the caller's) with the given pager
 * (nil: the caller's own pager); returns its id (> 0) or -KM_E*.  Start it
 * with sys_exregs(START). */
static inline long sys_thread_create(km_taskid task, km_tid pager)
{
    return km_syscall2(KM_SYS_THREAD_CREATE, (long)task, (long)pager);
}
#define KM_USER_STUB_THREAD_CREATE KM_SYS_THREAD_CREATE

static inline long sys_thread_delete(km_tid tid) { return km_syscall1(KM_SYS_THREAD_DELETE, (long)tid); }
#define KM_USER_STUB_THREAD_DELETE KM_SYS_THREAD_DELETE

static inline long sys_thread_control(km_tid tid, long op, unsigned long arg)
{
    return km_syscall3(KM_SYS_THREAD_CONTROL, (long)tid, op, (long)arg);
}
#define KM_USER_STUB_THREAD_CONTROL KM_SYS_THREAD_CONTROL

/* A new empty task owned by the caller's task; returns its id or -KM_E*. */
static inline long sys_task_create(void) { return km_syscall0(KM_SYS_TASK_CREATE); }
#define KM_USER_STUB_TASK_CREATE KM_SYS_TASK_CREATE

static inline long sys_task_delete(km_taskid task) { return km_syscall1(KM_SYS_TASK_DELETE, (long)task); }
#define KM_USER_STUB_TASK_DELETE KM_SYS_TASK_DELETE

/* Revokes what was derived from fpage's region (the fpage's rights are the
 * rights taken away); KM_UNMAP_SELF also from the caller itself. */
static inline long sys_unmap(km_u64 fpage, unsigned long flags)
{
    return km_syscall2(KM_SYS_UNMAP, (long)fpage, (long)flags);
}
#define KM_USER_STUB_UNMAP KM_SYS_UNMAP

static inline long sys_exregs(km_tid tid, long op, unsigned long ip, unsigned long sp)
{
    return km_syscall5(KM_SYS_EXREGS, (long)tid, op, (long)ip, (long)sp, 0);
}
#define KM_USER_STUB_EXREGS KM_SYS_EXREGS

static inline long sys_yield(void) { return km_syscall0(KM_SYS_YIELD); }
#define KM_USER_STUB_YIELD KM_SYS_YIELD

static inline km_tid sys_myself(void) { return (km_tid)km_syscall0(KM_SYS_MYSELF); }
#define KM_USER_STUB_MYSELF KM_SYS_MYSELF

/* Kernel pages held for task (0: the caller's), by type, and the kernel's
 * free frame count (abi/kmem.h). */
#include <abi/kmem.h>
static inline long sys_kmem_info(km_taskid task, struct km_kmem_info *out)
{
    return km_syscall2(KM_SYS_KMEM_INFO, (long)task, (long)out);
}
#define KM_USER_STUB_KMEM_INFO KM_SYS_KMEM_INFO

#endif
