/* Synthetic dump generator: deterministic, well-formed dumps of any size for
 * tests and for the import-speed benchmark.  Written with the kernel's own
 * frame writer (kernel/lib/dump_frame.c), so what it writes is what the
 * kernel writes. */
#ifndef KM_TRACE_SYNTH_H
#define KM_TRACE_SYNTH_H

#include "dump_frame.h"

struct synth_opts {
    unsigned ncpus;             /* 1..KM_DUMP_MAX_CPUS */
    unsigned long long events;  /* records over all CPUs (split evenly) */
    unsigned long long samples; /* samples per benchmark series (0: none) */
    unsigned long long seed;    /* same seed and options: same bytes */
    unsigned long long lost;    /* records lost per CPU */
    int overwrite;              /* overwrite mode: the lost records are the
                                   oldest (first_seq = lost); else stop mode:
                                   the newest were dropped (first_seq = 0) */
};

/* Defaults: 2 CPUs, 10000 events, 1000 samples per series, seed 1, none lost. */
void synth_defaults(struct synth_opts *o);

/* Number of benchmark series a synthetic dump carries when samples > 0. */
#define SYNTH_NSERIES 3

/* Writes a whole dump (RUN, CPUs, EVENTS interleaved round-robin over the
 * CPUs, SAMPLES, END) to sink.  Returns 0, or -1 for options out of range
 * (nothing written). */
int synth_write(const struct synth_opts *o, dump_sink_fn sink, void *ctx);

#endif
