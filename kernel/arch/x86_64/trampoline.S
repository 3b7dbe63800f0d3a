/* AP trampoline: copied to TRAMPOLINE_PHYS; a started AP enters it in real
 * mode (SIPI vector = TRAMPOLINE_PHYS >> 12), switches to protected mode,
 * then to long mode on the boot page tables, and calls the C entry with the
 * stack and per-CPU pointer the BSP left in the mailbox at its end. */
#include <arch/layout.h>

#define T(sym) (TRAMPOLINE_PHYS + (sym) - trampoline_start)

    .section .boot.text, "ax"
    .code16
    .global trampoline_start, trampoline_end, trampoline_mailbox
trampoline_start:
    cli
    cld
    xor %ax, %ax
    mov %ax, %ds
    lgdtl T(tramp_gdt_ptr)
    mov %cr0, %eax
    or $1, %eax                     /* CR0.PE */
    mov %eax, %cr0
    ljmpl $0x18, $T(tramp32)

    .code32
tramp32:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov %cr4, %eax
    or $((1 << 5) | (1 << 7)), %eax /* PAE, PGE */
    mov %eax, %cr4
    mov T(tramp_cr3), %eax
    mov %eax, %cr3
    mov $0xc0000080, %ecx           /* EFER: the BSP's LME/NXE/SCE */
    rdmsr
    or T(tramp_efer), %eax
    wrmsr
    mov %cr0, %eax
    or $((1 << 31) | (1 << 16) | (1 << 1) | 1), %eax /* PG, WP, MP, PE */
    mov %eax, %cr0
    ljmp $0x08, $T(tramp64)

    .code64
tramp64:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    xor %ax, %ax
    mov %ax, %fs
    mov %ax, %gs
    mov T(tramp_stack), %rsp
    mov T(tramp_percpu), %rdi
    mov T(tramp_entry), %rax
    call *%rax
1:  cli
    hlt
    jmp 1b

    .align 8
tramp_gdt:
    .quad 0
    .quad 0x00af9a000000ffff        /* 0x08: 64-bit code */
    .quad 0x00cf92000000ffff        /* 0x10: data */
    .quad 0x00cf9a000000ffff        /* 0x18: 32-bit code */
tramp_gdt_ptr:
    .word tramp_gdt_ptr - tramp_gdt - 1
    .long T(tramp_gdt)
    .align 8
trampoline_mailbox:                 /* struct trampoline_mailbox in smp.c */
tramp_cr3:
    .quad 0
tramp_efer:
    .quad 0
tramp_stack:
    .quad 0
tramp_percpu:
    .quad 0
tramp_entry:
    .quad 0
trampoline_end:

    .section .note.GNU-stack, "", @progbits
