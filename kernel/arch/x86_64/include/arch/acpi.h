/* ACPI: just enough to list the CPUs (MADT processor local APIC entries). */
#ifndef ARCH_ACPI_H
#define ARCH_ACPI_H

#include <kernel/types.h>

/* Fills apic_ids with the enabled CPUs' local APIC ids (at most max);
 * returns their number, or 0 when there is no usable MADT. */
u32 acpi_cpu_list(u32 *apic_ids, u32 max);

#endif
