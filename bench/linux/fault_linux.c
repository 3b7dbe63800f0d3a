/* fault_linux: the Linux baseline of our fault benchmarks, measured on the
 * host.  The same fault shapes as fault_simple / fault_complex, each a first
 * write to an anonymous private page:
 *
 *   pte_present  the page's last-level page table exists: page 0 of every
 *                2 MiB chunk is written first (not measured), then pages
 *                1..511 are the samples
 *   new_pt       one page per fresh 2 MiB-aligned chunk: the fault also
 *                allocates a last-level page table (the chunk's 1 GiB
 *                region already has its page directory: its first chunk is
 *                written first and not measured)
 *   new_pd       one page per fresh 1 GiB-aligned chunk of a large
 *                MAP_NORESERVE region: the fault allocates a page directory
 *                and a page table (the first chunk of each 512 GiB region is
 *                written first, so the level above exists)
 *
 * Every region has MADV_NOHUGEPAGE (no THP, no multi-size THP), so each
 * write is one 4 KiB fault.  Each sample is the TSC delta around the store
 * (lfence; rdtsc; lfence on both sides, as in user/include/user/tsc.h),
 * minus the empty measurement's median.  Where perf_event_open works:
 * the software page-faults event is read around every sample to confirm
 * exactly one fault per sample, and hardware events (default cycles,
 * instructions; libpfm4 names) are read the same way, their empty-
 * measurement median subtracted; a hardware event that cannot be opened
 * is reported once and the run records pmu=none.  /proc/self/status VmPTE
 * before and after each shape gives the page-table pages per fault
 * (expected ~0, 1, 2).
 *
 * Output: the samples file of bench/linux/linux_samples.h, imported with
 * `kmemlab import-linux FILE`.  A summary goes to stdout, notes to stderr.
 * Exit status: 0 ok (also with page-fault mismatches: they are reported
 * and recorded), 1 failure, 2 usage error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <cpuid.h>

#include "crc32.h"
#include "linux_samples.h"
#include "pmu.h"
#include "stats.h"

#ifndef KM_GIT_REV
#define KM_GIT_REV "unknown"
#endif

#define PAGE 4096ul
#define MB2 (2ul << 20)
#define GB1 (1ul << 30)
#define GB512 (512ul << 30)
#define MAX_HW 4

static const char usage[] =
    "usage: fault_linux [-n SAMPLES] [--warmup N] [--cpu N] [--events LIST|none]\n"
    "                   [--shapes LIST] [--git-rev REV] [-o FILE] [-q]\n"
    "\n"
    "Measures first-write page faults on this Linux host in three shapes\n"
    "(pte_present, new_pt, new_pd) and writes the samples file that\n"
    "`kmemlab import-linux FILE` stores as a run with system=linux.\n"
    "\n"
    "  -n, --samples N  measured faults per shape (default 2000)\n"
    "  --warmup N       faults of each shape before measuring (default 200)\n"
    "  --cpu N          CPU to pin to (default: the one we start on)\n"
    "  --events LIST    hardware events to count per fault, libpfm4/perf names\n"
    "                   (default cycles,instructions; 'none': only the TSC)\n"
    "  --shapes LIST    subset of pte_present,new_pt,new_pd (default all)\n"
    "  --git-rev REV    revision to record (default: the one built in, " KM_GIT_REV ")\n"
    "  -o, --out FILE   samples file (default '-': stdout, summary to stderr)\n"
    "  -q, --quiet      no summary\n"
    "exit status: 0 ok, 1 failure, 2 usage error\n";

static FILE *info; /* summary stream: stdout, or stderr when the samples go to stdout */
static int quiet;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "fault_linux: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static inline uint64_t tsc_read(void)
{
    uint32_t lo, hi;
    __asm__ volatile("lfence\n\trdtsc\n\tlfence" : "=a"(lo), "=d"(hi) : : "memory");
    return (uint64_t)hi << 32 | lo;
}

/* ---- counters ---- */

struct counter {
    char name[64];
    int fd;
};
static struct counter pf = { "page-faults", -1 };
static struct counter hw[MAX_HW];
static int nhw;

