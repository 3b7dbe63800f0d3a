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

void panic(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    /* Take no lock: the panicking CPU may hold it. */
    char line[600];
    int n = ksnprintf(line, sizeof line, "\nKERNEL PANIC on cpu %u: %s\n", cpu_id(), buf);
    arch_console_write(line, (usize)n < sizeof line ? (usize)n : sizeof line - 1);
    machine_exit(KM_EXIT_PANIC);
}
