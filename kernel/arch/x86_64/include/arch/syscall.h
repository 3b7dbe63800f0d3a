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


#endif
