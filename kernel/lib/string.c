/* Freestanding string functions: plain word-at-a-time loops (no `rep`
 * string instructions, whose icount cost depends on the CPU model's ERMS
 * flag; page zeroing is not on a measured path yet). */
#include <kernel/string.h>

/* A u64 that may sit at any address and alias anything: x86-64 allows
 * unaligned loads and stores, C needs to be told. */
typedef u64 __attribute__((aligned(1), may_alias)) u64_any;

void *memcpy(void *d, const void *s, usize n)
{
    u8 *dp = d;
    const u8 *sp = s;
    while (n >= 8) {
        *(u64_any *)dp = *(const u64_any *)sp;
        dp += 8;
        sp += 8;
        n -= 8;
    }
    while (n--)
        *dp++ = *sp++;
    return d;
}

void *memmove(void *d, const void *s, usize n)
{
    u8 *dp = d;
    const u8 *sp = s;
    if (dp <= sp || dp >= sp + n)
        return memcpy(d, s, n);
    while (n--)
        dp[n] = sp[n];
    return d;
}

void *memset(void *d, int c, usize n)
{
    u8 *dp = d;
    u64 v = (u8)c * 0x0101010101010101ull;
#if defined(__x86_64__)
    /* Page-sized clears (kernel metadata pages): one string instruction,
     * as fast as a loop on any x86-64 made since 2012 (ERMSB) and far
     * shorter in instructions. */
    if (n >= 256) {
        usize q = n / 8;
        __asm__ volatile("rep stosq" : "+D"(dp), "+c"(q) : "a"(v) : "memory");
        n &= 7;
    }
#endif
    while (n >= 8) {
        *(u64_any *)dp = v;
        dp += 8;
        n -= 8;
    }
    while (n--)
        *dp++ = (u8)c;
    return d;
}

int memcmp(const void *a, const void *b, usize n)
{
    const u8 *x = a, *y = b;
    for (usize i = 0; i < n; i++)
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    return 0;
}

usize strlen(const char *s)
{
    usize n = 0;
    while (s[n])
        n++;
    return n;
}

usize strnlen(const char *s, usize max)
{
    usize n = 0;
    while (n < max && s[n])
        n++;
    return n;
}

int strcmp(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return (u8)*a - (u8)*b;
}

int strncmp(const char *a, const char *b, usize n)
{
    for (; n; n--, a++, b++) {
        if (*a != *b)
            return (u8)*a - (u8)*b;
        if (!*a)
            return 0;
    }
    return 0;
}

usize strlcpy(char *d, const char *s, usize size)
{
    usize n = strlen(s);
    if (size) {
        usize c = n < size - 1 ? n : size - 1;
        memcpy(d, s, c);
        d[c] = 0;
    }
    return n;
}
