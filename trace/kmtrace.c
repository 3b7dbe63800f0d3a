/* kmtrace: verify, print and convert kmemlab trace dumps; write synthetic
 * ones.  Exit status: 0 success, 1 bad input (the dump is rejected, the
 * reason on stderr), 2 usage error. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctf_write.h"
#include "dump_read.h"
#include "events.h"
#include "synth.h"

#ifndef KM_GIT_REV
#define KM_GIT_REV "unknown"
#endif

static const char usage[] =
    "usage: kmtrace COMMAND [ARGS]\n"
    "\n"
    "Verify, print and convert kmemlab trace dumps (format: kernel/abi/include/abi/dump.h).\n"
    "\n"
    "commands:\n"
    "  verify DUMP         check every frame; print a summary (exit 0) or the\n"
    "                      first problem with its frame number and byte offset\n"
    "                      on stderr (exit 1)\n"
    "  print DUMP          one line per event, time-sorted across CPUs:\n"
    "                      ticks since boot (BSP TSC), microseconds, cpu, seq,\n"
    "                      event name, thread, named arguments\n"
    "  ctf DUMP OUTDIR     write a CTF 1.8 trace directory (metadata and one\n"
    "                      stream_N per CPU) for babeltrace2 / Trace Compass\n"
    "  synth [OPTIONS] OUT write a deterministic synthetic dump (OUT '-' = stdout)\n"
    "      --cpus N        CPUs (1..64, default 2)\n"
    "      --events N      records over all CPUs (default 10000, >= 2 per CPU)\n"
    "      --samples N     samples per benchmark series, 3 series (default 1000)\n"
    "      --seed S        random seed (default 1)\n"
    "      --lost N        records lost per CPU (default 0)\n"
    "      --overwrite     overwrite mode: lost records are the oldest\n"
    "\n"
    "  kmtrace --help | COMMAND --help    this text\n"
    "  kmtrace --version                  git revision kmtrace was built from\n"
    "\n"
    "exit status: 0 ok, 1 bad or unreadable input, 2 usage error\n";

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "kmtrace: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n(kmtrace --help for usage)\n");
    return 2;
}

static int wants_help(int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return 1;
    return 0;
}

static int load(const char *path, struct dump *d)
{
    struct dump_error err;
    if (dump_read_file(path, d, &err) == 0)
        return 0;
    fprintf(stderr, "kmtrace: %s: %s\n", path, err.msg);
    return -1;
}

static int cmd_verify(const char *path)
{
    struct dump d;
    if (load(path, &d))
        return 1;
    printf("%s: valid kmemlab dump, %llu bytes in %u frames. %u CPU%s, tsc_hz %llu, kmem_mode %s, "
           "trace mode %s, kernel %s. Events:",
           path, d.bytes, d.frames, d.ncpus, d.ncpus == 1 ? "" : "s",
           (unsigned long long)d.run.tsc_hz,
           d.kmem_mode[0] ? d.kmem_mode : "?",
           d.run.trace_mode == KM_TRACE_OVERWRITE ? "overwrite" : "stop",
           d.kernel_rev[0] ? d.kernel_rev : "?");
    for (unsigned c = 0; c < d.ncpus; c++)
        printf(" cpu%u %llu%s", c, (unsigned long long)d.cpu[c].info.count, c + 1 < d.ncpus ? "," : "");
    printf(" (%llu total), lost %llu.", d.events, d.lost);
    printf(" Samples: %zu series, %llu samples", d.nseries, d.samples);
    for (size_t i = 0; i < d.nseries; i++)
        printf("%s%s/%s/%s %llu", i ? ", " : " (", d.series[i].benchmark, d.series[i].variant,
               d.series[i].metric, d.series[i].n);
    printf("%s.\n", d.nseries ? ")" : "");
    dump_free(&d);
    return 0;
}

/* Small values in decimal (a small negative one, like a tsc_offset of -1,
 * signed), anything else (addresses, masks) in hex. */
/* An argument the way the event list says to read it (KM_ARG_*); unknown
 * events: small values decimal, the rest hex. */
static void print_value(const char *name, int kind, unsigned long long v)
{
    if (kind == KM_ARG_S)
        printf(" %s=%lld", name, (long long)v);
    else if (kind == KM_ARG_X || (kind < 0 && v >= 1000000))
        printf(" %s=0x%llx", name, v);
    else
        printf(" %s=%llu", name, v);
}