static int perf_open(struct perf_event_attr *a)
{
    a->size = sizeof *a;
    a->disabled = 0;
    a->exclude_hv = 1;
    a->read_format = 0;
    int fd = (int)syscall(SYS_perf_event_open, a, 0, -1, -1, 0);
    if (fd < 0 && (errno == EACCES || errno == EPERM) && !a->exclude_kernel) {
        /* perf_event_paranoid forbids kernel counting: faults are in the
         * kernel, so a user-only count would be meaningless for hardware
         * events; the page-faults event is counted either way. */
        if (a->type == PERF_TYPE_SOFTWARE) {
            a->exclude_kernel = 1;
            fd = (int)syscall(SYS_perf_event_open, a, 0, -1, -1, 0);
        }
    }
    return fd;
}

static inline uint64_t counter_read(int fd)
{
    uint64_t v = 0;
    if (read(fd, &v, sizeof v) != (ssize_t)sizeof v)
        return 0;
    return v;
}

/* One measurement: counters read, TSC, the store (or nothing), TSC,
 * counters read.  Inlined with store constant, so the empty measurement is
 * the same code without the store. */
struct one {
    uint64_t tsc, faults, hw[MAX_HW];
};

static inline __attribute__((always_inline)) void measure(volatile char *p, int store, struct one *o)
{
    uint64_t pf0 = 0, pf1 = 0, h0[MAX_HW], h1[MAX_HW];
    for (int i = 0; i < nhw; i++)
        h0[i] = counter_read(hw[i].fd);
    if (pf.fd >= 0)
        pf0 = counter_read(pf.fd);
    uint64_t t0 = tsc_read();
    if (store)
        *p = 1;
    uint64_t t1 = tsc_read();
    if (pf.fd >= 0)
        pf1 = counter_read(pf.fd);
    for (int i = 0; i < nhw; i++)
        h1[i] = counter_read(hw[i].fd);
    o->tsc = t1 - t0;
    o->faults = pf1 - pf0;
    for (int i = 0; i < nhw; i++)
        o->hw[i] = h1[i] - h0[i];
}

static __attribute__((noinline)) void measure_store(volatile char *p, struct one *o) { measure(p, 1, o); }
static __attribute__((noinline)) void measure_empty(struct one *o) { measure(NULL, 0, o); }

/* ---- facts about the machine ---- */

static void cpuinfo_field(const char *key, char *out, size_t n)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[1024];
    out[0] = 0;
    if (!f)
        return;
    while (fgets(line, sizeof line, f)) {
        size_t kl = strlen(key);
        if (strncmp(line, key, kl) || (line[kl] != ' ' && line[kl] != '\t' && line[kl] != ':'))
            continue;
        char *c = strchr(line, ':');
        if (!c)
            continue;
        c++;
        while (*c == ' ' || *c == '\t')
            c++;
        c[strcspn(c, "\n")] = 0;
        snprintf(out, n, "%s", c);
        break;
    }
    fclose(f);
}

/* "apicid" of every processor, comma-separated; empty if unknown. */
static void apic_ids(char *out, size_t n, long ncpus)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[1024];
    long k = 0;
    out[0] = 0;
    if (!f)
        return;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "apicid", 6) || !strchr(line, ':'))
            continue;
        size_t l = strlen(out);
        snprintf(out + l, n - l, "%s%ld", k ? "," : "", strtol(strchr(line, ':') + 1, NULL, 10));
        k++;
    }
    fclose(f);
    if (k != ncpus)
        out[0] = 0;
}

static long vm_pte_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "VmPTE:", 6))
            kb = strtol(line + 6, NULL, 10);
    fclose(f);
    return kb;
}

static uint64_t tsc_hz_measure(void)
{
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC_RAW, &a);
    uint64_t t0 = tsc_read();
    do
        clock_gettime(CLOCK_MONOTONIC_RAW, &b);
    while ((b.tv_sec - a.tv_sec) * 1000000000ll + (b.tv_nsec - a.tv_nsec) < 200000000ll);
    uint64_t t1 = tsc_read();
    double ns = (double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec);
    double hz = (double)(t1 - t0) * 1e9 / ns;
    return (uint64_t)(hz / 1000.0 + 0.5) * 1000; /* to the kHz */
}

