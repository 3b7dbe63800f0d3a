/* Host test support for generic kernel code (see host_support.c). */
#ifndef HOST_SUPPORT_H
#define HOST_SUPPORT_H

#include <stdlib.h>
#include <arch/current.h>
#include <arch/layout.h>
#include <arch/machine.h>

#define HOST_CONSOLE_MAX 65536
extern char host_console[HOST_CONSOLE_MAX];
extern size_t host_console_len;
void host_console_clear(void);

#endif
