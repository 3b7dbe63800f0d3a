/* kvformat: the printf subset the kernel and user programs share (see
 * printk.h).  One formatter feeding a character sink; kvsnprintf is the
 * buffer sink.  Freestanding: no allocation, no libc. */
#include <kernel/printk.h>

struct out {
    void (*put)(void *ctx, char c);
    void *ctx;
    int len; /* characters produced so far */
};

static void put(struct out *o, char c)
{
    o->put(o->ctx, c);
    o->len++;
}

static void pad(struct out *o, char c, int n)
{
    for (; n > 0; n--)
        put(o, c);
}

static void put_num(struct out *o, u64 v, int neg, unsigned base, int upper, int width,
                    int zero, int left)
{
    char tmp[24]; /* 2^64 - 1 in octal is 22 digits */
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    int n = 0;
    do {
        tmp[n++] = digits[v % base];
        v /= base;
    } while (v);
    int len = n + neg;
    if (!left && !zero)
        pad(o, ' ', width - len);
    if (neg)
        put(o, '-');
    if (!left && zero) /* "-0042", not "00-42" */
        pad(o, '0', width - len);
    while (n)
        put(o, tmp[--n]);
    if (left)
        pad(o, ' ', width - len);
}

int kvformat(void (*sink)(void *ctx, char c), void *ctx, const char *fmt, va_list ap)
{
    struct out o = {sink, ctx, 0};
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            put(&o, *fmt);
            continue;
        }
        int zero = 0, left = 0, width = 0, prec = -1, lng = 0;
        for (fmt++; *fmt == '0' || *fmt == '-'; fmt++)
            *fmt == '0' ? (zero = 1) : (left = 1);
        if (*fmt == '*') { /* width from the arguments; negative means '-' */
            width = va_arg(ap, int);
            if (width < 0) {
                left = 1;
                width = -width;
            }
            fmt++;
        }
        for (; *fmt >= '0' && *fmt <= '9'; fmt++)
            width = width * 10 + (*fmt - '0');
        if (*fmt == '.') { /* precision: only %s uses it (at most prec bytes) */
            prec = 0;
            for (fmt++; *fmt >= '0' && *fmt <= '9'; fmt++)
                prec = prec * 10 + (*fmt - '0');
        }
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
        case 'x':
        case 'X':
        case 'o':
            put_num(&o, lng ? va_arg(ap, u64) : va_arg(ap, unsigned),
                    0, *fmt == 'u' ? 10 : *fmt == 'o' ? 8 : 16, *fmt == 'X', width, zero, left);
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
            while (s[n] && (prec < 0 || n < prec))
                n++;
            if (!left)
                pad(&o, ' ', width - n);
            for (int i = 0; i < n; i++)
                put(&o, s[i]);
            if (left)
                pad(&o, ' ', width - n);
            break;
        }
        case 'c':
            if (!left)
                pad(&o, ' ', width - 1);
            put(&o, (char)va_arg(ap, int));
            if (left)
                pad(&o, ' ', width - 1);
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
    return o.len;
}

/* The buffer sink: keeps what fits, leaving room for the terminator. */
struct buf_sink {
    char *buf;
    usize size;
    usize len;
};

static void buf_put(void *ctx, char c)
{
    struct buf_sink *b = ctx;
    if (b->len + 1 < b->size)
        b->buf[b->len++] = c;
}

int kvsnprintf(char *buf, usize size, const char *fmt, va_list ap)
{
    struct buf_sink b = {buf, size, 0};
    int n = kvformat(buf_put, &b, fmt, ap);
    if (size)
        buf[b.len] = 0;
    return n;
}

int ksnprintf(char *buf, usize size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = kvsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
