/* Console output for ring-3 programs (user/lib/printf.c), formatted by
 * the kernel's formatter (kvformat in kernel/lib/format.c).
 *
 * Conversions: %d %i %u %x %X %o %c %s %p %%, length modifiers l, ll, z,
 * flags '-' and '0', a field width (number or '*') and, for %s, a
 * precision.  %p prints 0x and 16 hex digits.  No floating point (user
 * code is built without SSE).
 */
#ifndef USER_STDIO_H
#define USER_STDIO_H

#include <stdarg.h>
#include <stddef.h>

/* Formats into buf (always terminated when size > 0); returns the length
 * the full output would have had. */
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Writes to the console with sys_puts.  Returns the bytes written, or a
 * negative -KM_E* if a sys_puts call failed. */
int vprintf(const char *fmt, va_list ap);
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Writes s and a newline (one sys_puts call for lines up to KM_PUTS_MAX). */
int puts(const char *s);

#endif
