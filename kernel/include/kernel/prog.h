/* Boot programs: each boot module is loaded as an ELF executable into a
 * task of its own with one main thread; the runner starts them one after
 * another.  A program ends when one of its threads calls sys_exit, when
 * its main thread is deleted, or when a thread without a pager faults; the
 * runner then deletes its task and every task it created. */
#ifndef KERNEL_PROG_H
#define KERNEL_PROG_H

#include <kernel/boot.h>
#include <kernel/types.h>

#define PROG_STACK_PAGES 16
#define PROG_STACK_TOP 0x00007ffeffff0000ull /* below the UTCB area */
#define PROG_STATUS_FAULT 128 /* status = 128 + vector when killed by a fault */
#define PROG_STATUS_NOLOAD 127 /* the module is not a loadable program */

struct task;
struct thread;

struct prog {
    u32 index;      /* 1-based, in boot-module order */
    char name[64];  /* basename of the module's path */
    struct task *task;
    i32 status;
    bool done;      /* ended; the runner deletes its tasks */
};

/* Loads and runs module m as program `index`; returns its exit status.
 * handover (n modules, may be NULL): it is a root task, given those
 * modules to start (abi/l4.h).  Called by the runner thread with the
 * kernel lock held. */
i32 prog_run(const struct boot_module *m, u32 index, const struct boot_module *handover,
             u32 nhandover);
/* Starts module m as program `index` and leaves it running (a server such
 * as sigma0); task_flags go to its task.  Its main thread, or NULL. */
struct thread *prog_start_server(const struct boot_module *m, u32 index, u32 task_flags);
/* The program that task t belongs to ends with status (first end wins). */
void prog_end(struct task *t, i32 status);
/* The index of the program t belongs to, 0 if none. */
u32 prog_index_of(const struct task *t);
/* A user-mode exception in the current thread, which has no pager to ask
 * (or whose pager is gone): report it and end the program. */
__attribute__((noreturn)) void prog_fault(u64 vector, const char *what, u64 error, u64 rip,
                                          u64 addr);

/* Loads an ELF64 x86-64 executable into t as kernel-owned root mappings.
 * Returns NULL on success (entry set) or what is wrong with the image. */
const char *elf_load(const void *img, u64 size, struct task *t, u64 *entry);

#endif
