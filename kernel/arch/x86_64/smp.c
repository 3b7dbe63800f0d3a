/* Application processors: INIT-SIPI-SIPI through the trampoline, TSC offset
 * measurement, and the end-of-run halt. */
#include <arch/acpi.h>
#include <arch/cpu.h>
#include <arch/cpuinit.h>
#include <arch/lapic.h>
#include <arch/layout.h>
#include <arch/machine.h>
#include <arch/percpu.h>
#include <arch/trap.h>
#include <arch/tsc.h>
#include <kernel/frame.h>
#include <kernel/printk.h>
#include <kernel/string.h>
#include <kernel/klock.h>
#include <kernel/sched.h>
#include <kernel/thread.h>
#include <kernel/trace.h>

struct trampoline_mailbox {
    u64 cr3, efer, stack, percpu, entry;
};

extern char trampoline_start[], trampoline_end[], trampoline_mailbox[];
extern u32 boot_efer;

#define SYNC_ROUNDS 16
#define SYNC_DONE (~0ull)
static volatile u64 sync_phase; /* leader: odd values; follower: even */
static volatile u64 sync_tsc;   /* follower's TSC for the current round */
static u32 ap_timer_hz;

/* Follower half of the TSC handshake: answer each odd phase with our TSC. */
static void tsc_sync_follower(void)
{
    for (u64 k = 0; k < SYNC_ROUNDS; k++) {
        while (__atomic_load_n(&sync_phase, __ATOMIC_ACQUIRE) != 2 * k + 1)
            cpu_relax();
        sync_tsc = rdtsc();
        __atomic_store_n(&sync_phase, 2 * k + 2, __ATOMIC_RELEASE);
    }
    while (__atomic_load_n(&sync_phase, __ATOMIC_ACQUIRE) != SYNC_DONE)
        cpu_relax();
}

/* Leader half: offset = t_ap - midpoint(t_send, t_reply), from the round
 * with the shortest round trip (least disturbed). */
static i64 tsc_sync_leader(void)
{
    u64 best = ~0ull;
    i64 off = 0;
    for (u64 k = 0; k < SYNC_ROUNDS; k++) {
        u64 t1 = rdtsc();
        __atomic_store_n(&sync_phase, 2 * k + 1, __ATOMIC_RELEASE);
        while (__atomic_load_n(&sync_phase, __ATOMIC_ACQUIRE) != 2 * k + 2)
            cpu_relax();
        u64 t3 = rdtsc();
        u64 t2 = sync_tsc;
        if (t3 - t1 < best) {
            best = t3 - t1;
            off = (i64)(t2 - t1) - (i64)((t3 - t1) / 2);
        }
    }
    return off;
}

static void ap_entry(struct percpu *c)
{
    cpu_init_local(c);
    trace_ring_attach(&trace_rings[c->id]);
    __atomic_store_n(&c->online, 1, __ATOMIC_RELEASE);
    tsc_sync_follower();
    trace(CPU_ONLINE, c->apic_id, c->tsc_offset);
    lapic_timer_start(ap_timer_hz);
    klock_acquire();
    struct thread *idle = thread_adopt_boot((u16)c->id, 0, TF_IDLE);
    sched_init_cpu(idle, idle); /* this boot context is the CPU's idle thread */
    klock_release();
    sched_idle_loop(); /* hlt between run-queue checks lets icount run the others */
}

static bool start_ap(struct percpu *c)
{
    struct trampoline_mailbox *mb =
        phys_to_virt(TRAMPOLINE_PHYS + (u64)(trampoline_mailbox - trampoline_start));
    u64 stack = frame_alloc_contig(PERCPU_STACK_SIZE / PAGE_SIZE);
    if (!stack)
        return false;
    mb->cr3 = read_cr3();
    mb->efer = boot_efer;
    mb->stack = (u64)phys_to_virt(stack) + PERCPU_STACK_SIZE;
    mb->percpu = (u64)c;
    mb->entry = (u64)ap_entry;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    sync_phase = 0;

    lapic_send_init(c->apic_id);
    udelay(10000);
    for (int i = 0; i < 2 && !__atomic_load_n(&c->online, __ATOMIC_ACQUIRE); i++) {
        lapic_send_sipi(c->apic_id, TRAMPOLINE_PHYS >> 12);
        for (int w = 0; w < 2000 && !__atomic_load_n(&c->online, __ATOMIC_ACQUIRE); w++)
            udelay(100); /* up to 200 ms per SIPI */
    }
    if (!__atomic_load_n(&c->online, __ATOMIC_ACQUIRE))
        return false;
    c->tsc_offset = tsc_sync_leader();
    __atomic_store_n(&sync_phase, SYNC_DONE, __ATOMIC_RELEASE);
    return true;
}

u32 smp_possible_cpus(u32 max)
{
    u32 ids[MAX_CPUS];
    u32 n = acpi_cpu_list(ids, MAX_CPUS);
    return n == 0 ? 1 : MIN(n, max);
}

u32 smp_boot(u32 max_cpus, u32 timer_hz)
{
    u32 ids[MAX_CPUS];
    u32 n = acpi_cpu_list(ids, MAX_CPUS);
    u32 bsp = percpu_area[0].apic_id, id = 1;
    ap_timer_hz = timer_hz;
    if (n == 0)
        printk("smp: no ACPI MADT; running on the boot CPU only\n");
    memcpy(phys_to_virt(TRAMPOLINE_PHYS), trampoline_start,
           (usize)(trampoline_end - trampoline_start));
    for (u32 i = 0; i < n && id < max_cpus; i++) {
        if (ids[i] == bsp)
            continue;
        struct percpu *c = &percpu_area[id];
        if (!cpu_prepare(c, id, ids[i]) || !start_ap(c)) {
            printk("smp: CPU with APIC id %u did not start\n", ids[i]);
            continue;
        }
        id++;
    }
    ncpus_online = id;
    return id;
}

void machine_stop_others(void)
{
    for (u32 i = 1; i < ncpus_online; i++) {
        struct percpu *c = &percpu_area[i];
        lapic_send_ipi(c->apic_id, VEC_HALT);
        for (int w = 0; w < 1000 && !__atomic_load_n(&c->halt_ack, __ATOMIC_ACQUIRE); w++)
            udelay(100);
        if (!c->halt_ack)
            printk("smp: cpu %u did not acknowledge the halt IPI\n", i);
    }
}
