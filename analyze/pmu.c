/* Performance-counter event names -> raw encodings, through libpfm4. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/perf_event.h>
#include <perfmon/pfmlib.h>
#include <perfmon/pfmlib_perf_event.h>

#include "errmsg.h"
#include "pmu.h"

/* perf's generic hardware event names and the architectural events they
 * mean on Intel core PMUs. */
static const struct {
    const char *perf, *pfm;
} aliases[] = {
    { "cycles", "UNHALTED_CORE_CYCLES" },
    { "cpu-cycles", "UNHALTED_CORE_CYCLES" },
    { "instructions", "INSTRUCTION_RETIRED" },
    { "branches", "BRANCH_INSTRUCTIONS_RETIRED" },
    { "branch-instructions", "BRANCH_INSTRUCTIONS_RETIRED" },
    { "branch-misses", "MISPREDICTED_BRANCH_RETIRED" },
    { "ref-cycles", "UNHALTED_REFERENCE_CYCLES" },
    { "cache-references", "LONGEST_LAT_CACHE:REFERENCE" },
    { "cache-misses", "LONGEST_LAT_CACHE:MISS" },
};

void pmu_translate_name(const char *name, char *out, size_t outlen)
{
    size_t base = strcspn(name, ":");
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        if (strlen(aliases[i].perf) == base && !strncasecmp(name, aliases[i].perf, base)) {
            snprintf(out, outlen, "%s%s", aliases[i].pfm, name + base);
            return;
        }
    snprintf(out, outlen, "%s", name);
}

/* The present core PMUs' names ("skl", "icl"; "adl_glc,adl_grt" on hybrid
 * parts) into out; returns how many there are. */
static int core_pmus(char *out, size_t outlen)
{
    int n = 0;
    pfm_pmu_t p;
    out[0] = 0;
    pfm_for_all_pmus(p)
    {
        pfm_pmu_info_t pi;
        memset(&pi, 0, sizeof pi);
        pi.size = sizeof pi;
        if (pfm_get_pmu_info(p, &pi) != PFM_SUCCESS || !pi.is_present || pi.type != PFM_PMU_TYPE_CORE)
            continue;
        size_t l = strlen(out);
        snprintf(out + l, outlen - l, "%s%s", n ? "," : "", pi.name);
        n++;
    }
    return n;
}

/* pfm_initialize with a clear error when LIBPFM_FORCE_PMU names nothing
 * libpfm4 knows, or when it finds no core PMU at all. */
static int pfm_init_once(char *err, size_t errlen)
{
    static int done;
    if (done)
        return 0;
    int r = pfm_initialize();
    if (r != PFM_SUCCESS)
        return errmsg(err, errlen, "libpfm4 initialisation failed: %s", pfm_strerror(r));
    done = 1;
    return 0;
}

static int pfm_start(char *pmus, size_t pmuslen, char *err, size_t errlen)
{
    if (pfm_init_once(err, errlen))
        return -1;
    if (core_pmus(pmus, pmuslen) == 0) {
        const char *force = getenv("LIBPFM_FORCE_PMU");
        if (force && *force)
            return errmsg(err, errlen, "LIBPFM_FORCE_PMU=%s: libpfm4 has no core PMU of that name "
                        "(try skl, icl, ...; `showevtinfo` lists them)", force);
        return errmsg(err, errlen, "libpfm4 finds no core PMU for this CPU (set LIBPFM_FORCE_PMU, e.g. skl)");
    }
    return 0;
}

/* Encodes one name; 0 or -1 with err set.  pmus: the core PMUs, for the
 * error message. */
