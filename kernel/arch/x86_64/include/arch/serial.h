/* Polled 16550 UART. */
#ifndef ARCH_SERIAL_H
#define ARCH_SERIAL_H

#include <kernel/types.h>

#define COM1 0x3f8
#define COM2 0x2f8

void serial_init(u16 port);
void serial_putc(u16 port, char c);
void serial_write(u16 port, const void *buf, usize len);

#endif
