/* Performance-counter event names -> raw encodings, through libpfm4.
 *
 * Users name events as perf does (PMU_EVENTS=cycles,instructions,
 * DTLB_LOAD_MISSES:WALK_COMPLETED).  The host encodes them for the core PMU
 * the run will use: the one libpfm4 detects on this machine, or the one
 * named by LIBPFM_FORCE_PMU (e.g. skl), because the kernel under QEMU sees
 * the guest CPU model, not the host's.  A raw encoding is the value of an
 * IA32_PERFEVTSELx register (event, umask, USR/OS, INT, EN bits), which the
 * kernel can program as it is.
 *
 * perf's generic hardware names are translated to the architectural events
 * first (libpfm4 would otherwise resolve them to its "perf" pseudo-PMU, whose
 * codes are perf_event_open() ids, not register values):
 *   cycles, cpu-cycles      UNHALTED_CORE_CYCLES
 *   instructions            INSTRUCTION_RETIRED
 *   branches, branch-instructions  BRANCH_INSTRUCTIONS_RETIRED
 *   branch-misses           MISPREDICTED_BRANCH_RETIRED
 *   ref-cycles              UNHALTED_REFERENCE_CYCLES
 *   cache-references        LONGEST_LAT_CACHE:REFERENCE
 *   cache-misses            LONGEST_LAT_CACHE:MISS
 * keeping any ":modifier" suffix (cycles:u -> UNHALTED_CORE_CYCLES:u).
 * Without a modifier an event counts in user and kernel mode (PLM3|PLM0).
 *
 * Seen with LIBPFM_FORCE_PMU=skl: UNHALTED_CORE_CYCLES = 0x53003c,
 * INSTRUCTION_RETIRED = 0x5300c0 (tests/host/test_pmu.c).
 */
#ifndef KM_ANALYZE_PMU_H
#define KM_ANALYZE_PMU_H

#include <stddef.h>

/* Events one list may name (the kernel has at most 8 general counters). */
#define PMU_MAX_EVENTS 8

struct pmu_event {
    char name[64];          /* as the user wrote it (blanks trimmed) */
    char fqname[256];       /* libpfm4's fully qualified name, e.g. skl::INSTRUCTION_RETIRED:k=1:u=1:... */
    unsigned long long raw; /* the PERFEVTSEL value */
    char pmu[32];           /* libpfm4 PMU name: skl, icl, ... */
};

/* Encodes the comma-separated list (perf-style names; blanks around names
 * are ignored).  Every name is checked before anything is returned: an
 * unknown name, an empty list or empty element, more than PMU_MAX_EVENTS
 * names, an OS/software event (page-faults) or an event that needs more
 * than one register each give -1 with one line in err naming the event.
 * On success fills ev[0..n) and returns n (>= 1).  libpfm4 is initialised
 * on the first call and reads LIBPFM_FORCE_PMU then, once per process. */
int pmu_encode_list(const char *list, struct pmu_event *ev, size_t max, char *err, size_t errlen);

/* The libpfm4 name a perf-style name translates to (the generic names
 * above), written to out; other names are copied unchanged. */
void pmu_translate_name(const char *name, char *out, size_t outlen);

/* For perf_event_open() on this host (the Linux baseline): fills *attr
 * (type, config, ...) for one perf-style name with libpfm4's perf encoding
 * (PFM_OS_PERF_EVENT; generic names such as cycles stay perf's generic
 * events).  Counts user and kernel mode.  Returns 0, or -1 with the
 * reason in err. */
struct perf_event_attr;
int pmu_perf_attr(const char *name, struct perf_event_attr *attr, char *err, size_t errlen);

#endif
