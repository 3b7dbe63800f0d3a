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
 * Interrupts stay off while it is held, so a holder is never preempted.
 */
#ifndef KERNEL_KLOCK_H
#define KERNEL_KLOCK_H

#include <kernel/spinlock.h>

extern struct spinlock klock;

static inline void klock_acquire(void) { spin_lock(&klock); }
static inline void klock_release(void) { spin_unlock(&klock); }
static inline bool klock_held(void) { return __atomic_load_n(&klock.locked, __ATOMIC_RELAXED); }

#endif
