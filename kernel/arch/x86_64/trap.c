/* IDT and trap dispatch: timer and IPIs, user faults (reported, the
 * program killed), kernel faults (a readable panic, never a triple fault). */
#include <abi/exit.h>
#include <arch/cpu.h>
#include <arch/lapic.h>
#include <arch/machine.h>
#include <arch/percpu.h>
#include <arch/trap.h>
#include <kernel/printk.h>
#include <kernel/prog.h>
#include <kernel/trace.h>

struct idt_entry {
    u16 off_lo;
    u16 sel;
    u8 ist;
    u8 type; /* P | DPL | 0xE (64-bit interrupt gate: IF cleared) */
    u16 off_mid;
    u32 off_hi;
    u32 zero;
} __attribute__((packed));

static struct idt_entry idt[256];
extern const u64 isr_table[256];

static const char *const exc_names[32] = {
    "#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
    "#BR bound range", "#UD invalid opcode", "#NM no FPU", "#DF double fault",
    "coprocessor overrun", "#TS invalid TSS", "#NP segment not present",
    "#SS stack fault", "#GP general protection", "#PF page fault", "reserved 15",
    "#MF x87 error", "#AC alignment check", "#MC machine check", "#XM SIMD error",
    "#VE virtualization", "#CP control protection", "reserved 22", "reserved 23",
    "reserved 24", "reserved 25", "reserved 26", "reserved 27", "#HV injection",
    "#VC VMM communication", "#SX security", "reserved 31"};

void idt_init(void)
{
    for (int v = 0; v < 256; v++) {
        u64 a = isr_table[v];
        idt[v].off_lo = (u16)a;
        idt[v].sel = 0x08;
        idt[v].ist = v == 8 ? 1 : (v == 2 || v == 18) ? 2 : 0;
        idt[v].type = 0x8e; /* present, DPL 0: `int n` from user mode is a #GP */
        idt[v].off_mid = (u16)(a >> 16);
        idt[v].off_hi = (u32)(a >> 32);
        idt[v].zero = 0;
    }
}

void idt_load(void)
{
    struct {
        u16 limit;
        u64 base;
    } __attribute__((packed)) ptr = {sizeof idt - 1, (u64)idt};
    __asm__ volatile("lidt %0" ::"m"(ptr));
}

static void kernel_fault(struct trap_frame *f)
{
    u64 cr2 = read_cr2();
    printk("\nKERNEL EXCEPTION %lu (%s) on cpu %u, error code 0x%lx\n", f->vector,
           f->vector < 32 ? exc_names[f->vector] : "interrupt", cpu_id(), f->error);
    printk("  rip %016lx  cs %04lx  rflags %08lx  rsp %016lx  ss %04lx\n", f->rip, f->cs,
           f->rflags, f->rsp, f->ss);
    printk("  cr2 %016lx (faulting address for #PF)  cr3 %016lx\n", cr2, read_cr3());
    printk("  rax %016lx  rbx %016lx  rcx %016lx  rdx %016lx\n", f->rax, f->rbx, f->rcx,
           f->rdx);
    printk("  rsi %016lx  rdi %016lx  rbp %016lx  r8  %016lx\n", f->rsi, f->rdi, f->rbp,
           f->r8);
    printk("  r9  %016lx  r10 %016lx  r11 %016lx  r12 %016lx\n", f->r9, f->r10, f->r11,
           f->r12);
    printk("  r13 %016lx  r14 %016lx  r15 %016lx\n", f->r13, f->r14, f->r15);
    panic("unhandled kernel exception %lu", f->vector);
}

static void halt_ipi(void)
{
    struct percpu *c = this_cpu();
    trace_stop_local();
    lapic_eoi();
    __atomic_store_n(&c->halt_ack, 1, __ATOMIC_RELEASE);
    for (;;)
        __asm__ volatile("cli; hlt");
}

void trap_dispatch(struct trap_frame *f)
{
    u64 v = f->vector;
    if (v == VEC_TIMER) {
        struct percpu *c = this_cpu();
        c->ticks++;
        trace(TIMER, c->ticks, f->rip);
        lapic_eoi();
        return;
    }
    if (v == VEC_HALT) {
        trace(IPI, v, 0);
        halt_ipi();
    }
    if (v == VEC_SPURIOUS)
        return; /* no EOI for spurious interrupts */
    if (v < 32) {
        u64 addr = v == 14 ? read_cr2() : f->rip;
        trace(EXCEPTION, v, f->error);
        if (f->cs & 3) {
            prog_fault(v, exc_names[v], f->error, f->rip, addr);
            return; /* not reached: prog_fault goes back to the runner */
        }
        kernel_fault(f);
    }
    printk("cpu %u: unexpected interrupt %lu\n", cpu_id(), v);
    lapic_eoi();
}
