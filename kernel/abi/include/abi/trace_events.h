/* Trace event list: the single source of truth for kernel trace points,
 * the CTF metadata and the host importer.  Adding an event is one line.
 *
 * X(id, NAME, "name", "a0 field", "a1 field", "what it records")
 *   id     0..63 (bit position in the runtime enable mask); never reused.
 *   NAME   C identifier suffix: KM_EV_NAME.
 *   names  CTF field names of the two 64-bit arguments.
 */
#ifndef ABI_TRACE_EVENTS_H
#define ABI_TRACE_EVENTS_H

#define KM_TRACE_EVENTS(X)                                                              \
    X(0,  BOOT,          "boot",          "ncpus",   "tsc_hz",     "kernel booted (BSP)")          \
    X(1,  CPU_ONLINE,    "cpu_online",    "apic_id", "tsc_offset", "CPU entered the kernel")       \
    X(2,  TIMER,         "timer",         "tick",    "rip",        "LAPIC timer interrupt")        \
    X(3,  SYSCALL_ENTER, "syscall_enter", "nr",      "arg0",       "system call entered")          \
    X(4,  SYSCALL_EXIT,  "syscall_exit",  "nr",      "ret",        "system call returns")          \
    X(5,  MARKER,        "marker",        "id",      "value",      "user marker (sys_trace_marker)") \
    X(6,  EXCEPTION,     "exception",     "vector",  "error",      "CPU exception taken")          \
    X(7,  USER_FAULT,    "user_fault",    "vector",  "addr",       "user program killed by fault") \
    X(8,  PROG_START,    "prog_start",    "index",   "entry",      "user program entered")         \
    X(9,  PROG_EXIT,     "prog_exit",     "index",   "status",     "user program exited")          \
    X(10, PROBE,         "probe",         "seq",     "arg",        "trace_overhead benchmark probe") \
    X(11, IPI,           "ipi",           "vector",  "arg",        "inter-processor interrupt")    \
    X(12, TRACE_STOP,    "trace_stop",    "written", "lost",       "tracing stopped on this CPU")

enum km_event_id {
#define KM_EV_ENUM(id, NAME, name, a0, a1, doc) KM_EV_##NAME = id,
    KM_TRACE_EVENTS(KM_EV_ENUM)
#undef KM_EV_ENUM
    KM_EV_LIMIT = 64 /* ids are bit positions in a 64-bit mask */
};

/* Mask with the bit of every defined event set. */
#define KM_EV_BIT_(id, NAME, name, a0, a1, doc) | (1ull << (id))
#define KM_TRACE_ALL_MASK (0ull KM_TRACE_EVENTS(KM_EV_BIT_))

#endif
