/* Chrome trace-event JSON export of a run (ui.perfetto.dev, chrome://tracing).
 *
 * Reads the database only (runs, cpus, event_types, events) and streams
 * {"traceEvents":[...],"displayTimeUnit":"ns","otherData":{...}}:
 *   - one process per CPU (pid = CPU, process_name "cpu N"), one thread
 *     track per trace thread (tid = events.thread, thread_name "thread N",
 *     "kernel/idle" for 0);
 *   - every event row as an instant ("ph":"i","s":"t") named after
 *     event_types.name, its a0/a1 in "args" under the event_types.a0/a1
 *     names (integers when |value| < 2^53 as signed, else "0x..." strings);
 *   - "page fault" slices ("ph":"X") from a pagefault to the same thread's
 *     next fault_done, "syscall NR" slices from syscall_enter to the same
 *     thread's syscall_exit, on the pid of the CPU the slice began on;
 *   - "phase N" slices from marker id 1 (begin, value N) to marker id 2
 *     (end, value N), as a nestable async pair ("ph":"b"/"e", cat "phase")
 *     so that they may overlap the syscall slices of the same thread.
 * ts (µs, 3 decimals) = (events.tsc - cpus.tsc_offset - runs.boot_tsc) /
 * (runs.tsc_hz / 1e6).  Events are read in BSP-time order. */
#ifndef KM_ANALYZE_PERFETTO_H
#define KM_ANALYZE_PERFETTO_H

#include <stddef.h>
#include <stdio.h>
#include <sqlite3.h>

struct perfetto_stats {
    long long events;  /* instant events written (= events rows of the run) */
    long long faults;  /* "page fault" slices */
    long long syscalls;/* "syscall NR" slices */
    long long phases;  /* "phase N" slices */
};

/* Writes run id as Chrome trace JSON to f.  Returns 0, or -1 with the
 * reason in err ("no run N in the database", a database or write error). */
int perfetto_write(sqlite3 *db, long long id, FILE *f, struct perfetto_stats *st, char *err,
                   size_t errlen);

/* Checks that run id exists (so that no output file is created for a bad
 * id).  Returns 0, or -1 with the reason in err. */
int perfetto_check_run(sqlite3 *db, long long id, char *err, size_t errlen);

#endif
