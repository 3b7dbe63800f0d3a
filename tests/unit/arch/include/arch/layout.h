/* Host stand-in for arch/layout.h: "physical" addresses are offsets into
 * an arena the test allocates (host_phys_base). */
#ifndef ARCH_LAYOUT_H
#define ARCH_LAYOUT_H

#include <kernel/types.h>

#define USER_TOP 0x00007fffffffe000ull
extern u8 *host_phys_base;
static inline void *phys_to_virt(u64 p) { return host_phys_base + p; }
static inline u64 virt_to_phys(const void *v) { return (u64)((const u8 *)v - host_phys_base); }

#endif
