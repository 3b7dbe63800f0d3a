/* Local APIC: xAPIC registers through the direct map. */
#include <arch/cpu.h>
#include <arch/lapic.h>
#include <arch/layout.h>
#include <arch/trap.h>

#define LAPIC_ID 0x020
#define LAPIC_EOI 0x0b0
#define LAPIC_SVR 0x0f0
#define LAPIC_ICR_LO 0x300
#define LAPIC_ICR_HI 0x310
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_CUR 0x390
#define LAPIC_TIMER_DIV 0x3e0
#define ICR_PENDING (1u << 12)
#define LVT_MASKED (1u << 16)
#define LVT_PERIODIC (1u << 17)

u64 lapic_ticks_per_sec;
static volatile u32 *lapic_base;

static inline u32 rd(u32 reg) { return lapic_base[reg / 4]; }
static inline void wr(u32 reg, u32 v) { lapic_base[reg / 4] = v; }

void lapic_init_cpu(void)
{
    u64 msr = rdmsr(MSR_APIC_BASE);
    wrmsr(MSR_APIC_BASE, msr | (1u << 11)); /* global enable */
    lapic_base = phys_to_virt(msr & 0xffffff000ull);
    wr(LAPIC_SVR, 0x100 | VEC_SPURIOUS);      /* software enable */
    wr(LAPIC_LVT_TIMER, LVT_MASKED);
}

u32 lapic_id(void) { return rd(LAPIC_ID) >> 24; }
void lapic_eoi(void) { wr(LAPIC_EOI, 0); }

void lapic_timer_calib_start(void)
{
    wr(LAPIC_TIMER_DIV, 0x3); /* divide by 16 */
    wr(LAPIC_LVT_TIMER, LVT_MASKED);
    wr(LAPIC_TIMER_INIT, 0xffffffff);
}

u32 lapic_timer_current(void) { return rd(LAPIC_TIMER_CUR); }

void lapic_timer_start(u32 hz)
{
    if (!hz || !lapic_ticks_per_sec) {
        wr(LAPIC_LVT_TIMER, LVT_MASKED);
        return;
    }
    wr(LAPIC_TIMER_DIV, 0x3);
    wr(LAPIC_LVT_TIMER, LVT_PERIODIC | VEC_TIMER);
    u64 count = lapic_ticks_per_sec / hz;
    wr(LAPIC_TIMER_INIT, count > 0xffffffff ? 0xffffffff : (u32)(count ? count : 1));
}

static void icr_send(u32 apic_id, u32 lo)
{
    while (rd(LAPIC_ICR_LO) & ICR_PENDING)
        cpu_relax();
    wr(LAPIC_ICR_HI, apic_id << 24);
    wr(LAPIC_ICR_LO, lo);
    while (rd(LAPIC_ICR_LO) & ICR_PENDING)
        cpu_relax();
}

void lapic_send_ipi(u32 apic_id, u32 vector) { icr_send(apic_id, vector); }
void lapic_send_init(u32 apic_id) { icr_send(apic_id, 0x4500); }    /* INIT, assert */
void lapic_send_sipi(u32 apic_id, u32 page) { icr_send(apic_id, 0x4600 | page); }
