/* Import of one run: meta file + dump file -> a new row in the database.
 * The order is the point: every input is parsed and verified first, and
 * only then is the database opened for writing. */
#ifndef KM_ANALYZE_IMPORT_H
#define KM_ANALYZE_IMPORT_H

#include <stddef.h>

/* Dumps with at least this many events report progress on stderr. */
#define IMPORT_PROGRESS_EVENTS 1000000ull

/* Reads and verifies dump_path and (if not NULL) the meta file meta_path,
 * then imports them into the database db_path (created if missing) in one
 * transaction.  On success stores the new run id in *id and returns 0.  On
 * failure returns -1 with one line in err naming the file and the problem
 * (for a bad dump: the frame number and byte offset); when the failure is
 * in the inputs, the database file has not been opened at all. */
int import_run(const char *dump_path, const char *meta_path, const char *db_path, long long *id,
               char *err, size_t errlen);

#endif
