/* Per-CPU GDT and TSS (layout in arch/gdt.h). */
#include <arch/gdt.h>
#include <arch/percpu.h>
#include <kernel/string.h>

static u64 tss_low(u64 base, u32 limit)
{
    return (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) /* present, 64-bit TSS */
           | ((u64)((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
}

void gdt_init_cpu(struct percpu *c, u64 ist_df, u64 ist_nmi)
{
    struct gdt *g = &c->gdt;
    struct tss *t = &c->tss;
    memset(t, 0, sizeof *t);
    t->rsp[0] = c->kstack_top;  /* interrupts from user mode */
    t->ist[0] = ist_df;         /* IST1: double fault */
    t->ist[1] = ist_nmi;        /* IST2: NMI, machine check */
    t->iomap_base = sizeof *t;  /* no I/O bitmap: user port access faults */
    u64 base = (u64)t;
    g->entry[0] = 0;
    g->entry[1] = 0x00af9a000000ffff; /* kernel code: L, DPL 0 */
    g->entry[2] = 0x00cf92000000ffff; /* kernel data */
    g->entry[3] = 0x00cff2000000ffff; /* user data: DPL 3 */
    g->entry[4] = 0x00affa000000ffff; /* user code: L, DPL 3 */
    g->entry[5] = tss_low(base, sizeof *t - 1);
    g->entry[6] = base >> 32;

    struct {
        u16 limit;
        u64 base;
    } __attribute__((packed)) ptr = {sizeof *g - 1, (u64)g};
    __asm__ volatile("lgdt %0\n\t"
                     "pushq $0x08\n\t"          /* reload CS with a far return */
                     "leaq 1f(%%rip), %%rax\n\t"
                     "pushq %%rax\n\t"
                     "lretq\n"
                     "1:\n\t"
                     "movw $0x10, %%ax\n\t"
                     "movw %%ax, %%ds\n\t"
                     "movw %%ax, %%es\n\t"
                     "movw %%ax, %%ss\n\t"
                     "movw $0x28, %%ax\n\t"
                     "ltr %%ax"
                     :
                     : "m"(ptr)
                     : "rax", "memory");
}
