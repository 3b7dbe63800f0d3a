/* Boot: multiboot header (a.out kludge, so QEMU's -kernel and GRUB load a
 * flat image), 32-bit entry, boot page tables, switch to long mode, jump to
 * the kernel in the top 2 GiB. */
#include <arch/layout.h>

#define MB_MAGIC 0x1BADB002
#define MB_FLAGS ((1 << 0) | (1 << 1) | (1 << 16)) /* page-align modules, mem map, kludge */

#define CR0_PE (1 << 0)
#define CR0_MP (1 << 1)
#define CR0_WP (1 << 16)
#define CR0_PG (1 << 31)
#define CR4_PAE (1 << 5)
#define CR4_PGE (1 << 7)
#define EFER_SCE (1 << 0)
#define EFER_LME (1 << 8)
#define EFER_NXE (1 << 11)

    .section .multiboot, "a"
    .align 4
mb_header:
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)
    .long mb_header          /* header_addr (physical) */
    .long __image_start      /* load_addr */
    .long __load_end         /* load_end_addr: end of .data */
    .long __bss_end          /* bss_end_addr: the loader zeroes up to here */
    .long _start             /* entry_addr */

    .section .boot.text, "ax"
    .code32
    .global _start
_start:
    cli
    cld
    mov %eax, boot_mb_magic
    mov %ebx, boot_mb_info
    mov $boot_stack_top, %esp

    /* Long mode present?  CPUID 0x80000001 EDX[29]. */
    mov $0x80000000, %eax
    cpuid
    cmp $0x80000001, %eax
    jb no_long_mode
    mov $0x80000001, %eax
    cpuid
    bt $29, %edx
    jnc no_long_mode
    mov $(EFER_SCE | EFER_LME), %eax
    bt $20, %edx                    /* NX available: enable EFER.NXE */
    jnc 1f
    or $EFER_NXE, %eax
1:  mov %eax, boot_efer

    /* 4 page directories of 2 MiB pages map phys 0..4 GiB. */
    mov $boot_pd, %edi
    xor %ecx, %ecx
2:  mov %ecx, %eax
    shl $21, %eax
    or $0x83, %eax                  /* present, writable, 2 MiB page */
    mov %eax, (%edi,%ecx,8)
    movl $0, 4(%edi,%ecx,8)
    inc %ecx
    cmp $2048, %ecx
    jb 2b
    /* PDPT_low[0..3] -> the 4 directories; used by PML4[0] (identity, for
     * the switch and the AP trampoline) and PML4[256] (direct map). */
    mov $boot_pdpt_low, %edi
    xor %ecx, %ecx
3:  mov %ecx, %eax
    shl $12, %eax
    add $(boot_pd + 3), %eax
    mov %eax, (%edi,%ecx,8)
    inc %ecx
    cmp $4, %ecx
    jb 3b
    /* PDPT_high[510] -> first directory: 0xffffffff80000000 = phys 0. */
    movl $(boot_pd + 3), boot_pdpt_high + 510 * 8
    movl $(boot_pdpt_low + 3), boot_pml4
    movl $(boot_pdpt_low + 3), boot_pml4 + 256 * 8
    movl $(boot_pdpt_high + 3), boot_pml4 + 511 * 8

    mov %cr4, %eax
    or $(CR4_PAE | CR4_PGE), %eax
    mov %eax, %cr4
    mov $boot_pml4, %eax
    mov %eax, %cr3
    mov $0xc0000080, %ecx           /* EFER */
    rdmsr
    or boot_efer, %eax
    wrmsr
    mov %cr0, %eax
    or $(CR0_PE | CR0_MP | CR0_WP | CR0_PG), %eax
    mov %eax, %cr0
    lgdt boot_gdt_ptr
    ljmp $0x08, $long_entry

no_long_mode:
    /* Say why on COM1 (polled, 8N1 at the firmware's settings) and stop. */
    mov $msg_no_lm, %esi
4:  lodsb
    test %al, %al
    jz 5f
    mov $0x3f8, %dx
    out %al, %dx
    jmp 4b
5:  hlt
    jmp 5b

    .code64
long_entry:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    xor %ax, %ax
    mov %ax, %fs
    mov %ax, %gs
    movabs $(boot_stack_top + KERNEL_VMA), %rsp
    mov boot_mb_magic, %edi
    mov boot_mb_info, %esi
    movabs $kmain, %rax
    call *%rax
6:  cli
    hlt
    jmp 6b

    .section .boot.data, "aw"
    .align 8
boot_gdt:
    .quad 0
    .quad 0x00af9a000000ffff        /* 0x08: 64-bit code */
    .quad 0x00cf92000000ffff        /* 0x10: data */
boot_gdt_ptr:
    .word boot_gdt_ptr - boot_gdt - 1
    .long boot_gdt
    .global boot_efer
boot_efer:
    .long 0
boot_mb_magic:
    .long 0
boot_mb_info:
    .long 0
msg_no_lm:
    .asciz "kmemlab: this CPU has no long mode (x86-64); stopping\r\n"

    .section .boot.bss, "aw", @nobits
    .align 4096
    .global boot_pml4
boot_pml4:
    .skip 4096
boot_pdpt_low:
    .skip 4096
boot_pdpt_high:
    .skip 4096
boot_pd:
    .skip 4 * 4096
boot_stack:
    .skip 16384
boot_stack_top:

    .section .note.GNU-stack, "", @progbits