static void thp_mode(char *out, size_t n)
{
    FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
    char buf[128] = "";
    snprintf(out, n, "unknown");
    if (!f)
        return;
    if (fgets(buf, sizeof buf, f)) {
        char *l = strchr(buf, '['), *r = l ? strchr(l, ']') : NULL;
        if (l && r)
            snprintf(out, n, "%.*s", (int)(r - l - 1), l + 1);
    }
    fclose(f);
}

/* ---- shapes ---- */

struct shape {
    const char *name;
    size_t stride;     /* distance between faults */
    size_t prime_span; /* the first chunk of each span is written first, unmeasured */
};
static const struct shape shapes[] = {
    { "pte_present", PAGE, MB2 },
    { "new_pt", MB2, GB1 },
    { "new_pd", GB1, GB512 },
};
#define NSHAPES 3

struct result {
    const struct shape *sh;
    long long *fault, *faults, *hwv[MAX_HW];
    long pt_kb;               /* VmPTE growth over the warm-up and measured faults */
    unsigned long mismatches; /* measured samples without exactly one page fault */
};

/* Lays out warmup + n fault addresses of shape sh in a fresh mapping, with
 * the page tables above them in place; returns the addresses (and the
 * mapping in *map, *maplen). */
static char **layout(const struct shape *sh, size_t total, void **map, size_t *maplen)
{
    /* one priming chunk per prime_span, plus alignment slack */
    size_t per_span = sh->prime_span / sh->stride; /* faults per span incl. the primer */
    size_t chunks = total + total / (per_span - 1) + 2;
    size_t align = sh->stride > MB2 ? sh->stride : MB2;
    size_t len = chunks * sh->stride + align;
    char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED)
        die("%s: mmap of %zu MiB (MAP_NORESERVE) failed: %s", sh->name, len >> 20, strerror(errno));
    if (madvise(m, len, MADV_NOHUGEPAGE))
        die("%s: madvise(MADV_NOHUGEPAGE) failed: %s", sh->name, strerror(errno));
    char *base = (char *)(((uintptr_t)m + align - 1) & ~(uintptr_t)(align - 1));
    char **addr = malloc(total * sizeof *addr);
    if (!addr)
        die("out of memory");
    size_t k = 0;
    uintptr_t last_span = UINTPTR_MAX;
    for (size_t c = 0; k < total; c++) {
        char *a = base + c * sh->stride;
        if (a + PAGE > m + len)
            die("%s: layout overflow (bug)", sh->name);
        uintptr_t span = (uintptr_t)a / sh->prime_span;
        if (span != last_span) {
            /* first chunk of a span: builds the levels above, unmeasured */
            *(volatile char *)a = 1;
            last_span = span;
            continue;
        }
        addr[k++] = a;
    }
    *map = m;
    *maplen = len;
    return addr;
}

static long long *alloc_series(size_t n)
{
    long long *v = malloc(n * sizeof *v);
    if (!v)
        die("out of memory");
    memset(v, 0, n * sizeof *v); /* faulted in now, not during the measurement */
    return v;
}

static long long median_of(const long long *v, size_t n)
{
    struct stats s;
    if (stats_compute(v, n, &s))
        die("out of memory");
    return s.p50;
}

/* The empty measurement: medians of the TSC and each hardware counter over
 * 5 rounds of 1000 after 1000 warm-up rounds; the smallest round median. */
static void empty_overhead(long long *tsc_ovh, long long *hw_ovh)
{
    enum { ROUNDS = 5, N = 1000 };
    static long long t[N], h[MAX_HW][N];
    struct one o;
    *tsc_ovh = -1;
    for (int i = 0; i < nhw; i++)
        hw_ovh[i] = -1;
    for (int i = 0; i < N; i++)
        measure_empty(&o);
    for (int r = 0; r < ROUNDS; r++) {
        for (int i = 0; i < N; i++) {
            measure_empty(&o);
            if (o.faults)
                die("the empty measurement saw %llu page faults", (unsigned long long)o.faults);
            t[i] = (long long)o.tsc;
            for (int e = 0; e < nhw; e++)
                h[e][i] = (long long)o.hw[e];
        }
        long long m = median_of(t, N);
        if (*tsc_ovh < 0 || m < *tsc_ovh)
            *tsc_ovh = m;
        for (int e = 0; e < nhw; e++) {
            m = median_of(h[e], N);
            if (hw_ovh[e] < 0 || m < hw_ovh[e])
                hw_ovh[e] = m;
        }
    }
}

