/* Run metadata: the key=value file the QEMU runner writes next to a dump
 * (scripts/run-qemu.sh), imported with `kmemlab import DUMP --meta FILE`. */
#ifndef KM_ANALYZE_META_H
#define KM_ANALYZE_META_H

#include <stddef.h>

/* Keys a meta file may contain (any other key is an error), in the order
 * the runs table lists them.  X(key, "what it means") */
#define KM_META_KEYS(X)                                                      \
    X(started_utc,   "when the run started, ISO 8601 UTC")                  \
    X(git_rev,       "revision of the checkout the run was built from")     \
    X(git_dirty,     "1 if the checkout had uncommitted changes, else 0")   \
    X(system,        "system measured (default kmemlab)")                   \
    X(accel,         "icount | tcg | kvm | bare")                          \
    X(qemu_cpu,      "QEMU -cpu model")                                     \
    X(qemu_version,  "QEMU version string")                                 \
    X(icount,        "QEMU -icount setting")                                \
    X(rtc,           "QEMU -rtc setting")                                   \
    X(seed,          "random seed given to the run")                        \
    X(smp,           "CPUs requested (QEMU -smp)")                          \
    X(mem,           "guest memory (QEMU -m)")                              \
    X(host,          "host the run executed on")                            \
    X(cmdline_extra, "extra kernel command line given by the runner")      \
    X(accel_requested, "accel asked for (auto, icount, tcg, kvm)")          \
    X(accel_fallback,  "why the runner fell back from kvm, if it did")      \
    X(qemu_machine,  "QEMU -machine model")                                 \
    X(kernel,        "kernel image booted")                                 \
    X(kernel_sha256, "SHA-256 of the kernel image")                         \
    X(programs,      "user programs booted, in run order")                  \
    X(programs_sha256, "SHA-256 of each program, same order")               \
    X(timeout,       "seconds before the runner kills a hung guest")        \
    X(qemu_exit,     "QEMU's exit status")                                  \
    X(exit_status,   "the kernel's exit status as the runner saw it")       \
    X(result,        "the runner's verdict, one line")                      \
    X(duration_ms,   "wall-clock duration of the run")

enum meta_key {
#define KM_META_ENUM(key, doc) META_##key,
    KM_META_KEYS(KM_META_ENUM)
#undef KM_META_ENUM
    META_NKEYS
};

/* Parsed metadata: value[k] is NULL when key k was absent or empty. */
struct meta {
    char *value[META_NKEYS];
};

/* Name of key k ("started_utc"). */
const char *meta_key_name(enum meta_key k);

/* Parses a meta file: one key=value per line; blank lines and lines
 * starting with '#' are ignored; spaces around key and value are trimmed.
 * Rejects unknown keys, repeated keys, lines without '=', an accel outside
 * icount|tcg|kvm|bare, a git_dirty other than 0/1/true/false/yes/no
 * (stored as 0/1), and an smp, timeout, qemu_exit, exit_status or
 * duration_ms that is not an integer (smp: positive).  Returns 0, or
 * -1 with "FILE:LINE: reason" in err (and m left empty). */
int meta_read(const char *path, struct meta *m, char *err, size_t errlen);

/* Parses meta text held in memory (name is used in error messages). */
int meta_parse(const char *text, const char *name, struct meta *m, char *err, size_t errlen);

/* Releases the values and empties m. */
void meta_free(struct meta *m);

#endif
