/* A stored run as the CTF writer's input: trace/ctf_write.c takes a
 * verified dump (struct dump); this adapter rebuilds the parts it reads
 * from the database's runs, cpus and events tables, so `kmemlab
 * export-ctf` and `kmtrace ctf` share one writer. */
#ifndef KM_ANALYZE_CTF_DB_H
#define KM_ANALYZE_CTF_DB_H

#include <stddef.h>
#include <sqlite3.h>

#include "dump_read.h"

/* Fills *d (release with dump_free) for run id: the RUN fields the writer
 * uses (tsc_hz, boot_tsc, trace_mode, the CPU, kernel and command-line
 * strings, and the rest of the runs row that has a RUN field), one CPU per
 * cpus row, and every events row of the run in (cpu, seq) order; count is
 * the rows stored for each CPU, events their total.  No samples.  Returns
 * 0, or -1 with the reason in err: no such run, a run without a trace (no
 * cpus rows: e.g. a Linux baseline), an event type this build's event
 * list does not know (the CTF metadata could not describe it), a database
 * error. */
int ctf_db_load(sqlite3 *db, long long id, struct dump *d, char *err, size_t errlen);

#endif
