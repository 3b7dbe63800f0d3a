/* The kernel lock: one lock for all kernel state but the per-CPU trace
 * rings (which never take it) and the frame allocator and console (which
 * have their own).
 *
 * Where it is taken and released:
 *  - taken on entry from user mode: syscall_dispatch (syscall.c) and
 *    trap_dispatch for traps and interrupts from user mode (trap.c);
 *  - released right before the return to user mode (same places), or by a
 *    thread that starts for the first time (thread_first_run);
 *  - a context switch (schedule) happens with the lock held: the lock
 *    passes from the thread that switches away to the one that resumes;
 *  - idle threads take it only to look at their run queue and switch.
 * Interrupts stay off while it is held, so a holder is never preempted;
 * they are on while a CPU waits for it (see klock_acquire).
 */
#ifndef KERNEL_KLOCK_H
#define KERNEL_KLOCK_H

#include <arch/cpu.h>
#include <kernel/types.h>

/* A ticket lock: CPUs get the lock in the order they asked for it.  A
 * test-and-set lock starves here: under QEMU's icount every virtual CPU
 * runs in turn on one host thread, and a CPU that keeps re-entering the
 * kernel would almost always be the one holding the lock when the others
 * get their turn. */
struct ticket_lock {
    volatile u32 next;    /* ticket of the next CPU to ask */
    volatile u32 serving; /* ticket now holding the lock */
};

extern struct ticket_lock klock;

/* Interrupts are enabled while waiting (and off again once the lock is
 * ours): the holder may be waiting for this CPU to take a TLB-flush IPI.
 * No interrupt handler takes the lock in kernel mode, so this is safe. */
static inline void klock_wait(u32 me)
{
    while (__atomic_load_n(&klock.serving, __ATOMIC_ACQUIRE) != me)
        /* The nop takes sti's one-instruction interrupt shadow, so that an
         * interrupt is taken at the pause (where QEMU's icount also
         * switches to another virtual CPU, the holder among them). */
        __asm__ volatile("sti; nop; pause; nop; cli" ::: "memory");
}

/* (The free lock's case first, tested once: no jump into the loop.) */
static inline void klock_acquire(void)
{
    u32 me = __atomic_fetch_add(&klock.next, 1, __ATOMIC_RELAXED);
    if (__builtin_expect(__atomic_load_n(&klock.serving, __ATOMIC_ACQUIRE) != me, 0))
        klock_wait(me);
}

static inline void klock_release(void)
{
    __atomic_store_n(&klock.serving, klock.serving + 1, __ATOMIC_RELEASE);
}

static inline bool klock_held(void)
{
    return __atomic_load_n(&klock.next, __ATOMIC_RELAXED) !=
           __atomic_load_n(&klock.serving, __ATOMIC_RELAXED);
}

#endif
