/* The Linux baseline's samples file: what build/host/fault_linux writes and
 * `kmemlab import-linux FILE` stores as a run with system = 'linux'.
 *
 * Plain text, one item per line, '\n' line ends:
 *
 *   kmemlab-linux-samples 1                 first line: magic and version
 *   KEY=VALUE                               run facts (table below), each once
 *   ...
 *   series benchmark=B variant=V metric=M unit=U overhead=O cpu=C n=N
 *   VALUE                                   N lines: one raw sample each
 *   ...                                     (overhead already subtracted)
 *   series ...                              more series
 *   end series=S samples=T crc32=XXXXXXXX   last line
 *
 * crc32 is the CRC-32 (IEEE, kernel/lib/crc32.c) of every byte before the
 * "end" line, in 8 lower-case hex digits; S and T count the series and
 * the sample lines.  Nothing may follow the end line.  B is at most 32
 * bytes, V and M 24, U 16, names of [A-Za-z0-9_.-]; a (B, V, M) triple
 * appears once.  Samples are signed 64-bit decimal integers.
 *
 * Keys (all required unless marked optional):
 *   started_utc    when the measurement started, ISO 8601 UTC
 *   git_rev        revision fault_linux was built from ("-dirty" suffix:
 *                  uncommitted changes)
 *   host           host name
 *   kernel         Linux release (uname -r)
 *   cpu_vendor     /proc/cpuinfo vendor_id
 *   cpu_model      /proc/cpuinfo "model name" (at most 48 bytes)
 *   cpuid_sig      CPUID.1:EAX, hex (0x...)
 *   hypervisor     1 when CPUID.1:ECX[31] is set, else 0
 *   invariant_tsc  1 when CPUID.80000007:EDX[8] is set, else 0
 *   ncpus          online CPUs
 *   apic_ids       optional: the online CPUs' APIC ids, comma-separated
 *   tsc_hz         TSC ticks per second (measured against CLOCK_MONOTONIC_RAW)
 *   pmu            'none', or the hardware events counted (cycles,instructions)
 *   params         how fault_linux ran (samples=... warmup=... cpu=...), one line
 *   result         fault_linux's verdict, one line
 *   duration_ms    optional: wall-clock duration of the measurement
 */
#ifndef KM_BENCH_LINUX_SAMPLES_H
#define KM_BENCH_LINUX_SAMPLES_H

#include <stddef.h>

#define LINUX_SAMPLES_MAGIC "kmemlab-linux-samples 1"

struct dump;
struct meta;

/* Parses and checks a whole samples file held in memory (name is used in
 * error messages).  On success fills *d (release with dump_free) and *m
 * (release with meta_free) so that db_import stores it as a Linux run:
 * system=linux, accel=host, the CPU brand as cpu_model, the kernel release
 * as kernel_rev, pmu from the file; returns 0.  On any problem returns -1
 * with "NAME:LINE: reason" in err and nothing to release. */
int linux_samples_parse(const char *text, size_t len, const char *name, struct dump *d,
                        struct meta *m, char *err, size_t errlen);

/* Reads and checks path completely, then imports it into the database
 * db_path (created if missing) in one transaction.  meta_path (may be
 * NULL) is a run-qemu.sh style meta file for a run inside a QEMU guest
 * (scripts/linux_guest.sh): each key it gives replaces what the samples
 * file implies (accel=host, the guest's host name) or adds to it (qemu_cpu,
 * icount, rtc, ...); its system, if given, must be linux.  Returns 0 with
 * the new run id in *id, or -1 with one line in err; on bad input the
 * database is not opened at all. */
int linux_samples_import(const char *path, const char *meta_path, const char *db_path,
                         long long *id, char *err, size_t errlen);

#endif
