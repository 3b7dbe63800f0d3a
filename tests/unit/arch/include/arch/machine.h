/* Host stand-in for arch/machine.h: console output is captured. */
#ifndef ARCH_MACHINE_H
#define ARCH_MACHINE_H

#include <kernel/types.h>

enum dump_channel { DUMP_DEBUGCON = 0, DUMP_COM2 = 1, DUMP_COM1 = 2, DUMP_NONE = 3 };
void arch_console_write(const char *s, usize len);
__attribute__((noreturn)) void machine_exit(u8 status);

#endif
