/* TSC and LAPIC timer calibration against the PIT, and busy delays. */
#ifndef ARCH_TSC_H
#define ARCH_TSC_H

#include <kernel/types.h>

extern u64 tsc_hz;
/* Measures tsc_hz and lapic_ticks_per_sec over `ms` milliseconds of PIT
 * channel 2 (CPUID 0x15/0x16 are zero under QEMU, so we measure). */
void tsc_calibrate(u32 ms);
/* Busy-waits us microseconds (pausing, so icount switches CPUs). */
void udelay(u64 us);

#endif
