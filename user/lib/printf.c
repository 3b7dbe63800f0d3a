/* printf family on the kernel's formatter (kernel/lib/format.c, kvformat):
 * snprintf into a buffer, printf to the console through sys_puts. */
#include <kernel/printk.h>
#include <user/stdio.h>
#include <user/string.h>
#include <user/sys.h>

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    return kvsnprintf(buf, size, fmt, ap);
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

/* The console sink collects a whole printf in buf and writes it with one
 * sys_puts at the end (or when buf fills), so that a line reaches the
 * console unbroken by other CPUs' output. */
struct console_sink {
    char buf[512];
    size_t len;
    long err; /* first sys_puts error, 0 if none */
};

static void console_flush(struct console_sink *s)
{
    if (s->len) {
        long r = sys_puts(s->buf, s->len);
        if (r < 0 && !s->err)
            s->err = r;
        s->len = 0;
    }
}

static void console_put(void *ctx, char c)
{
    struct console_sink *s = ctx;
    if (s->len == sizeof s->buf)
        console_flush(s);
    s->buf[s->len++] = c;
}

int vprintf(const char *fmt, va_list ap)
{
    struct console_sink s;
    s.len = 0;
    s.err = 0;
    int n = kvformat(console_put, &s, fmt, ap);
    console_flush(&s);
    return s.err ? (int)s.err : n;
}

int printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vprintf(fmt, ap);
    va_end(ap);
    return n;
}

int puts(const char *s)
{
    return printf("%s\n", s);
}
