/* Whole-machine services generic code needs: console, dump channel, exit. */
#ifndef ARCH_MACHINE_H
#define ARCH_MACHINE_H

#include <kernel/types.h>

/* Console bytes (COM1). */
void arch_console_write(const char *s, usize len);

/* Dump channels (kernel option dump=...). */
enum dump_channel { DUMP_DEBUGCON = 0, DUMP_COM2 = 1, DUMP_COM1 = 2, DUMP_NONE = 3 };
void arch_dump_write(void *channel, const void *buf, unsigned long len);

/* Ends the run: QEMU's isa-debug-exit turns status s into exit code
 * (s << 1) | 1; without it (bare metal) the CPU halts. */
__attribute__((noreturn)) void machine_exit(u8 status);

/* Stops every other CPU (halt IPI) after it stopped its trace ring;
 * returns once all have acknowledged or a timeout passed. */
void machine_stop_others(void);

#endif
