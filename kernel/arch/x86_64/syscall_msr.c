/* syscall/sysret setup: STAR selects the segments (see arch/gdt.h), LSTAR
 * the entry, SFMASK the RFLAGS bits cleared on entry. */
#include <arch/cpu.h>
#include <arch/gdt.h>
#include <arch/syscall.h>
#include <kernel/printk.h>
#include <kernel/prog.h>

extern char syscall_entry[];

void syscall_init_cpu(void)
{
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | 1); /* SCE */
    wrmsr(MSR_STAR, ((u64)0x10 << 48) | ((u64)SEL_KCODE << 32));
    wrmsr(MSR_LSTAR, (u64)syscall_entry);
    /* IF (no interrupts in the handler), DF (string ops go up), TF, AC. */
    wrmsr(MSR_SFMASK, (1u << 9) | (1u << 10) | (1u << 8) | (1u << 18));
}

/* entry.S found a non-canonical return address: a kernel bug, since user
 * mappings end below USER_TOP.  Kill the program rather than fault. */
void syscall_bad_return(u64 rip)
{
    printk("kmemlab: non-canonical syscall return rip %lx\n", rip);
    prog_fault(13, "#GP bad sysret rip", 0, rip, rip);
}
