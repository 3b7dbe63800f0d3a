/* System call numbers, arguments and error codes.
 *
 * Entry: the `syscall` instruction.  rax = number; arguments in rdi, rsi,
 * rdx, r10, r8 (r10 replaces rcx, which the CPU uses for the return RIP);
 * result in rax.  rcx and r11 are clobbered, everything else is preserved.
 * A result >= 0 is success; a negative result is -KM_E*.  The kernel checks
 * every argument before its first side effect: a bad argument returns an
 * error code, never a panic.
 */
#ifndef ABI_SYSCALL_H
#define ABI_SYSCALL_H

#include <abi/types.h>

#define KM_SYSCALLS(X)                                                          \
    X(0, NULL,         "null",         "does nothing; returns 0")                \
    X(1, EXIT,         "exit",         "(status) ends the calling program")       \
    X(2, PUTS,         "puts",         "(buf, len) writes len bytes to the console") \
    X(3, TRACE_MARKER, "trace_marker", "(id, value) writes a MARKER event")       \
    X(4, TRACE_CTL,    "trace_ctl",    "(op, arg) enable mask control")           \
    X(5, TRACE_PROBE,  "trace_probe",  "(with_probe) ticks around one trace point") \
    X(6, BENCH_SUBMIT, "bench_submit", "(desc, samples, n) records raw samples")  \
    X(7, SYSINFO,      "sysinfo",      "(struct km_sysinfo *) fills system facts")             \
    X(8, IPC,          "ipc",          "(to, from, flags, tag) send and/or receive (abi/l4.h)") \
    X(9, THREAD_CREATE, "thread_create", "(task, pager) new inactive thread (pager nil: the creator's); returns its id") \
    X(10, THREAD_DELETE, "thread_delete", "(tid) ends a thread")                              \
    X(11, THREAD_CONTROL, "thread_control", "(tid, op, arg) pager, kpager, priority, CPU")    \
    X(12, TASK_CREATE, "task_create",  "() new empty task; returns its id")                  \
    X(13, TASK_DELETE, "task_delete",  "(task) ends a task, its threads and mappings")       \
    X(14, UNMAP,       "unmap",        "(fpage, flags) revokes derived mappings")            \
    X(15, EXREGS,      "exregs",       "(tid, op, ip, sp) start a thread, read/set ip, sp")  \
    X(16, YIELD,       "yield",        "() gives the CPU to the next runnable thread")       \
    X(17, MYSELF,      "myself",       "() returns the caller's thread id")                 \
    X(18, KMEM_INFO,   "kmem_info",    "(task, struct km_kmem_info *) kernel pages by type")

enum km_syscall_nr {
#define KM_SYS_ENUM(nr, NAME, name, doc) KM_SYS_##NAME = nr,
    KM_SYSCALLS(KM_SYS_ENUM)
#undef KM_SYS_ENUM
    KM_SYS_COUNT
};

/* Error codes (returned negated). */
#define KM_EINVAL 1 /* an argument is out of range */
#define KM_EFAULT 2 /* a user pointer is not mapped or not user memory */
#define KM_ENOSYS 3 /* no such system call */
#define KM_ENOMEM 4 /* the kernel has no room for the request */
#define KM_ESRCH 5    /* no such thread or task (nil, out of range or stale id) */
#define KM_EPERM 6    /* the caller may not act on that thread or task */
#define KM_ETIMEOUT 7 /* an IPC phase with a zero timeout found no partner */
#define KM_ECANCELED 8 /* the partner was deleted while we waited */
#define KM_EDEADLK 9  /* the operation would wait for itself */
#define KM_EBUSY 10   /* the object is in a state that forbids the operation */

/* sys_unmap flags */
#define KM_UNMAP_SELF 1u /* also remove the caller's own mapping of the region */
/* The rights to revoke are the fpage's rights bits (KM_RWX: the whole
 * mapping); revoking fewer leaves the mappings with the remaining rights. */

#define KM_PUTS_MAX 4096 /* longest string sys_puts accepts */

/* sys_bench_submit descriptor: names a series of raw samples.  Strings are
 * NUL-terminated within their fields (the kernel rejects unterminated or
 * empty names with -KM_EINVAL). */
struct km_bench_desc {
    char benchmark[32];
    char variant[24];
    char metric[24];
    char unit[16];
    km_i64 overhead; /* empty-measurement cost already subtracted */
};
KM_STATIC_ASSERT(sizeof(struct km_bench_desc) == 104, "bench desc is 104 bytes");

#define KM_BENCH_MAX_SAMPLES 65536 /* per sys_bench_submit call */

/* sys_sysinfo result */
struct km_sysinfo {
    km_u64 tsc_hz;
    km_u32 ncpus;
    km_u32 cpu;      /* CPU the caller runs on */
    km_u32 prog;     /* caller's program index (thread id) */
    km_u32 nprogs;
    km_u64 trace_mask;
    km_u32 trace_compiled; /* 0 when trace points are compiled out */
    km_u32 reserved;
    km_u64 sigma0;         /* sigma0's thread id (0: no sigma0 in this run) */
    km_u64 sigma0_mem;     /* bytes of memory sigma0 owns */
    km_u64 sigma0_base;    /* its physical (= sigma0-virtual) start address */
};
KM_STATIC_ASSERT(sizeof(struct km_sysinfo) == 64, "sysinfo is 64 bytes");

#endif
