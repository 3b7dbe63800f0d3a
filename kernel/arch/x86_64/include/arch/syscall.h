/* The frame syscall_entry builds (entry.S), lowest address first. */
#ifndef ARCH_SYSCALL_H
#define ARCH_SYSCALL_H

#include <kernel/types.h>

struct syscall_frame {
    u64 rbx, rbp, r12, r13, r14, r15; /* the user's callee-saved registers */
    u64 arg[6]; /* rdi rsi rdx r10 r8 r9 */
    u64 nr;     /* rax */
    u64 rflags; /* r11 */
    u64 rip;    /* rcx */
    u64 rsp;
};
_Static_assert(__builtin_offsetof(struct syscall_frame, rip) == 112, "entry.S: rip 64 bytes above arg[0]");

void syscall_init_cpu(void); /* STAR/LSTAR/SFMASK on this CPU */

/* Enters user mode at rip with stack rsp; returns the program's exit
 * status when it calls exit or is killed by a fault. */
i64 user_enter(u64 rip, u64 rsp);
/* From kernel code running on behalf of a user program: abandon it and
 * return status from user_enter. */
__attribute__((noreturn)) void user_exit_to_runner(i64 status);

#endif
