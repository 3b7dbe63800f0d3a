/* Trace event list: the single source of truth for kernel trace points,
 * the CTF metadata and the host importer.  Adding an event is one line.
 *
 * EV(id, NAME, "name", "a0 field", A0, "a1 field", A1, "what it records")
 *   id     0..63 (bit position in the runtime enable mask); never reused.
 *   NAME   C identifier suffix: KM_EV_NAME.
 *   fields CTF field names of the two 64-bit arguments, each with how to
 *          read it: U unsigned decimal, S signed (two's complement), X hex
 *          (addresses, masks).
 */
#ifndef ABI_TRACE_EVENTS_H
#define ABI_TRACE_EVENTS_H

#define KM_ARG_U 0 /* unsigned */
#define KM_ARG_S 1 /* signed */
#define KM_ARG_X 2 /* unsigned, shown in hex */

#define KM_TRACE_EVENTS(EV)                                                                        \
    EV(0,  BOOT,          "boot",          "ncpus",   U, "tsc_hz",     U, "kernel booted (BSP)")            \
    EV(1,  CPU_ONLINE,    "cpu_online",    "apic_id", U, "tsc_offset", S, "CPU entered the kernel")         \
    EV(2,  TIMER,         "timer",         "tick",    U, "rip",        X, "LAPIC timer interrupt")          \
    EV(3,  SYSCALL_ENTER, "syscall_enter", "nr",      U, "arg0",       X, "system call entered")            \
    EV(4,  SYSCALL_EXIT,  "syscall_exit",  "nr",      U, "ret",        S, "system call returns")            \
    EV(5,  MARKER,        "marker",        "id",      U, "value",      U, "user marker (sys_trace_marker)") \
    EV(6,  EXCEPTION,     "exception",     "vector",  U, "error",      X, "CPU exception taken")            \
    EV(7,  USER_FAULT,    "user_fault",    "vector",  U, "addr",       X, "user program killed by fault")   \
    EV(8,  PROG_START,    "prog_start",    "index",   U, "entry",      X, "user program entered")           \
    EV(9,  PROG_EXIT,     "prog_exit",     "index",   U, "status",     S, "user program exited")            \
    EV(10, PROBE,         "probe",         "seq",     U, "arg",        U, "trace_overhead benchmark probe") \
    EV(11, IPI,           "ipi",           "vector",  U, "arg",        U, "inter-processor interrupt")      \
    EV(12, TRACE_STOP,    "trace_stop",    "written", U, "lost",       U, "tracing stopped on this CPU")       \
    EV(13, IPC_SEND,      "ipc_send",      "to",      X, "tag",        X, "IPC send phase starts")             \
    EV(14, IPC_RECV,      "ipc_recv",      "from",    X, "tag",        X, "a message is delivered to a thread") \
    EV(15, PAGEFAULT,     "pagefault",     "addr",    X, "ip",         X, "user page fault sent to the pager") \
    EV(16, MAP,           "map",           "fpage",   X, "pages",      S, "a map or grant item applied")       \
    EV(17, FAULT_DONE,    "fault_done",    "addr",    X, "result",     S, "the pager answered; access retried") \
    EV(18, SWITCH,        "switch",        "to",      U, "prio",       U, "the CPU switches to another thread") \
    EV(19, KFAULT,        "kfault",        "request", X, "count",      U, "kernel page fault sent to a kpager (first request word)") \
    EV(20, KFAULT_DONE,   "kfault_done",   "request", X, "result",     S, "the kpager answered: pages supplied, or -error") \
    EV(21, KPAGE_IMPORT,  "kpage_import",  "kobj",    X, "cycles",     U, "a kpager's page taken into kernel use (kspace address | task)") \
    EV(22, KPAGE_EXPORT,  "kpage_export",  "kobj",    X, "cycles",     U, "a lent page exported and given back (kspace address | task)") \
    EV(23, KDEADLOCK,     "kdeadlock",     "kpager",  X, "raiser",     X, "a kernel page fault would wait for itself: aborted") \
    EV(24, PMU_FAULT,     "pmu_fault",     "pmc0",    X, "pmc1",       U, "PMU counters 0 and 1 (rdpmc) just before pagefault, and after fault_done: pmc0 bit 63 set")

enum km_event_id {
#define KM_EV_ENUM(id, NAME, name, a0, t0, a1, t1, doc) KM_EV_##NAME = id,
    KM_TRACE_EVENTS(KM_EV_ENUM)
#undef KM_EV_ENUM
    KM_EV_LIMIT = 64 /* ids are bit positions in a 64-bit mask */
};

/* Mask with the bit of every defined event set. */
#define KM_EV_BIT_(id, NAME, name, a0, t0, a1, t1, doc) | (1ull << (id))
#define KM_TRACE_ALL_MASK (0ull KM_TRACE_EVENTS(KM_EV_BIT_))

#endif
