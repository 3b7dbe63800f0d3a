/* printf family: one formatter feeding either a buffer (snprintf) or the
 * console (printf, through sys_puts). */
#include <user/stdio.h>
#include <user/string.h>
#include <user/sys.h>

/* Where formatted bytes go.  The console sink collects a whole printf in
 * buf and flushes once at the end (or when buf fills), so that a line
 * reaches the console in one sys_puts, unbroken by other CPUs' output. */
struct sink {
    char *buf;
    size_t size;  /* capacity of buf */
    size_t len;   /* bytes in buf */
    size_t total; /* bytes produced so far */
    int console;  /* flush to sys_puts when full */
    long err;     /* first sys_puts error, 0 if none */
};

static void sink_flush(struct sink *s)
{
    if (s->console && s->len) {
        long r = sys_puts(s->buf, s->len);
        if (r < 0 && !s->err)
            s->err = r;
        s->len = 0;
    }
}

static void sink_put(struct sink *s, char c)
{
    s->total++;
    if (s->len + 1 >= s->size) { /* keep one byte for the terminator */
        if (!s->console)
            return;
        sink_flush(s);
    }
    s->buf[s->len++] = c;
}

static void sink_pad(struct sink *s, char c, int n)
{
    while (n-- > 0)
        sink_put(s, c);
}

/* One conversion's text, padded to width. */
static void emit(struct sink *s, const char *p, size_t n, int width, int left, char pad)
{
    int fill = width > (int)n ? width - (int)n : 0;
    if (!left && pad == '0' && n && (*p == '-')) { /* "-0042", not "00-42" */
        sink_put(s, *p++);
        n--;
    }
    if (!left)
        sink_pad(s, pad, fill);
    while (n--)
        sink_put(s, *p++);
    if (left)
        sink_pad(s, ' ', fill);
}

/* Digits of v in base, into the end of tmp; returns the first digit. */
static char *utoa(char *end, unsigned long long v, unsigned base, int upper)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char *p = end;
    do {
        *--p = digits[v % base];
        v /= base;
    } while (v);
    return p;
}

static void format(struct sink *s, const char *fmt, va_list ap)
{
    char tmp[24]; /* 2^64 in octal is 22 digits, plus sign */
    char *end = tmp + sizeof tmp;

    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            sink_put(s, *fmt);
            continue;
        }
        int left = 0, width = 0, prec = -1, lng = 0;
        char pad = ' ';
        for (;; fmt++) { /* flags */
            if (fmt[1] == '-')
                left = 1;
            else if (fmt[1] == '0')
                pad = '0';
            else
                break;
        }
        fmt++;
        if (*fmt == '*') {
            width = va_arg(ap, int);
            if (width < 0) {
                left = 1;
                width = -width;
            }
            fmt++;
        }
        for (; *fmt >= '0' && *fmt <= '9'; fmt++)
            width = width * 10 + (*fmt - '0');
        if (*fmt == '.') {
            prec = 0;
            for (fmt++; *fmt >= '0' && *fmt <= '9'; fmt++)
                prec = prec * 10 + (*fmt - '0');
        }
        for (; *fmt == 'l' || *fmt == 'z'; fmt++)
            lng = *fmt == 'z' ? 1 : lng + 1;

        unsigned long long u;
        char *p;
        switch (*fmt) {
        case 'd':
        case 'i': {
            long long v = lng >= 2 ? va_arg(ap, long long) : lng ? va_arg(ap, long) : va_arg(ap, int);
            u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
            p = utoa(end, u, 10, 0);
            if (v < 0)
                *--p = '-';
            emit(s, p, (size_t)(end - p), width, left, pad);
            break;
        }
        case 'u':
        case 'x':
        case 'X':
        case 'o':
            u = lng >= 2 ? va_arg(ap, unsigned long long)
                : lng    ? va_arg(ap, unsigned long)
                         : va_arg(ap, unsigned int);
            p = utoa(end, u, *fmt == 'u' ? 10 : *fmt == 'o' ? 8 : 16, *fmt == 'X');
            emit(s, p, (size_t)(end - p), width, left, pad);
            break;
        case 'p':
            u = (unsigned long long)(unsigned long)va_arg(ap, void *);
            p = utoa(end, u, 16, 0);
            *--p = 'x';
            *--p = '0';
            emit(s, p, (size_t)(end - p), width, left, ' ');
            break;
        case 'c':
            tmp[0] = (char)va_arg(ap, int);
            emit(s, tmp, 1, width, left, ' ');
            break;
        case 's': {
            const char *str = va_arg(ap, const char *);
            if (!str)
                str = "(null)";
            emit(s, str, prec >= 0 ? strnlen(str, (size_t)prec) : strlen(str), width, left, ' ');
            break;
        }
        case '%':
            sink_put(s, '%');
            break;
        case 0: /* lone '%' at the end */
            return;
        default: /* unknown conversion: show it */
            sink_put(s, '%');
            sink_put(s, *fmt);
            break;
        }
    }
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    char dummy;
    struct sink s = { .buf = size ? buf : &dummy, .size = size ? size : 1 };
    format(&s, fmt, ap);
    s.buf[s.len] = 0;
    return (int)s.total;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

int vprintf(const char *fmt, va_list ap)
{
    char buf[512];
    struct sink s = { .buf = buf, .size = sizeof buf, .console = 1 };
    format(&s, fmt, ap);
    sink_flush(&s);
    return s.err ? (int)s.err : (int)s.total;
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
