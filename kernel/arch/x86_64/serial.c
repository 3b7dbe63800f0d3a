/* 16550 UART, polled: COM1 is the console; COM2 can carry the trace dump
 * on bare metal. */
#include <arch/cpu.h>
#include <arch/serial.h>

#define UART_DATA 0
#define UART_IER 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define LSR_THRE 0x20 /* transmit holding register empty */

void serial_init(u16 port)
{
    outb(port + UART_IER, 0x00);  /* no interrupts: we poll */
    outb(port + UART_LCR, 0x80);  /* DLAB: divisor follows */
    outb(port + UART_DATA, 0x01); /* 115200 baud */
    outb(port + UART_IER, 0x00);
    outb(port + UART_LCR, 0x03);  /* 8N1 */
    outb(port + UART_FCR, 0xc7);  /* FIFOs on, cleared */
    outb(port + UART_MCR, 0x03);  /* DTR, RTS */
}

void serial_putc(u16 port, char c)
{
    /* Bounded wait: a missing UART must not hang the kernel. */
    for (int i = 0; i < 100000 && !(inb(port + UART_LSR) & LSR_THRE); i++)
        cpu_relax();
    outb(port + UART_DATA, (u8)c);
}

void serial_write(u16 port, const void *buf, usize len)
{
    const char *p = buf;
    while (len--)
        serial_putc(port, *p++);
}
