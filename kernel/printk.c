/* Console output: whole lines under one lock, so SMP output never
 * interleaves mid-line; and panic. */
#include <abi/exit.h>
#include <arch/current.h>
#include <arch/machine.h>
#include <kernel/printk.h>
#include <kernel/spinlock.h>
#include <kernel/string.h>

static struct spinlock console_lock;

void console_write(const char *s, usize len)
{
    u64 f = spin_lock_irq(&console_lock);
    arch_console_write(s, len);
    spin_unlock_irq(&console_lock, f);
}

void printk(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = kvsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    console_write(buf, n < (int)sizeof buf ? (usize)n : sizeof buf - 1);
}

/* panic's text, not on the stack: a panic deep in a kernel path must not
 * overflow the thread's kernel stack while it prints (stack_depth.py
 * reports the paths that end in one).  The first CPU to panic has it;
 * another waits for that one to end the run. */
static char panic_text[512], panic_line[600];
static u32 panicking; /* 1 + the CPU that has them */

void panic(const char *fmt, ...)
{
    u32 me = cpu_id() + 1, owner = 0;
    if (!__atomic_compare_exchange_n(&panicking, &owner, me, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE) &&
        owner != me) /* (the same CPU again: a panic while panicking, or a host test's next one) */
        for (;;)
            cpu_relax();
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(panic_text, sizeof panic_text, fmt, ap);
    va_end(ap);
    /* Take no lock: the panicking CPU may hold it. */
    int n = ksnprintf(panic_line, sizeof panic_line, "\nKERNEL PANIC on cpu %u: %s\n", cpu_id(), panic_text);
    arch_console_write(panic_line, (usize)n < sizeof panic_line ? (usize)n : sizeof panic_line - 1);
    machine_exit(KM_EXIT_PANIC);
}
