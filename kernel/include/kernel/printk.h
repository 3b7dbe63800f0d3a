/* Console output and formatting. */
#ifndef KERNEL_PRINTK_H
#define KERNEL_PRINTK_H

#include <kernel/types.h>
#include <stdarg.h>

/* vsnprintf subset: %d %i %u %x %X %p %s %c %%, flags 0 -, width, and the
 * l/ll/z length modifiers.  Always NUL-terminates when size > 0; returns
 * the length the full output would have had. */
int kvsnprintf(char *buf, usize size, const char *fmt, va_list ap);
int ksnprintf(char *buf, usize size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Formats and writes a whole line to the console atomically (one lock). */
void printk(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Writes raw bytes to the console under the console lock. */
void console_write(const char *s, usize len);

/* Prints the message and CPU, stops the machine with a failure status. */
void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#define assert(c)                                                                \
    do {                                                                         \
        if (!(c))                                                                \
            panic("assertion '%s' failed in %s (%s:%d)", #c, __func__, __FILE__, \
                  __LINE__);                                                     \
    } while (0)

#endif
