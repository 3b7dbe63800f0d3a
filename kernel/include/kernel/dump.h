/* End-of-run dump: RUN, CPU, EVENTS, SAMPLES and END frames (abi/dump.h)
 * written to a byte channel.  Call only after every CPU stopped its ring. */
#ifndef KERNEL_DUMP_H
#define KERNEL_DUMP_H

#include <abi/dump.h>
#include <lib/dump_frame.h>

struct dump_cpu_info {
    u32 apic_id;
    i64 tsc_offset;
};

/* run: the RUN payload, filled by the caller except ncpus/rec_size.
 * Returns the number of frames written. */
u32 dump_run(struct dump_writer *w, struct km_dump_run *run, const struct dump_cpu_info *cpus,
             u32 ncpus);

#endif
