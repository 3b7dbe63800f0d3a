/* Console output and formatting. */
#ifndef KERNEL_PRINTK_H
#define KERNEL_PRINTK_H

#include <kernel/types.h>
#include <stdarg.h>

/* The printf subset shared by kernel and user level (kernel/lib/format.c):
 * %d %i %u %x %X %o %p %s %c %%, flags 0 and -, a width (digits or '*'),
 * a precision for %s only, and the l/ll/z length modifiers.  %p prints
 * 0x and 16 hex digits.  kvformat hands each character to put(ctx, c)
 * and returns how many it produced. */
int kvformat(void (*put)(void *ctx, char c), void *ctx, const char *fmt, va_list ap);
/* kvformat into buf: always NUL-terminates when size > 0; returns the
 * length the full output would have had. */
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
