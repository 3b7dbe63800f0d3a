/* kvsnprintf: the printf subset the kernel needs (see printk.h). */
#include <kernel/printk.h>

struct out {
    char *buf;
    usize size;
    usize len; /* bytes the full output would have */
};

static void put(struct out *o, char c)
{
    if (o->len + 1 < o->size)
        o->buf[o->len] = c;
    o->len++;
}

static void put_num(struct out *o, u64 v, int neg, unsigned base, int upper, int width,
                    int zero, int left)
{
    char tmp[24];
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    int n = 0;
    do {
        tmp[n++] = digits[v % base];
        v /= base;
    } while (v);
    int len = n + neg;
    if (!left && !zero)
        for (; width > len; width--)
            put(o, ' ');
    if (neg)
        put(o, '-');
    if (!left && zero)
        for (; width > len; width--)
            put(o, '0');
    while (n)
        put(o, tmp[--n]);
    if (left)
        for (; width > len; width--)
            put(o, ' ');
}

int kvsnprintf(char *buf, usize size, const char *fmt, va_list ap)
{
    struct out o = {buf, size, 0};
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            put(&o, *fmt);
            continue;
        }
        int zero = 0, left = 0, width = 0, lng = 0;
        for (fmt++; *fmt == '0' || *fmt == '-'; fmt++)
            *fmt == '0' ? (zero = 1) : (left = 1);
        for (; *fmt >= '0' && *fmt <= '9'; fmt++)
            width = width * 10 + (*fmt - '0');
        for (; *fmt == 'l' || *fmt == 'z'; fmt++)
            lng++;
        switch (*fmt) {
        case 'd':
        case 'i': {
            i64 v = lng ? va_arg(ap, i64) : va_arg(ap, int);
            put_num(&o, v < 0 ? -(u64)v : (u64)v, v < 0, 10, 0, width, zero, left);
            break;
        }
        case 'u':
            put_num(&o, lng ? va_arg(ap, u64) : va_arg(ap, unsigned), 0, 10, 0, width, zero,
                    left);
            break;
        case 'x':
        case 'X':
            put_num(&o, lng ? va_arg(ap, u64) : va_arg(ap, unsigned), 0, 16, *fmt == 'X',
                    width, zero, left);
            break;
        case 'p':
            put(&o, '0');
            put(&o, 'x');
            put_num(&o, (u64)(uptr)va_arg(ap, void *), 0, 16, 0, 16, 1, 0);
            break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s)
                s = "(null)";
            int n = 0;
            while (s[n])
                n++;
            if (!left)
                for (; width > n; width--)
                    put(&o, ' ');
            while (*s)
                put(&o, *s++);
            if (left)
                for (; width > n; width--)
                    put(&o, ' ');
            break;
        }
        case 'c':
            put(&o, (char)va_arg(ap, int));
            break;
        case '%':
            put(&o, '%');
            break;
        case 0:
            fmt--; /* lone % at the end */
            break;
        default: /* unknown conversion: print it verbatim */
            put(&o, '%');
            put(&o, *fmt);
        }
    }
    if (size)
        buf[o.len < size ? o.len : size - 1] = 0;
    return (int)o.len;
}

int ksnprintf(char *buf, usize size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = kvsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
