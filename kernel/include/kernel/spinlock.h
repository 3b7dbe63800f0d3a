/* Test-and-test-and-set spinlock.  Waiters `pause` (cpu_relax) so that
 * QEMU's icount mode, which runs all virtual CPUs on one host thread,
 * switches to the holder instead of spinning out a time slice. */
#ifndef KERNEL_SPINLOCK_H
#define KERNEL_SPINLOCK_H

#include <kernel/types.h>
#include <arch/cpu.h>

struct spinlock {
    volatile u32 locked;
};

static inline void spin_lock(struct spinlock *l)
{
    while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
        while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED))
            cpu_relax();
}

static inline void spin_unlock(struct spinlock *l)
{
    __atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
}

/* Lock with interrupts off; returns the saved flags for spin_unlock_irq. */
static inline u64 spin_lock_irq(struct spinlock *l)
{
    u64 f = irq_save();
    spin_lock(l);
    return f;
}

static inline void spin_unlock_irq(struct spinlock *l, u64 f)
{
    spin_unlock(l);
    irq_restore(f);
}

#endif
