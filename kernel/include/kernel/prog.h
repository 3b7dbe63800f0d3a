/* User programs: boot modules loaded as ELF executables and run one after
 * the other on the boot CPU, each in an address space of its own. */
#ifndef KERNEL_PROG_H
#define KERNEL_PROG_H

#include <arch/mmu.h>
#include <kernel/boot.h>
#include <kernel/types.h>

#define PROG_STACK_PAGES 16
#define PROG_STACK_TOP 0x00007fffffff0000ull
#define PROG_STATUS_FAULT 128 /* status = 128 + vector when killed by a fault */
#define PROG_STATUS_NOLOAD 127 /* the module is not a loadable program */

struct prog {
    u32 index;      /* 1-based; doubles as the thread id in trace records */
    char name[64];  /* basename of the module's path */
    struct aspace as;
    u64 entry;
};

/* Loads and runs module m as program `index`; returns its exit status. */
i32 prog_run(const struct boot_module *m, u32 index);
/* The program the calling CPU runs for, or NULL in kernel context. */
struct prog *prog_current(void);
/* A user-mode exception: report it and end the program. */
__attribute__((noreturn)) void prog_fault(u64 vector, const char *what, u64 error, u64 rip,
                                          u64 addr);

struct task;
/* Loads an ELF64 x86-64 executable into t as kernel-owned root mappings.
 * Returns NULL on success (entry set) or what is wrong with the image. */
const char *elf_load(const void *img, u64 size, struct task *t, u64 *entry);

#endif
