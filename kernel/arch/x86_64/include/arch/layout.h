/* Virtual and physical memory layout (shared by C and assembly).
 *
 *   0x0000000000000000 .. 0x00007fffffffefff  user (per address space)
 *   0xffff800000000000 ..                     direct map of physical memory
 *   0xffffffff80000000 .. +1 GiB              kernel image (phys 0 .. 1 GiB)
 *
 * Physical: the kernel is loaded at 1 MiB; the AP trampoline is copied to
 * 0x8000 (real-mode code must sit below 1 MiB).
 */
#ifndef ARCH_LAYOUT_H
#define ARCH_LAYOUT_H

#define KERNEL_VMA 0xffffffff80000000
#define KERNEL_PHYS 0x100000
#define DMAP_BASE 0xffff800000000000
#define USER_TOP 0x00007fffffffe000 /* first address above user space; the
                                       last page stays unmapped so sysret
                                       never returns to a non-canonical RIP */
#define TRAMPOLINE_PHYS 0x8000
#define BOOT_DMAP_LIMIT 0x100000000 /* boot tables map 4 GiB of the direct map */

#ifndef __ASSEMBLER__
#include <kernel/types.h>
static inline void *phys_to_virt(u64 p) { return (void *)(p + DMAP_BASE); }
static inline u64 virt_to_phys(const void *v)
{
    u64 a = (u64)v;
    return a >= KERNEL_VMA ? a - KERNEL_VMA : a - DMAP_BASE;
}
#endif

#endif
