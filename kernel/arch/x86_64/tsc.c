/* TSC calibration: PIT channel 2 counts down a known interval (mode 0,
 * gate through port 0x61) while we read the TSC and the LAPIC timer. */
#include <arch/cpu.h>
#include <arch/lapic.h>
#include <arch/tsc.h>

#define PIT_HZ 1193182ull
#define PIT_CH2 0x42
#define PIT_CMD 0x43
#define PORT_B 0x61

u64 tsc_hz;

void tsc_calibrate(u32 ms)
{
    u64 count = PIT_HZ * ms / 1000;
    outb(PORT_B, (inb(PORT_B) & ~0x02) | 0x01); /* speaker off, gate on */
    outb(PIT_CMD, 0xb0);                       /* ch 2, lo/hi byte, mode 0 */
    lapic_timer_calib_start();
    outb(PIT_CH2, (u8)count);
    outb(PIT_CH2, (u8)(count >> 8)); /* counting starts now */
    u64 t0 = rdtsc();
    u32 l0 = lapic_timer_current();
    while (!(inb(PORT_B) & 0x20)) /* OUT2 goes high at terminal count */
        ;
    u64 t1 = rdtsc();
    u32 l1 = lapic_timer_current();
    tsc_hz = (t1 - t0) * PIT_HZ / count;
    lapic_ticks_per_sec = (u64)(l0 - l1) * PIT_HZ / count;
}

void udelay(u64 us)
{
    u64 end = rdtsc() + tsc_hz / 1000000 * us;
    while (rdtsc() < end)
        cpu_relax();
}