static int cmd_print(const char *path)
{
    struct dump d;
    unsigned long long next[KM_DUMP_MAX_CPUS] = { 0 };
    static char obuf[1 << 16];
    if (load(path, &d))
        return 1;
    setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
    /* k-way merge on BSP time (tsc - tsc_offset); ties go to the lower CPU. */
    for (;;) {
        int best = -1;
        km_u64 best_t = 0;
        for (unsigned c = 0; c < d.ncpus; c++) {
            if (next[c] == d.cpu[c].info.count)
                continue;
            km_u64 t = d.cpu[c].recs[next[c]].tsc - (km_u64)d.cpu[c].info.tsc_offset;
            if (best < 0 || t < best_t) {
                best = (int)c;
                best_t = t;
            }
        }
        if (best < 0)
            break;
        const struct dump_cpu_trace *t = &d.cpu[best];
        const struct km_trace_rec *r = &t->recs[next[best]];
        const struct km_event_info *e = km_event_lookup(r->event);
        long long since = (long long)(best_t - d.run.boot_tsc);
        printf("%14lld %16.3f us cpu %u seq %llu ", since, (double)since * 1e6 / (double)d.run.tsc_hz,
               best, t->info.first_seq + next[best]);
        if (e)
            printf("%-14s", e->name);
        else
            printf("event_%-8u", r->event);
        printf(" thread=%u", r->thread);
        print_value(e ? e->a0 : "a0", e ? e->a0_type : -1, r->a0);
        print_value(e ? e->a1 : "a1", e ? e->a1_type : -1, r->a1);
        putchar('\n');
        next[best]++;
    }
    dump_free(&d);
    if (fflush(stdout) != 0) {
        fprintf(stderr, "kmtrace: print: %s\n", strerror(errno));
        return 1;
    }
    return 0;
}

static int cmd_ctf(const char *path, const char *dir)
{
    struct dump d;
    char err[512];
    if (load(path, &d))
        return 1;
    int rc = ctf_write(&d, dir, err, sizeof err);
    if (rc)
        fprintf(stderr, "kmtrace: ctf: %s\n", err);
    else
        fprintf(stderr, "kmtrace: wrote %s: %llu events on %u CPUs\n", dir, d.events, d.ncpus);
    dump_free(&d);
    return rc ? 1 : 0;
}

static int parse_u64(const char *opt, const char *s, unsigned long long *v)
{
    char *end;
    if (!s)
        return usage_error("%s needs a value", opt);
    errno = 0;
    *v = strtoull(s, &end, 0);
    if (errno || end == s || *end || *s == '-')
        return usage_error("bad number '%s'", s);
    return 0;
}

static void file_sink(void *ctx, const void *buf, unsigned long len)
{
    fwrite(buf, 1, len, ctx);
}

static int cmd_synth(int argc, char **argv)
{
    struct synth_opts o;
    const char *out = NULL;
    unsigned long long v;
    synth_defaults(&o);
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--overwrite")) {
            o.overwrite = 1;
        } else if (!strcmp(a, "--cpus") || !strcmp(a, "--events") || !strcmp(a, "--samples") ||
                   !strcmp(a, "--seed") || !strcmp(a, "--lost")) {
            if (parse_u64(a, argv[i + 1], &v))
                return 2;
            i++;
            if (!strcmp(a, "--cpus")) {
                if (v < 1 || v > KM_DUMP_MAX_CPUS)
                    return usage_error("--cpus must be 1..64, not %s", argv[i]);
                o.ncpus = (unsigned)v;
            } else if (!strcmp(a, "--events")) {
                o.events = v;
            } else if (!strcmp(a, "--samples")) {
                o.samples = v;
            } else if (!strcmp(a, "--seed")) {
                o.seed = v;
            } else {
                o.lost = v;
            }
        } else if (a[0] == '-' && a[1]) {
            return usage_error("synth: unknown option %s", a);
        } else if (out) {
            return usage_error("synth: more than one output (%s)", a);
        } else {
            out = a;
        }
    }
    if (!out)
        return usage_error("synth: %s", "no output file given");
    if (o.events < 2ull * o.ncpus)
        return usage_error("synth: --events must be at least 2 per CPU%s", "");
    FILE *f = strcmp(out, "-") ? fopen(out, "wb") : stdout;
    if (!f) {
        fprintf(stderr, "kmtrace: %s: %s\n", out, strerror(errno));
        return 1;
    }
    setvbuf(f, NULL, _IOFBF, 1 << 20);
    synth_write(&o, file_sink, f);
    if (ferror(f) | (fclose(f) != 0)) {
        fprintf(stderr, "kmtrace: %s: write failed: %s\n", out, strerror(errno));
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage_error("%s", "no command given");
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--version")) {
        printf("kmtrace %s\n", KM_GIT_REV);
        return 0;
    }
    if (wants_help(argc - 1, argv + 1)) {
        fputs(usage, stdout);
        return 0;
    }
    if (!strcmp(cmd, "verify") || !strcmp(cmd, "print")) {
        if (argc != 3)
            return usage_error("%s takes one argument, DUMP", cmd);
        return cmd[0] == 'v' ? cmd_verify(argv[2]) : cmd_print(argv[2]);
    }
    if (!strcmp(cmd, "ctf")) {
        if (argc != 4)
            return usage_error("%s takes two arguments, DUMP OUTDIR", cmd);
        return cmd_ctf(argv[2], argv[3]);
    }
    if (!strcmp(cmd, "synth"))
        return cmd_synth(argc - 2, argv + 2);
    return usage_error("unknown command '%s'", cmd);
}
