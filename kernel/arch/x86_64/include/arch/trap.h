/* Trap frame (entry.S) and the handlers it reaches. */
#ifndef ARCH_TRAP_H
#define ARCH_TRAP_H

#include <kernel/types.h>

struct trap_frame {
    u64 r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
    u64 vector, error;
    u64 rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};
_Static_assert(sizeof(struct trap_frame) == 22 * 8, "trap frame layout");

#define VEC_TIMER 32
#define VEC_HALT 0xf1     /* IPI: stop tracing and halt (end of run) */
#define VEC_RESCHED 0xf2  /* IPI: a thread became runnable on this CPU */
#define VEC_SPURIOUS 0xff

void idt_init(void);      /* builds the IDT (BSP, once) */
void idt_load(void);      /* loads it (every CPU) */
void trap_dispatch(struct trap_frame *f);

#endif
