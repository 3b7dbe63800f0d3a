/* BENCHMARKS.md's tables, generated from the database (kmemlab
 * benchmarks-md).  Each table is a named block between marker comments
 *
 *   <!-- BEGIN kmemlab benchmarks-md NAME -->
 *   ...generated...
 *   <!-- END kmemlab benchmarks-md NAME -->
 *
 * so the hand-written prose around them stays.  Blocks:
 *   ours    the figures of one kmemlab run (default: the newest icount run)
 *   paper   ours beside Haeberlen & Elphinstone 2003 (Figures 2 and 3)
 *   linux   the newest system=linux run (the host baseline)
 *   sel4    ours beside seL4's published x86-64 figures
 * A figure the database does not hold reads "not measured".
 */
#ifndef KM_ANALYZE_BENCHMD_H
#define KM_ANALYZE_BENCHMD_H

#include <stddef.h>
#include <stdio.h>
#include <sqlite3.h>

struct benchmd_opts {
    long long run;   /* kmemlab run; 0: the newest icount run */
    long long linux_run; /* linux run; 0: the newest */
};

/* Writes every block, markers included, to f.  0, or -1 with the reason
 * (a database error, or a run id given that is not in the database). */
int benchmd_write(sqlite3 *db, const struct benchmd_opts *o, FILE *f, char *err, size_t errlen);

/* Replaces each block in the file at path by the generated one (blocks
 * the file lacks are an error: nothing is written).  0, or -1. */
int benchmd_update(sqlite3 *db, const struct benchmd_opts *o, const char *path, char *err, size_t errlen);

#endif
