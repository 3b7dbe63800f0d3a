/* Console, dump channel and machine exit on a PC (QEMU or bare metal). */
#include <arch/cpu.h>
#include <arch/machine.h>
#include <arch/serial.h>

#define DEBUGCON_PORT 0xe9   /* QEMU -debugcon: bytes go to a file */
#define DEBUG_EXIT_PORT 0xf4 /* QEMU -device isa-debug-exit,iobase=0xf4 */

void arch_console_write(const char *s, usize len) { serial_write(COM1, s, len); }

void arch_dump_write(void *channel, const void *buf, unsigned long len)
{
    switch (*(const u32 *)channel) {
    case DUMP_DEBUGCON:
        outsb(DEBUGCON_PORT, buf, len);
        break;
    case DUMP_COM2:
        serial_write(COM2, buf, len);
        break;
    case DUMP_COM1:
        serial_write(COM1, buf, len);
        break;
    default:
        break;
    }
}

void machine_exit(u8 status)
{
    outb(DEBUG_EXIT_PORT, status);
    /* Still here: no isa-debug-exit (bare metal).  Stop this CPU. */
    static const char msg[] = "kmemlab: halted\n";
    serial_write(COM1, msg, sizeof msg - 1);
    for (;;)
        __asm__ volatile("cli; hlt");
}
