/* Local APIC (xAPIC, memory mapped) and its timer. */
#ifndef ARCH_LAPIC_H
#define ARCH_LAPIC_H

#include <kernel/types.h>

void lapic_init_cpu(void);       /* enable this CPU's LAPIC */
u32 lapic_id(void);
void lapic_eoi(void);
/* Periodic timer at hz (0: off); needs lapic_ticks_per_sec calibrated. */
void lapic_timer_start(u32 hz);
void lapic_send_ipi(u32 apic_id, u32 vector);
void lapic_send_init(u32 apic_id);
void lapic_send_sipi(u32 apic_id, u32 page);

/* Timer counter access for calibration (divide by 16, masked, one-shot). */
void lapic_timer_calib_start(void);
u32 lapic_timer_current(void);
extern u64 lapic_ticks_per_sec;

#endif
