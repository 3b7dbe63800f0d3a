/* Where the cycles of a user page fault go: a phase breakdown read off the
 * trace events of a run (table events), for the report's stacked chart.
 *
 * A fault is the window from a thread's pagefault event (from the #PF
 * exception event just before it, when that is traced) to its fault_done,
 * on one CPU.  The milestones inside it, whichever are traced (exception,
 * pagefault, kfault, kpage_export, kpage_import, kfault_done, map,
 * fault_done), cut it into phases named after the pair of milestones
 * around them ("kpager handling (kfault -> kfault_done)"); the cycles a
 * kpage_import/kpage_export event reports in a1 become an import/export
 * phase of their own.  Faults are grouped by program (prog_start) and
 * benchmark phase (marker begin/end); faults outside a marked phase are
 * counted, not charted.  Per group: the mean cycles of each phase over its
 * faults (the means add up to the mean traced fault) and the median traced
 * fault.  The per-fault events are off by default (kernel/options.c):
 * runs made without trace.mask=... have none, and the result says why.
 */
#ifndef KM_ANALYZE_PHASES_H
#define KM_ANALYZE_PHASES_H

#include <stdio.h>
#include <sqlite3.h>

#include "run.h"

#define PH_MAX_GROUPS 16
#define PH_MAX_KINDS 24

struct ph_group {
    char label[128];       /* "fault_simple phase 1" or "fault_simple/default" */
    long long faults;      /* complete fault windows */
    double mean[PH_MAX_KINDS];
    long long median_total; /* median traced fault */
    long long measured;     /* p50 of the benchmark's series, -1 unknown */
};

struct ph_result {
    int nkinds;
    char kind[PH_MAX_KINDS][96]; /* phase names, in time order */
    int ngroups;
    struct ph_group g[PH_MAX_GROUPS];
    long long unmarked;          /* faults outside marked phases */
    char why[256];               /* ngroups == 0: why there is no breakdown */
};

/* Reads run id's events into r.  s[0..n) are the run's results (for the
 * measured p50 of a group that maps to one series); programs is the runs
 * column (space-separated paths, prog_start's a0 counts from 1) or NULL.
 * Returns 0 (r->ngroups may be 0, with r->why), or -1 with the reason. */
int phases_load(sqlite3 *db, long long id, const struct series *s, int n, const char *programs,
                struct ph_result *r, char *err, size_t errlen);

/* The stacked chart FILE.EXT: a bar per group, a segment per phase. */
void phases_gp_chart(FILE *f, const struct ph_result *r, const char *file, const char *ext,
                     long long run_id, const char *accel);

/* The table behind the chart (phase x group, mean cycles). */
void phases_md_table(FILE *f, const struct ph_result *r);

#endif