static void run_shape(const struct shape *sh, size_t n, size_t warmup, long long tsc_ovh,
                      const long long *hw_ovh, struct result *r)
{
    void *map;
    size_t maplen;
    struct one o;
    char **addr = layout(sh, warmup + n, &map, &maplen);

    memset(r, 0, sizeof *r);
    r->sh = sh;
    r->fault = alloc_series(n);
    r->faults = alloc_series(n);
    for (int e = 0; e < nhw; e++)
        r->hwv[e] = alloc_series(n);
    long pte0 = vm_pte_kb();
    for (size_t i = 0; i < warmup + n; i++) {
        measure_store((volatile char *)addr[i], &o);
        if (i < warmup)
            continue;
        size_t k = i - warmup;
        r->fault[k] = (long long)o.tsc - tsc_ovh;
        r->faults[k] = (long long)o.faults;
        if (pf.fd >= 0 && o.faults != 1)
            r->mismatches++;
        for (int e = 0; e < nhw; e++)
            r->hwv[e][k] = (long long)o.hw[e] - hw_ovh[e];
    }
    long pte1 = vm_pte_kb();
    r->pt_kb = pte0 >= 0 && pte1 >= 0 ? pte1 - pte0 : -1;
    if (pf.fd >= 0 && r->mismatches) {
        unsigned long shown = 0;
        fprintf(stderr, "fault_linux: %s: %lu of %zu samples did not see exactly one page fault:",
                sh->name, r->mismatches, n);
        for (size_t k = 0; k < n && shown < 8; k++)
            if (r->faults[k] != 1) {
                fprintf(stderr, " #%zu=%lld", k, r->faults[k]);
                shown++;
            }
        fprintf(stderr, "%s\n", r->mismatches > shown ? " ..." : "");
    }
    munmap(map, maplen);
    free(addr);
}

/* ---- output ---- */

static void metric_name(const char *ev, char *out, size_t n)
{
    size_t i = 0;
    for (; *ev && i + 1 < n; ev++)
        out[i++] = (char)((*ev >= 'a' && *ev <= 'z') || (*ev >= 'A' && *ev <= 'Z') ||
                                  (*ev >= '0' && *ev <= '9') || *ev == '.' || *ev == '-'
                              ? *ev
                              : '_');
    out[i] = 0;
}

static void write_series(FILE *f, const char *variant, const char *metric, const char *unit,
                         long long overhead, int cpu, const long long *v, size_t n,
                         size_t *nseries, unsigned long long *nsamples)
{
    fprintf(f, "series benchmark=linux_fault variant=%s metric=%s unit=%s overhead=%lld cpu=%d n=%zu\n",
            variant, metric, unit, overhead, cpu, n);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%lld\n", v[i]);
    (*nseries)++;
    *nsamples += n;
}

static int write_all(const char *path, const char *buf, size_t len)
{
    if (!strcmp(path, "-"))
        return fwrite(buf, 1, len, stdout) == len && fflush(stdout) == 0 ? 0 : -1;
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return -1;
    int ok = fwrite(buf, 1, len, f) == len;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path)) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

static size_t parse_count(const char *s, const char *what, size_t lo, size_t hi)
{
    char *e;
    errno = 0;
    unsigned long long v = strtoull(s, &e, 10);
    if (errno || e == s || *e || s[0] == '-' || v < lo || v > hi) {
        fprintf(stderr, "fault_linux: %s '%s' is not a number in %zu..%zu\n%s", what, s, lo, hi, usage);
        exit(2);
    }
    return (size_t)v;
}

