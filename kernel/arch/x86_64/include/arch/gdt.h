/* Segments: the layout syscall/sysret dictate, and one TSS per CPU.
 *
 * Selector  Descriptor
 *   0x08    kernel code (64-bit)     STAR[47:32] = 0x08: syscall CS, SS=+8
 *   0x10    kernel data
 *   0x18    user data                STAR[63:48] = 0x10: sysret SS = 0x10+8,
 *   0x20    user code (64-bit)                            CS = 0x10+16
 *   0x28    TSS (16 bytes)
 */
#ifndef ARCH_GDT_H
#define ARCH_GDT_H

#include <kernel/types.h>

#define SEL_KCODE 0x08
#define SEL_KDATA 0x10
#define SEL_UDATA 0x1b /* RPL 3 */
#define SEL_UCODE 0x23
#define SEL_TSS 0x28

struct tss {
    u32 reserved0;
    u64 rsp[3];
    u64 reserved1;
    u64 ist[7];
    u64 reserved2;
    u16 reserved3;
    u16 iomap_base;
} __attribute__((packed));
_Static_assert(sizeof(struct tss) == 104, "TSS is 104 bytes");

struct gdt {
    u64 entry[7]; /* null, kcode, kdata, udata, ucode, tss lo, tss hi */
};

struct percpu;
void gdt_init_cpu(struct percpu *c, u64 ist_df, u64 ist_nmi);

#endif