static int encode_one(const char *name, const char *pmus, struct pmu_event *e, char *err, size_t errlen)
{
    char pfmname[256];
    pfm_pmu_encode_arg_t arg;
    char *fstr = NULL;
    int r;

    pmu_translate_name(name, pfmname, sizeof pfmname);
    memset(&arg, 0, sizeof arg);
    arg.size = sizeof arg;
    arg.fstr = &fstr;
    r = pfm_get_os_event_encoding(pfmname, PFM_PLM0 | PFM_PLM3, PFM_OS_NONE, &arg);
    if (r != PFM_SUCCESS) {
        if (strcmp(pfmname, name))
            return errmsg(err, errlen, "unknown event '%s' (as %s: %s; PMU %s)", name, pfmname,
                        pfm_strerror(r), pmus);
        return errmsg(err, errlen, "unknown event '%s' (%s; PMU %s)", name, pfm_strerror(r), pmus);
    }

    pfm_event_info_t ei;
    pfm_pmu_info_t pi;
    memset(&ei, 0, sizeof ei);
    ei.size = sizeof ei;
    memset(&pi, 0, sizeof pi);
    pi.size = sizeof pi;
    if (pfm_get_event_info(arg.idx, PFM_OS_NONE, &ei) != PFM_SUCCESS ||
        pfm_get_pmu_info(ei.pmu, &pi) != PFM_SUCCESS) {
        r = errmsg(err, errlen, "event '%s': libpfm4 cannot describe its PMU", name);
    } else if (pi.type == PFM_PMU_TYPE_OS_GENERIC) {
        r = errmsg(err, errlen, "event '%s' is a %s event (%s), not a core PMU event the kernel "
                 "can program", name, pi.name, fstr ? fstr : pfmname);
    } else if (pi.type != PFM_PMU_TYPE_CORE) {
        r = errmsg(err, errlen, "event '%s' belongs to the %s PMU (%s), not to the core PMU (%s)",
                 name, pi.name, pi.desc, pmus);
    } else if (arg.count != 1) {
        r = errmsg(err, errlen, "event '%s' needs %d registers; only single-register events are "
                 "supported", name, arg.count);
    } else {
        snprintf(e->name, sizeof e->name, "%s", name);
        snprintf(e->fqname, sizeof e->fqname, "%s", fstr ? fstr : pfmname);
        snprintf(e->pmu, sizeof e->pmu, "%s", pi.name);
        e->raw = (unsigned long long)arg.codes[0];
        r = 0;
    }
    free(arg.codes);
    free(fstr);
    return r;
}

int pmu_encode_list(const char *list, struct pmu_event *ev, size_t max, char *err, size_t errlen)
{
    char pmus[128];
    const char *p = list;
    size_t n = 0;

    if (!list)
        return errmsg(err, errlen, "no events given");
    /* Names first, so a malformed list fails before libpfm4 is asked. */
    for (;;) {
        size_t len = strcspn(p, ",");
        const char *b = p, *e = p + len;
        while (b < e && isspace((unsigned char)*b))
            b++;
        while (e > b && isspace((unsigned char)e[-1]))
            e--;
        if (b == e) {
            if (len == strlen(list) && !p[len])
                return errmsg(err, errlen, "empty event list");
            return errmsg(err, errlen, "empty event name in list '%s'", list);
        }
        if (n >= max || n >= PMU_MAX_EVENTS)
            return errmsg(err, errlen, "too many events in '%s' (at most %d)", list,
                        (int)(max < PMU_MAX_EVENTS ? max : PMU_MAX_EVENTS));
        if ((size_t)(e - b) >= sizeof ev[n].name)
            return errmsg(err, errlen, "event name '%.*s...' is too long", 40, b);
        memset(&ev[n], 0, sizeof ev[n]);
        memcpy(ev[n].name, b, (size_t)(e - b));
        n++;
        if (!p[len])
            break;
        p += len + 1;
    }

    if (pfm_start(pmus, sizeof pmus, err, errlen))
        return -1;
    for (size_t i = 0; i < n; i++) {
        char name[sizeof ev[i].name];
        memcpy(name, ev[i].name, sizeof name);
        if (encode_one(name, pmus, &ev[i], err, errlen))
            return -1;
    }
    return (int)n;
}

int pmu_perf_attr(const char *name, struct perf_event_attr *attr, char *err, size_t errlen)
{
    pfm_perf_encode_arg_t arg;
    char *fstr = NULL;
    int r;
    if (pfm_init_once(err, errlen))
        return -1;
    memset(attr, 0, sizeof *attr);
    memset(&arg, 0, sizeof arg);
    arg.attr = attr;
    arg.size = sizeof arg;
    arg.fstr = &fstr;
    r = pfm_get_os_event_encoding(name, PFM_PLM0 | PFM_PLM3, PFM_OS_PERF_EVENT, &arg);
    free(fstr);
    if (r != PFM_SUCCESS)
        return errmsg(err, errlen, "unknown event '%s' (%s)", name, pfm_strerror(r));
    attr->size = sizeof *attr;
    return 0;
}