int main(int argc, char **argv)
{
    size_t n = 2000, warmup = 200;
    long cpu = -1;
    const char *events = "cycles,instructions", *out = "-", *shape_list = "pte_present,new_pt,new_pd";
    const char *git_rev = KM_GIT_REV;
    static const struct option lopts[] = {
        { "samples", required_argument, 0, 'n' }, { "warmup", required_argument, 0, 'w' },
        { "cpu", required_argument, 0, 'c' },     { "events", required_argument, 0, 'e' },
        { "shapes", required_argument, 0, 's' },  { "out", required_argument, 0, 'o' },
        { "quiet", no_argument, 0, 'q' },         { "help", no_argument, 0, 'h' },
        { "git-rev", required_argument, 0, 'g' },
        { 0, 0, 0, 0 },
    };
    int c;
    while ((c = getopt_long(argc, argv, "n:o:qh", lopts, NULL)) != -1) {
        switch (c) {
        case 'n': n = parse_count(optarg, "--samples", 1, 1000000); break;
        case 'w': warmup = parse_count(optarg, "--warmup", 0, 1000000); break;
        case 'c': cpu = (long)parse_count(optarg, "--cpu", 0, CPU_SETSIZE - 1); break;
        case 'e': events = optarg; break;
        case 's': shape_list = optarg; break;
        case 'o': out = optarg; break;
        case 'g': git_rev = optarg; break;
        case 'q': quiet = 1; break;
        case 'h': fputs(usage, stdout); return 0;
        default: fputs(usage, stderr); return 2;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "fault_linux: unexpected argument '%s'\n%s", argv[optind], usage);
        return 2;
    }
    int want[NSHAPES] = { 0 }, nwant = 0;
    {
        char buf[256];
        snprintf(buf, sizeof buf, "%s", shape_list);
        for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            int k;
            for (k = 0; k < NSHAPES && strcmp(t, shapes[k].name); k++)
                ;
            if (k == NSHAPES) {
                fprintf(stderr, "fault_linux: unknown shape '%s' (pte_present, new_pt, new_pd)\n", t);
                return 2;
            }
            nwant += !want[k];
            want[k] = 1;
        }
        if (!nwant) {
            fprintf(stderr, "fault_linux: --shapes names no shape\n");
            return 2;
        }
    }
    info = strcmp(out, "-") ? stdout : stderr;
    if (info == stdout)
        setvbuf(stdout, NULL, _IOLBF, 0); /* in order with the notes on stderr */
    if (!*git_rev || strpbrk(git_rev, "\n=")) {
        fprintf(stderr, "fault_linux: --git-rev '%s' is not a revision\n", git_rev);
        return 2;
    }

    /* Hardware events: encoded with libpfm4 for perf_event_open; a name
     * libpfm4 does not know is a usage error, before anything runs. */
    struct perf_event_attr hw_attr[MAX_HW];
    char hw_names[MAX_HW][64];
    int nreq = 0;
    if (strcmp(events, "none")) {
        char buf[512], perr[256];
        snprintf(buf, sizeof buf, "%s", events);
        for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            if (nreq == MAX_HW) {
                fprintf(stderr, "fault_linux: at most %d events\n", MAX_HW);
                return 2;
            }
            if (pmu_perf_attr(t, &hw_attr[nreq], perr, sizeof perr)) {
                fprintf(stderr, "fault_linux: --events: %s\n", perr);
                return 2;
            }
            snprintf(hw_names[nreq], sizeof hw_names[nreq], "%s", t);
            nreq++;
        }
    }

    /* Pin to one CPU. */
    if (cpu < 0)
        cpu = sched_getcpu();
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET((int)cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set))
        die("cannot pin to CPU %ld: %s", cpu, strerror(errno));

    time_t started = time(NULL);
    struct timespec w0, w1;
    clock_gettime(CLOCK_MONOTONIC, &w0);

    /* Counters. */
    struct perf_event_attr a;
    memset(&a, 0, sizeof a);
    a.type = PERF_TYPE_SOFTWARE;
    a.config = PERF_COUNT_SW_PAGE_FAULTS;
    pf.fd = perf_open(&a);
    if (pf.fd < 0)
        fprintf(stderr, "fault_linux: page-faults: perf_event_open: %s: one fault per sample is not "
                        "confirmed\n", strerror(errno));
    char pmu[MAX_HW * 64 + 8] = "", pmu_note[512] = "";
    for (int i = 0; i < nreq; i++) {
        int fd = perf_open(&hw_attr[i]);
        if (fd < 0) {
            size_t l = strlen(pmu_note);
            snprintf(pmu_note + l, sizeof pmu_note - l, "%s%s: %s", l ? ", " : "", hw_names[i],
                     errno == ENOENT || errno == EOPNOTSUPP ? "not supported" : strerror(errno));
            continue;
        }
        snprintf(hw[nhw].name, sizeof hw[nhw].name, "%s", hw_names[i]);
        hw[nhw++].fd = fd;
    }
    if (nreq && pmu_note[0])
        fprintf(stderr, "fault_linux: not counted: %s (perf_event_open)%s\n", pmu_note,
                nhw ? "" : "; no hardware events: pmu=none");

    char vendor[64], model[128], kernel[128], host[256] = "", apics[4096], thp[32];
    struct utsname u;
    unsigned eax = 0, ebx, ecx = 0, edx, edx8 = 0;
    long ncpus = sysconf(_SC_NPROCESSORS_ONLN);
    cpuinfo_field("vendor_id", vendor, sizeof vendor);
    cpuinfo_field("model name", model, sizeof model);
    model[48] = 0;
    vendor[16] = 0;
    if (!vendor[0])
        snprintf(vendor, sizeof vendor, "unknown");
    if (!model[0])
        snprintf(model, sizeof model, "unknown");
    apic_ids(apics, sizeof apics, ncpus);
    uname(&u);
    snprintf(kernel, sizeof kernel, "%.48s", u.release);
    gethostname(host, sizeof host - 1);
    __get_cpuid(1, &eax, &ebx, &ecx, &edx);
    unsigned sig = eax, hyperv = ecx >> 31 & 1;
    if (__get_cpuid(0x80000007, &eax, &ebx, &ecx, &edx8) == 0)
        edx8 = 0;
    thp_mode(thp, sizeof thp);
    uint64_t tsc_hz = tsc_hz_measure();

    long long tsc_ovh, hw_ovh[MAX_HW];
    empty_overhead(&tsc_ovh, hw_ovh);
    /* A hardware counter that reads zero even around two syscalls is not counting. */
    for (int e = 0; e < nhw; e++)
        if (hw_ovh[e] <= 0) {
            fprintf(stderr, "fault_linux: %s opened but counts nothing; dropped\n", hw[e].name);
            close(hw[e].fd);
            memmove(&hw[e], &hw[e + 1], (size_t)(nhw - e - 1) * sizeof hw[0]);
            memmove(&hw_ovh[e], &hw_ovh[e + 1], (size_t)(nhw - e - 1) * sizeof hw_ovh[0]);
            nhw--;
            e--;
        }
    for (int e = 0; e < nhw; e++) {
        if (e)
            strcat(pmu, ",");
        strcat(pmu, hw[e].name); /* fits: MAX_HW names of < 64 bytes */
    }
    if (!pmu[0])
        snprintf(pmu, sizeof pmu, "none");

    if (!quiet)
        fprintf(info, "fault_linux: CPU %ld of %ld, %s, Linux %s, TSC %.3f GHz, THP %s (regions: "
                      "MADV_NOHUGEPAGE), %zu samples per shape after %zu warm-up, empty measurement "
                      "%lld cycles, pmu=%s\n",
                cpu, ncpus, model, u.release, (double)tsc_hz / 1e9, thp, n, warmup, tsc_ovh, pmu);

    struct result res[NSHAPES];
    int nres = 0;
    for (int k = 0; k < NSHAPES; k++)
        if (want[k])
            run_shape(&shapes[k], n, warmup, tsc_ovh, hw_ovh, &res[nres++]);
    clock_gettime(CLOCK_MONOTONIC, &w1);
    long long duration_ms = (w1.tv_sec - w0.tv_sec) * 1000ll + (w1.tv_nsec - w0.tv_nsec) / 1000000;

    /* Verdict line. */
    char result[1024];
    size_t rl = 0;
    unsigned long total_mis = 0;
    for (int i = 0; i < nres; i++)
        total_mis += res[i].mismatches;
    if (pf.fd >= 0)
        rl += (size_t)snprintf(result + rl, sizeof result - rl,
                               "page-faults event: %lu of %zu samples saw exactly one fault",
                               (unsigned long)(nres * n) - total_mis, nres * n);
    else
        rl += (size_t)snprintf(result + rl, sizeof result - rl, "page-faults event unavailable");
    rl += (size_t)snprintf(result + rl, sizeof result - rl, "; page-table pages per fault:");
    for (int i = 0; i < nres; i++)
        rl += (size_t)snprintf(result + rl, sizeof result - rl, " %s %.2f", res[i].sh->name,
                               res[i].pt_kb < 0 ? -1.0 : (double)res[i].pt_kb / 4.0 / (double)(n + warmup));
    if (nreq && pmu_note[0] && rl < sizeof result)
        snprintf(result + rl, sizeof result - rl, "; not counted: %s", pmu_note);

    /* The samples file. */
    char *buf = NULL;
    size_t len = 0, nseries = 0;
    unsigned long long nsamples = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        die("out of memory");
    char started_s[32];
    strftime(started_s, sizeof started_s, "%Y-%m-%dT%H:%M:%SZ", gmtime(&started));
    fprintf(f, "%s\n", LINUX_SAMPLES_MAGIC);
    fprintf(f, "started_utc=%s\ngit_rev=%s\nhost=%s\nkernel=%s\n", started_s, git_rev, host, kernel);
    fprintf(f, "cpu_vendor=%s\ncpu_model=%s\ncpuid_sig=0x%x\nhypervisor=%u\ninvariant_tsc=%u\n", vendor,
            model, sig, hyperv, edx8 >> 8 & 1);
    fprintf(f, "ncpus=%ld\n", ncpus);
    if (apics[0])
        fprintf(f, "apic_ids=%s\n", apics);
    fprintf(f, "tsc_hz=%llu\npmu=%s\n", (unsigned long long)tsc_hz, pmu);
    fprintf(f, "params=fault_linux samples=%zu warmup=%zu cpu=%ld thp=%s nohugepage=1 events=%s\n", n,
            warmup, cpu, thp, nreq ? events : "none");
    fprintf(f, "result=%s\nduration_ms=%lld\n", result, duration_ms);
    for (int i = 0; i < nres; i++) {
        const char *v = res[i].sh->name;
        write_series(f, v, "fault", "cycles", tsc_ovh, (int)cpu, res[i].fault, n, &nseries, &nsamples);
        if (pf.fd >= 0)
            write_series(f, v, "page_faults", "faults", 0, (int)cpu, res[i].faults, n, &nseries, &nsamples);
        for (int e = 0; e < nhw; e++) {
            char m[25], unit[17];
            metric_name(hw[e].name, m, sizeof m);
            metric_name(hw[e].name, unit, sizeof unit);
            write_series(f, v, m, unit, hw_ovh[e], (int)cpu, res[i].hwv[e], n, &nseries, &nsamples);
        }
    }
    fflush(f);
    unsigned crc = crc32_update(0, buf, (unsigned long)len);
    fprintf(f, "end series=%zu samples=%llu crc32=%08x\n", nseries, nsamples, crc);
    if (fclose(f))
        die("out of memory");
    if (write_all(out, buf, len))
        die("cannot write %s: %s", out, strerror(errno));
    free(buf);

    if (!quiet) {
        fprintf(info, "%-12s %6s %8s %8s %8s %8s %8s  %s\n", "shape", "n", "min", "p50", "p90", "max",
                "pt/fault", "faults/sample");
        for (int i = 0; i < nres; i++) {
            struct stats s;
            if (stats_compute(res[i].fault, n, &s))
                die("out of memory");
            fprintf(info, "%-12s %6zu %8lld %8lld %8lld %8lld %8.2f  ", res[i].sh->name, n, s.min, s.p50,
                    s.p90, s.max, res[i].pt_kb < 0 ? -1.0 : (double)res[i].pt_kb / 4.0 / (double)(n + warmup));
            if (pf.fd < 0)
                fprintf(info, "unconfirmed\n");
            else if (res[i].mismatches)
                fprintf(info, "%lu mismatches\n", res[i].mismatches);
            else
                fprintf(info, "1 each\n");
            for (int e = 0; e < nhw; e++)
                fprintf(info, "  %-10s p50 %lld\n", hw[e].name, median_of(res[i].hwv[e], n));
        }
        fprintf(info, "(cycles = TSC ticks, empty measurement subtracted; %s)\n", result);
    }
    for (int i = 0; i < nres; i++) {
        free(res[i].fault);
        free(res[i].faults);
        for (int e = 0; e < nhw; e++)
            free(res[i].hwv[e]);
    }
    return 0;
}
